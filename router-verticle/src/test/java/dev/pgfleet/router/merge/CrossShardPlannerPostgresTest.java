package dev.pgfleet.router.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.math.BigDecimal;
import java.math.MathContext;
import java.sql.Array;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shard SQL of every query {@link CrossShardPlannerTest} accepts runs on PostgreSQL (testkit's
 * first shard server), and its columns are where the plan says: the column count, the hidden
 * columns' names, rows sorted by the columns {@code orderBy} names, one row per group key. Then
 * grouped plans are merged the way the proxy will, from two schemas that each hold half the rows,
 * and compared with the client's query over a schema that holds all of them (orders split by
 * user_id, users by id, so a join stays on one shard as sharding keeps it).
 *
 * <p>Everything runs in one transaction that is rolled back. Text columns use the C collation,
 * so Java's String order is PostgreSQL's for the ASCII test data.
 */
class CrossShardPlannerPostgresTest {

    static Connection db;

    @BeforeAll
    static void connect() throws SQLException {
        db = TestPostgres.shards().get(0).connectSuperuser(TestUsers.DATABASE);
        db.setAutoCommit(false);
        try (Statement s = db.createStatement()) {
            for (String schema : List.of("planner_whole", "planner_a", "planner_b")) {
                s.execute("CREATE SCHEMA " + schema);
                s.execute("CREATE TABLE " + schema + ".users (id bigint, name text COLLATE \"C\", "
                        + "country text COLLATE \"C\", age int, score numeric, active boolean, created timestamptz, "
                        + "ratio float8)");
                s.execute("CREATE TABLE " + schema + ".orders (id bigint, user_id bigint, amount numeric, qty int, "
                        + "status text COLLATE \"C\", created timestamptz)");
                s.execute("CREATE TABLE " + schema + ".countries (code text COLLATE \"C\", name text COLLATE \"C\")");
                String part = schema.equals("planner_whole") ? "true" : schema.equals("planner_a") ? "i % 2 = 0" : "i % 2 = 1";
                s.execute("INSERT INTO " + schema + ".users SELECT i, 'n' || (i % 7), "
                        + "(ARRAY['de', 'fr', 'us', NULL])[i % 4 + 1], CASE WHEN i % 5 = 0 THEN NULL ELSE 18 + i % 30 END, "
                        + "i * 1.25, i % 3 <> 0, timestamptz '2026-01-01 00:00+00' + i * interval '7 hours', i / 3.0 "
                        + "FROM generate_series(1, 40) i WHERE " + part);
                s.execute("INSERT INTO " + schema + ".orders SELECT i, i % 40 + 1, (i % 9) * 2.5, i % 4, "
                        + "(ARRAY['new', 'paid', 'sent'])[i % 3 + 1], timestamptz '2026-02-01 00:00+00' + i * interval '1 hour' "
                        + "FROM generate_series(1, 90) i WHERE " + part.replace("i %", "(i % 40 + 1) %"));
                s.execute("INSERT INTO " + schema + ".countries VALUES ('de', 'Germany'), ('fr', 'France'), ('us', 'USA')");
            }
        }
    }

    @AfterAll
    static void close() throws SQLException {
        if (db != null) {
            db.rollback();
            db.close();
        }
    }

    @Test
    void shardSqlRunsAndColumnsAreWhereThePlanSays() throws Exception {
        List<String> cases = CrossShardPlannerTest.accepted();
        assertTrue(cases.size() >= 70, "cases: " + cases.size());
        List<String> problems = new ArrayList<>();
        int grouped = 0;
        for (String sql : cases) {
            CrossShardPlan p = CrossShardPlannerTest.PLANNER.plan(sql);
            if (p.unknownFunctions().size() > 0) {
                continue; // calls functions the test database does not have
            }
            grouped += p.grouped() ? 1 : 0;
            Savepoint before = db.setSavepoint();
            try {
                List<List<Object>> rows = new ArrayList<>();
                ResultSetMetaData md = run("planner_whole", sql, p.shardSql(), rows);
                String problem = check(p, md, rows);
                if (problem != null) {
                    problems.add(sql + "\n    " + p.shardSql() + "\n    " + problem);
                }
            } catch (SQLException e) {
                problems.add(sql + "\n    " + p.shardSql() + "\n    " + e.getMessage());
            }
            db.rollback(before);
        }
        assertTrue(grouped >= 30, "grouped cases: " + grouped);
        if (!problems.isEmpty()) {
            fail(problems.size() + " of " + cases.size() + " cases:\n" + String.join("\n", problems));
        }
    }

    /**
     * Runs {@code shardSql} in {@code schema}: with the parameter types PostgreSQL infers for the
     * client's {@code sql} (as the proxy does), and values that fit them.
     */
    private static ResultSetMetaData run(String schema, String sql, String shardSql, List<List<Object>> rows)
            throws SQLException {
        try (Statement s = db.createStatement()) {
            s.execute("SET LOCAL search_path = " + schema);
            s.execute("DEALLOCATE ALL");
            s.execute("PREPARE client_stmt AS " + sql);
            List<String> types = new ArrayList<>();
            try (ResultSet r = s.executeQuery(
                    "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = 'client_stmt'")) {
                r.next();
                Array a = r.getArray(1);
                types.addAll(Arrays.asList((String[]) a.getArray()));
            }
            List<String> values = new ArrayList<>();
            for (String type : types) {
                values.add("'" + paramValue(type) + "'");
            }
            String prepare = types.isEmpty() ? "PREPARE shard_stmt AS " : "PREPARE shard_stmt(" + String.join(", ", types) + ") AS ";
            s.execute(prepare + shardSql);
            try (ResultSet r = s.executeQuery(types.isEmpty() ? "EXECUTE shard_stmt"
                    : "EXECUTE shard_stmt(" + String.join(", ", values) + ")")) {
                ResultSetMetaData md = r.getMetaData();
                while (r.next()) {
                    List<Object> row = new ArrayList<>();
                    for (int c = 1; c <= md.getColumnCount(); c++) {
                        row.add(value(r.getObject(c)));
                    }
                    rows.add(row);
                }
                return md;
            }
        }
    }

    /** The value every case binds to a parameter of this type. */
    static String paramValue(String type) {
        return type.equals("text") ? "n1" : type.equals("boolean") ? "true" : "3";
    }

    /** JDBC's value in the merge's representation: Long for every integer, Double for every float. */
    private static Object value(Object v) {
        if (v instanceof Integer || v instanceof Short) {
            return ((Number) v).longValue();
        }
        return v instanceof Float f ? f.doubleValue() : v;
    }

    /** What is wrong with the shard's columns, or null. */
    private static String check(CrossShardPlan p, ResultSetMetaData md, List<List<Object>> rows) throws SQLException {
        int n = md.getColumnCount();
        if (!p.grouped()) {
            for (int j = 0; j < p.hiddenColumns(); j++) {
                String name = md.getColumnLabel(n - p.hiddenColumns() + 1 + j);
                if (!name.equals("?pgfleet_sort_" + (j + 1))) {
                    return "hidden column " + j + " is " + name;
                }
            }
            List<int[]> keys = new ArrayList<>();
            for (SortKey k : p.orderBy()) {
                int c = k.column() >= 0 ? k.column() : n + k.column();
                if (c < 0 || c >= n) {
                    return "sort column " + k.column() + " outside " + n + " columns";
                }
                keys.add(new int[] {c, k.descending() ? 1 : 0, k.nullsFirst() ? 1 : 0});
            }
            for (int i = 1; i < rows.size(); i++) {
                if (compareRows(rows.get(i - 1), rows.get(i), keys) > 0) {
                    return "rows " + (i - 1) + " and " + i + " are not in the order of the plan's sort columns: "
                            + rows.get(i - 1) + " " + rows.get(i);
                }
            }
            if (!p.distinctOn().isEmpty()) {
                Set<List<Object>> seen = new HashSet<>();
                for (List<Object> row : rows) {
                    List<Object> key = new ArrayList<>();
                    for (int c : p.distinctOn()) {
                        key.add(row.get(c >= 0 ? c : n + c));
                    }
                    if (!seen.add(key)) {
                        return "DISTINCT ON columns repeat " + key;
                    }
                }
            }
            return null;
        }
        int columns = 0;
        for (Output o : p.outputs()) {
            for (int c : o.partials()) {
                columns = Math.max(columns, c + 1);
            }
        }
        if (columns != n) {
            return "plan uses " + columns + " shard columns, the shard returns " + n;
        }
        int visibleColumns = 0;
        for (int i = 0; i < p.visibleOutputs(); i++) {
            Output o = p.outputs().get(i);
            visibleColumns += o.distinct() ? 0 : o.partials().length;
        }
        if (n - p.hiddenColumns() != visibleColumns) {
            return "hiddenColumns " + p.hiddenColumns() + " but visible outputs take " + visibleColumns + " of " + n;
        }
        for (int c = visibleColumns; c < n; c++) {
            String name = md.getColumnLabel(c + 1);
            if (c == p.distinctArgument() && !name.equals("?pgfleet_distinct")) {
                return "DISTINCT argument column is " + name;
            }
            if (p.groupBy().contains(c) && !name.startsWith("?pgfleet_key_")) {
                return "hidden key column " + c + " is " + name;
            }
        }
        for (Output o : p.outputs()) {
            if (o.aggregate() == Aggregate.AVG && !o.distinct() && !md.getColumnLabel(o.partials()[1] + 1).equals("count")) {
                return "avg's second partial is " + md.getColumnLabel(o.partials()[1] + 1);
            }
        }
        Set<List<Object>> groups = new HashSet<>();
        for (List<Object> row : rows) {
            List<Object> key = new ArrayList<>();
            for (int c : p.groupBy()) {
                key.add(row.get(c));
            }
            if (p.distinctArgument() >= 0) {
                key.add(row.get(p.distinctArgument()));
            }
            if (!groups.add(key)) {
                return "group key repeats " + key;
            }
        }
        if (p.groupBy().isEmpty() && p.distinctArgument() < 0 && rows.size() != 1) {
            return rows.size() + " rows without group keys";
        }
        return null;
    }

    private static int compareRows(List<Object> a, List<Object> b, List<int[]> keys) {
        for (int[] k : keys) {
            Object x = a.get(k[0]);
            Object y = b.get(k[0]);
            int c;
            if (x == null || y == null) {
                c = x == null && y == null ? 0 : (x == null) == (k[2] == 1) ? -1 : 1;
            } else {
                c = compareValues(x, y);
                if (k[1] == 1) {
                    c = -c;
                }
            }
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    @SuppressWarnings("unchecked")
    private static int compareValues(Object x, Object y) {
        if (x instanceof Number a && y instanceof Number b) {
            return new BigDecimal(a.toString()).compareTo(new BigDecimal(b.toString()));
        }
        return ((Comparable<Object>) x).compareTo(y);
    }

    // -- merging ungrouped plans ----------------------------------------------------------------

    /** Ungrouped queries with a total order (or DISTINCT), merged from two halves. */
    static final String[] MERGED_ROWS = {
        "SELECT id, name FROM users ORDER BY name DESC, id LIMIT 10",
        "SELECT id, name FROM users ORDER BY name, id LIMIT 5 OFFSET 7",
        "SELECT * FROM users ORDER BY created DESC LIMIT 6 OFFSET 3",
        "SELECT id FROM users ORDER BY age NULLS FIRST, id DESC OFFSET 30",
        "SELECT id FROM users ORDER BY score * -1 LIMIT $1 OFFSET $1",
        "SELECT u.* FROM users u ORDER BY u.ratio DESC FETCH FIRST 4 ROWS ONLY",
        "SELECT DISTINCT country FROM users ORDER BY country LIMIT 2 OFFSET 1",
        "SELECT DISTINCT ON (country) country, id FROM users ORDER BY country, id DESC",
        "SELECT DISTINCT ON (name) id, name FROM users ORDER BY name, created LIMIT 3",
        "SELECT o.id, o.amount FROM orders o JOIN users u ON u.id = o.user_id WHERE u.active ORDER BY o.amount DESC, o.id LIMIT 8",
    };

    @Test
    void mergedRowsGiveTheClientsResult() throws Exception {
        List<String> problems = new ArrayList<>();
        for (String sql : MERGED_ROWS) {
            CrossShardPlan p = CrossShardPlannerTest.PLANNER.plan(sql);
            Savepoint before = db.setSavepoint();
            List<List<Object>> rows = new ArrayList<>();
            List<List<Object>> expected = new ArrayList<>();
            Object[] params;
            int columns;
            try {
                columns = run("planner_a", sql, p.shardSql(), rows).getColumnCount();
                run("planner_b", sql, p.shardSql(), rows);
                run("planner_whole", sql, sql, expected);
                params = paramValues(sql);
            } catch (SQLException e) {
                problems.add(sql + "\n    " + e.getMessage());
                continue;
            } finally {
                db.rollback(before);
            }
            List<int[]> keys = new ArrayList<>();
            for (SortKey k : p.orderBy()) {
                keys.add(new int[] {k.column() >= 0 ? k.column() : columns + k.column(), k.descending() ? 1 : 0,
                        k.nullsFirst() ? 1 : 0});
            }
            rows.sort((x, y) -> compareRows(x, y, keys));
            int visible = columns - p.hiddenColumns();
            List<List<Object>> merged = new ArrayList<>();
            Set<List<Object>> seen = new HashSet<>();
            for (List<Object> row : rows) {
                List<Object> key = new ArrayList<>();
                if (!p.distinctOn().isEmpty()) {
                    for (int c : p.distinctOn()) {
                        key.add(row.get(c >= 0 ? c : columns + c));
                    }
                } else {
                    key.addAll(row.subList(0, visible));
                }
                if (p.distinct() && !seen.add(key)) {
                    continue;
                }
                merged.add(row.subList(0, visible));
            }
            long offset = bound(p.offset(), params, 0);
            long limit = bound(p.limit(), params, Long.MAX_VALUE);
            List<List<Object>> result = merged.subList((int) Math.min(offset, merged.size()),
                    (int) Math.min(merged.size(), offset + Math.min(limit, merged.size())));
            if (!String.valueOf(result).equals(String.valueOf(expected))) {
                problems.add(sql + "\n    " + p.shardSql() + "\n    merged:   " + result + "\n    expected: " + expected);
            }
        }
        if (!problems.isEmpty()) {
            fail(String.join("\n", problems));
        }
    }

    private static long bound(Bound b, Object[] params, long absent) {
        if (b == null) {
            return absent;
        }
        return b.param() == 0 ? b.constant() : Long.parseLong((String) params[b.param() - 1]);
    }

    // -- merging grouped plans ------------------------------------------------------------------

    /** Grouped queries whose merge of two halves must give the client's result over all rows. */
    static final String[] MERGED = {
        "SELECT count(*) FROM users",
        "SELECT country, count(*), sum(age), min(name), max(created) FROM users GROUP BY country",
        "SELECT country, avg(age), avg(score), avg(ratio) FROM users GROUP BY country",
        "SELECT active, stddev(age), stddev_pop(score), variance(ratio), var_pop(age) FROM users GROUP BY active",
        "SELECT country, bool_and(active), bool_or(active), every(active) FROM users GROUP BY 1",
        "SELECT count(DISTINCT country) FROM users",
        "SELECT active, count(DISTINCT age), sum(DISTINCT age), avg(DISTINCT age), count(*), max(score) FROM users GROUP BY active",
        "SELECT country, count(DISTINCT name) FROM users GROUP BY country",
        "SELECT status, count(*) FILTER (WHERE amount > 5), sum(qty) FROM orders GROUP BY status",
        "SELECT count(*) FROM users GROUP BY country",
        "SELECT country FROM users GROUP BY country HAVING sum(age) > 100 AND avg(age) < 40",
        "SELECT status, sum(amount) FROM orders GROUP BY status HAVING count(*) BETWEEN 20 AND 40 OR status IN ('new')",
        "SELECT name, count(*) FROM users GROUP BY name HAVING max(age) - min(age) >= 10",
        "SELECT u.country, sum(o.amount), count(*) FROM users u JOIN orders o ON o.user_id = u.id GROUP BY u.country",
        "SELECT avg(age), stddev(age) FROM users WHERE age > 1000",
        // HAVING's arithmetic, comparisons and three-valued logic against PostgreSQL's
        "SELECT country FROM users GROUP BY country HAVING count(*) / 3 = 3",
        "SELECT country FROM users GROUP BY country HAVING count(*) % 4 = 2 OR -count(*) % 3 = -1",
        "SELECT country FROM users GROUP BY country HAVING avg(age) * 2 > 70.5",
        "SELECT country FROM users GROUP BY country HAVING sum(score) / count(*) >= 25.3125",
        "SELECT country FROM users GROUP BY country HAVING avg(ratio) > 6.9",
        "SELECT country FROM users GROUP BY country HAVING sum(age) > $1 * 100",
        "SELECT country FROM users GROUP BY country HAVING count(*) > $1 AND country <> $2",
        "SELECT country FROM users GROUP BY country HAVING country IS NULL OR NOT (country IN ('de', NULL))",
        "SELECT country FROM users GROUP BY country HAVING count(*) NOT IN (9, NULL) IS NULL",
        "SELECT country FROM users GROUP BY country HAVING (max(age) = 100 AND NULL) IS NOT NULL",
        "SELECT country FROM users GROUP BY country HAVING max(age) BETWEEN 40 AND NULL OR min(age) NOT BETWEEN 20 AND 21",
        "SELECT country FROM users GROUP BY country HAVING max(name) > 'n5' OR max(created) IS NULL",
        "SELECT country FROM users GROUP BY country HAVING bool_or(active) = false OR bool_and(active) = $1",
        "SELECT status FROM orders GROUP BY status HAVING sum(amount) / 7 > 13.4 AND sum(qty) / 7 = 8",
        "SELECT status FROM orders GROUP BY status HAVING avg(amount) <> 10.0",
    };

    @Test
    void mergedPartialsGiveTheClientsResult() throws Exception {
        List<String> problems = new ArrayList<>();
        for (String sql : MERGED) {
            CrossShardPlan p = CrossShardPlannerTest.PLANNER.plan(sql);
            Savepoint before = db.setSavepoint();
            List<List<Object>> a = new ArrayList<>();
            List<List<Object>> b = new ArrayList<>();
            List<List<Object>> expected = new ArrayList<>();
            Object[] params;
            try {
                run("planner_a", sql, p.shardSql(), a);
                run("planner_b", sql, p.shardSql(), b);
                run("planner_whole", sql, sql, expected);
                params = paramValues(sql);
            } catch (SQLException e) {
                problems.add(sql + "\n    " + e.getMessage());
                continue;
            } finally {
                db.rollback(before);
            }
            List<List<Object>> merged = merge(p, List.of(a, b), params);
            List<String> got = normalised(merged);
            List<String> want = normalised(expected);
            if (!got.equals(want)) {
                problems.add(sql + "\n    merged:   " + got + "\n    expected: " + want);
            }
        }
        if (!problems.isEmpty()) {
            fail(String.join("\n", problems));
        }
    }

    /** The proxy's merge, written plainly: group, combine partials, HAVING, visible outputs. */
    private static Object[] paramValues(String sql) throws SQLException {
        List<Object> values = new ArrayList<>();
        try (Statement s = db.createStatement()) {
            s.execute("DEALLOCATE ALL");
            s.execute("SET LOCAL search_path = planner_whole");
            s.execute("PREPARE client_stmt AS " + sql);
            try (ResultSet r = s.executeQuery(
                    "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = 'client_stmt'")) {
                r.next();
                for (String type : (String[]) r.getArray(1).getArray()) {
                    values.add(paramValue(type));
                }
            }
        }
        return values.toArray();
    }

    private static List<List<Object>> merge(CrossShardPlan p, List<List<List<Object>>> shards, Object[] params) {
        Map<List<Object>, List<List<Object>>> groups = new LinkedHashMap<>();
        for (List<List<Object>> shard : shards) {
            for (List<Object> row : shard) {
                List<Object> key = new ArrayList<>();
                for (int c : p.groupBy()) {
                    key.add(row.get(c) instanceof BigDecimal d ? d.stripTrailingZeros() : row.get(c));
                }
                groups.computeIfAbsent(key, k -> new ArrayList<>()).add(row);
            }
        }
        List<List<Object>> result = new ArrayList<>();
        for (List<List<Object>> rows : groups.values()) {
            Object[] outputs = new Object[p.outputs().size()];
            for (int i = 0; i < outputs.length; i++) {
                outputs[i] = combine(p.outputs().get(i), rows);
            }
            if (p.having() != null && !Boolean.TRUE.equals(Expr.eval(p.having(), outputs, params))) {
                continue;
            }
            result.add(new ArrayList<>(Arrays.asList(outputs).subList(0, p.visibleOutputs())));
        }
        return result;
    }

    private static Object combine(Output o, List<List<Object>> rows) {
        int[] c = o.partials();
        if (o.aggregate() == null) {
            return rows.get(0).get(c[0]);
        }
        List<BigDecimal> values = new ArrayList<>();
        if (o.distinct()) {
            Set<BigDecimal> seen = new HashSet<>();
            List<Object> texts = new ArrayList<>();
            Set<Object> seenText = new HashSet<>();
            for (List<Object> row : rows) {
                Object v = row.get(c[0]);
                if (v instanceof Number) {
                    if (seen.add(new BigDecimal(v.toString()).stripTrailingZeros())) {
                        values.add(new BigDecimal(v.toString()));
                    }
                } else if (v != null && seenText.add(v)) {
                    texts.add(v);
                }
            }
            switch (o.aggregate()) {
                case COUNT: return (long) (values.size() + texts.size());
                case SUM: return values.isEmpty() ? null : values.stream().reduce(BigDecimal.ZERO, BigDecimal::add);
                case AVG: return values.isEmpty() ? null : values.stream().reduce(BigDecimal.ZERO, BigDecimal::add)
                        .divide(BigDecimal.valueOf(values.size()), MathContext.DECIMAL64);
                default: throw new AssertionError(o);
            }
        }
        switch (o.aggregate()) {
            case COUNT: {
                long n = 0;
                for (List<Object> row : rows) {
                    n += ((Number) row.get(c[0])).longValue();
                }
                return n;
            }
            case SUM: return sum(rows, c[0]);
            case MIN: case MAX: {
                Object best = null;
                for (List<Object> row : rows) {
                    Object v = row.get(c[0]);
                    if (v != null && (best == null || (compareValues(v, best) < 0) == (o.aggregate() == Aggregate.MIN))) {
                        best = v;
                    }
                }
                return best;
            }
            case BOOL_AND: case BOOL_OR: {
                Boolean r = null;
                for (List<Object> row : rows) {
                    Boolean v = (Boolean) row.get(c[0]);
                    if (v != null) {
                        r = r == null ? v : (o.aggregate() == Aggregate.BOOL_AND ? r && v : r || v);
                    }
                }
                return r;
            }
            case AVG: {
                BigDecimal s = sum(rows, c[0]);
                BigDecimal n = sum(rows, c[1]);
                return n.signum() == 0 ? null : s.divide(n, MathContext.DECIMAL64);
            }
            default: {
                BigDecimal n = sum(rows, c[0]);
                BigDecimal s = sum(rows, c[1]);
                BigDecimal ss = sum(rows, c[2]);
                boolean samp = o.aggregate() == Aggregate.STDDEV_SAMP || o.aggregate() == Aggregate.VAR_SAMP;
                if (n.signum() == 0 || (samp && n.compareTo(BigDecimal.ONE) <= 0)) {
                    return null;
                }
                MathContext mc = MathContext.DECIMAL128;
                BigDecimal m2 = ss.subtract(s.multiply(s).divide(n, mc));
                BigDecimal var = m2.divide(samp ? n.subtract(BigDecimal.ONE) : n, mc);
                boolean stddev = o.aggregate() == Aggregate.STDDEV_SAMP || o.aggregate() == Aggregate.STDDEV_POP;
                return stddev ? var.sqrt(mc) : var;
            }
        }
    }

    /** Sum of a numeric partial over the rows; null if every one is null (count partials are never null). */
    private static BigDecimal sum(List<List<Object>> rows, int c) {
        BigDecimal s = null;
        for (List<Object> row : rows) {
            Object v = row.get(c);
            if (v != null) {
                BigDecimal d = new BigDecimal(v.toString());
                s = s == null ? d : s.add(d);
            }
        }
        return s == null && !rows.isEmpty() && rows.get(0).get(c) instanceof Long ? BigDecimal.ZERO : s;
    }

    /** Rows as sorted strings, numbers rounded to 10 significant digits (avg and stddev are computed differently). */
    private static List<String> normalised(List<List<Object>> rows) {
        List<String> out = new ArrayList<>();
        for (List<Object> row : rows) {
            List<String> cells = new ArrayList<>();
            for (Object v : row) {
                if (v instanceof Number n) {
                    BigDecimal d = new BigDecimal(n.toString()).round(new MathContext(10));
                    cells.add(d.signum() == 0 ? "0" : d.stripTrailingZeros().toPlainString());
                } else {
                    cells.add(String.valueOf(v));
                }
            }
            out.add(cells.toString());
        }
        out.sort(null);
        return out;
    }
}
