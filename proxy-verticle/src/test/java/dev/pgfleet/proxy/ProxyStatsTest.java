package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.admin.AdminBus;
import dev.pgfleet.shared.admin.AdminReply;
import dev.pgfleet.shared.admin.AdminRequest;
import dev.pgfleet.shared.admin.ProxyStats;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** STATS on AdminBus.PROXY after known workloads, against the real server, with pgjdbc. */
class ProxyStatsTest {

    static ProxyStats stats(ProxyFixture proxy) {
        JsonObject body = proxy.vertx.eventBus().<JsonObject>request(AdminBus.PROXY, AdminRequest.of("STATS").toJson())
            .await().body();
        AdminReply reply = AdminReply.fromJson(body);
        assertNull(reply.sqlState(), reply.message());
        return ProxyStats.fromJson(reply.data());
    }

    /** Polls STATS until {@code condition} holds (the proxy acts on its own loops); fails past 10 s. */
    static ProxyStats awaitStats(ProxyFixture proxy, Predicate<ProxyStats> condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        ProxyStats s;
        while (!condition.test(s = stats(proxy))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + "; last STATS: " + s.toJson().encodePrettily());
            }
            Thread.sleep(5);
        }
        return s;
    }

    static ProxyStats.PoolStats scramPool(ProxyStats s) {
        return s.pools().stream().filter(p -> p.user().equals(TestUsers.SCRAM_USER)).findFirst().orElseThrow();
    }

    private static Connection countedConnection(ProxyFixture proxy) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestUsers.SCRAM_USER);
        p.setProperty("password", TestUsers.SCRAM_PASSWORD);
        p.setProperty("socketFactory", CountingSocketFactory.class.getName());
        p.setProperty("prepareThreshold", "1");   // named server-side statements from the first execution
        return DriverManager.getConnection(proxy.jdbcUrl(), p);
    }

    private static long sum(long[] a) {
        long n = 0;
        for (long x : a) {
            n += x;
        }
        return n;
    }

    @Test
    void countersAfterAKnownWorkloadAreExact() throws Exception {
        CountingSocketFactory.reset();
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 10, "")) {
            ProxyStats before = stats(proxy);
            assertEquals(8, before.instanceId().length());
            assertEquals(0, scramPool(before).xacts());
            ExecutorService pool = Executors.newFixedThreadPool(10);
            try {
                List<Future<?>> runs = new ArrayList<>();
                for (int c = 0; c < 10; c++) {
                    int client = c;
                    runs.add(pool.submit(() -> {
                        try (Connection conn = countedConnection(proxy)) {
                            conn.setAutoCommit(false);
                            for (int t = 0; t < 100; t++) {
                                for (int q = 0; q < 3; q++) {
                                    try (PreparedStatement ps = conn.prepareStatement("SELECT ?::int + " + q)) {
                                        ps.setInt(1, client * 1000 + t);
                                        try (ResultSet rs = ps.executeQuery()) {
                                            rs.next();
                                            assertEquals(client * 1000 + t + q, rs.getInt(1));
                                        }
                                    }
                                }
                                conn.commit();
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : runs) {
                    f.get(120, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            // Every client has gone (its Terminate read) before the counters are compared.
            ProxyStats s = awaitStats(proxy, x -> x.clientCount() == 0 && x.clients().isEmpty(), "the clients to leave");
            ProxyStats.PoolStats p = scramPool(s);
            // BEGIN goes with the first query of each transaction (pgjdbc), then one Sync per query and COMMIT.
            assertEquals(1000, p.xacts());
            assertEquals(1000, p.serverAssignments(), "one checkout per transaction in transaction mode");
            long syncs = CountingSocketFactory.sent('S') + CountingSocketFactory.sent('Q');
            assertEquals(4000, syncs, "pgjdbc's requests: BEGIN+SELECT, SELECT, SELECT, COMMIT");
            assertEquals(syncs, p.queries());
            assertEquals(CountingSocketFactory.sent('B'), p.binds());
            assertEquals(5000, p.binds(), "BEGIN, three SELECTs and COMMIT are each bound");
            assertEquals(CountingSocketFactory.sent('P'), p.clientParses());
            assertEquals(CountingSocketFactory.WRITTEN.get(), p.bytesReceived(), "bytes the clients wrote");
            assertEquals(CountingSocketFactory.READ.get(), p.bytesSent(), "bytes the clients read");
            assertEquals(p.xacts(), sum(p.xactDurationBuckets()));
            assertEquals(p.queries(), sum(p.queryDurationBuckets()));
            assertTrue(p.xactMicros() > 0 && p.queryMicros() > 0 && p.queryMicros() <= p.xactMicros() * 2,
                p.xactMicros() + " / " + p.queryMicros());
            // The three SELECT texts are pool statements: each client Parse of one either found it on
            // the server connection or had it prepared there.
            // (pgjdbc names its BEGIN and COMMIT too once used prepareThreshold times.)
            assertEquals(3, s.statements().stream()
                .filter(st -> st.user().equals(TestUsers.SCRAM_USER) && st.query().startsWith("SELECT $1::int + ")).count());
            assertTrue(s.statements().stream().allMatch(st -> st.servers() >= 1), "each is prepared on a connection");
            assertTrue(p.preparedHits() + p.preparedMisses() >= 30, p.preparedHits() + " hits, " + p.preparedMisses() + " misses");
            assertTrue(p.serverParses() >= p.preparedMisses());
            assertTrue(p.serverConnects() >= 1 && p.serverConnects() <= 10, "connects " + p.serverConnects());
            assertEquals(0, p.serverConnectErrors());
            assertTrue(p.clientErrorsByClass().isEmpty(), p.clientErrorsByClass().toString());
            assertEquals(0, p.clWaiting());
            assertEquals(0, p.svActive());
            assertEquals(p.serverConnects(), p.svIdle() + p.svUsed(), "every connection opened is idle in the pool");
            assertEquals(p.svIdle() + p.svUsed(), s.servers().size());

            // An error of the server's, by class.
            try (Connection conn = proxy.connectScram()) {
                SQLException e = assertThrows(SQLException.class, () -> conn.createStatement().execute("SELECT * FROM no_such_table"));
                assertEquals("42P01", e.getSQLState());
            }
            ProxyStats.PoolStats after = scramPool(stats(proxy));
            assertEquals(1L, after.clientErrorsByClass().get("42"));
        }
    }

    @Test
    void sessionModeCountsTransactionsOnOneAssignment() throws Exception {
        CountingSocketFactory.reset();
        try (ProxyFixture proxy = ProxyFixture.start("session", 2, "")) {
            try (Connection conn = countedConnection(proxy)) {
                conn.setAutoCommit(false);
                for (int t = 0; t < 10; t++) {
                    try (PreparedStatement ps = conn.prepareStatement("SELECT ?::int")) {
                        ps.setInt(1, t);
                        ps.executeQuery().close();
                    }
                    conn.commit();
                }
                ProxyStats.PoolStats p = scramPool(stats(proxy));
                assertEquals(1, p.clActive());
                assertEquals(1, p.svActive(), "session mode: linked for the whole session");
            }
            ProxyStats s = awaitStats(proxy, x -> x.clientCount() == 0 && x.clients().isEmpty(), "the client to leave");
            ProxyStats.PoolStats p = scramPool(s);
            assertEquals(10, p.xacts());
            assertEquals(1, p.serverAssignments());
            assertEquals(CountingSocketFactory.sent('S') + CountingSocketFactory.sent('Q'), p.queries());
            assertEquals(CountingSocketFactory.sent('P'), p.clientParses());
            assertEquals(CountingSocketFactory.sent('B'), p.binds());
            assertEquals(CountingSocketFactory.WRITTEN.get(), p.bytesReceived());
            assertEquals(CountingSocketFactory.READ.get(), p.bytesSent());
        }
    }

    @Test
    void thirtyClientsOnAPoolOfFive() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 5, "")) {
            List<Connection> holders = new ArrayList<>();
            ExecutorService pool = Executors.newFixedThreadPool(25);
            List<Connection> waiters = new ArrayList<>();
            try {
                for (int i = 0; i < 5; i++) {
                    Connection c = proxy.connectScram();
                    c.setAutoCommit(false);
                    c.createStatement().execute("SELECT 1");   // holds a server connection: a transaction is open
                    holders.add(c);
                }
                List<Future<Integer>> waiting = new ArrayList<>();
                for (int i = 0; i < 25; i++) {
                    Connection c = proxy.connectScram();
                    waiters.add(c);
                    waiting.add(pool.submit(() -> {
                        try (ResultSet rs = c.createStatement().executeQuery("SELECT 2")) {
                            rs.next();
                            return rs.getInt(1);
                        }
                    }));
                }
                ProxyStats s = awaitStats(proxy, x -> scramPool(x).clWaiting() == 25, "25 waiting clients");
                ProxyStats.PoolStats p = scramPool(s);
                assertEquals(25, p.clWaiting());
                assertEquals(5, p.clActive());
                assertEquals(0, p.clIdle());
                assertEquals(5, p.svActive());
                assertEquals(0, p.svIdle());
                assertEquals(5, p.poolSize());
                assertTrue(p.maxWaitMicros() > 0, "maxwait " + p.maxWaitMicros());
                List<ProxyStats.ConnectionStats> mine = s.clients().stream()
                    .filter(c -> c.user().equals(TestUsers.SCRAM_USER)).toList();
                assertEquals(30, mine.size());
                assertEquals(25, mine.stream().filter(c -> c.state().equals("waiting")).count());
                assertEquals(5, mine.stream().filter(c -> c.state().equals("active")).count());
                // Linked both ways, and the server rows carry the backends' real pids.
                Set<Long> serverIds = new HashSet<>();
                Set<Integer> pids = new HashSet<>();
                for (ProxyStats.ConnectionStats sv : s.servers()) {
                    assertEquals("active", sv.state());
                    assertEquals(TestUsers.DATABASE, sv.database());
                    serverIds.add(sv.id());
                    pids.add(sv.remotePid());
                }
                assertEquals(5, serverIds.size());
                for (ProxyStats.ConnectionStats c : mine) {
                    if (c.state().equals("active")) {
                        assertTrue(serverIds.contains(c.link()), "client " + c.id() + " links to " + c.link());
                    }
                }
                Set<Integer> backends = new HashSet<>();
                try (Connection d = proxy.direct(); ResultSet rs = d.createStatement().executeQuery(
                    "SELECT pid FROM pg_stat_activity WHERE usename = '" + TestUsers.SCRAM_USER + "'")) {
                    while (rs.next()) {
                        backends.add(rs.getInt(1));
                    }
                }
                assertEquals(backends, pids);

                for (Connection c : holders) {
                    c.commit();
                }
                for (Future<Integer> f : waiting) {
                    assertEquals(2, f.get(30, TimeUnit.SECONDS));
                }
                ProxyStats.PoolStats done = scramPool(awaitStats(proxy, x -> scramPool(x).svActive() == 0, "servers released"));
                assertEquals(30, done.xacts());
                assertEquals(0, done.clWaiting());
                assertEquals(30, done.clActive());
                assertEquals(30, done.clIdle());
                assertTrue(done.waitMicros() > 0, "wait time " + done.waitMicros());
            } finally {
                pool.shutdownNow();
                for (Connection c : holders) {
                    c.close();
                }
                for (Connection c : waiters) {
                    c.close();
                }
            }
        }
    }
}
