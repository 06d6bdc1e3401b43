package dev.pgfleet.router.merge;

import static dev.pgfleet.router.merge.SqlTokens.LPAREN;

/**
 * One call of an aggregate PgFleet merges, {@code name([DISTINCT|ALL] x | *) [FILTER (WHERE ...)]},
 * spanning tokens {@code [from, to)}.
 */
final class AggregateCall {
    final Aggregate aggregate;
    final String name;
    final int from;
    final int to;
    final boolean star;
    final boolean distinct;
    /** The argument's SQL text (null for {@code *}) and its normal form. */
    final String argument;
    final String argumentNormal;
    /** {@code " FILTER (WHERE ...)"} as written, or "". */
    final String filter;
    /** The whole call, normalised: two calls with one normal form are one output. */
    final String normal;

    private AggregateCall(Aggregate aggregate, String name, int from, int to, boolean star, boolean distinct,
            String argument, String argumentNormal, String filter, String normal) {
        this.aggregate = aggregate;
        this.name = name;
        this.from = from;
        this.to = to;
        this.star = star;
        this.distinct = distinct;
        this.argument = argument;
        this.argumentNormal = argumentNormal;
        this.filter = filter;
        this.normal = normal;
    }

    /**
     * The aggregate call whose name is token {@code i}, or null when {@code i} calls no aggregate;
     * refuses the aggregates PgFleet does not merge and the forms it does not.
     */
    static AggregateCall at(SqlTokens t, int i) throws CrossShardRefusal {
        String f = Functions.calledAt(t, i);
        if (f == null) {
            return null;
        }
        if (Functions.NOT_MERGED.contains(f)) {
            throw new CrossShardRefusal("aggregate " + f + "() is not merged across shards");
        }
        Aggregate a = Functions.MERGED.get(f);
        if (a == null) {
            return null;
        }
        int from = i;
        if (t.is(i - 1, SqlTokens.DOT)) {
            from = i - 2;
        }
        int open = i + 1;
        int close = t.partner[open];
        int s = open + 1;
        boolean distinct = false;
        if (t.isWord(s, "distinct")) {
            distinct = true;
            s++;
        } else if (t.isWord(s, "all")) {
            s++;
        }
        for (int k = s; k < close; k++) {
            if (t.depth[k] == t.depth[open] + 1) {
                if (t.isWord(k, "order") && t.isWord(k + 1, "by")) {
                    throw new CrossShardRefusal("aggregate " + f + "() with ORDER BY inside is not merged across shards");
                }
                if (t.is(k, SqlTokens.COMMA)) {
                    throw new CrossShardRefusal("aggregate " + f + "() with several arguments is not merged across shards");
                }
            }
        }
        boolean star = close == s + 1 && t.isOp(s, "*");
        if (s >= close && !(a == Aggregate.COUNT && close == open + 1)) {
            throw new CrossShardRefusal("aggregate " + f + "() without argument");
        }
        if (close == open + 1) {
            star = true; // count() is an error in PostgreSQL; treat as count(*) and let the shard say so
        }
        if (star && a != Aggregate.COUNT) {
            throw new CrossShardRefusal(f + "(*) is not merged across shards");
        }
        int to = close + 1;
        String filter = "";
        if (t.isWord(to, "filter") && t.is(to + 1, LPAREN)) {
            int fc = t.partner[to + 1];
            filter = " " + t.text(to, fc + 1);
            to = fc + 1;
        }
        if (t.isWord(to, "over")) {
            throw new CrossShardRefusal("window functions (OVER) are not run across shards");
        }
        if (t.isWord(to, "within")) {
            throw new CrossShardRefusal("aggregate " + f + "() WITHIN GROUP is not merged across shards");
        }
        if (distinct) {
            if (!(a == Aggregate.COUNT || a == Aggregate.SUM || a == Aggregate.AVG || a == Aggregate.MIN
                    || a == Aggregate.MAX)) {
                throw new CrossShardRefusal(f + "(DISTINCT ...) is not merged across shards");
            }
            if (!filter.isEmpty()) {
                throw new CrossShardRefusal(f + "(DISTINCT ...) FILTER is not merged across shards");
            }
        }
        String arg = star ? null : t.text(s, close);
        String argNormal = star ? null : t.normal(s, close);
        return new AggregateCall(a, f, from, to, star, distinct, arg, argNormal, filter, t.normal(from, to));
    }

    /** The SQL of the shard's partial columns, in {@link Output#partials()} order (not for DISTINCT). */
    String[] partials(SqlTokens t) {
        String x = argument;
        switch (aggregate) {
            case AVG:
                return new String[] {"sum(" + x + ")" + filter, "count(" + x + ")" + filter};
            case STDDEV_SAMP: case STDDEV_POP: case VAR_SAMP: case VAR_POP:
                String n = "(" + x + ")::numeric";
                return new String[] {"count(" + x + ")" + filter, "sum(" + n + ")" + filter,
                        "sum(" + n + " * " + n + ")" + filter};
            default:
                return new String[] {t.text(from, to)};
        }
    }

    /** For EXPLAIN: how the merge combines the partials. */
    String explain() {
        if (distinct) {
            return name + "(DISTINCT) -> " + aggregate.name().toLowerCase() + " over the distinct values";
        }
        switch (aggregate) {
            case COUNT: return name + " -> sum of counts";
            case SUM: return name + " -> sum of sums";
            case MIN: return name + " -> min of mins";
            case MAX: return name + " -> max of maxes";
            case AVG: return name + " -> sum/count";
            case BOOL_AND: return name + " -> and of partials";
            case BOOL_OR: return name + " -> or of partials";
            default: return name + " -> from count, sum, sum of squares";
        }
    }
}
