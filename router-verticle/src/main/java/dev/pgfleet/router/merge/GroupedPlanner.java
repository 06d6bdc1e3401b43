package dev.pgfleet.router.merge;

import static dev.pgfleet.router.merge.SqlTokens.LPAREN;
import static dev.pgfleet.router.merge.SqlTokens.NUMBER;
import static dev.pgfleet.router.merge.SqlTokens.OP;
import static dev.pgfleet.router.merge.SqlTokens.PARAM;
import static dev.pgfleet.router.merge.SqlTokens.RPAREN;
import static dev.pgfleet.router.merge.SqlTokens.STRING;
import static dev.pgfleet.router.merge.SqlTokens.WORD;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The plan of a SELECT with GROUP BY, HAVING or aggregates: every shard groups by the keys and
 * computes partial aggregates (avg as sum and count, variance as count, sum, sum of squares);
 * the proxy groups the shards' rows again, combines the partials, then filters with HAVING and
 * sorts. A DISTINCT aggregate's argument joins the shard's GROUP BY, so the proxy sees each
 * distinct value of it once per shard and group.
 */
final class GroupedPlanner {
    /** A merged output being built; {@code partials} of a DISTINCT aggregate are filled in at the end. */
    private static final class Out {
        final Aggregate aggregate;
        final AggregateCall call;
        final List<Integer> partials = new ArrayList<>();

        Out(Aggregate aggregate, AggregateCall call) {
            this.aggregate = aggregate;
            this.call = call;
        }
    }

    /** A GROUP BY key: its expression, the visible item it is (or -1), its shard column and output. */
    private static final class GroupKey {
        String normal;
        String text;
        int item = -1;
        int column = -1;
        int output = -1;
    }

    private final SelectStatement s;
    private final SqlTokens t;
    private final List<String> columns = new ArrayList<>();
    private final List<Out> outputs = new ArrayList<>();
    private final List<GroupKey> keys = new ArrayList<>();
    private final List<String> explain = new ArrayList<>();
    private final List<String> aggregateLines = new ArrayList<>();

    GroupedPlanner(SelectStatement s) {
        this.s = s;
        this.t = s.t;
    }

    /** Aggregate calls of this query level in {@code [from, to)}, scalar subqueries skipped. */
    static List<AggregateCall> aggregates(SqlTokens t, int from, int to) throws CrossShardRefusal {
        List<AggregateCall> calls = new ArrayList<>();
        for (int k = from; k < to; k++) {
            if (t.is(k, LPAREN) && (t.isWord(k + 1, "select") || t.isWord(k + 1, "with") || t.isWord(k + 1, "values"))) {
                k = t.partner[k];
                continue;
            }
            if (t.isWord(k, "over") && (t.is(k + 1, LPAREN) || t.isName(k + 1)) && k > from && t.is(k - 1, RPAREN)) {
                throw new CrossShardRefusal("window functions (OVER) are not run across shards");
            }
            AggregateCall c = AggregateCall.at(t, k);
            if (c != null) {
                calls.add(c);
                k = c.to - 1;
            }
        }
        return calls;
    }

    CrossShardPlan plan(Set<String> unknownFunctions) throws CrossShardRefusal {
        if (s.firstStar() >= 0) {
            throw new CrossShardRefusal("SELECT * in a grouped query is not run across shards");
        }
        readGroupBy();
        int visible = s.items.size();
        List<String> plainLines = new ArrayList<>();
        for (int i = 0; i < visible; i++) {
            SelectStatement.Item item = s.items.get(i);
            List<AggregateCall> calls = aggregates(t, item.from(), item.exprEnd());
            if (calls.isEmpty()) {
                if (!isKeyItem(i) && !isConstant(item.from(), item.exprEnd())) {
                    String f = Functions.firstUnknown(t, item.from(), item.exprEnd());
                    throw new CrossShardRefusal("column " + t.text(item.from(), item.exprEnd())
                            + " must appear in the GROUP BY clause to run across shards"
                            + (f == null ? "" : " (" + f + " is not an aggregate PgFleet merges)"));
                }
                Out o = new Out(null, null);
                o.partials.add(column(t.text(item.from(), item.to())));
                outputs.add(o);
                continue;
            }
            AggregateCall c = calls.get(0);
            if (calls.size() > 1 || c.from != item.from() || c.to != item.exprEnd()) {
                throw new CrossShardRefusal("expressions over aggregates are not merged across shards: "
                        + t.text(item.from(), item.exprEnd()));
            }
            outputs.add(aggregate(c, item.alias() != null ? t.text(item.from(), item.to()) : null));
        }
        for (GroupKey k : keys) {
            if (k.item >= 0) {
                k.column = outputs.get(k.item).partials.get(0);
                k.output = k.item;
            }
        }
        for (GroupKey k : keys) {
            if (k.item < 0) {
                GroupKey same = sameKey(k);
                if (same != null) {
                    k.column = same.column;
                    k.output = same.output;
                    continue;
                }
                Out o = new Out(null, null);
                k.column = column(k.text + " AS \"?pgfleet_key_" + (keys.indexOf(k) + 1) + '"');
                o.partials.add(k.column);
                k.output = outputs.size();
                outputs.add(o);
            }
        }
        Expr having = null;
        if (s.having >= 0) {
            having = new HavingReader(t, s.having + 1, s.endOf(s.having), this::operand).read();
        }
        List<SortKey> order = new ArrayList<>();
        if (s.order >= 0) {
            for (SelectStatement.Key k : s.keys(s.order + 2, s.endOf(s.order), true)) {
                order.add(new SortKey(resolve(k.from(), k.to(), "ORDER BY"), k.descending(), k.nullsFirst()));
            }
        }
        List<Integer> distinctOn = new ArrayList<>();
        if (s.distinctOnOpen >= 0) {
            int o = s.distinctOnOpen;
            for (SelectStatement.Key k : s.keys(o + 1, t.partner[o], false)) {
                distinctOn.add(resolve(k.from(), k.to(), "DISTINCT ON"));
            }
        }
        int distinctArgument = distinctArgument();
        Limits limits = Limits.read(s);

        List<Integer> groupBy = new ArrayList<>();
        for (GroupKey k : keys) {
            if (!groupBy.contains(k.column)) {
                groupBy.add(k.column);
            }
        }
        List<Integer> shardGroupBy = new ArrayList<>(groupBy);
        if (distinctArgument >= 0 && !shardGroupBy.contains(distinctArgument)) {
            shardGroupBy.add(distinctArgument);
        }
        StringBuilder sql = new StringBuilder();
        if (s.select > 0) {
            sql.append(t.text(0, s.select)).append(' ');
        }
        sql.append("SELECT ").append(String.join(", ", columns));
        if (s.from >= 0 || s.where >= 0) {
            int start = s.from >= 0 ? s.from : s.where;
            int end = s.where >= 0 ? s.endOf(s.where) : s.endOf(s.from);
            sql.append(' ').append(t.text(start, end));
        }
        if (!shardGroupBy.isEmpty()) {
            sql.append(" GROUP BY ");
            for (int i = 0; i < shardGroupBy.size(); i++) {
                sql.append(i == 0 ? "" : ", ").append(shardGroupBy.get(i) + 1);
            }
        }

        List<Output> result = new ArrayList<>();
        int visibleColumns = 0;
        for (int i = 0; i < outputs.size(); i++) {
            Out o = outputs.get(i);
            int[] p = o.partials.stream().mapToInt(Integer::intValue).toArray();
            boolean distinct = o.call != null && o.call.distinct;
            result.add(new Output(p[0], o.aggregate, p, distinct));
            if (i < visible && !distinct) {
                visibleColumns += p.length;
            }
        }
        int hiddenColumns = columns.size() - visibleColumns;

        StringBuilder group = new StringBuilder("Group: ");
        group.append(groupBy.isEmpty() ? "one group" : "by " + cols(groupBy));
        if (distinctArgument >= 0) {
            group.append(", shards also by col ").append(distinctArgument + 1).append(" (DISTINCT argument)");
        }
        for (String line : aggregateLines) {
            group.append("; ").append(line);
        }
        explain.add(group.toString());
        if (having != null) {
            explain.add("Having: " + t.text(s.having + 1, s.endOf(s.having)) + " (evaluated by PgFleet)");
        }
        StringBuilder merge = new StringBuilder("Merge:");
        if (s.distinct) {
            merge.append(distinctOn.isEmpty() ? " DISTINCT," : " DISTINCT ON outputs " + distinctOn + ",");
        }
        for (int i = 0; i < order.size(); i++) {
            SortKey k = order.get(i);
            merge.append(i == 0 ? " ORDER BY " : ", ").append("output ").append(k.column() + 1)
                    .append(k.descending() ? " DESC" : "");
        }
        if (limits.offset != null) {
            merge.append(" OFFSET ").append(limits.offset);
        }
        if (limits.limit != null) {
            merge.append(" LIMIT ").append(limits.limit).append(" (not pushed to shards)");
        }
        if (!merge.toString().equals("Merge:")) {
            explain.add(merge.toString().replace(":,", ":").replaceAll(",$", ""));
        }
        return new CrossShardPlan(sql.toString(), hiddenColumns, result, visible, true, groupBy, distinctArgument,
                having, s.distinct, distinctOn, order, limits.limit, limits.offset, unknownFunctions, explain);
    }

    private static String cols(List<Integer> c) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < c.size(); i++) {
            b.append(i == 0 ? "col " : ", col ").append(c.get(i) + 1);
        }
        return b.toString();
    }

    private int column(String sql) {
        columns.add(sql);
        return columns.size() - 1;
    }

    /** A new output for {@code c}, its partial columns appended; {@code aliased} is the item's text when it has an alias. */
    private Out aggregate(AggregateCall c, String aliased) {
        Out o = new Out(c.aggregate, c);
        if (!c.distinct) {
            String[] partials = c.partials(t);
            for (String p : partials) {
                o.partials.add(column(partials.length == 1 && aliased != null ? aliased : p));
            }
        }
        aggregateLines.add(c.explain());
        return o;
    }

    /** The output of aggregate {@code c}: one already computed, or a new hidden one. */
    private int aggregateOutput(AggregateCall c) {
        for (int i = 0; i < outputs.size(); i++) {
            Out o = outputs.get(i);
            if (o.call != null && o.call.normal.equals(c.normal)) {
                return i;
            }
        }
        outputs.add(aggregate(c, null));
        return outputs.size() - 1;
    }

    /** All DISTINCT aggregates over one x: its shard column (a key's, or a new hidden one), else -1. */
    private int distinctArgument() throws CrossShardRefusal {
        AggregateCall first = null;
        for (Out o : outputs) {
            if (o.call != null && o.call.distinct) {
                if (first == null) {
                    first = o.call;
                } else if (!first.argumentNormal.equals(o.call.argumentNormal)) {
                    throw new CrossShardRefusal("DISTINCT aggregates over different arguments (" + first.argument
                            + ", " + o.call.argument + ") are not merged across shards");
                }
            }
        }
        if (first == null) {
            return -1;
        }
        int x = -1;
        for (GroupKey k : keys) {
            if (k.normal.equals(first.argumentNormal)) {
                x = k.column;
            }
        }
        if (x < 0) {
            x = column(first.argument + " AS \"?pgfleet_distinct\"");
            Out o = new Out(null, null);
            o.partials.add(x);
            outputs.add(o);
        }
        for (Out o : outputs) {
            if (o.call != null && o.call.distinct) {
                o.partials.add(x);
            }
        }
        return x;
    }

    private GroupKey sameKey(GroupKey k) {
        for (GroupKey other : keys) {
            if (other != k && other.column >= 0 && other.normal.equals(k.normal)) {
                return other;
            }
        }
        return null;
    }

    private void readGroupBy() throws CrossShardRefusal {
        if (s.group < 0) {
            return;
        }
        int from = s.group + 2;
        int to = s.endOf(s.group);
        if (t.isWord(from, "all")) {
            from++;
        } else if (t.isWord(from, "distinct")) {
            throw new CrossShardRefusal("GROUP BY DISTINCT is not run across shards");
        }
        if (from >= to) {
            throw new CrossShardRefusal("empty GROUP BY");
        }
        for (int[] r : s.split(from, to)) {
            int a = r[0];
            int b = r[1];
            if (a >= b) {
                throw new CrossShardRefusal("empty GROUP BY key");
            }
            if (t.isWord(a, "rollup") || t.isWord(a, "cube") || (t.isWord(a, "grouping") && t.isWord(a + 1, "sets"))
                    || (b - a == 2 && t.is(a, LPAREN) && t.is(a + 1, RPAREN))) {
                throw new CrossShardRefusal("ROLLUP, CUBE and GROUPING SETS are not run across shards");
            }
            GroupKey k = new GroupKey();
            int pos = s.position(a, b);
            if (pos > 0) {
                if (pos > s.items.size()) {
                    throw new CrossShardRefusal("GROUP BY position " + pos + " is not in select list");
                }
                k.item = pos - 1;
            } else if (s.isSimpleName(a, b)) {
                String name = s.name(a);
                for (int i = 0; i < s.items.size(); i++) {
                    if (name.equals(s.items.get(i).alias())) {
                        k.item = i;
                        break;
                    }
                }
            }
            if (k.item >= 0) {
                SelectStatement.Item item = s.items.get(k.item);
                if (!aggregates(t, item.from(), item.exprEnd()).isEmpty()) {
                    throw new CrossShardRefusal("aggregate functions are not allowed in GROUP BY");
                }
                k.normal = t.normal(item.from(), item.exprEnd());
                k.text = t.text(item.from(), item.exprEnd());
            } else {
                if (!aggregates(t, a, b).isEmpty()) {
                    throw new CrossShardRefusal("aggregate functions are not allowed in GROUP BY");
                }
                k.normal = t.normal(a, b);
                k.text = t.text(a, b);
                for (int i = 0; i < s.items.size(); i++) {
                    SelectStatement.Item item = s.items.get(i);
                    if (k.normal.equals(t.normal(item.from(), item.exprEnd()))) {
                        k.item = i;
                        break;
                    }
                }
            }
            keys.add(k);
        }
    }

    private boolean isKeyItem(int i) {
        SelectStatement.Item item = s.items.get(i);
        String normal = t.normal(item.from(), item.exprEnd());
        for (GroupKey k : keys) {
            if (k.item == i || k.normal.equals(normal)) {
                if (k.item < 0) {
                    k.item = i;
                }
                return true;
            }
        }
        return false;
    }

    /** Only constants and parameters (a select-list item that needs no GROUP BY key). */
    private boolean isConstant(int from, int to) {
        for (int k = from; k < to; k++) {
            int type = t.type[k];
            if (type == NUMBER || type == STRING || type == PARAM || type == OP || type == LPAREN || type == RPAREN) {
                continue;
            }
            if (type == WORD && (t.word[k].equals("true") || t.word[k].equals("false") || t.word[k].equals("null")
                    || t.isOp(k - 1, "::"))) {
                continue;
            }
            return false;
        }
        return true;
    }

    /** An ORDER BY / DISTINCT ON key as an output index. */
    private int resolve(int from, int to, String clause) throws CrossShardRefusal {
        int pos = s.position(from, to);
        if (pos > 0) {
            if (pos > s.items.size()) {
                throw new CrossShardRefusal(clause + " position " + pos + " is not in select list");
            }
            return pos - 1;
        }
        if (s.isSimpleName(from, to)) {
            String name = s.name(from);
            for (int i = 0; i < s.items.size(); i++) {
                if (name.equals(s.outputName(s.items.get(i)))) {
                    return i;
                }
            }
        }
        String normal = t.normal(from, to);
        for (int i = 0; i < s.items.size(); i++) {
            SelectStatement.Item item = s.items.get(i);
            if (normal.equals(t.normal(item.from(), item.exprEnd()))) {
                return i;
            }
        }
        int r = operand(from, to);
        if (r >= 0) {
            return r;
        }
        if (!aggregates(t, from, to).isEmpty()) {
            throw new CrossShardRefusal("expressions over aggregates are not merged across shards: " + t.text(from, to));
        }
        throw new CrossShardRefusal(clause + " " + t.text(from, to)
                + " is neither a GROUP BY key nor an aggregate, so it is not run across shards");
    }

    /**
     * The output of tokens {@code [from, to)} when they are one aggregate call or a GROUP BY key;
     * -1 when they are neither (an expression over aggregates is neither).
     */
    int operand(int from, int to) throws CrossShardRefusal {
        List<AggregateCall> calls = aggregates(t, from, to);
        if (!calls.isEmpty()) {
            AggregateCall c = calls.get(0);
            if (calls.size() > 1 || c.from != from || c.to != to) {
                return -1;
            }
            return aggregateOutput(c);
        }
        String normal = t.normal(from, to);
        for (GroupKey k : keys) {
            if (k.normal.equals(normal)) {
                return k.output;
            }
        }
        return -1;
    }
}
