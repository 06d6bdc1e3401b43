package dev.pgfleet.proxy;

import static dev.pgfleet.proxy.ClusterProxy.key;
import static dev.pgfleet.proxy.ClusterProxy.readPort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.health.ShardHealth;
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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Health-aware routing through the proxy, against the shared primary and its two streaming
 * replicas (left as found: a stopped replica is started again, a paused one resumed), with the
 * health verticle deployed in front as dist does: bans, replica lag, the checkout health check,
 * session mode's choice of server.
 */
class ReplicaHealthTest {

    static final List<String> CONFIGURED = List.of("primary", "replica", "replica");

    PgCluster cluster;
    PgServer primary;
    PgServer r1;
    PgServer r2;

    @BeforeEach
    void reset() {
        TestPostgres.reset();
        cluster = TestPostgres.cluster();
        primary = cluster.primary();
        r1 = cluster.replicas().get(0);
        r2 = cluster.replicas().get(1);
    }

    @Test
    void replicaStoppedMidLoadIsBannedAndServesAgainAfterTheBan() throws Exception {
        int banSeconds = 2;
        try (ClusterProxy proxy = ClusterProxy.start(cluster.servers(), CONFIGURED, banSeconds, "", "");
                  ReadLoad load = new ReadLoad(proxy, 4).start()) {
            ClusterProxy.await("both replicas serve reads", Duration.ofSeconds(10),
                () -> load.reads(r1.port()) > 100 && load.reads(r2.port()) > 100);
            try {
                r2.stop();
                long stopped = System.nanoTime();
                Duration noticed = ClusterProxy.await("r2 banned", ClusterProxy.ONE_ROUND, () -> proxy.bans.isBanned(key(r2)));
                long onR1 = load.reads(r1.port());
                ClusterProxy.await("reads go on, on r1", Duration.ofSeconds(10), () -> load.reads(r1.port()) > onR1 + 200);
                assertEquals(0, load.reads(primary.port()), "r1 is fit: nothing falls back to the primary");

                // Only reads already running on r2 when it stopped may fail: those that started after
                // it was gone went elsewhere (a failed connect to r2 is banned and retried on r1).
                List<ReadLoad.Failure> failures = load.failures();
                for (ReadLoad.Failure f : failures) {
                    assertTrue(f.startedNanos() < stopped, "a read that started after r2 stopped failed: " + f);
                }
                assertTrue(failures.size() <= 4, "at most one read in flight per client: " + failures);
                System.out.println("r2 stopped: banned after " + noticed.toMillis() + " ms, " + failures.size()
                    + " reads in flight failed: " + failures);

                long r2Before = load.reads(r2.port());
                r2.start();
                Duration back = ClusterProxy.await("r2 serves reads again once its ban ends",
                    Duration.ofSeconds(banSeconds).plus(ClusterProxy.ONE_ROUND.multipliedBy(2)).plusSeconds(5),
                    () -> load.reads(r2.port()) > r2Before + 50);
                assertFalse(proxy.bans.isBanned(key(r2)));
                System.out.println("r2 back " + back.toMillis() + " ms after restart; reads " + load.counts());
                assertEquals(failures.size(), load.failures().size(), "no failure after the stop: " + load.failures());
            } finally {
                r2.start();
            }
        }
    }

    @Test
    void replicaWithPausedReplayGetsNoReadsOverTheLagLimitAndAgainAfterResume() throws Exception {
        long maxLagBytes = 256 * 1024;
        try (ClusterProxy proxy = ClusterProxy.start(cluster.servers(), CONFIGURED, 60, "",
                      "max_replica_lag_bytes = " + maxLagBytes);
                  Connection c = proxy.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE proxy_lag (x int, pad text)");
            cluster.awaitReplicasCaughtUp(Duration.ofSeconds(30));
            ClusterProxy.await("reads on both replicas", Duration.ofSeconds(10), () -> spread(st, 20)[0] > 0);
            try {
                ClusterProxy.sql(r1, "SELECT pg_wal_replay_pause()");
                // About 1 MB of WAL, which r1 does not replay: over the limit.
                st.execute("INSERT INTO proxy_lag SELECT g, repeat('x', 100) FROM generate_series(1, 8000) g");
                // (r2 may lag for a moment too: then both are out and reads fall back to the primary.)
                Duration took = ClusterProxy.await("r1 over the limit, r2 under it", Duration.ofSeconds(10), () -> {
                    ShardHealth s = proxy.health.current().shard(TestUsers.DATABASE, 0).orElseThrow();
                    return s.lagging().equals(List.of(key(r1))) && s.readReplicas().equals(List.of(key(r2)));
                });
                ClusterProxy.await("the proxy has the snapshot: no reads on r1", Duration.ofSeconds(5),
                    () -> spread(st, 20)[0] == 0);
                ShardHealth shard = proxy.health.current().shard(TestUsers.DATABASE, 0).orElseThrow();
                assertTrue(shard.health(key(r1)).orElseThrow().lagBytes() > maxLagBytes, shard::toString);
                assertFalse(proxy.bans.isBanned(key(r1)), "lagging is not a ban");
                try (Connection direct = r2.connectSuperuser(TestUsers.DATABASE); Statement d = direct.createStatement()) {
                    ClusterProxy.await("r2 has replayed the rows", Duration.ofSeconds(10), () -> {
                        try (ResultSet rs = d.executeQuery("SELECT count(*) FROM proxy_lag")) {
                            rs.next();
                            return rs.getInt(1) == 8000;
                        } catch (SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    });
                }
                // Every read now goes to r2, which has the rows, never to r1, which has none of them.
                for (int i = 0; i < 100; i++) {
                    try (ResultSet rs = st.executeQuery("SELECT inet_server_port(), count(*) FROM proxy_lag")) {
                        rs.next();
                        assertEquals(r2.port(), rs.getInt(1));
                        assertEquals(8000, rs.getInt(2));
                    }
                }
                System.out.println("paused replica out of reads after " + took.toMillis() + " ms");
            } finally {
                ClusterProxy.sql(r1, "SELECT pg_wal_replay_resume()");
            }
            Duration back = ClusterProxy.await("reads on r1 again after resume", Duration.ofSeconds(10),
                () -> spread(st, 20)[0] > 0);
            System.out.println("resumed replica back in " + back.toMillis() + " ms");
        }
    }

    @Test
    void idleConnectionThatStopsAnsweringFailsItsCheckoutCheckAndItsReplicaIsBanned() throws Exception {
        // healthcheck_delay = 0: every checkout is checked. One loop and one connection per server,
        // so the connection checked is the one whose backend is stopped.
        try (ClusterProxy proxy = ClusterProxy.start(cluster.servers(), CONFIGURED, "transaction", 60,
                      "healthcheck_delay = 0", "", 1, 1);
                  Connection c = proxy.connect(); Statement st = c.createStatement()) {
            long backend = -1;
            for (int i = 0; i < 10 && backend < 0; i++) {
                try (ResultSet rs = st.executeQuery("SELECT inet_server_port(), pg_backend_pid()")) {
                    rs.next();
                    if (rs.getInt(1) == r1.port()) {
                        backend = rs.getLong(2);
                    }
                }
            }
            assertTrue(backend > 0, "no read reached r1");
            signal(backend, "STOP");   // alive, socket open, answers nothing: what a check is for
            try {
                long started = System.nanoTime();
                for (int i = 0; i < 6; i++) {
                    assertEquals(r2.port(), readPort(st), "read " + i);
                }
                long millis = (System.nanoTime() - started) / 1_000_000;
                assertTrue(proxy.bans.isBanned(key(r1)));
                ClusterProxy.await("the ban in the health snapshot", Duration.ofSeconds(5), () -> proxy.health.current()
                    .shard(TestUsers.DATABASE, 0).orElseThrow().banned().contains(key(r1)));
                assertTrue(millis >= ClusterProxy.TIMEOUT.toMillis(), "one read waited for healthcheck_timeout: " + millis);
            } finally {
                signal(backend, "CONT");
            }
        }
    }

    @Test
    void sessionModeBindsTheServerByDefaultRole() throws Exception {
        try (ClusterProxy proxy = ClusterProxy.start(cluster.servers(), CONFIGURED, "session", 60, "",
                      "default_role = \"replica\"", 5, 2)) {
            for (int i = 0; i < 4; i++) {
                try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
                    int port = readPort(st);
                    assertTrue(port == r1.port() || port == r2.port(), "a session on a replica: " + port);
                    assertEquals(port, readPort(st), "the same server for the whole session");
                }
            }
            proxy.bans.ban(key(r1), Duration.ofSeconds(60), "test");
            proxy.bans.ban(key(r2), Duration.ofSeconds(60), "test");
            try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
                assertEquals(primary.port(), readPort(st), "no replica fit: the session goes to the primary");
            }
        }
        try (ClusterProxy proxy = ClusterProxy.start(cluster.servers(), CONFIGURED, "session", 60, "",
                      "default_role = \"any\"", 5, 2);
                  Connection c = proxy.connect(); Statement st = c.createStatement()) {
            assertEquals(primary.port(), readPort(st), "any (PgCat's default): sessions stay on the primary");
            st.execute("CREATE TABLE session_write (x int)");
        }
    }

    /** {@code n} reads; returns how many ran on r1 and on r2. */
    private int[] spread(Statement st, int n) {
        int[] out = new int[2];
        try {
            for (int i = 0; i < n; i++) {
                int port = readPort(st);
                if (port == r1.port()) {
                    out[0]++;
                } else if (port == r2.port()) {
                    out[1]++;
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    private static void signal(long pid, String signal) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertEquals(0, p.waitFor(), "kill -" + signal + " " + pid);
    }
}
