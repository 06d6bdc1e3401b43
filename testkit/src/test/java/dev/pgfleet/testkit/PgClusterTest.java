package dev.pgfleet.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PgClusterTest {
    private final PgCluster cluster = TestPostgres.cluster();

    @BeforeEach
    void reset() {
        TestPostgres.reset();
    }

    @Test
    void primaryIsNotInRecoveryAndReplicasAre() throws SQLException {
        assertEquals(2, cluster.replicas().size());
        assertFalse(cluster.primary().inRecovery());
        for (PgServer replica : cluster.replicas()) {
            assertTrue(replica.inRecovery(), replica + " in recovery");
        }
    }

    @Test
    void rowInsertedOnPrimaryIsVisibleOnEveryReplica() throws SQLException {
        try (Connection c = cluster.primary().connect(TestUsers.DATABASE, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD);
             Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
            st.execute("INSERT INTO t VALUES (1, 'from the primary')");
        }
        for (PgServer replica : cluster.replicas()) {
            assertEquals("from the primary", awaitValue(replica, "SELECT v FROM t WHERE id = 1", Duration.ofSeconds(5)));
        }
    }

    @Test
    void eachAuthenticationMethodLogsIn() throws SQLException {
        PgServer primary = cluster.primary();
        assertLogsIn(primary, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD);
        assertLogsIn(primary, TestUsers.MD5_USER, TestUsers.MD5_PASSWORD);
        assertLogsIn(primary, TestUsers.CLEARTEXT_USER, TestUsers.CLEARTEXT_PASSWORD);
        assertLogsIn(primary, TestUsers.TRUST_USER, null);
        assertLogsIn(cluster.replicas().get(0), TestUsers.MD5_USER, TestUsers.MD5_PASSWORD);
        // The md5 rule only runs the md5 exchange if the password is stored as md5.
        assertEquals("md5", query(primary, "SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = 'app_md5'"));
        assertEquals("SCRAM-SHA-256",
                query(primary, "SELECT left(rolpassword, 13) FROM pg_authid WHERE rolname = 'app_scram'"));
    }

    @Test
    void wrongPasswordIsRefused() {
        for (String user : new String[] {TestUsers.SCRAM_USER, TestUsers.MD5_USER, TestUsers.CLEARTEXT_USER}) {
            SQLException e = assertThrows(SQLException.class,
                    () -> cluster.primary().connect(TestUsers.DATABASE, user, "wrong").close());
            assertEquals("28P01", e.getSQLState(), user); // invalid_password
        }
    }

    @Test
    void killedReplicaRestartsAndStreamsAgain() throws SQLException {
        PgServer replica = cluster.replicas().get(1);
        int port = replica.port();
        replica.kill();
        assertFalse(replica.isRunning());
        replica.start();
        assertEquals(port, replica.port());
        cluster.awaitStreaming(Duration.ofSeconds(30));
        try (Connection c = cluster.primary().connectSuperuser(TestUsers.DATABASE); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE after_kill AS SELECT 42 AS answer");
        }
        assertEquals("42", awaitValue(replica, "SELECT answer FROM after_kill", Duration.ofSeconds(5)));
    }

    @Test
    void resetEmptiesTheTestDatabase() throws SQLException {
        try (Connection c = cluster.primary().connectSuperuser(TestUsers.DATABASE); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE leftover (id int)");
        }
        Connection stillOpen = cluster.primary().connect(TestUsers.DATABASE, TestUsers.TRUST_USER, null);
        TestPostgres.reset();
        assertThrows(SQLException.class, () -> stillOpen.createStatement().execute("SELECT 1"));
        for (PgServer server : cluster.servers()) {
            assertEquals("0", query(server, "SELECT count(*) FROM pg_class WHERE relname = 'leftover'"), server.name());
        }
    }

    static void assertLogsIn(PgServer server, String user, String password) throws SQLException {
        try (Connection c = server.connect(TestUsers.DATABASE, user, password); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT current_user")) {
            rs.next();
            assertEquals(user, rs.getString(1));
        }
    }

    static String query(PgServer server, String sql) throws SQLException {
        try (Connection c = server.connectSuperuser(TestUsers.DATABASE); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** Polls a query until it returns a row (the table may not be replayed yet). */
    static String awaitValue(PgServer server, String sql, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            try {
                String value = query(server, sql);
                if (value != null) {
                    return value;
                }
            } catch (SQLException e) {
                last = e; // 42P01 until the CREATE TABLE is replayed
            }
            Processes.sleep(20);
        }
        throw new AssertionError(server + ": no row for " + sql + " within " + timeout, last);
    }
}
