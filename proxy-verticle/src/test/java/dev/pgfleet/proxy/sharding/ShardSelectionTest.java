package dev.pgfleet.proxy.sharding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.Shards;
import dev.pgfleet.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Explicit shard selection on a sharded pool (PgCat's commands): SET SHARD, SET SHARDING KEY,
 * SHOW SHARD, the comment hints and the startup option, checked with {@code inet_server_port()}
 * against each shard's own port; the key's shard is PostgreSQL's own
 * ({@code satisfies_hash_partition}, see {@link ShardedProxy#keyPerShard}).
 */
class ShardSelectionTest {
    private final Shards shards = TestPostgres.shards();
    private ShardedProxy proxy;
    private long[] keys;

    @BeforeEach
    void setUp() throws SQLException {
        TestPostgres.reset();
        ShardedProxy.createSchema(shards);
        keys = ShardedProxy.keyPerShard(shards);
        proxy = ShardedProxy.start(shards);
    }

    @AfterEach
    void tearDown() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void selectWithoutTableWorks() throws SQLException {
        try (Connection c = proxy.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT 1")) {
            rs.next();
            assertEquals(1, rs.getInt(1));
        }
    }

    @Test
    void setShardAndShardingKeyInSimpleAndExtendedProtocol() throws SQLException {
        for (String mode : new String[] {"simple", "extended"}) {
            try (Connection c = proxy.connect("preferQueryMode", mode); Statement st = c.createStatement()) {
                try (ResultSet rs = st.executeQuery("SHOW SHARD")) {
                    assertTrue(rs.next());
                    assertEquals("any", rs.getString(1), mode);
                }
                st.execute("SET SHARD TO '1'");
                assertEquals(proxy.shardPort(1), ShardedProxy.serverPort(st), mode);
                try (ResultSet rs = st.executeQuery("SHOW SHARD")) {
                    assertTrue(rs.next());
                    assertEquals("1", rs.getString(1), mode);
                }
                st.execute("SET SHARD TO '0'");
                assertEquals(proxy.shardPort(0), ShardedProxy.serverPort(st), mode);
                st.execute("SET SHARDING KEY TO '" + keys[1] + "'");
                assertEquals(proxy.shardPort(1), ShardedProxy.serverPort(st), mode);
                st.execute("SET SHARDING KEY TO '" + keys[0] + "'");
                assertEquals(proxy.shardPort(0), ShardedProxy.serverPort(st), mode);
                st.execute("SET SHARD TO 1");
                // A write lands on the chosen shard and only there.
                assertEquals(1, st.executeUpdate("INSERT INTO users (id, name) VALUES (" + keys[1] + ", 'one')"));
                assertEquals(1, proxy.countOn(1, "users WHERE id = " + keys[1]));
                assertEquals(0, proxy.countOn(0, "users WHERE id = " + keys[1]));
                st.execute("DELETE FROM users");
            }
        }
    }

    @Test
    void commentHintsPickTheShardOfOneTransaction() throws SQLException {
        try (Connection c = proxy.connect("preferQueryMode", "simple"); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("/* shard_id: 1 */ SELECT inet_server_port()")) {
                rs.next();
                assertEquals(proxy.shardPort(1), rs.getInt(1));
            }
            try (ResultSet rs = st.executeQuery("/* sharding_key: " + keys[1] + " */ SELECT inet_server_port()")) {
                rs.next();
                assertEquals(proxy.shardPort(1), rs.getInt(1));
            }
            try (ResultSet rs = st.executeQuery("/* sharding_key: " + keys[0] + " */ SELECT inet_server_port()")) {
                rs.next();
                assertEquals(proxy.shardPort(0), rs.getInt(1));
            }
            // A hint holds for its transaction only.
            assertEquals(proxy.shardPort(0), ShardedProxy.serverPort(st));
            SQLException e = assertThrows(SQLException.class, () -> st.executeQuery("/* shard_id: 7 */ SELECT 1"));
            assertEquals("22023", e.getSQLState());
            assertEquals(proxy.shardPort(0), ShardedProxy.serverPort(st));
        }
    }

    @Test
    void startupOptionPicksTheShard() throws SQLException {
        try (Connection c = proxy.connect("options", "-c pgfleet.shard=1"); Statement st = c.createStatement()) {
            assertEquals(proxy.shardPort(1), ShardedProxy.serverPort(st));
            try (ResultSet rs = st.executeQuery("SHOW SHARD")) {
                rs.next();
                assertEquals("1", rs.getString(1));
            }
            // PgFleet's option is not the server's: the server never saw a pgfleet.shard setting.
            try (ResultSet rs = st.executeQuery("SELECT current_setting('pgfleet.shard', true)")) {
                rs.next();
                assertEquals(null, rs.getString(1));
            }
        }
        SQLException e = assertThrows(SQLException.class, () -> proxy.connect("options", "-c pgfleet.shard=9").close());
        assertEquals("22023", e.getSQLState());
    }

    @Test
    void badShardIsRefusedAndTheConnectionStaysUsable() throws SQLException {
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> st.execute("SET SHARD TO '2'"));
            assertEquals("22023", e.getSQLState());
            assertTrue(e.getMessage().contains(ShardedProxy.POOL), e.getMessage());
            assertEquals(proxy.shardPort(0), ShardedProxy.serverPort(st));
        }
    }

    @Test
    void sessionModeBindsToTheStartupShard() throws SQLException {
        proxy.close();
        proxy = ShardedProxy.start(shards, "session", "", ShardedProxy.USERS_AND_PAYMENTS, 2);
        try (Connection c = proxy.connect("options", "-c pgfleet.shard=1"); Statement st = c.createStatement()) {
            st.execute("BEGIN");
            st.executeUpdate("INSERT INTO payments (user_id, amount) VALUES (" + keys[1] + ", 1.5)");
            assertEquals(proxy.shardPort(1), ShardedProxy.serverPort(st));
            st.execute("COMMIT");
            assertEquals(1, proxy.countOn(1, "payments WHERE user_id = " + keys[1]));
        }
    }
}
