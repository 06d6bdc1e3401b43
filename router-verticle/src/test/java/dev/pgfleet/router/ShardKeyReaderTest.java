package dev.pgfleet.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.router.StatementKeys.CopyStatement;
import dev.pgfleet.router.StatementKeys.CopyStatement.Format;
import dev.pgfleet.router.StatementKeys.InsertRow;
import dev.pgfleet.router.StatementKeys.KeyValue;
import dev.pgfleet.router.StatementKeys.Kind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link ShardKeyReader} over a table of statements: each with the kind, the sharded table and key
 * column, and every key value it must give (and for KEYLESS a part of the reason). The sharded
 * tables are those of {@link #TABLES}; {@link ShardKeyReaderPostgresTest} runs the statements
 * marked real against PostgreSQL, so the SQL here is SQL PostgreSQL accepts.
 */
class ShardKeyReaderTest {

    /**
     * users.id, orders.user_id, "Users".id, regions.code (text), items.uid (uuid) in any schema;
     * keys_app.accounts.acct only in schema keys_app. countries and logs are not sharded.
     */
    static final ShardKeyReader.Tables TABLES = (schema, table) -> {
        if (table.equals("accounts")) {
            return "keys_app".equals(schema) ? "acct" : null;
        }
        return Holder.KEYS.get(table);
    };

    private static final class Holder {
        static final Map<String, String> KEYS = Map.of("users", "id", "orders", "user_id", "Users", "id",
                "regions", "code", "items", "uid");
    }

    /**
     * A statement and what it must give: {@code KIND [table.column] [keys]}, keys as {@code $n} or
     * the constant's text, then optionally {@code ~} and a part of the reason. {@code real}: the SQL
     * is run against PostgreSQL by the server test.
     */
    record Case(String sql, String expected, boolean real) {
        @Override
        public String toString() {
            return sql.isBlank() ? "(empty: '" + sql + "')" : sql.replace("\n", "⏎");
        }
    }

    static Case real(String sql, String expected) {
        return new Case(sql, expected, true);
    }

    static Case only(String sql, String expected) {
        return new Case(sql, expected, false);
    }

    static List<Case> cases() {
        return List.of(
                // key = constant, the constant's spellings and casts
                real("SELECT * FROM users WHERE id = 42", "KEYED users.id [42]"),
                real("SELECT * FROM users WHERE 42 = id", "KEYED users.id [42]"),
                real("SELECT * FROM users WHERE id = $1", "KEYED users.id [$1]"),
                real("SELECT name FROM users WHERE id = '42'::bigint", "KEYED users.id [42]"),
                real("SELECT * FROM users WHERE id = 42::int8", "KEYED users.id [42]"),
                real("SELECT * FROM users WHERE id = CAST('42' AS bigint)", "KEYED users.id [42]"),
                real("SELECT * FROM users WHERE id = $1::bigint", "KEYED users.id [$1]"),
                real("SELECT * FROM users WHERE id = (42)", "KEYED users.id [42]"),
                real("SELECT * FROM users WHERE id = ((-42))::pg_catalog.int8", "KEYED users.id [-42]"),
                real("SELECT * FROM users WHERE id = -5", "KEYED users.id [-5]"),
                real("SELECT * FROM users WHERE id=-5", "KEYED users.id [-5]"),
                real("SELECT * FROM users WHERE id = +5", "KEYED users.id [5]"),
                real("SELECT * FROM users WHERE id = 5::numeric", "KEYLESS users.id ~no sharding key users.id in WHERE"),
                real("SELECT * FROM users WHERE id = 5 - 1", "KEYLESS users.id ~no sharding key"),
                real("SELECT * FROM users WHERE id + 0 = 5", "KEYLESS users.id ~no sharding key"),
                real("SELECT * FROM users WHERE id <> 1", "KEYLESS users.id ~no sharding key"),
                real("SELECT * FROM users WHERE id = ANY('{1,2}')", "KEYLESS users.id"),
                real("SELECT * FROM users WHERE id = ANY (ARRAY[1, $1, '3'::bigint])", "KEYED users.id [1, $1, 3]"),
                real("SELECT * FROM users WHERE id = some(array[4])", "KEYED users.id [4]"),
                real("SELECT * FROM users WHERE id = ANY(ARRAY[1, 2]::bigint[])", "KEYLESS users.id"),
                real("SELECT * FROM users WHERE id = ANY(ARRAY[1, 2 + 1])", "KEYLESS users.id"),
                real("SELECT * FROM users WHERE id <> ALL(ARRAY[1, 2])", "KEYLESS users.id"),
                real("SELECT * FROM users WHERE id = ANY($1)", "KEYLESS users.id"),
                real("SELECT * FROM users WHERE id IS NOT DISTINCT FROM 5", "KEYLESS users.id"),
                real("SELECT * FROM regions WHERE code = 'it''s'", "KEYED regions.code [it's]"),
                real("SELECT * FROM regions WHERE code = E'a\\nb\\'c'", "KEYED regions.code [a\nb'c]"),
                only("SELECT * FROM regions WHERE code = E'\\303\\251t\\xe9'", "KEYLESS regions.code"), // not UTF-8
                real("SELECT * FROM regions WHERE code = E'\\303\\251t\\u00e9'", "KEYED regions.code [été]"),
                real("SELECT * FROM regions WHERE code = $$e'u$$", "KEYED regions.code [e'u]"),
                real("SELECT * FROM regions WHERE code = $tag$eu$tag$::text", "KEYED regions.code [eu]"),
                real("SELECT * FROM regions WHERE code = U&'d\\0061t\\+000061'", "KEYED regions.code [data]"),
                real("SELECT * FROM regions WHERE code = U&'d!0061ta' UESCAPE '!'", "KEYLESS regions.code"),
                real("SELECT * FROM regions WHERE code = 'eu'::varchar", "KEYED regions.code [eu]"),
                real("SELECT * FROM regions WHERE code = 'euro'::varchar(2)", "KEYLESS regions.code"),
                real("SELECT * FROM regions WHERE code = 'eu'::character varying", "KEYED regions.code [eu]"),
                real("SELECT * FROM items WHERE uid = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid",
                        "KEYED items.uid [a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11]"),
                real("SELECT * FROM items WHERE uid = uuid 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
                        "KEYED items.uid [a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11]"),
                real("SELECT * FROM users WHERE id = bigint '42'", "KEYED users.id [42]"),
                real("SELECT * FROM users WHERE id = int8 '42'::int8", "KEYED users.id [42]"),
                real("SELECT * FROM users WHERE id = numeric '42'", "KEYLESS users.id"),
                real("SELECT * FROM regions WHERE code = varchar 'eu'", "KEYED regions.code [eu]"),
                // IN lists and OR of keys
                real("SELECT * FROM users WHERE id IN (1, 2, 3)", "KEYED users.id [1, 2, 3]"),
                real("SELECT * FROM users WHERE id IN ($1, $2)", "KEYED users.id [$1, $2]"),
                real("SELECT * FROM users WHERE id = 1 OR id = 2", "KEYED users.id [1, 2]"),
                real("SELECT * FROM users WHERE (id = 1 OR id = 2) AND name = 'x'", "KEYED users.id [1, 2]"),
                real("SELECT * FROM users WHERE id = 5 OR id IN (6, 7)", "KEYED users.id [5, 6, 7]"),
                real("SELECT * FROM users WHERE (id = 5) OR (id = 6 AND name = 'x')", "KEYED users.id [5, 6]"),
                real("SELECT * FROM users WHERE id = 1 OR name = 'x'", "KEYLESS users.id ~no sharding key users.id"),
                real("SELECT * FROM users WHERE name = 'x' AND id = 1 OR id = 2", "KEYED users.id [1, 2]"),
                real("SELECT * FROM users WHERE name = 'x' OR id = 1 AND id = 2", "KEYLESS users.id"),
                real("SELECT * FROM users WHERE id NOT IN (1, 2)", "KEYLESS users.id"),
                real("SELECT * FROM users WHERE id IN (SELECT user_id FROM orders)", "KEYLESS users.id"),
                real("SELECT * FROM users WHERE NOT id = 1", "KEYLESS users.id"),
                real("SELECT * FROM users WHERE NOT (id = 1 AND name = 'x')", "KEYLESS users.id"),
                // the AND chain
                real("SELECT * FROM users WHERE name = 'a' AND id = 7 AND active", "KEYED users.id [7]"),
                real("SELECT * FROM users WHERE (name = 'a' AND (id = 7))", "KEYED users.id [7]"),
                real("SELECT * FROM users WHERE id = 5 AND id = 6", "KEYED users.id [5]"),
                real("SELECT * FROM users WHERE x BETWEEN 1 AND 5 AND id = 3", "KEYED users.id [3]"),
                real("SELECT * FROM users WHERE CASE WHEN active AND x > 1 THEN true END AND id = 3",
                        "KEYED users.id [3]"),
                real("SELECT * FROM users WHERE name = 'id = 6' AND id = 5", "KEYED users.id [5]"),
                real("SELECT * FROM users /* id = 6 */ WHERE id = 5 -- OR id = 7", "KEYED users.id [5]"),
                real("SELECT * FROM users WHERE id = 5 AND name = ANY(ARRAY['a'])", "KEYED users.id [5]"),
                real("SELECT * FROM users WHERE id = 5 FOR UPDATE", "KEYED users.id [5]"),
                real("SELECT name, count(*) FROM users WHERE id = 5 GROUP BY name ORDER BY name LIMIT 1",
                        "KEYED users.id [5]"),
                real("SELECT extract(year FROM created) FROM users WHERE id = 4", "KEYED users.id [4]"),
                // qualified names, aliases, schemas, quoting
                real("SELECT * FROM users u WHERE u.id = 9", "KEYED users.id [9]"),
                real("SELECT * FROM users AS u WHERE u.id = 9", "KEYED users.id [9]"),
                real("SELECT * FROM users WHERE users.id = 9", "KEYED users.id [9]"),
                real("SELECT * FROM users WHERE \"users\".\"id\" = 9", "KEYED users.id [9]"),
                only("SELECT * FROM users u WHERE users.id = 9", "KEYLESS users.id"),
                real("SELECT * FROM keys_app.users WHERE keys_app.users.id = 3", "KEYED keys_app.users.id [3]"),
                real("SELECT * FROM keys_app.users WHERE users.id = 3", "KEYED keys_app.users.id [3]"),
                real("SELECT * FROM keys_app.accounts WHERE acct = 1", "KEYED keys_app.accounts.acct [1]"),
                only("SELECT * FROM accounts WHERE acct = 1", "UNSHARDED"),
                real("SELECT * FROM \"Users\" WHERE \"id\" = 5", "KEYED Users.id [5]"),
                real("SELECT * FROM USERS WHERE ID = 5", "KEYED users.id [5]"),
                // joins and subqueries
                real("SELECT * FROM users u JOIN orders o ON o.user_id = u.id WHERE o.user_id = 12",
                        "KEYED orders.user_id [12]"),
                real("SELECT * FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = 12", "KEYED users.id [12]"),
                real("SELECT * FROM users u LEFT OUTER JOIN orders o ON o.user_id = u.id", "KEYLESS users.id"),
                real("SELECT * FROM orders o LEFT JOIN countries c ON c.code = o.country WHERE user_id = 3",
                        "KEYED orders.user_id [3]"),
                real("SELECT * FROM users, orders WHERE users.id = orders.user_id AND orders.user_id = $1",
                        "KEYED orders.user_id [$1]"),
                real("SELECT * FROM countries c JOIN (users u JOIN orders o USING (country)) ON c.code = u.country "
                        + "WHERE u.id = 2", "KEYED users.id [2]"),
                real("SELECT * FROM users WHERE x IN (SELECT x FROM users WHERE id = 5)",
                        "KEYLESS users.id ~no sharding key"),
                real("SELECT * FROM countries WHERE code IN (SELECT country FROM users WHERE id = 5)",
                        "KEYLESS users.id ~subquery"),
                real("SELECT * FROM users WHERE id = 5 AND EXISTS (SELECT 1 FROM orders o WHERE o.user_id = users.id)",
                        "KEYED users.id [5]"),
                real("SELECT * FROM users WHERE id = 5 AND name = (SELECT name FROM users WHERE id = 6)",
                        "KEYED users.id [5]"),
                real("SELECT * FROM (SELECT * FROM users) s WHERE s.id = 5", "KEYLESS users.id"),
                real("SELECT * FROM generate_series(1, 3) g, users WHERE users.id = g", "KEYLESS users.id"),
                real("SELECT * FROM users WHERE id = 1 UNION SELECT * FROM users WHERE id = 2",
                        "KEYLESS users.id ~UNION"),
                real("WITH x AS (SELECT * FROM users WHERE id = 5) SELECT * FROM x", "KEYLESS users.id"),
                real("WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM users WHERE id = 5",
                        "KEYLESS users.id ~data-modifying"),
                real("SELECT * FROM users u, LATERAL (SELECT * FROM orders o WHERE o.user_id = u.id) x WHERE u.id = 5",
                        "KEYED users.id [5]"),
                real("SELECT * FROM users JOIN orders ON true WHERE id = 3", "KEYED users.id [3]"),
                real("SELECT * FROM users JOIN keys_app.users au ON au.id = users.id WHERE au.id = 1",
                        "KEYED keys_app.users.id [1]"),
                real("SELECT * FROM ONLY users WHERE id = 5", "KEYED users.id [5]"),
                real("SELECT DISTINCT ON (id) id FROM users WHERE id = 5 ORDER BY id", "KEYED users.id [5]"),
                real("SELECT * FROM users u (uid, id) WHERE u.id = 'x'", "KEYLESS users.id"),
                real("SELECT * FROM users u (uid) WHERE uid = 5", "KEYLESS users.id"),
                real("SELECT * FROM users WHERE id = 9223372036854775807 AND name IS NULL",
                        "KEYED users.id [9223372036854775807]"),
                real("SELECT * FROM users WHERE id = '  42 '", "KEYED users.id [  42 ]"),
                real("SELECT * FROM users WHERE (id, name) = (5, 'x')", "KEYLESS users.id"),
                real("SELECT * FROM users WHERE id = 5 AND EXISTS (SELECT 1 FROM orders WHERE user_id = 6 OR user_id = 7)",
                        "KEYED users.id [5]"),
                real("SELECT * FROM users WHERE name = 'x' AND id = 5 IS TRUE", "KEYLESS users.id"),
                real("SELECT * FROM users WHERE id IN (1)", "KEYED users.id [1]"),
                real("SELECT (SELECT count(*) FROM users) FROM countries", "KEYLESS users.id ~subquery"),
                real("SELECT * FROM users WHERE id = (SELECT 5)", "KEYLESS users.id"),
                real("(SELECT * FROM users WHERE id = 5)", "KEYED users.id [5]"),
                real("SELECT * FROM users WHERE id = 5 UNION ALL SELECT * FROM users WHERE id = 5",
                        "KEYLESS users.id ~UNION"),
                real("SELECT code FROM countries UNION SELECT code FROM regions WHERE code = 'eu'",
                        "KEYLESS regions.code ~UNION"),
                real("SELECT substring(name FROM 1 FOR 2) FROM users WHERE users.id = 5", "KEYED users.id [5]"),
                real("WITH users AS (SELECT 1 AS id) SELECT * FROM users WHERE id = 1", "UNSHARDED"),
                real("WITH users AS (SELECT * FROM users WHERE id = 1) SELECT * FROM users", "KEYLESS users.id ~subquery"),
                real("WITH u AS (SELECT 1 AS id) SELECT * FROM u, keys_app.users WHERE users.id = 2",
                        "KEYED keys_app.users.id [2]"),
                real("SELECT * FROM countries WHERE code = 'de'", "UNSHARDED"),
                real("SELECT c.* FROM countries c JOIN logs l ON l.msg = c.name WHERE c.code = 'de'", "UNSHARDED"),
                // statements without tables
                real("SELECT 1", "UNSHARDED"),
                real("SELECT now()", "UNSHARDED"),
                real("SELECT 1 FROM (VALUES (1)) v(id) WHERE id = 1", "UNSHARDED"),
                real("SET search_path = keys_test", "UNSHARDED"),
                real("SHOW server_version", "UNSHARDED"),
                only("BEGIN", "UNSHARDED"),
                only("COMMIT", "UNSHARDED"),
                only("", "UNSHARDED"),
                only(" ; ; ", "UNSHARDED"),
                only("SELECT * FROM users WHERE id = 'abc", "UNSHARDED ~unterminated"),
                // UPDATE
                real("UPDATE users SET name = 'x' WHERE id = 5", "KEYED users.id [5]"),
                real("UPDATE users SET id = 6 WHERE id = 5", "KEYLESS users.id ~UPDATE of the sharding key users.id"),
                real("UPDATE users SET (name, id) = ('x', 6) WHERE id = 5", "KEYLESS users.id ~UPDATE of the sharding key"),
                real("UPDATE users u SET name = 'x' WHERE u.id = $1", "KEYED users.id [$1]"),
                real("UPDATE users SET name = 'x'", "KEYLESS users.id ~no sharding key users.id in WHERE"),
                real("UPDATE users SET name = o.note FROM orders o WHERE o.user_id = users.id AND users.id = 8 "
                        + "RETURNING users.id", "KEYED users.id [8]"),
                real("UPDATE users SET name = 'x' WHERE id = 5 OR name = 'y'", "KEYLESS users.id"),
                real("UPDATE countries SET name = 'x' WHERE code = 'de'", "UNSHARDED"),
                real("UPDATE countries SET name = (SELECT name FROM users WHERE id = 1)", "KEYLESS users.id"),
                real("UPDATE users SET name = 'x' WHERE id = 5 RETURNING id, name", "KEYED users.id [5]"),
                real("UPDATE ONLY users AS u SET name = u.name || 'x' WHERE u.id = $1 AND u.active",
                        "KEYED users.id [$1]"),
                real("UPDATE orders SET note = 'n' WHERE user_id = -3", "KEYED orders.user_id [-3]"),
                real("WITH x AS (SELECT 1) UPDATE users SET name = 'x' WHERE id = 2", "KEYED users.id [2]"),
                only("UPDATE users SET name = 'x' WHERE CURRENT OF c", "KEYLESS users.id ~no sharding key"),
                // DELETE
                real("DELETE FROM users WHERE id = 5", "KEYED users.id [5]"),
                real("DELETE FROM users WHERE id IN (5, 6) RETURNING *", "KEYED users.id [5, 6]"),
                real("DELETE FROM ONLY users AS u USING orders o WHERE o.user_id = u.id AND o.user_id = 5",
                        "KEYED orders.user_id [5]"),
                real("DELETE FROM users", "KEYLESS users.id ~no sharding key"),
                real("DELETE FROM logs WHERE id = 5", "UNSHARDED"),
                real("DELETE FROM users WHERE id = $1 RETURNING id", "KEYED users.id [$1]"),
                real("WITH d AS (DELETE FROM users WHERE id = 4 RETURNING *) SELECT * FROM d",
                        "KEYLESS users.id ~data-modifying"),
                real("DELETE FROM users WHERE id = 5 AND x IN (SELECT x FROM logs)", "KEYED users.id [5]"),
                // INSERT
                real("INSERT INTO users (id, name) VALUES (1, 'a')", "KEYED users.id [1]"),
                real("INSERT INTO users (name, id) VALUES ('a', 1), ('b', 2), ('c', $1)", "KEYED users.id [1, 2, $1]"),
                real("INSERT INTO users VALUES (1, 'a')", "KEYLESS users.id ~needs a column list"),
                real("INSERT INTO users DEFAULT VALUES", "KEYLESS users.id ~needs a column list"),
                real("INSERT INTO users (name) VALUES ('a')", "KEYLESS users.id ~without its sharding key id"),
                real("INSERT INTO users (id, name) SELECT id + 100, name FROM users", "KEYLESS users.id ~from a query"),
                real("INSERT INTO users (id, name) VALUES (DEFAULT, 'a')", "KEYLESS users.id ~row 1"),
                real("INSERT INTO users (id, name) VALUES (1, 'a'), (1 + 1, 'b')", "KEYLESS users.id [1] ~row 2"),
                real("INSERT INTO users (id, name) VALUES ('-7'::bigint, 'a')", "KEYED users.id [-7]"),
                real("INSERT INTO users (id, name) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET name = "
                        + "EXCLUDED.name RETURNING id", "KEYED users.id [1]"),
                real("INSERT INTO users (id, name) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET id = 2",
                        "KEYLESS users.id [1] ~ON CONFLICT DO UPDATE of the sharding key"),
                real("INSERT INTO users AS u (id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING", "KEYED users.id [$1]"),
                real("INSERT INTO users (id, name) OVERRIDING USER VALUE VALUES (4, 'd')", "KEYED users.id [4]"),
                real("INSERT INTO logs (msg) VALUES ('x')", "UNSHARDED"),
                real("INSERT INTO logs (msg) SELECT name FROM users", "KEYLESS users.id ~subquery"),
                real("WITH v AS (SELECT 1) INSERT INTO users (id, name) VALUES (3, 'c')", "KEYED users.id [3]"),
                real("INSERT INTO users (id, name) VALUES (1, 'a') LIMIT 1", "KEYLESS users.id"),
                real("INSERT INTO users (id, name) VALUES (E'\\x31'::bigint, 'a') RETURNING *", "KEYED users.id [1]"),
                real("INSERT INTO regions (code) VALUES ('eu'), (E'u\\u0073'), ($$uk$$)", "KEYED regions.code [eu, us, uk]"),
                real("INSERT INTO \"Users\" (\"id\") VALUES (1)", "KEYED Users.id [1]"),
                real("INSERT INTO keys_app.users (id) VALUES (1)", "KEYED keys_app.users.id [1]"),
                real("INSERT INTO users (id, name) VALUES ((SELECT max(id) FROM users), 'a')", "KEYLESS users.id ~row 1"),
                real("INSERT INTO users (id, name) VALUES (2, (SELECT name FROM countries LIMIT 1))", "KEYED users.id [2]"),
                real("WITH n AS (INSERT INTO users (id) VALUES (1) RETURNING id) SELECT * FROM n",
                        "KEYLESS users.id ~data-modifying"),
                // several statements
                only("BEGIN; UPDATE users SET name = 'x' WHERE id = 1; COMMIT", "KEYED users.id [1]"),
                real("SELECT * FROM users WHERE id = 1; SELECT * FROM users WHERE id = 2", "KEYED users.id [1, 2]"),
                real("SELECT * FROM users WHERE id = 1; DELETE FROM users", "KEYLESS users.id [1] ~no sharding key"),
                real("SELECT * FROM users WHERE id = 1; SELECT * FROM countries", "KEYLESS users.id [1] ~default shard"),
                real("SET application_name = 'x'; SHOW application_name; SELECT 1", "UNSHARDED"),
                real("SELECT * FROM users WHERE id = 1; SELECT 1", "KEYED users.id [1]"),
                real("INSERT INTO users (id) VALUES (1); SELECT * FROM countries", "KEYLESS users.id [1] ~default shard"),
                real("SELECT * FROM countries; INSERT INTO logs (msg) VALUES ('x')", "UNSHARDED"),
                // other statements
                real("TRUNCATE users", "KEYLESS users.id ~TRUNCATE"),
                real("ALTER TABLE users ADD COLUMN z int", "KEYLESS users.id ~ALTER"),
                real("CREATE TABLE t2 (a int)", "UNSHARDED"),
                real("LOCK TABLE keys_app.users", "KEYLESS keys_app.users.id"),
                real("EXPLAIN SELECT * FROM users WHERE id = 5", "KEYED users.id [5]"),
                real("EXPLAIN (COSTS OFF) DELETE FROM users WHERE id = 5", "KEYED users.id [5]"),
                real("PREPARE q (bigint) AS SELECT * FROM users WHERE id = $1", "KEYED users.id [$1]"),
                real("DECLARE c CURSOR FOR SELECT * FROM users WHERE id = 5", "KEYED users.id [5]"),
                real("TABLE users", "KEYLESS users.id"),
                only("MERGE INTO users u USING orders o ON o.user_id = u.id WHEN MATCHED THEN DO NOTHING",
                        "KEYLESS users.id ~MERGE"),
                real("CREATE INDEX ON keys_app.users (name)", "KEYLESS keys_app.users.id ~CREATE"),
                real("ANALYZE countries", "UNSHARDED"),
                real("DO $$BEGIN PERFORM 1; END$$", "UNSHARDED"),
                real("EXPLAIN ANALYZE SELECT * FROM users WHERE id = 5", "KEYED users.id [5]"),
                // COPY (options in copyOptions)
                real("COPY users (id, name) FROM STDIN", "KEYLESS users.id ~the keys are in the data (column 1)"),
                real("COPY users FROM STDIN", "KEYLESS users.id ~needs a column list"),
                real("COPY users TO STDOUT", "KEYLESS users.id ~reads every shard"),
                only("COPY users FROM '/tmp/users.txt'", "KEYLESS users.id ~file or PROGRAM"),
                only("COPY users (id) FROM PROGRAM 'cat /tmp/x'", "KEYLESS users.id ~file or PROGRAM"),
                real("COPY (SELECT * FROM users WHERE id = 5) TO STDOUT WITH (FORMAT csv)", "KEYED users.id [5]"),
                real("COPY (SELECT * FROM users) TO STDOUT", "KEYLESS users.id ~COPY (query)"),
                real("COPY countries FROM STDIN", "UNSHARDED"));
    }

    static String describe(StatementKeys k) {
        StringBuilder b = new StringBuilder(k.kind().name());
        if (k.table() != null) {
            b.append(' ').append(k.table()).append('.').append(k.column());
        }
        if (!k.keys().isEmpty()) {
            b.append(' ').append(k.keys().stream().map(ShardKeyReaderTest::describe)
                    .collect(Collectors.joining(", ", "[", "]")));
        }
        return b.toString();
    }

    static String describe(KeyValue v) {
        return v instanceof KeyValue.Param p ? "$" + p.param() : ((KeyValue.Constant) v).text();
    }

    @TestFactory
    Stream<DynamicTest> table() {
        return cases().stream().map(c -> DynamicTest.dynamicTest(c.toString(), () -> {
            StatementKeys k = ShardKeyReader.read(c.sql(), TABLES);
            String expected = c.expected();
            int tilde = expected.indexOf(" ~");
            String reasonPart = tilde < 0 ? null : expected.substring(tilde + 2);
            if (tilde >= 0) {
                expected = expected.substring(0, tilde);
            }
            assertEquals(expected, describe(k), () -> c.sql() + " -> " + k);
            if (reasonPart != null) {
                assertNotNull(k.reason(), () -> c.sql() + " -> " + k);
                assertTrue(k.reason().contains(reasonPart), () -> c.sql() + " -> reason " + k.reason());
            }
            if (k.kind() == Kind.KEYLESS) {
                assertNotNull(k.reason(), "a KEYLESS result says why");
            }
        }));
    }

    @Test
    void atLeastEightyCases() {
        assertTrue(cases().size() >= 80, "cases: " + cases().size());
        assertTrue(cases().stream().filter(Case::real).count() >= 30);
    }

    /**
     * Client SQL can be anything: every prefix of every test statement, and each with one character
     * dropped, is read without an exception (truncated SQL gives some kind, never a crash).
     */
    @Test
    void truncatedAndDamagedSqlNeverThrows() {
        List<String> all = new ArrayList<>();
        cases().forEach(c -> all.add(c.sql()));
        all.addAll(copySql());
        int read = 0;
        for (String sql : all) {
            for (int n = 0; n <= sql.length(); n++) {
                String prefix = sql.substring(0, n);
                assertNotNull(ShardKeyReader.read(prefix, TABLES), prefix);
                String dropped = sql.substring(0, n) + (n + 1 <= sql.length() ? sql.substring(n + 1) : "");
                assertNotNull(ShardKeyReader.read(dropped, TABLES), dropped);
                read += 2;
            }
        }
        assertTrue(read > 10_000);
    }

    /** Random sequences of SQL words, names, constants and punctuation: read without an exception. */
    @Test
    void randomTokenSoupNeverThrows() {
        String[] alphabet = {"SELECT", "INSERT", "INTO", "UPDATE", "DELETE", "COPY", "WITH", "AS", "FROM", "WHERE",
            "JOIN", "ON", "USING", "AND", "OR", "NOT", "IN", "BETWEEN", "CASE", "END", "VALUES", "SET", "RETURNING",
            "UNION", "DISTINCT", "CAST", "STDIN", "STDOUT", "CSV", "HEADER", "DELIMITER", "ONLY", "LATERAL", "DO",
            "CONFLICT", "EXPLAIN", "PREPARE", "DECLARE", "CURSOR", "FOR", "TABLE", "users", "u", "orders", "id",
            "user_id", "\"Users\"", "keys_app", ".", ",", "(", ")", "(", ")", ";", "=", "=-", "::", "-", "*",
            "bigint", "varchar", "42", "'x'", "E'\\n'", "$1", "$$a$$", "U&'\\0061'"};
        java.util.SplittableRandom random = new java.util.SplittableRandom(13);
        for (int n = 0; n < 20_000; n++) {
            StringBuilder sql = new StringBuilder();
            int length = 1 + random.nextInt(24);
            for (int k = 0; k < length; k++) {
                sql.append(alphabet[random.nextInt(alphabet.length)]).append(' ');
            }
            String text = sql.toString();
            assertNotNull(ShardKeyReader.read(text, TABLES), text);
        }
    }

    // -- INSERT rows and their offsets ----------------------------------------------------------------

    @Test
    void insertRowsHaveTheirOffsetsAndRebuild() {
        String sql = "INSERT INTO users (name, id) VALUES ('a', 1), ( 'b,c' , 2 ),('(d)', $1) "
                + "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name RETURNING id";
        StatementKeys k = ShardKeyReader.read(sql, TABLES);
        assertEquals(Kind.KEYED, k.kind());
        List<InsertRow> rows = k.rows();
        assertEquals(3, rows.size());
        assertEquals("('a', 1)", sql.substring(rows.get(0).start(), rows.get(0).end()));
        assertEquals("( 'b,c' , 2 )", sql.substring(rows.get(1).start(), rows.get(1).end()));
        assertEquals("('(d)', $1)", sql.substring(rows.get(2).start(), rows.get(2).end()));
        assertEquals(new KeyValue.Constant("1"), rows.get(0).key());
        assertEquals(new KeyValue.Constant("2"), rows.get(1).key());
        assertEquals(new KeyValue.Param(1), rows.get(2).key());
        assertEquals(rows.get(0).start(), k.valuesStart());
        assertEquals(rows.get(2).end(), k.valuesEnd());
        String prefix = sql.substring(0, k.valuesStart());
        String suffix = sql.substring(k.valuesEnd());
        assertEquals("INSERT INTO users (name, id) VALUES ", prefix);
        assertEquals(" ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name RETURNING id", suffix);
        String shardOne = prefix + sql.substring(rows.get(0).start(), rows.get(0).end()) + ", "
                + sql.substring(rows.get(2).start(), rows.get(2).end()) + suffix;
        assertEquals("INSERT INTO users (name, id) VALUES ('a', 1), ('(d)', $1) ON CONFLICT (id) DO UPDATE SET "
                + "name = EXCLUDED.name RETURNING id", shardOne);
    }

    @Test
    void insertRowsAfterAWithQueryAndInASecondPosition() {
        String sql = "WITH v AS (SELECT 1) INSERT INTO public.users AS u (id, name) VALUES (7, 'x'), (DEFAULT, 'y')";
        StatementKeys k = ShardKeyReader.read(sql, TABLES);
        assertEquals(Kind.KEYLESS, k.kind());
        assertEquals("public.users", k.table());
        assertEquals(2, k.rows().size());
        assertEquals(new KeyValue.Constant("7"), k.rows().get(0).key());
        assertNull(k.rows().get(1).key());
        assertEquals("(7, 'x'), (DEFAULT, 'y')", sql.substring(k.valuesStart(), k.valuesEnd()));
        assertEquals(List.of(new KeyValue.Constant("7")), k.keys());
    }

    @Test
    void insertRowOffsetsAcrossCommentsLinesAndPrepare() {
        String sql = "PREPARE ins (bigint) AS\nINSERT INTO users (id)\n  VALUES ($1), -- first\n /* second */ (-2);";
        StatementKeys k = ShardKeyReader.read(sql, TABLES);
        assertEquals(Kind.KEYED, k.kind());
        assertEquals(List.of(new KeyValue.Param(1), new KeyValue.Constant("-2")), k.keys());
        assertEquals("($1)", sql.substring(k.rows().get(0).start(), k.rows().get(0).end()));
        assertEquals("(-2)", sql.substring(k.rows().get(1).start(), k.rows().get(1).end()));
        assertEquals(";", sql.substring(k.valuesEnd()));
        assertEquals("PREPARE ins (bigint) AS\nINSERT INTO users (id)\n  VALUES ", sql.substring(0, k.valuesStart()));
    }

    @Test
    void resultsAreImmutable() {
        StatementKeys k = ShardKeyReader.read("INSERT INTO users (id) VALUES (1), (2)", TABLES);
        org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class,
                () -> k.keys().add(new KeyValue.Param(3)));
        org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class, () -> k.rows().clear());
        CopyStatement copy = ShardKeyReader.read("COPY users (id) FROM STDIN", TABLES).copy();
        org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class,
                () -> copy.columns().add("x"));
    }

    @Test
    void rowsAreKeptOnlyForInsertOfOneStatement() {
        assertTrue(ShardKeyReader.read("SELECT * FROM users WHERE id = 1", TABLES).rows().isEmpty());
        StatementKeys two = ShardKeyReader.read("INSERT INTO users (id) VALUES (1); INSERT INTO users (id) VALUES (2)",
                TABLES);
        assertEquals(Kind.KEYED, two.kind());
        assertTrue(two.rows().isEmpty());
        assertEquals(-1, two.valuesStart());
    }

    // -- COPY options -----------------------------------------------------------------------------------

    /** A COPY statement and the options it must give: table, columns, key index, from, format, d, q, e, null, header. */
    static final Object[][] COPIES = {
        {"COPY users (id, name) FROM STDIN", "users", List.of("id", "name"), 0, true, Format.TEXT, '\t', '\0',
            '\0', "\\N", false},
        {"COPY users (name, id) FROM STDIN WITH (FORMAT csv, HEADER, DELIMITER ';')", "users", List.of("name", "id"),
            1, true, Format.CSV, ';', '"', '"', "", true},
        {"COPY users (name, id) FROM STDIN (FORMAT 'csv', HEADER false, NULL '-', DELIMITER E'\\t', QUOTE '''', "
            + "ESCAPE '\\')", "users", List.of("name", "id"), 1, true, Format.CSV, '\t', '\'', '\\', "-", false},
        {"COPY users (id, name) FROM STDIN WITH (FORMAT csv, HEADER MATCH)", "users", List.of("id", "name"), 0, true,
            Format.CSV, ',', '"', '"', "", true},
        {"COPY users (id, name) FROM STDIN CSV HEADER DELIMITER ';' QUOTE '''' ESCAPE '\\'", "users",
            List.of("id", "name"), 0, true, Format.CSV, ';', '\'', '\\', "", true},
        {"COPY users (id, name) FROM STDIN WITH CSV NULL AS 'NULL' FORCE NOT NULL name", "users",
            List.of("id", "name"), 0, true, Format.CSV, ',', '"', '"', "NULL", false},
        {"COPY users (id, name) FROM STDIN WITH DELIMITER AS '|' NULL AS ''", "users", List.of("id", "name"), 0,
            true, Format.TEXT, '|', '\0', '\0', "", false},
        {"COPY users (id, name) FROM STDIN USING DELIMITERS '|'", "users", List.of("id", "name"), 0, true,
            Format.TEXT, '|', '\0', '\0', "\\N", false},
        {"COPY users (id, name) FROM STDIN BINARY", "users", List.of("id", "name"), 0, true, Format.BINARY, '\0',
            '\0', '\0', null, false},
        {"COPY BINARY users FROM STDIN", "users", null, -1, true, Format.BINARY, '\0', '\0', '\0', null, false},
        {"COPY users (id, name) FROM STDIN (FORMAT binary)", "users", List.of("id", "name"), 0, true, Format.BINARY,
            '\0', '\0', '\0', null, false},
        {"COPY keys_app.users (name) FROM STDIN", "keys_app.users", List.of("name"), -1, true, Format.TEXT, '\t',
            '\0', '\0', "\\N", false},
        {"COPY users TO STDOUT WITH (FORMAT csv, HEADER true, QUOTE '*', FORCE_QUOTE *)", "users", null, -1, false,
            Format.CSV, ',', '*', '*', "", true},
        {"COPY (SELECT * FROM users WHERE id = 5) TO STDOUT CSV HEADER", null, null, -1, false, Format.CSV, ',', '"',
            '"', "", true},
        {"COPY countries (code, name) FROM STDIN WHERE code <> 'x'", "countries", List.of("code", "name"), -1, true,
            Format.TEXT, '\t', '\0', '\0', "\\N", false},
    };

    static List<String> copySql() {
        List<String> sql = new ArrayList<>();
        for (Object[] c : COPIES) {
            sql.add((String) c[0]);
        }
        return sql;
    }

    @TestFactory
    Stream<DynamicTest> copyOptions() {
        return Arrays.stream(COPIES).map(c -> DynamicTest.dynamicTest((String) c[0], () -> {
            StatementKeys k = ShardKeyReader.read((String) c[0], TABLES);
            CopyStatement copy = k.copy();
            assertNotNull(copy, () -> c[0] + " -> " + k);
            CopyStatement expected = new CopyStatement((String) c[1], castList(c[2]), (Integer) c[3],
                    (Boolean) c[4], (Format) c[5], (Character) c[6], (Character) c[7], (Character) c[8],
                    (String) c[9], (Boolean) c[10]);
            assertEquals(expected, copy);
        }));
    }

    @SuppressWarnings("unchecked")
    private static List<String> castList(Object o) {
        return (List<String>) o;
    }

    @Test
    void copyFromAFileIsNoCopyOverTheProtocol() {
        assertNull(ShardKeyReader.read("COPY users FROM '/tmp/x'", TABLES).copy());
        assertNull(ShardKeyReader.read("COPY countries TO PROGRAM 'gzip > /tmp/x'", TABLES).copy());
        assertEquals(Kind.UNSHARDED, ShardKeyReader.read("COPY countries TO PROGRAM 'gzip > /tmp/x'", TABLES).kind());
    }
}
