package dev.pgfleet.router.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link CrossShardChecks#refusal} on SELECTs over users and payments (sharded by users.id and
 * payments.user_id), countries (omnisharded) and logs (unsharded), plus a schema-qualified sharded
 * table; each case with the refusal expected (null: accepted). Every case marked real also runs on a
 * PostgreSQL server (testkit's first shard) on tables made for it, so the accepted SQL is SQL
 * PostgreSQL runs, and the refused SQL is refused for what it does, not because it is no SQL.
 */
class CrossShardChecksTest {

    static final Map<String, String> SHARDED = Map.of(
            "users", "id",
            "payments", "user_id",
            "public.orders", "user_id",
            "app.accounts", "acct");
    static final Set<String> OMNISHARDED = Set.of("countries");

    private static final Pattern PARAMETER = Pattern.compile("\\$\\d");
    private static final String SUBQUERY = ": each shard would see only its own rows, so it cannot run across shards";

    /** One statement; {@code expected} null when it is accepted; {@code real}: PostgreSQL runs it. */
    record Case(String sql, String expected, boolean real) {
    }

    private static Case ok(String sql) {
        return new Case(sql, null, true);
    }

    private static Case no(String sql, String message) {
        return new Case(sql, message, true);
    }

    /** A statement PostgreSQL would not run as written (only the reading is checked). */
    private static Case unreal(String sql, String message) {
        return new Case(sql, message, false);
    }

    private static String join(String a, String b, String ka, String kb) {
        return "join of sharded tables " + a + " and " + b + " is not on their sharding keys (" + ka + " = " + kb
                + "): it cannot run across shards";
    }

    private static String outer(String kind, String kept, String sharded) {
        return kind + " JOIN keeps the unmatched rows of " + kept + ", which is not sharded, against sharded table "
                + sharded + ": every shard would return them, so it cannot run across shards";
    }

    static List<Case> cases() {
        return List.of(
                // Plain reads of one sharded table: every shard's rows, merged.
                ok("SELECT * FROM users"),
                ok("SELECT id, name FROM users WHERE name = 'a' ORDER BY id LIMIT 10;"),
                ok("select count(*), max(id) from users where country = 'fr'"),
                ok("SELECT country, count(*) FROM users GROUP BY country HAVING count(*) > 1 ORDER BY 2 DESC"),
                ok("SELECT DISTINCT name FROM users"),
                ok("TABLE users"),
                ok("SELECT * FROM ONLY users u WHERE u.id > $1"),
                ok("SELECT extract(year FROM created) AS y, name IS DISTINCT FROM 'x' FROM users"),
                ok("SELECT * FROM public.users"),
                ok("SELECT * FROM \"users\""),
                ok("SELECT sum(amount) FILTER (WHERE amount > 0) FROM payments"),
                // Joins on both sharding keys: co-located.
                ok("SELECT u.name, p.amount FROM users u JOIN payments p ON u.id = p.user_id"),
                ok("SELECT u.name, p.amount FROM users u JOIN payments p ON p.user_id = u.id AND p.amount > 0"),
                ok("SELECT * FROM users u LEFT JOIN payments p ON (u.id = p.user_id) WHERE u.name <> 'x'"),
                ok("SELECT * FROM users u FULL OUTER JOIN payments p ON u.id = p.user_id"),
                ok("SELECT * FROM payments p RIGHT JOIN users u ON u.id = p.user_id"),
                ok("SELECT * FROM users u, payments p WHERE u.id = p.user_id AND p.amount > 10"),
                ok("SELECT * FROM users, payments WHERE users.id = payments.user_id"),
                ok("SELECT * FROM users u CROSS JOIN payments p WHERE p.user_id = u.id"),
                ok("SELECT * FROM users a JOIN users b ON a.id = b.id"),
                ok("SELECT * FROM users u JOIN payments p ON u.id = p.user_id JOIN orders o ON o.user_id = p.user_id"),
                ok("SELECT * FROM users u JOIN payments p ON u.id = p.user_id, orders o WHERE o.user_id = u.id"),
                ok("SELECT * FROM (users u JOIN payments p ON u.id = p.user_id) JOIN countries c ON c.code = u.country"),
                ok("SELECT * FROM payments JOIN orders USING (user_id)"),
                ok("SELECT * FROM users JOIN orders ON id = user_id AND note > ''"),
                // Joins with omnisharded and unsharded tables: allowed.
                ok("SELECT u.name, c.name FROM users u JOIN countries c ON c.code = u.country"),
                ok("SELECT * FROM users u, countries c WHERE c.code = u.country"),
                ok("SELECT * FROM users u LEFT JOIN logs l ON l.msg = u.name"),
                ok("SELECT * FROM countries NATURAL JOIN users"),
                // Subqueries and WITH queries over omnisharded / unsharded tables only.
                ok("SELECT * FROM users WHERE country IN (SELECT code FROM countries WHERE name LIKE 'F%')"),
                ok("SELECT u.*, (SELECT name FROM countries c WHERE c.code = u.country) FROM users u"),
                ok("WITH c AS (SELECT code FROM countries) SELECT u.* FROM users u JOIN c ON c.code = u.country"),
                ok("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) "
                        + "SELECT * FROM users, n WHERE users.id = n.i"),
                ok("SELECT * FROM users u JOIN LATERAL (SELECT count(*) AS n FROM logs l WHERE l.id = u.id) x ON true"),
                ok("SELECT * FROM users u, generate_series(1, 3) g"),
                ok("SELECT * FROM users WHERE EXISTS (SELECT 1 FROM countries)"),
                ok("WITH users AS (SELECT * FROM countries) SELECT * FROM users"),
                // Window functions over unsharded tables only: not a cross-shard concern.
                ok("SELECT rank() OVER (ORDER BY name) FROM countries"),
                ok("SELECT (SELECT max(code) OVER () FROM countries LIMIT 1) FROM users"),
                // Set operations without sharded tables.
                ok("SELECT code FROM countries UNION SELECT msg FROM logs"),
                ok("VALUES (1), (2)"),
                ok("SELECT 1"),
                ok("SELECT * FROM app.accounts WHERE acct > 0"),
                ok("SELECT * FROM app.accounts JOIN users ON app.accounts.acct = users.id"),
                // Words inside strings and comments are no SQL.
                ok("SELECT 'x UNION SELECT 1 FROM payments' AS s, id FROM users -- rank() OVER ()"),
                ok("SELECT id /* FOR UPDATE */ FROM users WHERE name = $$ JOIN payments $$"),
                ok("SELECT $1::bigint AS p, id FROM users WHERE name = $2"),

                // Window functions.
                no("SELECT id, rank() OVER (ORDER BY id) FROM users",
                        "window function rank() over sharded table users cannot be merged across shards"),
                no("SELECT sum(amount) OVER (PARTITION BY user_id) FROM payments",
                        "window function sum(amount) over sharded table payments cannot be merged across shards"),
                no("SELECT id, row_number() OVER w FROM users WINDOW w AS (ORDER BY name)",
                        "WINDOW clause over sharded table users cannot be merged across shards"),
                no("SELECT count(*) FILTER (WHERE id > 1) OVER () FROM users",
                        "window function count(*) over sharded table users cannot be merged across shards"),
                no("SELECT u.name, lag(p.amount) OVER (ORDER BY p.id) FROM users u JOIN payments p ON u.id = p.user_id",
                        "window function lag(p.amount) over sharded table users cannot be merged across shards"),
                no("SELECT pg_catalog.rank() OVER (ORDER BY name) FROM users",
                        "window function pg_catalog.rank() over sharded table users cannot be merged across shards"),
                // Joins of sharded tables off their keys.
                no("SELECT * FROM users u JOIN payments p ON u.id = p.id",
                        join("users", "payments", "u.id", "p.user_id")),
                no("SELECT * FROM users u JOIN payments p ON u.name = p.amount::text",
                        join("users", "payments", "u.id", "p.user_id")),
                no("SELECT * FROM users u JOIN payments p ON u.id = p.user_id OR p.amount > 0",
                        join("users", "payments", "u.id", "p.user_id")),
                no("SELECT * FROM users u JOIN payments p ON NOT (u.id <> p.user_id)",
                        join("users", "payments", "u.id", "p.user_id")),
                no("SELECT * FROM users u, payments p",
                        join("users", "payments", "u.id", "p.user_id")),
                no("SELECT * FROM users u CROSS JOIN payments p",
                        join("users", "payments", "u.id", "p.user_id")),
                no("SELECT * FROM users u, payments p WHERE u.id = p.user_id OR u.name = 'x'",
                        join("users", "payments", "u.id", "p.user_id")),
                no("SELECT * FROM users u JOIN payments p ON u.id = p.user_id + 0",
                        join("users", "payments", "u.id", "p.user_id")),
                no("SELECT * FROM users a JOIN users b ON a.name = b.name",
                        join("users", "users", "a.id", "b.id")),
                no("SELECT * FROM users u JOIN payments p ON u.id = p.user_id JOIN orders o ON o.user_id = p.id",
                        join("users", "orders", "u.id", "o.user_id")),
                no("SELECT * FROM users u JOIN payments p ON u.id = p.user_id, orders o",
                        join("users", "orders", "u.id", "o.user_id")),
                no("SELECT * FROM users JOIN payments USING (id)",
                        join("users", "payments", "users.id", "payments.user_id")),
                no("SELECT * FROM users NATURAL JOIN payments",
                        "NATURAL JOIN of sharded tables users and payments cannot run across shards: "
                                + "join them on their sharding keys"),
                no("SELECT * FROM payments NATURAL LEFT JOIN orders",
                        "NATURAL JOIN of sharded tables payments and orders cannot run across shards: "
                                + "join them on their sharding keys"),
                no("SELECT * FROM users u JOIN app.accounts a ON a.acct = u.id + 1",
                        join("users", "app.accounts", "u.id", "a.acct")),
                no("SELECT * FROM (users u JOIN payments p ON u.name = p.amount::text) JOIN countries c ON c.code = u.country",
                        join("users", "payments", "u.id", "p.user_id")),
                // A column alias list hides the key's name: the join is not known to be on the keys.
                no("SELECT * FROM users u (uid, uname) JOIN payments p ON u.uid = p.user_id",
                        join("users", "payments", "u.id", "p.user_id")),
                // Subqueries and WITH queries reading sharded tables.
                no("SELECT * FROM users u JOIN payments p ON u.id = p.user_id WHERE p.amount IN (SELECT amount FROM payments)",
                        "subquery in WHERE reads sharded table payments" + SUBQUERY),
                no("SELECT * FROM users WHERE id IN (SELECT user_id FROM payments)",
                        "subquery in WHERE reads sharded table payments" + SUBQUERY),
                no("SELECT * FROM countries c WHERE EXISTS (SELECT 1 FROM users u WHERE u.country = c.code)",
                        "subquery in WHERE reads sharded table users" + SUBQUERY),
                no("SELECT u.*, (SELECT sum(amount) FROM payments p WHERE p.user_id = u.id) FROM users u",
                        "subquery in the select list reads sharded table payments" + SUBQUERY),
                no("SELECT (SELECT count(*) FROM users)",
                        "subquery in the select list reads sharded table users" + SUBQUERY),
                no("SELECT * FROM (SELECT user_id, sum(amount) AS s FROM payments GROUP BY user_id) t WHERE s > 10",
                        "subquery in FROM reads sharded table payments" + SUBQUERY),
                no("SELECT * FROM users u JOIN LATERAL (SELECT * FROM payments p WHERE p.user_id = u.id LIMIT 1) x ON true",
                        "LATERAL subquery reads sharded table payments" + SUBQUERY),
                no("SELECT * FROM users u, LATERAL (SELECT * FROM payments p WHERE p.user_id = u.id ORDER BY amount LIMIT 2) x",
                        "LATERAL subquery reads sharded table payments" + SUBQUERY),
                no("SELECT * FROM users u JOIN countries c ON c.code = u.country AND EXISTS (SELECT 1 FROM payments)",
                        "subquery in a join condition reads sharded table payments" + SUBQUERY),
                no("SELECT country FROM users GROUP BY country HAVING count(*) > (SELECT count(*) FROM payments)",
                        "subquery in HAVING reads sharded table payments" + SUBQUERY),
                no("SELECT * FROM users ORDER BY (SELECT max(amount) FROM payments)",
                        "subquery in ORDER BY reads sharded table payments" + SUBQUERY),
                no("SELECT * FROM users WHERE id = ANY (ARRAY(SELECT user_id FROM payments))",
                        "subquery in WHERE reads sharded table payments" + SUBQUERY),
                no("WITH big AS (SELECT user_id FROM payments WHERE amount > 100) SELECT * FROM users u JOIN big ON big.user_id = u.id",
                        "WITH query big reads sharded table payments" + SUBQUERY),
                no("WITH c AS (SELECT * FROM countries), u AS MATERIALIZED (SELECT * FROM users) SELECT * FROM u",
                        "WITH query u reads sharded table users" + SUBQUERY),
                no("WITH x AS (SELECT * FROM public.orders) SELECT * FROM countries",
                        "WITH query x reads sharded table public.orders" + SUBQUERY),
                no("WITH d AS (DELETE FROM logs RETURNING id) SELECT * FROM users",
                        "data-modifying WITH query d would run on every shard: it cannot run across shards"),
                no("SELECT * FROM users WHERE id IN (SELECT id FROM users WHERE name = 'a')",
                        "subquery in WHERE reads sharded table users" + SUBQUERY),
                // Set operations over sharded tables.
                no("SELECT id FROM users UNION SELECT user_id FROM payments",
                        "UNION over sharded table users cannot be merged across shards"),
                no("SELECT code FROM countries UNION ALL SELECT country FROM users",
                        "UNION over sharded table users cannot be merged across shards"),
                no("SELECT id FROM users INTERSECT SELECT user_id FROM payments",
                        "INTERSECT over sharded table users cannot be merged across shards"),
                no("(SELECT id FROM users) EXCEPT (SELECT user_id FROM payments) ORDER BY 1",
                        "EXCEPT over sharded table users cannot be merged across shards"),
                no("WITH c AS (SELECT code FROM countries) SELECT code FROM c UNION SELECT name FROM users",
                        "UNION over sharded table users cannot be merged across shards"),
                // Locking, INTO.
                no("SELECT * FROM users FOR UPDATE", "SELECT ... FOR UPDATE cannot lock rows across shards"),
                no("SELECT * FROM users WHERE id > 3 ORDER BY id FOR NO KEY UPDATE SKIP LOCKED",
                        "SELECT ... FOR NO KEY UPDATE cannot lock rows across shards"),
                no("SELECT * FROM users u JOIN payments p ON u.id = p.user_id FOR SHARE OF u",
                        "SELECT ... FOR SHARE cannot lock rows across shards"),
                no("select * from users for key share nowait", "SELECT ... FOR KEY SHARE cannot lock rows across shards"),
                no("SELECT * INTO users_copy FROM users",
                        "SELECT ... INTO would create a table on every shard: it cannot run across shards"),
                no("SELECT * FROM countries FOR UPDATE", "SELECT ... FOR UPDATE cannot lock rows across shards"),
                // More shapes.
                no("VALUES ((SELECT count(*) FROM users))", "subquery in VALUES reads sharded table users" + SUBQUERY),
                no("SELECT * FROM users u, unnest(ARRAY(SELECT user_id FROM payments)) x",
                        "subquery in FROM reads sharded table payments" + SUBQUERY),
                no("SELECT * FROM users LIMIT (SELECT count(*) FROM payments)",
                        "subquery in LIMIT reads sharded table payments" + SUBQUERY),
                no("WITH users AS (SELECT * FROM users WHERE id > 0) SELECT * FROM users",
                        "WITH query users reads sharded table users" + SUBQUERY),
                no("SELECT * FROM users ORDER BY row_number() OVER ()",
                        "window function row_number() over sharded table users cannot be merged across shards"),
                no("SELECT name FROM users EXCEPT ALL SELECT name FROM countries",
                        "EXCEPT over sharded table users cannot be merged across shards"),
                no("SELECT * FROM users WHERE name = 'x' UNION SELECT * FROM users WHERE name = 'y'",
                        "UNION over sharded table users cannot be merged across shards"),
                no("SELECT * FROM users u JOIN payments p ON u.id = p.user_id JOIN payments q ON q.amount = p.amount",
                        join("users", "payments", "u.id", "q.user_id")),
                no("SELECT * FROM users u, payments p, orders o WHERE u.id = p.user_id",
                        join("users", "orders", "u.id", "o.user_id")),
                ok("SELECT * FROM users u JOIN payments p ON u.id = p.user_id JOIN payments q ON q.user_id = u.id AND q.id <> p.id"),
                ok("SELECT * FROM users u, payments p, orders o WHERE u.id = p.user_id AND p.user_id = o.user_id"),
                ok("SELECT u.id, c.name FROM users u LEFT JOIN LATERAL "
                        + "(SELECT name FROM countries WHERE code = u.country LIMIT 1) c ON true"),
                ok("WITH RECURSIVE t(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT * FROM t"),
                ok("SELECT * FROM users \"U\" JOIN payments p ON \"U\".id = p.user_id"),
                ok("SELECT * FROM users u JOIN payments p ON ((u.id) = (p.user_id))"),
                ok("SELECT * FROM USERS U JOIN PAYMENTS P ON U.ID = P.USER_ID;;"),
                ok("SELECT 1 AS over, id FROM users"),
                // Outer joins whose kept side is not sharded: every shard would return its unmatched rows.
                no("SELECT * FROM countries c LEFT JOIN users u ON u.country = c.code", outer("LEFT", "table countries", "users")),
                no("SELECT * FROM users u RIGHT JOIN countries c ON c.code = u.country", outer("RIGHT", "table countries", "users")),
                no("SELECT * FROM users u FULL JOIN logs l ON l.id = u.id", outer("FULL", "table logs", "users")),
                no("SELECT * FROM logs l FULL OUTER JOIN users u ON l.id = u.id", outer("FULL", "table logs", "users")),
                no("SELECT * FROM generate_series(1, 3) g LEFT JOIN users u ON u.id = g",
                        outer("LEFT", "a subquery or function", "users")),
                no("SELECT * FROM (SELECT code FROM countries) c LEFT OUTER JOIN users u ON u.country = c.code",
                        outer("LEFT", "a subquery or function", "users")),
                ok("SELECT * FROM users u LEFT JOIN countries c ON c.code = u.country"),
                ok("SELECT * FROM countries c RIGHT JOIN users u ON u.country = c.code"),
                ok("SELECT * FROM users u LEFT JOIN payments p ON u.id = p.user_id LEFT JOIN countries c ON c.code = u.country"),
                // Locks in subqueries and WITH queries, on any table.
                no("WITH c AS (SELECT * FROM countries FOR UPDATE) SELECT * FROM users",
                        "SELECT ... FOR UPDATE cannot lock rows across shards"),
                no("SELECT * FROM users u JOIN (SELECT * FROM countries FOR SHARE) c ON c.code = u.country",
                        "SELECT ... FOR SHARE cannot lock rows across shards"),
                ok("SELECT substring(name FROM 1 FOR 2) FROM users"),
                ok("SELECT * FROM users u JOIN countries c ON c.code = left(u.name, 2) LEFT JOIN payments p "
                        + "ON p.user_id = u.id AND right(p.amount::text, 1) = '0'"),
                unreal("WITH x AS (SELECT 1), y SELECT * FROM users",
                        "cannot read this SELECT with confidence (a WITH list it does not follow) and it names "
                                + "sharded table users: refused rather than merged wrongly across shards"),
                ok("SELECT * FROM users u TABLESAMPLE BERNOULLI (50) JOIN payments p ON u.id = p.user_id"),
                ok("SELECT * FROM users AS u (uid, uname) JOIN countries c ON c.code = u.country"),
                ok("SELECT * FROM users u JOIN payments p ON u.id = p.user_id WHERE u.id IN (1, 2, 3) AND p.amount BETWEEN 1 AND 5"),
                ok("SELECT * FROM users u, payments p WHERE p.amount BETWEEN 1 AND 5 AND u.id = p.user_id"),
                ok("SELECT * FROM users u JOIN payments p ON u.id = p.user_id WHERE p.amount > 0 FETCH FIRST 3 ROWS ONLY"),
                // fetch is an unreserved word: here a column of logs, not the FETCH clause
                unreal("SELECT * FROM logs l JOIN users u ON fetch = u.id, payments p",
                        join("users", "payments", "u.id", "p.user_id")),
                // What it does not read with confidence.
                no("WITH v AS (SELECT 1) INSERT INTO users (id, name) VALUES (3, 'c')",
                        "cannot read this SELECT with confidence (it does not start with SELECT, WITH, TABLE or VALUES) "
                                + "and it names sharded table users: refused rather than merged wrongly across shards"),
                no("EXPLAIN SELECT * FROM users",
                        "cannot read this SELECT with confidence (it does not start with SELECT, WITH, TABLE or VALUES) "
                                + "and it names sharded table users: refused rather than merged wrongly across shards"),
                unreal("SELECT * FROM users WHERE name = 'unterminated",
                        "cannot read this SELECT with confidence (an unterminated string, quoted identifier or comment, "
                                + "or unbalanced parentheses) and it names sharded table users: refused rather than "
                                + "merged wrongly across shards"),
                unreal("SELECT * FROM users; SELECT * FROM payments",
                        "cannot read this SELECT with confidence (several statements in one string) and it names "
                                + "sharded table users: refused rather than merged wrongly across shards"),
                no("(SELECT * FROM users ORDER BY id) LIMIT 2",
                        "cannot read this SELECT with confidence (a parenthesised query followed by other clauses) and "
                                + "it names sharded table users: refused rather than merged wrongly across shards"),
                no("SELECT * FROM users u JOIN payments p JOIN orders o ON o.user_id = p.user_id ON u.id = p.user_id",
                        "cannot read this SELECT with confidence (a join with several ON conditions in a row) and it "
                                + "names sharded table users: refused rather than merged wrongly across shards"),
                unreal("SELECT * FROM countries; SELECT 1", null),
                unreal("SELECT * FROM countries; SELECT * FROM logs; SELECT * FROM app.accounts",
                        "cannot read this SELECT with confidence (several statements in one string) and it names "
                                + "sharded table app.accounts: refused rather than merged wrongly across shards"),
                unreal("SELECT 1; SELECT * FROM users WHERE name = 'x",
                        "cannot read this SELECT with confidence (several statements in one string) and it names "
                                + "sharded table users: refused rather than merged wrongly across shards"),
                unreal("SELECT 'unterminated", null));
    }

    @TestFactory
    Stream<DynamicTest> refusals() {
        List<Case> all = cases();
        assertTrue(all.size() >= 60, "cases: " + all.size());
        return all.stream().map(c -> DynamicTest.dynamicTest(c.sql(),
                () -> assertEquals(c.expected(), CrossShardChecks.refusal(c.sql(), SHARDED, OMNISHARDED), c.sql())));
    }

    @Test
    void tableNamesMatchAsShardingSchemaMatchesThem() {
        // A bare configured name matches in any schema; a configured public.t matches a bare t.
        assertEquals("k", CrossShardChecks.lookup(Map.of("public.orders", "k"), null, "orders"));
        assertEquals("k", CrossShardChecks.lookup(Map.of("orders", "k"), "app", "orders"));
        assertEquals(null, CrossShardChecks.lookup(Map.of("app.accounts", "k"), null, "accounts"));
        assertEquals(null, CrossShardChecks.lookup(Map.of("app.accounts", "k"), "public", "accounts"));
        assertEquals("k", CrossShardChecks.lookup(Map.of("app.accounts", "k"), "app", "accounts"));
        assertEquals(null, CrossShardChecks.lookup(Map.of("users", "k"), null, "Users"));
    }

    // -- the same SQL on PostgreSQL -----------------------------------------------------------------

    static Connection db;

    @BeforeAll
    static void connect() throws SQLException {
        db = TestPostgres.shards().get(0).connectSuperuser(TestUsers.DATABASE);
        db.setAutoCommit(false);
        try (Statement s = db.createStatement()) {
            s.execute("CREATE SCHEMA merge_checks");
            s.execute("CREATE SCHEMA app");
            s.execute("SET LOCAL search_path = merge_checks, public");
            s.execute("CREATE TABLE merge_checks.users (id bigint, name text, country text, created timestamptz)");
            s.execute("CREATE TABLE merge_checks.payments (id bigint, user_id bigint, amount numeric)");
            s.execute("CREATE TABLE merge_checks.orders (user_id bigint, note text)");
            s.execute("CREATE TABLE merge_checks.countries (code text, name text)");
            s.execute("CREATE TABLE merge_checks.logs (id bigint, msg text)");
            s.execute("CREATE TABLE app.accounts (acct bigint)");
        }
    }

    @AfterAll
    static void close() throws SQLException {
        if (db != null) {
            db.rollback();
            db.close();
        }
    }

    /**
     * Accepted statements whose merge is the concatenation of the shards' rows (no aggregate,
     * DISTINCT, ORDER BY or LIMIT for the proxy to apply): on data split over two shard schemas,
     * the rows of both shards are, as a multiset, the rows of the whole data.
     */
    static final List<String> CONCATENATED = List.of(
            "SELECT * FROM users",
            "SELECT u.name, p.amount FROM users u JOIN payments p ON u.id = p.user_id",
            "SELECT * FROM users u LEFT JOIN payments p ON (u.id = p.user_id) WHERE u.name <> 'x'",
            "SELECT * FROM users u FULL OUTER JOIN payments p ON u.id = p.user_id",
            "SELECT * FROM payments p RIGHT JOIN users u ON u.id = p.user_id",
            "SELECT * FROM users u, payments p WHERE u.id = p.user_id AND p.amount > 10",
            "SELECT * FROM users u CROSS JOIN payments p WHERE p.user_id = u.id",
            "SELECT * FROM users a JOIN users b ON a.id = b.id",
            "SELECT * FROM users u JOIN payments p ON u.id = p.user_id JOIN orders o ON o.user_id = p.user_id",
            "SELECT * FROM users u, payments p, orders o WHERE u.id = p.user_id AND p.user_id = o.user_id",
            "SELECT * FROM payments JOIN orders USING (user_id)",
            "SELECT * FROM payments FULL JOIN orders USING (user_id)",
            "SELECT u.name, c.name FROM users u JOIN countries c ON c.code = u.country",
            "SELECT * FROM users u LEFT JOIN countries c ON c.code = u.country",
            "SELECT * FROM countries c RIGHT JOIN users u ON u.country = c.code",
            "SELECT * FROM users u LEFT JOIN payments p ON u.id = p.user_id LEFT JOIN countries c ON c.code = u.country",
            "SELECT * FROM countries NATURAL JOIN users",
            "SELECT * FROM users WHERE country IN (SELECT code FROM countries WHERE name LIKE 'F%')",
            "SELECT u.*, (SELECT name FROM countries c WHERE c.code = u.country) FROM users u",
            "WITH c AS (SELECT code FROM countries) SELECT u.* FROM users u JOIN c ON c.code = u.country",
            "SELECT * FROM users u JOIN LATERAL (SELECT count(*) AS n FROM logs l WHERE l.id = u.id) x ON true",
            "SELECT * FROM users u, generate_series(1, 3) g");

    /** Refused statements whose shards' rows, concatenated, are not the answer on the test data. */
    static final List<String> NOT_CONCATENATED = List.of(
            "SELECT * FROM users u JOIN payments p ON u.id = p.id",
            "SELECT * FROM users u, payments p",
            "SELECT * FROM users a JOIN users b ON a.name = b.name",
            "SELECT * FROM users JOIN payments USING (id)",
            "SELECT * FROM countries c LEFT JOIN users u ON u.country = c.code",
            "SELECT * FROM users u RIGHT JOIN countries c ON c.code = u.country",
            "SELECT * FROM users u FULL JOIN logs l ON l.id = u.id",
            "SELECT * FROM generate_series(1, 3) g LEFT JOIN users u ON u.id = g",
            "SELECT u.*, (SELECT count(*) FROM payments) FROM users u",
            "SELECT * FROM countries c WHERE EXISTS (SELECT 1 FROM users u WHERE u.country = c.code)",
            "WITH big AS (SELECT max(amount) AS m FROM payments) SELECT * FROM users u, big",
            "SELECT country FROM users UNION SELECT code FROM countries",
            "SELECT id, rank() OVER (ORDER BY id) FROM users",
            "SELECT id, count(*) OVER () FROM users");

    @Test
    void acceptedJoinsAreCoLocatedAndRefusedOnesAreNot() throws SQLException {
        try (Connection c = TestPostgres.shards().get(0).connectSuperuser(TestUsers.DATABASE);
             Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            // The whole data, and the same rows split by key: users by id, payments and orders by
            // user_id (id % 2), countries and logs copied to both. Every country with users has
            // some on both shards, 'es' and 'pt' have none; payments 21 and 22 and order 23 have no
            // user; names repeat across shards.
            for (String schema : List.of("cs_all", "cs_s0", "cs_s1")) {
                s.execute("CREATE SCHEMA " + schema);
                String shard = schema.equals("cs_all") ? "true" : "% 2 = " + schema.charAt(4);
                String where = shard.equals("true") ? "" : " WHERE id " + shard;
                s.execute("CREATE TABLE " + schema + ".users AS SELECT id::bigint AS id, 'n' || (id % 5) AS name, "
                        + "(ARRAY['fr', 'de', 'it'])[id % 3 + 1] AS country, now() AS created "
                        + "FROM generate_series(1, 20) id" + where);
                s.execute("CREATE TABLE " + schema + ".payments AS SELECT * FROM (SELECT id::bigint AS id, "
                        + "(id % 22 + 1)::bigint AS user_id, id * 1.5 AS amount FROM generate_series(1, 30) id) p"
                        + (where.isEmpty() ? "" : " WHERE user_id " + shard));
                s.execute("CREATE TABLE " + schema + ".orders AS SELECT * FROM (VALUES (1::bigint, 'a'), (2, 'b'), "
                        + "(4, 'c'), (4, 'd'), (23, 'e')) o(user_id, note)"
                        + (where.isEmpty() ? "" : " WHERE user_id " + shard));
                s.execute("CREATE TABLE " + schema + ".countries AS SELECT * FROM (VALUES ('fr', 'France'), "
                        + "('de', 'Germany'), ('it', 'Italy'), ('es', 'Spain'), ('pt', 'Portugal')) c(code, name)");
                s.execute("CREATE TABLE " + schema + ".logs AS SELECT id::bigint AS id, 'n' || id AS msg "
                        + "FROM generate_series(1, 5) id");
            }
            List<String> wrong = new ArrayList<>();
            for (String sql : CONCATENATED) {
                assertEquals(null, CrossShardChecks.refusal(sql, SHARDED, OMNISHARDED), sql);
                if (!rows(s, "cs_all", sql).equals(merged(s, sql))) {
                    wrong.add("accepted, but the shards' rows are not the answer: " + sql);
                }
            }
            for (String sql : NOT_CONCATENATED) {
                assertTrue(CrossShardChecks.refusal(sql, SHARDED, OMNISHARDED) != null, sql);
                if (rows(s, "cs_all", sql).equals(merged(s, sql))) {
                    wrong.add("refused, but the test data does not show why: " + sql);
                }
            }
            c.rollback();
            if (!wrong.isEmpty()) {
                fail(String.join("\n", wrong));
            }
        }
    }

    /** Both shards' rows of {@code sql}, sorted. */
    private static List<String> merged(Statement s, String sql) throws SQLException {
        List<String> all = new ArrayList<>(rows(s, "cs_s0", sql));
        all.addAll(rows(s, "cs_s1", sql));
        all.sort(null);
        return all;
    }

    /** The rows of {@code sql} with {@code schema} first in the search_path, each as text, sorted. */
    private static List<String> rows(Statement s, String schema, String sql) throws SQLException {
        s.execute("SET LOCAL search_path = " + schema);
        List<String> out = new ArrayList<>();
        try (java.sql.ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                StringBuilder b = new StringBuilder();
                for (int i = 1; i <= n; i++) {
                    b.append(rs.getString(i)).append('|');
                }
                out.add(b.toString());
            }
        }
        out.sort(null);
        return out;
    }

    @Test
    void postgresRunsTheTestStatements() throws SQLException {
        List<String> refused = new ArrayList<>();
        int ran = 0;
        for (Case c : cases()) {
            if (!c.real()) {
                continue;
            }
            // public.x in a case is merge_checks.x here: the test's tables live in a schema of their own.
            String sql = c.sql().replace("public.", "merge_checks.");
            Savepoint before = db.setSavepoint();
            try (Statement s = db.createStatement()) {
                s.execute(PARAMETER.matcher(sql).find() ? "PREPARE checks_case AS " + sql : sql);
                ran++;
            } catch (SQLException e) {
                refused.add(c.sql() + "\n    " + e.getMessage());
            }
            db.rollback(before);
            try (Statement s = db.createStatement()) {
                s.execute("DEALLOCATE ALL");
            }
        }
        if (!refused.isEmpty()) {
            fail(refused.size() + " statements refused by PostgreSQL:\n" + String.join("\n", refused));
        }
        assertTrue(ran >= 60, "statements run: " + ran);
    }
}
