package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.PgCluster;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Read/write splitting in transaction mode against a real primary and two streaming
 * replicas, with the health verticle in front as dist deploys it: reads to replicas (round
 * robin), writes and transactions that may write to the primary, SET SERVER ROLE and comment
 * hints.
 */
class ReadWriteSplitTest {

    PgCluster cluster;
    ClusterProxy proxy;

    /** A proxy per test, after the reset: recreating the database fails the health probes that run meanwhile. */
    @BeforeEach
    void start() {
        TestPostgres.reset();
        cluster = TestPostgres.cluster();
        proxy = ClusterProxy.start(cluster.servers(), List.of("primary", "replica", "replica"), 60, "", "");
    }

    @AfterEach
    void stop() {
        proxy.close();
    }

    private Connection connect() throws SQLException {
        return proxy.connect();
    }

    @Test
    void readsGoToReplicasWritesToThePrimary() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                assertTrue(rs.getBoolean(1), "a read should run on a replica");
            }
            st.execute("CREATE TABLE split (id serial primary key, v text)");
            try (ResultSet rs = st.executeQuery("INSERT INTO split (v) VALUES ('x') RETURNING id, pg_is_in_recovery()")) {
                rs.next();
                assertEquals(1, rs.getInt(1));
                assertFalse(rs.getBoolean(2));
            }
            // A transaction that starts with a read and then writes runs entirely on the primary.
            c.setAutoCommit(false);
            try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery(), count(*) FROM split")) {
                rs.next();
                assertFalse(rs.getBoolean(1));
            }
            st.execute("INSERT INTO split (v) VALUES ('y')");
            c.commit();
            c.setAutoCommit(true);
        }
    }

    @Test
    void roundRobinSpreadsTenThousandReadsEvenly() throws Exception {
        int reads = 10_000;
        Map<Integer, Integer> byPort = new HashMap<>();
        long started = System.nanoTime();
        try (Connection c = connect(); Statement st = c.createStatement()) {
            for (int i = 0; i < reads; i++) {
                byPort.merge(ClusterProxy.readPort(st), 1, Integer::sum);
            }
        }
        System.out.println(reads + " reads in " + (System.nanoTime() - started) / 1_000_000 + " ms: " + byPort);
        assertEquals(2, byPort.size(), byPort.toString());
        // Round robin over two fit replicas: half each, within 10% of that.
        for (PgServer r : cluster.replicas()) {
            int n = byPort.getOrDefault(r.port(), 0);
            assertTrue(n >= reads / 2 * 0.9 && n <= reads / 2 * 1.1, "replica " + r.port() + " got " + n + ": " + byPort);
        }
    }

    @Test
    void setServerRoleAndCommentHintsOverride() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("/* pgfleet_role: primary */ SELECT pg_is_in_recovery()")) {
                rs.next();
                assertFalse(rs.getBoolean(1));
            }
            st.execute("SET SERVER ROLE TO 'primary'");
            try (ResultSet rs = st.executeQuery("SHOW SERVER ROLE")) {
                rs.next();
                assertEquals("primary", rs.getString(1));
            }
            try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                assertFalse(rs.getBoolean(1));
            }
            st.execute("SET SERVER ROLE TO 'auto'");
            try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                assertTrue(rs.getBoolean(1));
            }
        }
    }
}
