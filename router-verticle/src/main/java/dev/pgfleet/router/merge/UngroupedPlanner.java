package dev.pgfleet.router.merge;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The plan of a SELECT without GROUP BY or aggregates: shards run it with sort keys of uncertain
 * position appended as hidden columns and {@code LIMIT l OFFSET o} turned into {@code LIMIT l+o}
 * (the first l+o rows of the merge are among the first l+o of every shard, since each shard's
 * rows arrive in the merge's order); the proxy merges, applies DISTINCT and OFFSET/LIMIT.
 */
final class UngroupedPlanner {
    private final SelectStatement s;
    private final SqlTokens t;
    private final int star;
    /** Hidden column expression (normalised) to its SQL text, in order. */
    private final Map<String, String> hidden = new LinkedHashMap<>();

    UngroupedPlanner(SelectStatement s) {
        this.s = s;
        this.t = s.t;
        this.star = s.firstStar();
    }

    CrossShardPlan plan(Set<String> unknownFunctions) throws CrossShardRefusal {
        List<int[]> orderRefs = new ArrayList<>();
        List<SortKey> order = new ArrayList<>();
        List<SelectStatement.Key> orderKeys = s.order >= 0
                ? s.keys(s.order + 2, s.endOf(s.order), true) : List.of();
        for (SelectStatement.Key k : orderKeys) {
            orderRefs.add(new int[] {resolve(k.from(), k.to(), "ORDER BY")});
        }
        List<int[]> onRefs = new ArrayList<>();
        if (s.distinctOnOpen >= 0) {
            int o = s.distinctOnOpen;
            for (SelectStatement.Key k : s.keys(o + 1, t.partner[o], false)) {
                onRefs.add(new int[] {resolve(k.from(), k.to(), "DISTINCT ON")});
            }
        }
        int h = hidden.size();
        for (int i = 0; i < orderKeys.size(); i++) {
            SelectStatement.Key k = orderKeys.get(i);
            order.add(new SortKey(ref(orderRefs.get(i)[0], h), k.descending(), k.nullsFirst()));
        }
        List<Integer> distinctOn = new ArrayList<>();
        for (int[] r : onRefs) {
            distinctOn.add(ref(r[0], h));
        }
        Limits limits = Limits.read(s);
        boolean pushLimit = limits.limit != null && !(s.distinct && orderKeys.isEmpty());
        String shardLimit = pushLimit ? limitSql(limits.limit, limits.offset) : null;

        StringBuilder sql = new StringBuilder();
        int listEndChar = t.end[s.listEnd - 1];
        sql.append(t.sql, 0, listEndChar);
        int n = 0;
        for (String text : hidden.values()) {
            sql.append(", ").append(text).append(" AS \"?pgfleet_sort_").append(++n).append('"');
        }
        int last = t.count;
        if (limits.regionStart >= 0) {
            appendTokens(sql, s.listEnd, limits.regionStart, listEndChar);
            if (shardLimit != null) {
                sql.append(" LIMIT ").append(shardLimit);
            }
            if (limits.regionEnd < last) {
                sql.append(' ');
                appendTokens(sql, limits.regionEnd, last, t.start[limits.regionEnd]);
            }
        } else {
            appendTokens(sql, s.listEnd, last, listEndChar);
        }

        List<String> explain = new ArrayList<>();
        StringBuilder line = new StringBuilder("Merge:");
        if (!order.isEmpty()) {
            line.append(" ORDER BY ");
            for (int i = 0; i < order.size(); i++) {
                SortKey k = order.get(i);
                line.append(i == 0 ? "" : ", ").append(columnName(k.column())).append(k.descending() ? " DESC" : "")
                        .append(k.nullsFirst() != k.descending() ? (k.nullsFirst() ? " NULLS FIRST" : " NULLS LAST") : "");
            }
            line.append(',');
        } else {
            line.append(" append,");
        }
        if (s.distinct) {
            line.append(distinctOn.isEmpty() ? " DISTINCT," : " DISTINCT ON " + names(distinctOn) + ",");
        }
        if (limits.offset != null) {
            line.append(" OFFSET ").append(limits.offset).append(',');
        }
        if (limits.limit != null) {
            line.append(" LIMIT ").append(limits.limit)
                    .append(shardLimit != null ? " (shards get LIMIT " + shardLimit + ")" : " (not pushed to shards)");
        }
        String text = line.toString();
        explain.add(text.endsWith(",") ? text.substring(0, text.length() - 1) : text);
        if (h > 0) {
            explain.add("Hidden: " + h + " sort column" + (h == 1 ? "" : "s") + " appended, dropped after the merge");
        }
        return new CrossShardPlan(sql.toString(), h, List.of(), -1, false, List.of(), -1, null, s.distinct,
                distinctOn, order, limits.limit, limits.offset, unknownFunctions, explain);
    }

    /** Copies tokens {@code [from, to)} with the text between them; {@code fromChar} is where the copy starts. */
    private void appendTokens(StringBuilder sql, int from, int to, int fromChar) {
        if (from >= to) {
            return;
        }
        sql.append(t.sql, fromChar, t.end[to - 1]);
    }

    private static String columnName(int c) {
        return c >= 0 ? "col " + (c + 1) : "hidden col " + c;
    }

    private static String names(List<Integer> cols) {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < cols.size(); i++) {
            b.append(i == 0 ? "" : ", ").append(columnName(cols.get(i)));
        }
        return b.append(')').toString();
    }

    /**
     * A key's column: {@code >= 0} a position in the shard's row, or {@code -1 - j} for hidden
     * column j (turned into a ref by {@link #ref}).
     */
    private int resolve(int from, int to, String clause) throws CrossShardRefusal {
        int pos = s.position(from, to);
        if (pos > 0) {
            if (star < 0 && pos > s.items.size()) {
                throw new CrossShardRefusal(clause + " position " + pos + " is not in select list");
            }
            return pos - 1;
        }
        if (s.isSimpleName(from, to)) {
            String name = s.name(from);
            for (int i = 0; i < s.items.size(); i++) {
                SelectStatement.Item item = s.items.get(i);
                if (!item.star() && name.equals(s.outputName(item))) {
                    return certain(i) ? i : hide(item.from(), item.exprEnd());
                }
            }
        }
        String normal = t.normal(from, to);
        for (int i = 0; i < s.items.size(); i++) {
            SelectStatement.Item item = s.items.get(i);
            if (!item.star() && certain(i) && normal.equals(t.normal(item.from(), item.exprEnd()))) {
                return i;
            }
        }
        return hide(from, to);
    }

    private boolean certain(int item) {
        return star < 0 || item < star;
    }

    private int hide(int from, int to) {
        String normal = t.normal(from, to);
        int j = 0;
        for (String k : hidden.keySet()) {
            if (k.equals(normal)) {
                return -1 - j;
            }
            j++;
        }
        hidden.put(normal, t.text(from, to));
        return -1 - j;
    }

    /** Hidden column j of h: its position when the visible count is known, else counted from the end. */
    private int ref(int r, int h) {
        if (r >= 0) {
            return r;
        }
        int j = -1 - r;
        return star < 0 ? s.items.size() + j : j - h;
    }

    /** LIMIT l + o for the shards. */
    private static String limitSql(Bound limit, Bound offset) {
        if (offset == null) {
            return limit.toString();
        }
        if (limit.param() == 0 && offset.param() == 0) {
            long sum = limit.constant() + offset.constant();
            if (((limit.constant() ^ sum) & (offset.constant() ^ sum)) < 0) {
                return "ALL";
            }
            return Long.toString(sum);
        }
        return "(" + term(limit) + " + " + term(offset) + ")";
    }

    private static String term(Bound b) {
        return b.param() == 0 ? Long.toString(b.constant()) : "$" + b.param() + "::bigint";
    }
}
