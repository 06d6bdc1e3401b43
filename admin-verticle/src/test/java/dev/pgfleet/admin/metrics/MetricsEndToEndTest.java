package dev.pgfleet.admin.metrics;

import dev.pgfleet.proxy.ProxyRuntime;
import dev.pgfleet.testkit.PgCluster;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The real proxy in front of the testkit primary, real pgjdbc clients, and /metrics parsed after
 * a known workload: 1,000 transactions of 3 queries by 10 clients, then 30 clients on a pool of 5
 * with 25 waiting; /ready through a drain.
 */
class MetricsEndToEndTest {

    private static final String POOL = "app";
    private static final String USER = TestUsers.SCRAM_USER;
    private static final String[] L = {"pool", POOL, "user", USER};

    private static Connection connect(MetricsFixture f) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", USER);
        p.setProperty("password", TestUsers.SCRAM_PASSWORD);
        p.setProperty("sslmode", "disable");
        p.setProperty("gssEncMode", "disable");
        p.setProperty("connectTimeout", "20");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + f.proxyPort + "/" + POOL, p);
    }

    /** How much a counter of the pool grew between two scrapes (absent before: from 0). */
    private static double delta(PrometheusText before, PrometheusText after, String name, String... more) {
        String[] labels = java.util.stream.Stream.concat(java.util.Arrays.stream(L), java.util.Arrays.stream(more))
                .toArray(String[]::new);
        double b = before.samples(name, labels).isEmpty() ? 0 : before.value(name, labels);
        double a = after.samples(name, labels).isEmpty() ? 0 : after.value(name, labels);
        return a - b;
    }

    /** Scrapes until {@code condition} holds (the proxy's state is only visible through scrapes). */
    private static PrometheusText awaitScrape(MetricsFixture f, String what, Predicate<PrometheusText> condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            PrometheusText p = f.scrape();
            if (condition.test(p)) {
                return p;
            }
            if (System.nanoTime() > deadline) {
                fail("not within 20 s: " + what);
            }
        }
    }

    @Test
    void countersAfterAKnownWorkloadAndReadinessThroughADrain() throws Exception {
        PgCluster cluster = TestPostgres.cluster();
        String primaryOnly = MetricsFixture.servers(List.of(cluster.primary()), "primary");
        ExecutorService pool = Executors.newFixedThreadPool(30);
        try (MetricsFixture f = new MetricsFixture(Map.of(POOL, primaryOnly), "")) {
            ProxyRuntime runtime = new ProxyRuntime(f.config, f.bans);
            runtime.deploy(f.vertx, 2).await();
            assertEquals(200, f.get("/ready").statusCode(), () -> f.get("/ready").body());

            List<Connection> clients = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                clients.add(connect(f));
            }
            PrometheusText before = f.scrape();
            List<Future<?>> work = new ArrayList<>();
            for (Connection c : clients) {
                work.add(pool.submit(() -> {
                    c.setAutoCommit(false);
                    for (int t = 0; t < 100; t++) {
                        for (int q = 0; q < 3; q++) {
                            try (PreparedStatement ps = c.prepareStatement("SELECT ?::int + " + q)) {
                                ps.setInt(1, t);
                                try (ResultSet rs = ps.executeQuery()) {
                                    rs.next();
                                }
                            }
                        }
                        c.commit();
                    }
                    return null;
                }));
            }
            for (Future<?> w : work) {
                w.get(60, TimeUnit.SECONDS);
            }
            PrometheusText after = f.scrape();
            // Queries as PgBouncer counts them, one per request a ReadyForQuery answers: pgjdbc sends
            // BEGIN with the first SELECT, then a Sync per SELECT and one for COMMIT: 4 a transaction.
            assertEquals(1_000, delta(before, after, "pgfleet_transactions_total"));
            assertEquals(4_000, delta(before, after, "pgfleet_queries_total"));
            assertEquals(5_000, delta(before, after, "pgfleet_binds_total"), "BEGIN, 3 SELECTs, COMMIT");
            assertEquals(1_000, delta(before, after, "pgfleet_server_assignments_total"));
            assertEquals(1_000, delta(before, after, "pgfleet_transaction_duration_seconds_count"));
            assertEquals(4_000, delta(before, after, "pgfleet_query_duration_seconds_count"));
            assertTrue(delta(before, after, "pgfleet_transaction_duration_seconds_sum") > 0);
            assertTrue(delta(before, after, "pgfleet_received_bytes_total") >= 1_000 * 4 * 5, "a Sync alone is 5 bytes");
            assertTrue(delta(before, after, "pgfleet_sent_bytes_total") >= 1_000 * 4 * 6, "a ReadyForQuery is 6 bytes");
            assertEquals(0, delta(before, after, "pgfleet_client_errors_total", "class", "42"));
            // Ten clients logged in between transactions: idle, none linked, none waiting.
            assertEquals(10, after.value("pgfleet_pool_clients", "pool", POOL, "state", "idle"));
            assertEquals(0, after.value("pgfleet_pool_clients", "pool", POOL, "state", "active"));
            assertEquals(0, after.value("pgfleet_pool_clients", "pool", POOL, "state", "waiting"));
            assertTrue(after.value("pgfleet_server_connects_total", "pool", POOL) >= 1);
            for (Connection c : clients) {
                c.close();
            }
            // What a scrape costs end to end (STATS over every loop, HEALTH, BANS, rendering, HTTP),
            // for the record: printed, not asserted (the machine is shared).
            long[] micros = new long[50];
            for (int i = 0; i < micros.length; i++) {
                long t0 = System.nanoTime();
                HttpResponse<String> r = f.get("/metrics");
                micros[i] = (System.nanoTime() - t0) / 1_000;
                assertEquals(200, r.statusCode());
            }
            java.util.Arrays.sort(micros);
            System.out.println("scrape of /metrics: median " + micros[25] + " us, max " + micros[49] + " us, "
                    + f.get("/metrics").body().length() + " bytes");

            // 30 clients on a pool of 5: 5 hold a transaction open, 25 wait for a server connection.
            List<Connection> holders = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                Connection c = connect(f);
                c.setAutoCommit(false);
                try (Statement st = c.createStatement()) {
                    st.execute("SELECT 1");
                }
                holders.add(c);
            }
            List<Connection> waiters = new ArrayList<>();
            List<Future<?>> waiting = new ArrayList<>();
            for (int i = 0; i < 25; i++) {
                Connection c = connect(f);
                waiters.add(c);
                waiting.add(pool.submit(() -> {
                    try (Statement st = c.createStatement()) {
                        st.execute("SELECT 1");
                    }
                    return null;
                }));
            }
            PrometheusText saturated = awaitScrape(f, "25 clients waiting",
                    p -> p.value("pgfleet_pool_clients", "pool", POOL, "state", "waiting") == 25);
            assertEquals(5, saturated.value("pgfleet_pool_clients", "pool", POOL, "state", "active"));
            assertEquals(5, saturated.value("pgfleet_pool_servers", "pool", POOL, "state", "active"));
            assertEquals(0, saturated.value("pgfleet_pool_servers", "pool", POOL, "state", "idle"));
            assertTrue(saturated.value("pgfleet_pool_max_wait_seconds", L) > 0);
            assertEquals(30, saturated.value("pgfleet_client_connections"));
            for (Connection c : holders) {
                c.commit();
            }
            for (Future<?> w : waiting) {
                w.get(60, TimeUnit.SECONDS);
            }
            for (Connection c : waiters) {
                c.close();
            }
            assertEquals(0, f.scrape().value("pgfleet_pool_clients", "pool", POOL, "state", "waiting"));

            // A drain: not ready while it lasts (a client keeps a transaction open meanwhile).
            Connection last = holders.get(0);
            try (Statement st = last.createStatement()) {
                st.execute("SELECT 1");
            }
            for (Connection c : holders.subList(1, holders.size())) {
                c.close();
            }
            io.vertx.core.Future<Void> drained = runtime.shutdown(f.vertx, Duration.ofSeconds(30));
            HttpResponse<String> r = f.get("/ready");
            assertEquals(503, r.statusCode(), r.body());
            assertTrue(r.body().contains("draining"), r.body());
            assertEquals(1, f.scrape().value("pgfleet_draining"));
            assertEquals(200, f.get("/health").statusCode());
            last.commit();
            drained.await();
            last.close();
        } finally {
            pool.shutdownNow();
        }
    }
}
