package dev.pgfleet.proxy.sharding;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * One query of the cross-shard corpus and how its result is compared with the reference's.
 *
 * @param sql        the SELECT; parameters are written {@code ?} (pgjdbc) and turned into {@code $n} for
 *                   vertx-pg-client
 * @param order      what the query's ORDER BY promises
 * @param keyColumns for {@link Order#TIES}: the result columns (1-based) holding the ORDER BY keys, whose
 *                   sequence must be the reference's
 * @param approx     result columns (1-based) compared by value with a relative tolerance of 1e-12: float
 *                   aggregates, whose last digits depend on the order of summation, and numeric or float
 *                   values of which PostgreSQL may show any of equal ones (1.0 or 1.00, -0 or 0)
 * @param params     the values of the {@code ?}, in order ({@code Long} or {@code String})
 * @param refusal    empty, or for a construct the brief neither lists as merged nor as refused: the
 *                   words of which a 0A000 message must name one for a refusal to pass instead of the
 *                   reference's answer (a wrong answer fails either way)
 */
record CorpusQuery(String sql, Order order, int[] keyColumns, Set<Integer> approx, List<Object> params,
                   List<String> refusal) {

    enum Order {
        /** ORDER BY gives a total order: row for row. */
        TOTAL,
        /** ORDER BY has ties: the key columns' sequence equal, rows equal as multisets. */
        TIES,
        /** No ORDER BY (or it is not a total order of the result): rows equal as multisets. */
        BAG
    }

    static CorpusQuery total(String sql) {
        return new CorpusQuery(sql, Order.TOTAL, new int[0], Set.of(), List.of(), List.of());
    }

    static CorpusQuery ties(String sql, int... keyColumns) {
        return new CorpusQuery(sql, Order.TIES, keyColumns, Set.of(), List.of(), List.of());
    }

    static CorpusQuery bag(String sql) {
        return new CorpusQuery(sql, Order.BAG, new int[0], Set.of(), List.of(), List.of());
    }

    /** The same query with {@code columns} compared by value with tolerance. */
    CorpusQuery approx(int... columns) {
        Set<Integer> set = new TreeSet<>(approx);
        Arrays.stream(columns).forEach(set::add);
        return new CorpusQuery(sql, order, keyColumns, Set.copyOf(set), params, refusal);
    }

    /** The same query with values for its {@code ?}. */
    CorpusQuery with(Object... values) {
        return new CorpusQuery(sql, order, keyColumns, approx, List.of(values), refusal);
    }

    /** The same query, which may also be refused with 0A000 naming one of {@code words}. */
    CorpusQuery orRefused(String... words) {
        return new CorpusQuery(sql, order, keyColumns, approx, params, List.of(words));
    }

    /** The SQL with {@code $1, $2...} for the {@code ?} (none of the corpus's SQL has a {@code ?} elsewhere). */
    String dollarSql() {
        StringBuilder b = new StringBuilder();
        int n = 0;
        for (int i = 0; i < sql.length(); i++) {
            char c = sql.charAt(i);
            if (c == '?') {
                b.append('$').append(++n);
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return sql + (params.isEmpty() ? "" : " " + params);
    }
}
