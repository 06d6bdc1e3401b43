package dev.pgfleet.proxy;

import static dev.pgfleet.proxy.ClusterProxy.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pgfleet.testkit.PgCluster;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Destructive, on a private cluster (a primary and one streaming replica, both {@code role =
 * "auto"}): the primary stops, the replica is promoted with {@code pg_promote()}, and writes
 * through the proxy follow it within one health-check interval, with no restart. A transaction
 * open on the old primary gets an error, never a silent retry on the new one.
 */
class FailoverThroughProxyTest {

    @Test
    void writesFollowThePromotedReplicaWithinOneInterval() throws Exception {
        try (PgCluster cluster = TestPostgres.newCluster("proxy-failover", 1);
                  ClusterProxy proxy = ClusterProxy.start(cluster.servers(), List.of("auto", "auto"), 60, "", "")) {
            PgServer oldPrimary = cluster.primary();
            PgServer replica = cluster.replicas().get(0);
            try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE failover (id serial PRIMARY KEY, what text, port int)");
                assertEquals(oldPrimary.port(), write(st, "before"), "writes go to the server out of recovery");
            }
            cluster.awaitReplicasCaughtUp(Duration.ofSeconds(30));

            Connection inTransaction = proxy.connect();
            Statement tx = inTransaction.createStatement();
            inTransaction.setAutoCommit(false);
            assertEquals(oldPrimary.port(), write(tx, "in flight"));

            oldPrimary.stop();
            // The open transaction is lost with its server: the client hears it, nothing is replayed.
            SQLException lost = assertThrows(SQLException.class, () -> {
                write(tx, "in flight, second statement");
                inTransaction.commit();
            });
            // pg_ctl stop (fast) ends the backend with the server's own FATAL 57P01, which is what the
            // client must hear (not a second, PgFleet-made 08006 after it).
            assertEquals("57P01", lost.getSQLState(), lost::toString);
            inTransaction.close();
            // No server takes writes now: they fail rather than land on the standby.
            assertThrows(SQLException.class, () -> {
                try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
                    write(st, "no primary");
                }
            });

            replica.promote();
            ClusterProxy.await("a write through the proxy succeeds on the promoted server",
                ClusterProxy.ONE_ROUND.plusSeconds(1), () -> tryWrite(proxy) == replica.port());
            assertEquals(Optional.of(key(replica)), proxy.health.current().shard(TestUsers.DATABASE, 0).orElseThrow().primary());

            try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                assertEquals(replica.port(), write(st, "in a transaction"));
                c.commit();
                c.setAutoCommit(true);
                try (ResultSet rs = st.executeQuery("SELECT count(*) FILTER (WHERE what LIKE 'in flight%'),"
                    + " count(*) FILTER (WHERE what = 'before'), pg_is_in_recovery() FROM failover")) {
                    rs.next();
                    assertEquals(0, rs.getInt(1), "the lost transaction was not retried");
                    assertEquals(1, rs.getInt(2), "what was committed before the failover is there");
                    assertFalse(rs.getBoolean(3));
                }
            }
        }
    }

    /** An INSERT; returns the port of the server that ran it. */
    private static int write(Statement st, String what) throws SQLException {
        try (ResultSet rs = st.executeQuery("INSERT INTO failover (what, port) VALUES ('" + what
            + "', inet_server_port()) RETURNING port")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** A write on a new connection; its server's port, or -1 when it failed. */
    private static int tryWrite(ClusterProxy proxy) {
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            return write(st, "after");
        } catch (SQLException e) {
            return -1;
        }
    }
}
