package dev.pgfleet.router.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Shard SQL, plan fields and refusals of {@link CrossShardPlanner}. The SQL of every accepted
 * case ({@link #ACCEPTED}) also runs on PostgreSQL in {@link CrossShardPlannerPostgresTest}, on
 * tables {@code users} and {@code orders} with the columns used here.
 */
class CrossShardPlannerTest {

    static final CrossShardPlanner PLANNER = new CrossShardPlanner(
            Map.of("users", "id", "orders", "user_id"), Set.of("countries"));

    /** Shard SQL of ungrouped queries: {client's SQL, shard SQL}. */
    static final String[][] UNGROUPED = {
        {"SELECT id, name FROM users", "SELECT id, name FROM users"},
        {"SELECT id, name FROM users;", "SELECT id, name FROM users"},
        {"select * from users where active", "select * from users where active"},
        {"SELECT id FROM users ORDER BY id", "SELECT id FROM users ORDER BY id"},
        {"SELECT id FROM users ORDER BY id LIMIT 10", "SELECT id FROM users ORDER BY id LIMIT 10"},
        {"SELECT id FROM users ORDER BY id LIMIT 10 OFFSET 5", "SELECT id FROM users ORDER BY id LIMIT 15"},
        {"SELECT id FROM users ORDER BY id OFFSET 5 LIMIT 10", "SELECT id FROM users ORDER BY id LIMIT 15"},
        {"SELECT id FROM users ORDER BY id OFFSET 5", "SELECT id FROM users ORDER BY id"},
        {"SELECT id FROM users ORDER BY id OFFSET 5 ROWS", "SELECT id FROM users ORDER BY id"},
        {"SELECT id FROM users LIMIT 3", "SELECT id FROM users LIMIT 3"},
        {"SELECT id FROM users LIMIT ALL", "SELECT id FROM users"},
        {"SELECT id FROM users LIMIT NULL", "SELECT id FROM users"},
        {"SELECT id FROM users ORDER BY id LIMIT $1", "SELECT id FROM users ORDER BY id LIMIT $1"},
        {"SELECT id FROM users ORDER BY id LIMIT $1 OFFSET $2",
            "SELECT id FROM users ORDER BY id LIMIT ($1::bigint + $2::bigint)"},
        {"SELECT id FROM users WHERE name = $1 ORDER BY id LIMIT 10 OFFSET $2",
            "SELECT id FROM users WHERE name = $1 ORDER BY id LIMIT (10 + $2::bigint)"},
        {"SELECT id FROM users ORDER BY id FETCH FIRST 5 ROWS ONLY", "SELECT id FROM users ORDER BY id LIMIT 5"},
        {"SELECT id FROM users ORDER BY id OFFSET 2 ROWS FETCH NEXT 5 ROWS ONLY",
            "SELECT id FROM users ORDER BY id LIMIT 7"},
        {"SELECT id FROM users ORDER BY id FETCH FIRST ROW ONLY", "SELECT id FROM users ORDER BY id LIMIT 1"},
        {"SELECT id FROM users ORDER BY name DESC", "SELECT id, name AS \"?pgfleet_sort_1\" FROM users ORDER BY name DESC"},
        {"SELECT * FROM users ORDER BY name", "SELECT *, name AS \"?pgfleet_sort_1\" FROM users ORDER BY name"},
        {"SELECT * FROM users ORDER BY 2", "SELECT * FROM users ORDER BY 2"},
        {"SELECT id, * FROM users ORDER BY id", "SELECT id, * FROM users ORDER BY id"},
        {"SELECT u.* FROM users u ORDER BY u.created DESC NULLS LAST LIMIT 20",
            "SELECT u.*, u.created AS \"?pgfleet_sort_1\" FROM users u ORDER BY u.created DESC NULLS LAST LIMIT 20"},
        {"SELECT id, lower(name) AS n FROM users ORDER BY n", "SELECT id, lower(name) AS n FROM users ORDER BY n"},
        {"SELECT id, lower(name) n FROM users ORDER BY lower(name)", "SELECT id, lower(name) n FROM users ORDER BY lower(name)"},
        {"SELECT id FROM users ORDER BY age + 1, id", "SELECT id, age + 1 AS \"?pgfleet_sort_1\" FROM users ORDER BY age + 1, id"},
        {"SELECT DISTINCT country FROM users", "SELECT DISTINCT country FROM users"},
        {"SELECT DISTINCT country FROM users LIMIT 5", "SELECT DISTINCT country FROM users"},
        {"SELECT DISTINCT country FROM users ORDER BY country LIMIT 5",
            "SELECT DISTINCT country FROM users ORDER BY country LIMIT 5"},
        {"SELECT DISTINCT ON (country) country, name FROM users ORDER BY country, name",
            "SELECT DISTINCT ON (country) country, name FROM users ORDER BY country, name"},
        {"SELECT DISTINCT ON (country) id FROM users ORDER BY country, id",
            "SELECT DISTINCT ON (country) id, country AS \"?pgfleet_sort_1\" FROM users ORDER BY country, id"},
        {"SELECT id FROM users WHERE name IS DISTINCT FROM 'x' ORDER BY id",
            "SELECT id FROM users WHERE name IS DISTINCT FROM 'x' ORDER BY id"},
        {"SELECT id, name -- the name\n FROM users /* all */ ORDER BY 2 LIMIT 1",
            "SELECT id, name -- the name\n FROM users /* all */ ORDER BY 2 LIMIT 1"},
        {"SELECT id, 'a;b' AS s FROM users ORDER BY s", "SELECT id, 'a;b' AS s FROM users ORDER BY s"},
        {"SELECT id FROM users u JOIN countries c ON c.code = u.country ORDER BY c.name",
            "SELECT id, c.name AS \"?pgfleet_sort_1\" FROM users u JOIN countries c ON c.code = u.country ORDER BY c.name"},
        {"SELECT id, name FROM users ORDER BY name, name", "SELECT id, name FROM users ORDER BY name, name"},
        {"SELECT id FROM users ORDER BY id LIMIT 9223372036854775807 OFFSET 1",
            "SELECT id FROM users ORDER BY id LIMIT ALL"},
        {"SELECT id, created::date AS day FROM users ORDER BY day DESC",
            "SELECT id, created::date AS day FROM users ORDER BY day DESC"},
        {"SELECT DISTINCT ON (country) * FROM users ORDER BY country, id",
            "SELECT DISTINCT ON (country) *, country AS \"?pgfleet_sort_1\", id AS \"?pgfleet_sort_2\" FROM users ORDER BY country, id"},
        {"SELECT *, score * 2 AS dbl FROM users ORDER BY dbl DESC LIMIT 3",
            "SELECT *, score * 2 AS dbl, score * 2 AS \"?pgfleet_sort_1\" FROM users ORDER BY dbl DESC LIMIT 3"},
        {"SELECT id FROM users ORDER BY id FETCH FIRST $1 ROWS ONLY", "SELECT id FROM users ORDER BY id LIMIT $1"},
        {"SELECT id FROM users ORDER BY id OFFSET $1 ROWS FETCH FIRST (4) ROWS ONLY",
            "SELECT id FROM users ORDER BY id LIMIT (4 + $1::bigint)"},
        {"select Id from USERS order by NAME desc nulls last, ID limit 4 offset 2",
            "select Id, NAME AS \"?pgfleet_sort_1\" from USERS order by NAME desc nulls last, ID LIMIT 6"},
        {"SELECT id, score FROM users WHERE $1::int > 0 ORDER BY score, 1",
            "SELECT id, score FROM users WHERE $1::int > 0 ORDER BY score, 1"},
        {"SELECT DISTINCT lower(name) FROM users ORDER BY LOWER(name) LIMIT 2",
            "SELECT DISTINCT lower(name) FROM users ORDER BY LOWER(name) LIMIT 2"},
        {"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT u.id FROM users u JOIN r ON r.n = u.id ORDER BY u.id DESC",
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT u.id FROM users u JOIN r ON r.n = u.id ORDER BY u.id DESC"},
    };

    /** Shard SQL of grouped queries. */
    static final String[][] GROUPED = {
        {"SELECT count(*) FROM users", "SELECT count(*) FROM users"},
        {"SELECT count(*) AS n FROM users WHERE active", "SELECT count(*) AS n FROM users WHERE active"},
        {"SELECT country, count(*) FROM users GROUP BY country", "SELECT country, count(*) FROM users GROUP BY 1"},
        {"SELECT country, count(*) FROM users GROUP BY 1 ORDER BY 2 DESC LIMIT 5",
            "SELECT country, count(*) FROM users GROUP BY 1"},
        {"SELECT country c, sum(age) FROM users GROUP BY c", "SELECT country c, sum(age) FROM users GROUP BY 1"},
        {"SELECT avg(age) FROM users", "SELECT sum(age), count(age) FROM users"},
        {"SELECT country, avg(score) AS a FROM users GROUP BY country",
            "SELECT country, sum(score), count(score) FROM users GROUP BY 1"},
        {"SELECT min(created), max(created) FROM users", "SELECT min(created), max(created) FROM users"},
        {"SELECT bool_and(active), bool_or(active), every(active) FROM users",
            "SELECT bool_and(active), bool_or(active), every(active) FROM users"},
        {"SELECT stddev(age) FROM users",
            "SELECT count(age), sum((age)::numeric), sum((age)::numeric * (age)::numeric) FROM users"},
        {"SELECT country, var_pop(ratio) FROM users GROUP BY country",
            "SELECT country, count(ratio), sum((ratio)::numeric), sum((ratio)::numeric * (ratio)::numeric) FROM users GROUP BY 1"},
        {"SELECT count(*) FILTER (WHERE active) FROM users", "SELECT count(*) FILTER (WHERE active) FROM users"},
        {"SELECT avg(age) FILTER (WHERE active) FROM users",
            "SELECT sum(age) FILTER (WHERE active), count(age) FILTER (WHERE active) FROM users"},
        {"SELECT count(DISTINCT country) FROM users", "SELECT country AS \"?pgfleet_distinct\" FROM users GROUP BY 1"},
        {"SELECT active, count(DISTINCT country), count(*) FROM users GROUP BY active",
            "SELECT active, count(*), country AS \"?pgfleet_distinct\" FROM users GROUP BY 1, 3"},
        {"SELECT country, count(DISTINCT country) FROM users GROUP BY country",
            "SELECT country FROM users GROUP BY 1"},
        {"SELECT count(*) FROM users GROUP BY country", "SELECT count(*), country AS \"?pgfleet_key_1\" FROM users GROUP BY 2"},
        {"SELECT country, count(*) FROM users GROUP BY country HAVING count(*) > 1",
            "SELECT country, count(*) FROM users GROUP BY 1"},
        {"SELECT country FROM users GROUP BY country HAVING sum(age) > 10 AND avg(age) < 50",
            "SELECT country, sum(age), sum(age), count(age) FROM users GROUP BY 1"},
        {"SELECT country FROM users GROUP BY country ORDER BY max(created) DESC",
            "SELECT country, max(created) FROM users GROUP BY 1"},
        {"SELECT lower(name), count(*) FROM users GROUP BY lower(name)",
            "SELECT lower(name), count(*) FROM users GROUP BY 1"},
        {"SELECT LOWER( name ), count(*) FROM users GROUP BY lower(name)",
            "SELECT LOWER( name ), count(*) FROM users GROUP BY 1"},
        {"SELECT date_trunc('day', created) AS d, count(*) FROM users GROUP BY d ORDER BY d",
            "SELECT date_trunc('day', created) AS d, count(*) FROM users GROUP BY 1"},
        {"SELECT country, active, count(*) FROM users GROUP BY 2, 1", "SELECT country, active, count(*) FROM users GROUP BY 2, 1"},
        {"SELECT u.country, sum(o.amount) FROM users u JOIN orders o ON o.user_id = u.id WHERE o.status = $1 GROUP BY u.country",
            "SELECT u.country, sum(o.amount) FROM users u JOIN orders o ON o.user_id = u.id WHERE o.status = $1 GROUP BY 1"},
        {"SELECT 'total', count(*) FROM users", "SELECT 'total', count(*) FROM users"},
        {"SELECT count(DISTINCT country), count(*) FROM users",
            "SELECT count(*), country AS \"?pgfleet_distinct\" FROM users GROUP BY 2"},
        {"SELECT Country, COUNT(*) FROM users GROUP BY country ORDER BY COUNT(*) DESC, 1",
            "SELECT Country, COUNT(*) FROM users GROUP BY 1"},
        {"SELECT status, max(amount) m FROM orders GROUP BY status ORDER BY m DESC LIMIT $1",
            "SELECT status, max(amount) m FROM orders GROUP BY status".replace("GROUP BY status", "GROUP BY 1")},
        {"SELECT active FROM users GROUP BY active HAVING count(*) > $1 ORDER BY active",
            "SELECT active, count(*) FROM users GROUP BY 1"},
        {"SELECT country, count(*) FROM users GROUP BY ALL country", "SELECT country, count(*) FROM users GROUP BY 1"},
        {"SELECT status, sum(qty) FILTER (WHERE amount > 0) AS q FROM orders GROUP BY status HAVING sum(qty) FILTER (WHERE amount > 0) > $1",
            "SELECT status, sum(qty) FILTER (WHERE amount > 0) AS q FROM orders GROUP BY 1"},
        {"SELECT DISTINCT count(*) FROM orders GROUP BY status", "SELECT count(*), status AS \"?pgfleet_key_1\" FROM orders GROUP BY 2"},
        {"SELECT status, avg(DISTINCT qty), sum(DISTINCT qty) FROM orders GROUP BY status",
            "SELECT status, qty AS \"?pgfleet_distinct\" FROM orders GROUP BY 1, 2"},
        {"SELECT country, count(*) FROM users GROUP BY country ORDER BY country LIMIT 2 OFFSET 1",
            "SELECT country, count(*) FROM users GROUP BY 1"},
        {"SELECT country FROM users GROUP BY country", "SELECT country FROM users GROUP BY 1"},
        {"SELECT count(*) WHERE 1 = $1::int", "SELECT count(*) WHERE 1 = $1::int"},
        {"SELECT pg_catalog.count(*) FROM users", "SELECT pg_catalog.count(*) FROM users"},
    };

    /** Refused queries and a word of the message. */
    static final String[][] REFUSED = {
        {"SELECT round(avg(age), 2) FROM users", "expressions over aggregates"},
        {"SELECT sum(age) / count(*) FROM users", "expressions over aggregates"},
        {"SELECT count(*) + 1 FROM users", "expressions over aggregates"},
        {"SELECT country, avg(age)::text FROM users GROUP BY country", "expressions over aggregates"},
        {"WITH d AS (DELETE FROM orders RETURNING user_id) SELECT count(*) FROM d", "data-modifying WITH"},
        {"WITH a AS (SELECT id, name FROM users WHERE active) SELECT name FROM a ORDER BY name LIMIT 3", "WITH query a"},
        {"SELECT id FROM users FOR UPDATE", "FOR UPDATE"},
        {"SELECT id FROM users ORDER BY id LIMIT 4 OFFSET 1 FOR SHARE", "FOR SHARE"},
        {"SELECT id FROM users ORDER BY id FOR UPDATE LIMIT 4", "FOR UPDATE"},
        {"SELECT id, (SELECT max(o.amount) FROM orders o WHERE o.user_id = u.id) FROM users u", "subquery"},
        {"WITH big AS (SELECT * FROM orders WHERE amount > 10) SELECT status, count(*) FROM big GROUP BY status", "WITH query big"},
        {"SELECT id FROM users LIMIT ALL 5", "LIMIT"},
        {"SELECT country FROM users GROUP BY country HAVING round(avg(age), 2) > 1", "expressions over aggregates"},
        {"SELECT country FROM users GROUP BY country HAVING max(age) OVER () > 1", "window function"},
        {"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY age) FROM users", "percentile_cont"},
        {"SELECT mode() WITHIN GROUP (ORDER BY age) FROM users", "mode"},
        {"SELECT string_agg(name, ',') FROM users", "string_agg"},
        {"SELECT array_agg(id) FROM users", "array_agg"},
        {"SELECT json_agg(name) FROM users", "json_agg"},
        {"SELECT jsonb_agg(name) FROM users", "jsonb_agg"},
        {"SELECT corr(age, score) FROM users", "corr"},
        {"SELECT regr_slope(age, score) FROM users", "regr_slope"},
        {"SELECT covar_pop(age, score) FROM users", "covar_pop"},
        {"SELECT bit_or(age) FROM users", "bit_or"},
        {"SELECT country, sum(age ORDER BY id) FROM users GROUP BY country", "ORDER BY inside"},
        {"SELECT * FROM users GROUP BY id", "SELECT *"},
        {"SELECT country, count(*) FROM users GROUP BY ROLLUP (country)", "ROLLUP"},
        {"SELECT country, count(*) FROM users GROUP BY CUBE (country)", "CUBE"},
        {"SELECT country, count(*) FROM users GROUP BY GROUPING SETS ((country), ())", "GROUPING SETS"},
        {"SELECT name, count(*) FROM users GROUP BY country", "name must appear in the GROUP BY"},
        {"SELECT country, myagg(age) FROM users GROUP BY country", "myagg is not an aggregate PgFleet merges"},
        {"SELECT id, row_number() OVER (ORDER BY id) FROM users", "window function"},
        {"SELECT country, count(*) OVER () FROM users", "window function"},
        {"SELECT id FROM users WINDOW w AS (ORDER BY id)", "WINDOW"},
        {"SELECT count(DISTINCT country), count(DISTINCT name) FROM users", "different arguments"},
        {"SELECT id FROM users UNION SELECT user_id FROM orders", "UNION"},
        {"SELECT id FROM users EXCEPT SELECT user_id FROM orders", "EXCEPT"},
        {"SELECT id INTO x FROM users", "SELECT ... INTO"},
        {"SELECT id FROM users ORDER BY id FETCH FIRST 3 ROWS WITH TIES", "WITH TIES"},
        {"SELECT id FROM users LIMIT 5 + 5", "LIMIT"},
        {"SELECT id FROM users ORDER BY id USING <", "USING"},
        {"SELECT country, count(*) FROM users GROUP BY country HAVING count(*)::int > 1", "HAVING construct"},
        {"SELECT country, count(*) FROM users GROUP BY country HAVING name = 'x'", "neither a GROUP BY key"},
        {"SELECT country, count(*) FROM users GROUP BY country HAVING country LIKE 'a%'", "HAVING construct"},
        {"SELECT country, count(*) FROM users GROUP BY country HAVING count(*) > (SELECT 1)", "subquery in HAVING"},
        {"SELECT country FROM users GROUP BY country ORDER BY name", "neither a GROUP BY key nor an aggregate"},
        {"SELECT country FROM users GROUP BY country ORDER BY sum(age) / 2", "expressions over aggregates"},
        {"SELECT count(DISTINCT country) FILTER (WHERE active) FROM users", "FILTER"},
        {"SELECT stddev(DISTINCT age) FROM users", "DISTINCT"},
        {"(SELECT id FROM users)", "parenthesised"},
        {"VALUES (1)", "only a SELECT"},
        {"WITH x AS (SELECT 1) INSERT INTO users (id) SELECT 1", "does not start with SELECT"},
        {"SELECT 'unterminated FROM users", "unterminated"},
        {"SELECT id FROM users; SELECT 2", "several statements"},
        {"SELECT count(*) FROM users GROUP BY count(*)", "aggregate functions are not allowed in GROUP BY"},
    };

    static List<String> accepted() {
        List<String> all = new ArrayList<>();
        for (String[] c : UNGROUPED) {
            all.add(c[0]);
        }
        for (String[] c : GROUPED) {
            all.add(c[0]);
        }
        all.addAll(List.of(MORE));
        return all;
    }

    /** Accepted queries whose plan fields are checked one by one below. */
    static final String[] MORE = {
        "SELECT id, name FROM users ORDER BY name DESC, id LIMIT 10",
        "SELECT *, age FROM users ORDER BY age, name",
        "SELECT country, avg(age), count(*) FROM users GROUP BY country HAVING avg(age) > 20 ORDER BY 3 DESC, country",
        "SELECT country, count(DISTINCT name) FROM users GROUP BY country",
        "SELECT DISTINCT ON (country) country, id FROM users ORDER BY country, created DESC",
        "SELECT count(*) FROM users HAVING count(*) > 0",
        "SELECT id, my_udf(name) FROM users ORDER BY id",
        "SELECT myagg(age) FROM users",
    };

    @Test
    void ungroupedShardSql() throws CrossShardRefusal {
        for (String[] c : UNGROUPED) {
            CrossShardPlan p = PLANNER.plan(c[0]);
            assertEquals(c[1], p.shardSql(), c[0]);
            assertFalse(p.grouped(), c[0]);
            assertTrue(p.outputs().isEmpty(), c[0]);
        }
    }

    @Test
    void groupedShardSql() throws CrossShardRefusal {
        for (String[] c : GROUPED) {
            CrossShardPlan p = PLANNER.plan(c[0]);
            assertEquals(c[1], p.shardSql(), c[0]);
            assertTrue(p.grouped(), c[0]);
        }
    }

    @Test
    void refusals() {
        List<String> wrong = new java.util.ArrayList<>();
        for (String[] c : REFUSED) {
            CrossShardRefusal e = assertThrows(CrossShardRefusal.class, () -> PLANNER.plan(c[0]), c[0]);
            if (!e.getMessage().contains(c[1])) {
                wrong.add(c[0] + " -> " + e.getMessage());
            }
        }
        assertTrue(wrong.isEmpty(), String.join("\n", wrong));
    }

    @Test
    void enoughCases() {
        assertTrue(UNGROUPED.length + GROUPED.length + REFUSED.length + MORE.length >= 80);
    }

    @Test
    void orderByRefsAndLimits() throws CrossShardRefusal {
        CrossShardPlan p = PLANNER.plan(MORE[0]);
        assertEquals(List.of(new SortKey(1, true, true), new SortKey(0, false, false)), p.orderBy());
        assertEquals(new Bound(10, 0), p.limit());
        assertNull(p.offset());
        assertEquals(0, p.hiddenColumns());
        assertEquals("Merge: ORDER BY col 2 DESC, col 1, LIMIT 10 (shards get LIMIT 10)", p.explain().get(0));

        p = PLANNER.plan(MORE[1]);
        // age after * has no certain position: hidden; name too.
        assertEquals("SELECT *, age, age AS \"?pgfleet_sort_1\", name AS \"?pgfleet_sort_2\" FROM users ORDER BY age, name",
                p.shardSql());
        assertEquals(List.of(new SortKey(-2, false, false), new SortKey(-1, false, false)), p.orderBy());
        assertEquals(2, p.hiddenColumns());

        p = PLANNER.plan("SELECT id FROM users ORDER BY id LIMIT $1 OFFSET $2");
        assertEquals(new Bound(0, 1), p.limit());
        assertEquals(new Bound(0, 2), p.offset());

        p = PLANNER.plan("SELECT id FROM users ORDER BY id OFFSET 0 LIMIT 3");
        assertNull(p.offset());
        assertEquals("SELECT id FROM users ORDER BY id LIMIT 3", p.shardSql());

        p = PLANNER.plan("SELECT id, name FROM users ORDER BY name NULLS FIRST, id DESC NULLS LAST");
        assertEquals(List.of(new SortKey(1, false, true), new SortKey(0, true, false)), p.orderBy());

        p = PLANNER.plan("SELECT id FROM users ORDER BY name DESC");
        assertEquals(List.of(new SortKey(1, true, true)), p.orderBy());
        assertEquals(1, p.hiddenColumns());

        p = PLANNER.plan("SELECT * FROM users ORDER BY 3 DESC");
        assertEquals(List.of(new SortKey(2, true, true)), p.orderBy());
    }

    @Test
    void distinctPlans() throws CrossShardRefusal {
        CrossShardPlan p = PLANNER.plan("SELECT DISTINCT country FROM users LIMIT 5");
        assertTrue(p.distinct());
        assertEquals(new Bound(5, 0), p.limit());
        assertTrue(p.explain().get(0).contains("not pushed"), p.explain().toString());

        p = PLANNER.plan(MORE[4]);
        assertTrue(p.distinct());
        assertEquals(List.of(0), p.distinctOn());
        assertEquals(List.of(new SortKey(0, false, false), new SortKey(2, true, true)), p.orderBy());
        assertEquals("SELECT DISTINCT ON (country) country, id, created AS \"?pgfleet_sort_1\" FROM users "
                + "ORDER BY country, created DESC", p.shardSql());

        p = PLANNER.plan("SELECT DISTINCT ON (country) * FROM users ORDER BY country, id");
        assertEquals(List.of(-2), p.distinctOn());
        assertEquals(List.of(new SortKey(-2, false, false), new SortKey(-1, false, false)), p.orderBy());
    }

    @Test
    void groupedOutputs() throws CrossShardRefusal {
        CrossShardPlan p = PLANNER.plan(MORE[2]);
        assertEquals("SELECT country, sum(age), count(age), count(*) FROM users GROUP BY 1", p.shardSql());
        assertEquals(3, p.visibleOutputs());
        assertEquals(List.of(Output.plain(0), new Output(1, Aggregate.AVG, new int[] {1, 2}, false),
                new Output(3, Aggregate.COUNT, new int[] {3}, false)), p.outputs());
        assertEquals(List.of(0), p.groupBy());
        assertEquals(0, p.hiddenColumns());
        assertEquals(new Expr.Compare(">", new Expr.Ref(1), new Expr.Const(20L)), p.having());
        assertEquals(List.of(new SortKey(2, true, true), new SortKey(0, false, false)), p.orderBy());
        assertEquals(-1, p.distinctArgument());
        assertEquals("Group: by col 1; avg -> sum/count; count -> sum of counts", p.explain().get(0));

        p = PLANNER.plan(MORE[3]);
        assertEquals("SELECT country, name AS \"?pgfleet_distinct\" FROM users GROUP BY 1, 2", p.shardSql());
        assertEquals(1, p.distinctArgument());
        assertEquals(List.of(0), p.groupBy());
        assertEquals(List.of(Output.plain(0), new Output(1, Aggregate.COUNT, new int[] {1}, true), Output.plain(1)),
                p.outputs());
        assertEquals(1, p.hiddenColumns());

        p = PLANNER.plan("SELECT count(*) FROM users GROUP BY country");
        assertEquals(List.of(1), p.groupBy());
        assertEquals(1, p.hiddenColumns());
        assertEquals(1, p.visibleOutputs());
        assertEquals(List.of(new Output(0, Aggregate.COUNT, new int[] {0}, false), Output.plain(1)), p.outputs());

        p = PLANNER.plan("SELECT country FROM users GROUP BY country HAVING sum(age) > 10 AND avg(age) < 50");
        assertEquals(List.of(Output.plain(0), new Output(1, Aggregate.SUM, new int[] {1}, false),
                new Output(2, Aggregate.AVG, new int[] {2, 3}, false)), p.outputs());
        assertEquals(3, p.hiddenColumns());
        assertEquals(new Expr.And(new Expr.Compare(">", new Expr.Ref(1), new Expr.Const(10L)),
                new Expr.Compare("<", new Expr.Ref(2), new Expr.Const(50L))), p.having());

        p = PLANNER.plan("SELECT stddev_pop(score), variance(age), every(active) FROM users");
        assertEquals(List.of(new Output(0, Aggregate.STDDEV_POP, new int[] {0, 1, 2}, false),
                new Output(3, Aggregate.VAR_SAMP, new int[] {3, 4, 5}, false),
                new Output(6, Aggregate.BOOL_AND, new int[] {6}, false)), p.outputs());
        assertEquals(List.of(), p.groupBy());

        p = PLANNER.plan(MORE[5]);
        assertTrue(p.grouped());
        assertEquals(new Expr.Compare(">", new Expr.Ref(0), new Expr.Const(0L)), p.having());

        p = PLANNER.plan("SELECT country, count(*) FROM users GROUP BY country ORDER BY country LIMIT 2 OFFSET 1");
        assertEquals(new Bound(2, 0), p.limit());
        assertEquals(new Bound(1, 0), p.offset());
        assertEquals(List.of(new SortKey(0, false, false)), p.orderBy());

        p = PLANNER.plan("SELECT country FROM users GROUP BY country ORDER BY max(created) DESC");
        assertEquals(List.of(new SortKey(1, true, true)), p.orderBy());
        assertEquals(new Output(1, Aggregate.MAX, new int[] {1}, false), p.outputs().get(1));
    }

    @Test
    void havingForms() throws CrossShardRefusal {
        Expr e = PLANNER.plan("SELECT country FROM users GROUP BY country HAVING count(*) BETWEEN 2 AND $1 "
                + "OR country IN ('a', 'b') OR NOT (max(age) IS NULL) OR min(age) NOT IN (1, 2.5) "
                + "OR -sum(age) % 3 <> 0 OR country IS NOT NULL").having();
        Expr expected = new Expr.Or(new Expr.Or(new Expr.Or(new Expr.Or(new Expr.Or(
                new Expr.Between(new Expr.Ref(1), new Expr.Const(2L), new Expr.Param(1)),
                new Expr.In(new Expr.Ref(0), List.of(new Expr.Const("a"), new Expr.Const("b")))),
                new Expr.Not(new Expr.IsNull(new Expr.Ref(2), false))),
                new Expr.Not(new Expr.In(new Expr.Ref(3),
                        List.of(new Expr.Const(1L), new Expr.Const(new java.math.BigDecimal("2.5")))))),
                new Expr.Compare("<>", new Expr.Arith("%", new Expr.Neg(new Expr.Ref(4)), new Expr.Const(3L)),
                        new Expr.Const(0L))),
                new Expr.IsNull(new Expr.Ref(0), true));
        assertEquals(expected, e);

        e = PLANNER.plan("SELECT country, count(*) c FROM users GROUP BY country HAVING count(*) * 2 + 1 >= 5 AND true")
                .having();
        assertEquals(new Expr.And(new Expr.Compare(">=", new Expr.Arith("+", new Expr.Arith("*", new Expr.Ref(1),
                new Expr.Const(2L)), new Expr.Const(1L)), new Expr.Const(5L)), new Expr.Const(true)), e);

        e = PLANNER.plan("SELECT country FROM users GROUP BY country HAVING $1").having();
        assertEquals(new Expr.Compare("=", new Expr.Param(1), new Expr.Const(true)), e);

        e = PLANNER.plan("SELECT country FROM users GROUP BY country HAVING (count(*)) != 1").having();
        assertEquals(new Expr.Compare("<>", new Expr.Ref(1), new Expr.Const(1L)), e);
    }

    @Test
    void unknownFunctions() throws CrossShardRefusal {
        assertEquals(Set.of("my_udf"), PLANNER.plan(MORE[6]).unknownFunctions());
        CrossShardPlan p = PLANNER.plan(MORE[7]);
        // Not known here: planned as an ungrouped query; the proxy finds myagg in pg_aggregate and refuses.
        assertEquals(Set.of("myagg"), p.unknownFunctions());
        assertFalse(p.grouped());
        assertEquals(Set.of(), PLANNER.plan("SELECT lower(name), coalesce(age, 0) FROM users u(a, b, c)")
                .unknownFunctions());
        assertEquals(Set.of("app.f"), PLANNER.plan("SELECT app.f(id), pg_catalog.lower(name) FROM users")
                .unknownFunctions());
        assertEquals(Set.of(), PLANNER.plan("WITH c(a) AS (SELECT 1) SELECT CAST(a AS numeric(10, 2)) FROM c")
                .unknownFunctions());
    }

    @Test
    void outputIsImmutable() {
        int[] partials = {1, 2};
        Output o = new Output(1, Aggregate.AVG, partials, false);
        partials[0] = 9;
        assertArrayEquals(new int[] {1, 2}, o.partials());
        o.partials()[1] = 7;
        assertArrayEquals(new int[] {1, 2}, o.partials());
    }
}
