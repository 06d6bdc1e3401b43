package dev.pgfleet.health;

import dev.pgfleet.shared.health.HealthSnapshot;
import dev.pgfleet.shared.health.ServerKey;
import dev.pgfleet.testkit.PgCluster;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.eventbus.MessageConsumer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.pgfleet.health.HealthFixture.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * healthcheck_max_retries and the lateness rule: a replica is banned only for failures that are
 * the server's, seen on every attempt. A probe is made to stall by stopping (SIGSTOP) the replica's
 * backend that serves the probe's kept connection, between two rounds, so that the next round's
 * query on that connection gets no answer.
 */
class ProbeRetriesTest {

    @Test
    void aReplicaThatFailsOnceThenAnswersIsNotBanned() throws Exception {
        PgCluster cluster = TestPostgres.cluster();
        PgServer r1 = cluster.replicas().get(0);
        try (HealthFixture f = new HealthFixture(HealthFixture.config(cluster.servers(), "auto", 60, "app"))) {
            int pid = probeBackend(r1);
            HealthSnapshot stalled = stopBetweenRounds(f, pid, null);
            try {
                // The round after the stop: r1's attempt times out, the retry logs in afresh.
                f.await("the round with the retry", HealthFixture.ONE_ROUND.multipliedBy(2),
                        s -> s.version() > stalled.version());
                assertTrue(probeBackendOtherThan(r1, pid), "the retry opened a new connection");
                assertEquals(Map.of(), f.bans.bans(), "banned on one failed attempt");
                assertEquals(List.of(key(r1), key(cluster.replicas().get(1))), f.shard("app").readReplicas());
            } finally {
                signal(pid, "CONT");
            }
        }
    }

    @Test
    void aReplicaThatKeepsFailingIsBannedAfterTheRetries() throws Exception {
        PgCluster cluster = TestPostgres.cluster();
        PgServer primary = cluster.primary();
        AtomicInteger attempts = new AtomicInteger();
        try (ServerSocket refusing = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                while (!refusing.isClosed()) {
                    try (Socket s = refusing.accept()) {
                        attempts.incrementAndGet();   // and closed at once: every login fails
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "refusing-server");
            acceptor.setDaemon(true);
            acceptor.start();
            String servers = "[\"" + primary.host() + "\", " + primary.port() + ", \"primary\"], [\"127.0.0.1\", "
                    + refusing.getLocalPort() + ", \"replica\"]";
            ServerKey broken = new ServerKey("127.0.0.1", refusing.getLocalPort());
            try (HealthFixture f = new HealthFixture(HealthFixture.config("", servers, 60, "app"))) {
                // start() returns after the first round, which ends with the ban.
                f.await("banned", HealthFixture.ONE_ROUND, s -> f.bans.isBanned(broken));
                assertTrue(attempts.get() >= 1 + HealthFixture.RETRIES,
                        "banned after " + attempts.get() + " attempts, not 1 + " + HealthFixture.RETRIES);
                assertEquals(List.of(broken), f.shard("app").banned());
            }
        }
    }

    /**
     * The loop is blocked (deliberately, longer than healthcheck_timeout) while a probe waits for
     * its answer: when the loop runs again the timeout timer is long overdue, and that failure is
     * PgFleet's. No retries here, so only the lateness rule can keep the replica unbanned.
     */
    @Test
    void aProbeTimedOutWhileTheLoopWasBlockedBansNothing() throws Exception {
        PgCluster cluster = TestPostgres.cluster();
        PgServer r1 = cluster.replicas().get(0);
        try (HealthFixture f = new HealthFixture(HealthFixture.config("healthcheck_max_retries = 0",
                serverList(cluster.servers()), 60, "app"))) {
            int pid = probeBackend(r1);
            // After the stop, within the handler (on the loop, between rounds): the next round
            // starts within an interval and sends its query; the loop is blocked after that and
            // before the query's timeout is due, for three timeouts.
            long blockAfter = HealthFixture.INTERVAL.toMillis() + 300;
            HealthSnapshot stalled = stopBetweenRounds(f, pid, () -> f.vertx.setTimer(blockAfter,
                    t -> HealthFixture.sleep(HealthFixture.TIMEOUT.toMillis() * 3)));
            try {
                f.await("the round that timed out late", HealthFixture.ONE_ROUND.multipliedBy(4),
                        s -> s.version() > stalled.version());
                assertEquals(Map.of(), f.bans.bans(), "banned for PgFleet's own delay");
                assertEquals(List.of(), f.shard("app").banned());
            } finally {
                signal(pid, "CONT");
            }
        }
    }

    private static String serverList(List<PgServer> servers) {
        StringBuilder list = new StringBuilder();
        for (PgServer s : servers) {
            list.append(list.isEmpty() ? "" : ", ").append("[\"").append(s.host()).append("\", ").append(s.port())
                    .append(", \"auto\"]");
        }
        return list.toString();
    }

    /**
     * On the loop, right after a snapshot is published (a round just ended, the next not begun):
     * stops the backend, then runs {@code then}. Returns that snapshot.
     */
    private static HealthSnapshot stopBetweenRounds(HealthFixture f, int pid, Runnable then) throws Exception {
        CompletableFuture<HealthSnapshot> stopped = new CompletableFuture<>();
        MessageConsumer<HealthSnapshot> consumer = f.vertx.eventBus().consumer(HealthVerticle.SNAPSHOT_ADDRESS);
        consumer.handler(m -> {
            if (stopped.isDone()) {
                return;
            }
            try {
                signal(pid, "STOP");
                if (then != null) {
                    then.run();
                }
                stopped.complete(m.body());
            } catch (Exception e) {
                stopped.completeExceptionally(e);
            }
        });
        try {
            return stopped.get(30, TimeUnit.SECONDS);
        } finally {
            consumer.unregister();
        }
    }

    /** The backend of the health probe's connection to {@code server} (application_name pgfleet-health). */
    static int probeBackend(PgServer server) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            List<Integer> pids = probeBackends(server);
            if (pids.size() == 1) {
                return pids.get(0);
            }
            assertTrue(System.nanoTime() < deadline, "probe backends on " + server + ": " + pids);
            HealthFixture.sleep(20);
        }
    }

    private static boolean probeBackendOtherThan(PgServer server, int pid) throws SQLException {
        return probeBackends(server).stream().anyMatch(p -> p != pid);
    }

    private static List<Integer> probeBackends(PgServer server) throws SQLException {
        try (Connection c = server.connectSuperuser(TestUsers.DATABASE); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pid FROM pg_stat_activity WHERE application_name = 'pgfleet-health'")) {
            List<Integer> pids = new java.util.ArrayList<>();
            while (rs.next()) {
                pids.add(rs.getInt(1));
            }
            return pids;
        }
    }

    static void signal(int pid, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Integer.toString(pid)).inheritIO().start();
        assertEquals(0, kill.waitFor(), "kill -" + signal + " " + pid);
    }

}
