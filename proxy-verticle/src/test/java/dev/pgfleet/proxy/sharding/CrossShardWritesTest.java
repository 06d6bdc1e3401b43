package dev.pgfleet.proxy.sharding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.Shards;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.pgclient.PgConnection;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** UPDATE and DELETE without a key (cross_shard_writes), omnisharded tables, pgfleet.unique_id(). */
class CrossShardWritesTest {
    private final Shards shards = TestPostgres.shards();
    private ShardedProxy proxy;

    @BeforeEach
    void setUp() throws SQLException {
        TestPostgres.reset();
        for (int s = 0; s < shards.size(); s++) {
            ShardedProxy.sql(shards.get(s),
                "CREATE TABLE users (id bigint PRIMARY KEY, name text, grp int)",
                "CREATE TABLE countries (code text PRIMARY KEY, name text)",
                "CREATE TABLE pt (id bigint) PARTITION BY HASH (id)",
                "GRANT ALL ON users, countries, pt TO " + TestUsers.SCRAM_USER,
                "INSERT INTO users SELECT g, 'u' || g, g % 3 FROM generate_series(1, 1000) g WHERE "
                    + "satisfies_hash_partition('pt'::regclass, " + shards.size() + ", " + s + ", g::bigint)");
        }
    }

    @AfterEach
    void tearDown() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private void start(String poolLines) {
        proxy = ShardedProxy.start(shards, "transaction", poolLines, """
            [[pools.sharded.sharded_tables]]
            name = "users"
            column = "id"
            type = "bigint"
            """, 2);
    }

    @Test
    void keylessWritesAreRefusedByDefault() throws SQLException {
        start("");
        for (String mode : new String[] {"simple", "extended"}) {
            try (Connection c = proxy.connect("preferQueryMode", mode); Statement st = c.createStatement()) {
                SQLException e = assertThrows(SQLException.class, () -> st.executeUpdate("UPDATE users SET grp = 9"));
                assertEquals("0A000", e.getSQLState());
                assertTrue(e.getMessage().contains("users"), e.getMessage());
                assertEquals(0, proxy.countOn(0, "users WHERE grp = 9") + proxy.countOn(1, "users WHERE grp = 9"));
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM users")) {
                    rs.next();
                    assertEquals(1000, rs.getLong(1));   // the connection goes on
                }
            }
        }
    }

    @Test
    void keylessWritesGoToEveryShardWhenAllowed() throws SQLException {
        start("cross_shard_writes = \"all\"");
        long expected = proxy.countOn(0, "users WHERE grp = 1") + proxy.countOn(1, "users WHERE grp = 1");
        for (String mode : new String[] {"simple", "extended"}) {
            try (Connection c = proxy.connect("preferQueryMode", mode); Statement st = c.createStatement()) {
                assertEquals(expected, st.executeUpdate("UPDATE users SET name = '" + mode + "' WHERE grp = 1"));
                assertEquals(expected, proxy.countOn(0, "users WHERE name = '" + mode + "'")
                    + proxy.countOn(1, "users WHERE name = '" + mode + "'"));
            }
        }
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            assertEquals(expected, st.executeUpdate("DELETE FROM users WHERE grp = 1"));
            assertEquals(0, proxy.countOn(0, "users WHERE grp = 1") + proxy.countOn(1, "users WHERE grp = 1"));
            // A failure on one shard (a key that the unique index refuses there) leaves both shards as they were.
            SQLException e = assertThrows(SQLException.class, () -> st.executeUpdate("UPDATE users SET id = 5 WHERE grp = 2"));
            assertEquals("23505", e.getSQLState());
            assertEquals(1000 - expected, proxy.countOn(0, "users") + proxy.countOn(1, "users"));
            // With a parameter, or in a transaction block: refused, not half done.
            try (PreparedStatement ps = c.prepareStatement("UPDATE users SET grp = ? WHERE grp = 0")) {
                ps.setInt(1, 7);
                assertEquals("0A000", assertThrows(SQLException.class, ps::executeUpdate).getSQLState());
            }
        }
    }

    @Test
    void omnishardedTablesAreReadFromOneShardAndWrittenToAll() throws Exception {
        start("omnisharded_tables = [\"countries\"]");
        try (Connection c = proxy.connect("preferQueryMode", "simple"); Statement st = c.createStatement()) {
            assertEquals(2, st.executeUpdate("INSERT INTO countries VALUES ('fr', 'France'), ('de', 'Germany')"));
            for (int s = 0; s < shards.size(); s++) {
                assertEquals(2, proxy.countOn(s, "countries"));
            }
            assertEquals(1, st.executeUpdate("UPDATE countries SET name = 'Deutschland' WHERE code = 'de'"));
            try (ResultSet rs = st.executeQuery("SELECT name FROM countries WHERE code = 'de'")) {
                assertTrue(rs.next());
                assertEquals("Deutschland", rs.getString(1));
            }
            // A join of a sharded table with an omnisharded one runs on every shard and is merged.
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM users u JOIN countries k ON k.code = "
                + "CASE WHEN u.grp = 0 THEN 'fr' ELSE 'de' END")) {
                assertTrue(rs.next());
                assertEquals(1000, rs.getLong(1));
            }
        }
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            assertEquals(1, st.executeUpdate("DELETE FROM countries WHERE code = 'fr'"));
            for (int s = 0; s < shards.size(); s++) {
                assertEquals(1, proxy.countOn(s, "countries"));
            }
        }
    }

    @Test
    void uniqueIdsAreUniqueOrderedBigints() throws Exception {
        start("");
        Set<Long> ids = new HashSet<>();
        for (String mode : new String[] {"simple", "extended"}) {
            try (Connection c = proxy.connect("preferQueryMode", mode); Statement st = c.createStatement()) {
                long last = 0;
                for (int i = 0; i < 500; i++) {
                    try (ResultSet rs = st.executeQuery("SELECT pgfleet.unique_id()")) {
                        assertTrue(rs.next());
                        assertEquals("unique_id", rs.getMetaData().getColumnLabel(1));
                        assertEquals("int8", rs.getMetaData().getColumnTypeName(1));
                        long id = rs.getLong(1);
                        assertTrue(id > last, "ids grow: " + id + " after " + last);
                        assertTrue(ids.add(id), "unique: " + id);
                        last = id;
                    }
                }
            }
        }
        PgConnection conn = PgConnection.connect(proxy.vertx, proxy.pgOptions()).await();
        try {
            long id = conn.query("SELECT pgfleet.unique_id() AS id").execute().await().iterator().next().getLong("id");
            assertTrue(ids.add(id));
            long prepared = conn.preparedQuery("SELECT pgfleet.unique_id()").execute().await().iterator().next().getLong(0);
            assertTrue(ids.add(prepared));
        } finally {
            conn.close().await();
        }
    }
}
