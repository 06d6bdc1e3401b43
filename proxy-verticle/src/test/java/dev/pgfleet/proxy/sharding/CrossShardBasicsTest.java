package dev.pgfleet.proxy.sharding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.Shards;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Cross-shard SELECTs, merged by PgFleet, against the same query on one table that holds every
 * row (users_all on shard 0, read directly): the basics of each merge in the three client modes.
 * The full table of queries is CrossShardSelectTest's.
 */
class CrossShardBasicsTest {
    private final Shards shards = TestPostgres.shards();
    private ShardedProxy proxy;

    private static final String[] QUERIES = {
        "SELECT count(*) FROM users",
        "SELECT id, name FROM users ORDER BY id LIMIT 7",
        "SELECT id, name FROM users ORDER BY name DESC, id LIMIT 5 OFFSET 3",
        "SELECT grp, count(*), sum(score), min(name), max(id), avg(score) FROM users GROUP BY grp ORDER BY grp",
        "SELECT grp, count(DISTINCT score) FROM users GROUP BY grp HAVING count(*) > 3 ORDER BY 2 DESC, 1",
        "SELECT DISTINCT grp FROM users ORDER BY grp",
        "SELECT DISTINCT ON (grp) grp, id FROM users ORDER BY grp, id DESC",
        "SELECT * FROM users WHERE id IN (1, 2, 3, 4, 5, 6) ORDER BY id",
        "SELECT stddev(score), variance(score), bool_and(score > 0), bool_or(score > 90) FROM users",
        "SELECT score FROM users ORDER BY score NULLS FIRST, id LIMIT 4",
    };

    @BeforeEach
    void setUp() throws SQLException {
        TestPostgres.reset();
        for (int s = 0; s < shards.size(); s++) {
            ShardedProxy.sql(shards.get(s),
                "CREATE TABLE users (id bigint PRIMARY KEY, name text, grp int, score numeric)",
                "CREATE TABLE pt (id bigint) PARTITION BY HASH (id)",
                "GRANT ALL ON users, pt TO " + TestUsers.SCRAM_USER);
        }
        ShardedProxy.sql(shards.get(0), "CREATE TABLE users_all (id bigint PRIMARY KEY, name text, grp int, score numeric)",
            "GRANT ALL ON users_all TO " + TestUsers.SCRAM_USER);
        String rows = "SELECT g, md5(g::text), g % 7, CASE WHEN g % 11 = 0 THEN NULL ELSE (g * 37 % 101)::numeric / 4 END"
            + " FROM generate_series(1, 2000) g";
        ShardedProxy.sql(shards.get(0), "INSERT INTO users_all " + rows);
        for (int s = 0; s < shards.size(); s++) {
            ShardedProxy.sql(shards.get(s), "INSERT INTO users " + rows + " WHERE satisfies_hash_partition('pt'::regclass, "
                + shards.size() + ", " + s + ", g::bigint)");
        }
        proxy = ShardedProxy.start(shards, "transaction", "", """
            [[pools.sharded.sharded_tables]]
            name = "users"
            column = "id"
            type = "bigint"
            """, 2);
    }

    @AfterEach
    void tearDown() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void simpleProtocol() throws SQLException {
        compare("preferQueryMode", "simple");
    }

    @Test
    void extendedProtocol() throws SQLException {
        compare("preferQueryMode", "extended");
    }

    @Test
    void serverPreparedBinary() throws SQLException {
        compare("prepareThreshold", "-1");
    }

    /**
     * A cross-shard SELECT prepares its own unnamed statement on each shard connection: the next
     * client statement on that connection must be prepared again, not taken for the old one.
     */
    @Test
    void keyedStatementsAfterCrossShardOnesRunTheirOwnSql() throws SQLException {
        proxy.close();
        proxy = ShardedProxy.start(shards, "transaction", "", """
            [[pools.sharded.sharded_tables]]
            name = "users"
            column = "id"
            type = "bigint"
            """, 1);   // one connection per shard: the keyed read and the cross-shard one share it
        // Two clients: A's unnamed statement is the same each time, B's cross-shard SELECT runs in between on
        // the same server connections.
        try (Connection a = proxy.connect("prepareThreshold", "0"); Connection b = proxy.connect("prepareThreshold", "0");
             java.sql.PreparedStatement keyed = a.prepareStatement("SELECT name FROM users WHERE id = ?");
             java.sql.PreparedStatement across = b.prepareStatement(
                 "SELECT id, name FROM users WHERE score >= ? ORDER BY score, id LIMIT 10")) {
            for (int i = 1; i <= 40; i++) {
                keyed.setLong(1, 1 + i % 2);
                try (ResultSet rs = keyed.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals(md5(1 + i % 2), rs.getString(1));
                    assertTrue(!rs.next(), "one row for id " + (1 + i % 2));
                }
                across.setBigDecimal(1, java.math.BigDecimal.valueOf(i % 20));
                int n = 0;
                try (ResultSet rs = across.executeQuery()) {
                    while (rs.next()) {
                        n++;
                    }
                }
                assertEquals(10, n);
            }
        }
    }

    @Test
    void explainShowsTheShardsAndTheMerge() throws SQLException {
        for (String mode : new String[] {"simple", "extended"}) {
            try (Connection c = proxy.connect("preferQueryMode", mode); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("EXPLAIN SELECT grp, count(*) FROM users GROUP BY grp ORDER BY 2 DESC LIMIT 3")) {
                List<String> lines = new ArrayList<>();
                while (rs.next()) {
                    lines.add(rs.getString(1));
                }
                String all = String.join("\n", lines);
                assertEquals("PgFleet: cross-shard SELECT on shards 0, 1", lines.get(0), all);
                assertTrue(lines.contains("Shard 0:") && lines.contains("Shard 1:"), all);
                assertTrue(all.contains("Aggregate"), all);   // each shard's own plan
                assertTrue(all.contains("GROUP BY"), all);
            }
        }
    }

    private static String md5(long i) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("MD5").digest(Long.toString(i).getBytes());
            return String.format("%032x", new java.math.BigInteger(1, d));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private void compare(String key, String value) throws SQLException {
        List<String> failures = new ArrayList<>();
        try (Connection through = proxy.connect(key, value);
             Connection direct = java.sql.DriverManager.getConnection(shards.get(0).jdbcUrl(TestUsers.DATABASE) + "?sslmode=disable&" + key
                 + "=" + value, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD)) {
            for (int round = 0; round < 2; round++) {   // twice: a prepared statement's second run
                for (String q : QUERIES) {
                    List<String> expected = rows(direct, q.replace("FROM users", "FROM users_all"));
                    List<String> got;
                    try {
                        got = rows(through, q);
                    } catch (SQLException e) {
                        failures.add(q + ": " + e.getSQLState() + " " + e.getMessage());
                        continue;
                    }
                    if (!expected.equals(got)) {
                        failures.add(q + "\n  expected " + expected + "\n  got      " + got);
                    }
                }
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    private static List<String> rows(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            StringBuilder head = new StringBuilder();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                head.append(md.getColumnLabel(i)).append(':').append(md.getColumnTypeName(i)).append(' ');
            }
            out.add(head.toString());
            while (rs.next()) {
                StringBuilder row = new StringBuilder();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    row.append(rs.getString(i)).append('|');
                }
                out.add(row.toString());
            }
        }
        assertEquals(false, out.isEmpty());
        return out;
    }
}
