package dev.pgfleet.router.merge;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Plans one SELECT across the shards of a sharded pool: which SQL every shard runs and how the
 * proxy merges their rows (see {@link CrossShardPlan}). Queries it cannot merge exactly are
 * refused with a {@link CrossShardRefusal} naming the construct, never run half right.
 *
 * <p>A query is grouped when it has GROUP BY or HAVING, or an aggregate in its select list or
 * ORDER BY; then shards compute partial aggregates per group ({@link GroupedPlanner}). Else
 * shards run the query with LIMIT widened by OFFSET ({@link UngroupedPlanner}).
 */
public final class CrossShardPlanner {
    private final Map<String, String> shardedTables;
    private final Set<String> omnishardedTables;

    /**
     * @param shardedTables table as TableRefs spells it, to its sharding key column
     * @param omnishardedTables tables every shard holds in full
     */
    public CrossShardPlanner(Map<String, String> shardedTables, Set<String> omnishardedTables) {
        this.shardedTables = Map.copyOf(shardedTables);
        this.omnishardedTables = Set.copyOf(omnishardedTables);
    }

    /** The plan of one SELECT (possibly starting with WITH; a trailing {@code ;} is allowed). */
    public CrossShardPlan plan(CharSequence sql) throws CrossShardRefusal {
        String r = CrossShardChecks.refusal(sql, shardedTables, omnishardedTables);
        if (r != null) {
            throw new CrossShardRefusal(r);
        }
        SqlTokens t = SqlTokens.read(sql);
        SelectStatement s = SelectStatement.read(t);
        Set<String> unknown = new TreeSet<>();
        for (int k = 0; k < t.count; k++) {
            if (k < s.select && t.depth[k] == 0) {
                continue; // WITH's names and column lists
            }
            String f = Functions.calledAt(t, k);
            if (f != null && !Functions.BUILTIN.contains(f)) {
                unknown.add(f);
            }
        }
        boolean grouped = s.group >= 0 || s.having >= 0
                || !GroupedPlanner.aggregates(t, s.listStart, s.listEnd).isEmpty()
                || (s.order >= 0 && !GroupedPlanner.aggregates(t, s.order, s.endOf(s.order)).isEmpty());
        if (!grouped) {
            checkWindows(t, s);
        }
        return grouped ? new GroupedPlanner(s).plan(unknown) : new UngroupedPlanner(s).plan(unknown);
    }

    /** OVER after a call of this query level is a window function. */
    private static void checkWindows(SqlTokens t, SelectStatement s) throws CrossShardRefusal {
        List<int[]> ranges = List.of(new int[] {s.listStart, s.listEnd},
                new int[] {s.order, s.order < 0 ? -1 : s.endOf(s.order)});
        for (int[] r : ranges) {
            for (int k = Math.max(r[0], 1); k < r[1]; k++) {
                if (t.isWord(k, "over") && t.is(k - 1, SqlTokens.RPAREN)) {
                    throw new CrossShardRefusal("window functions (OVER) are not run across shards");
                }
            }
        }
    }
}
