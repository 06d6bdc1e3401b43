package dev.pgfleet.admin.metrics;

import dev.pgfleet.shared.admin.AdminBus;
import dev.pgfleet.shared.admin.AdminReply;
import dev.pgfleet.shared.admin.ProxyStats;
import dev.pgfleet.shared.admin.ProxyStats.PoolStats;
import dev.pgfleet.shared.admin.ProxyStats.ServerPoolStats;
import dev.pgfleet.testkit.PgCluster;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.Context;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * /metrics, /health and /ready against a stand-in of the proxy's STATS (a fixed ProxyStats on
 * PgFleet's own event bus) and the real health verticle over the testkit cluster.
 */
class MetricsEndpointTest {

    private static final String POOL = "app";
    private static final String USER = TestUsers.SCRAM_USER;

    /** A known workload, as the proxy would count it. */
    static ProxyStats stats(PgServer primary, boolean listening, boolean draining) {
        long[] xactBuckets = new long[ProxyStats.DURATION_BUCKETS_MICROS.length + 1];
        xactBuckets[1] = 100;   // <= 250 µs
        xactBuckets[2] = 400;   // <= 500 µs
        xactBuckets[3] = 500;   // <= 1 ms
        long[] queryBuckets = new long[ProxyStats.DURATION_BUCKETS_MICROS.length + 1];
        queryBuckets[0] = 2_999;
        queryBuckets[ProxyStats.DURATION_BUCKETS_MICROS.length] = 1;   // over 10 s
        PoolStats pool = new PoolStats(POOL, USER, "transaction", false, false, 5, 0,
                10, 25, 3, 0, 0,   // cl_active 10 of which 3 idle (PgBouncer's cl_active counts them)
                5, 0, 0, 0, 1, 0, 2, 1_500_000,
                1_234, 1_000, 3_000, 123_456, 654_321,
                2_000_000, 1_500_000, 250_000,
                10, 4, 20,
                6, 1,
                6, 4, 2,
                Map.of("42", 3L, "28", 1L),
                xactBuckets, queryBuckets,
                List.of(new ServerPoolStats(primary.host() + ":" + primary.port(), 0, "primary", 5, 0, 1, 0, 2, 6, 1)));
        return new ProxyStats("test-instance", 1_700_000_000_000L, System.currentTimeMillis(), listening, draining,
                false, 35, 100, List.of(pool), List.of(), List.of(), List.of());
    }

    private static MessageConsumer<JsonObject> standIn(MetricsFixture f, AtomicReference<ProxyStats> stats) {
        MessageConsumer<JsonObject> c = f.vertx.eventBus().localConsumer(AdminBus.PROXY,
                m -> m.reply(AdminReply.ok("", stats.get().toJson()).toJson()));
        c.completion().await();
        return c;
    }

    private static double bucket(PrometheusText p, String family, double le) {
        List<PrometheusText.Sample> found = p.samples(family + "_bucket", "pool", POOL, "user", USER).stream()
                .filter(s -> Double.parseDouble(s.labels().get("le").replace("+Inf", "Infinity")) == le).toList();
        assertEquals(1, found.size(), () -> family + " le=" + le + ": " + found);
        return found.get(0).value();
    }

    @Test
    void scrapeHasTheProxysCountersTheHealthOfEveryServerAndJvmAndVertxMeters() {
        PgCluster cluster = TestPostgres.cluster();
        try (MetricsFixture f = new MetricsFixture(Map.of(POOL, MetricsFixture.servers(cluster.servers(), "auto")), "")) {
            standIn(f, new AtomicReference<>(stats(cluster.primary(), true, false)));
            f.scrape();   // a first scrape, so Vert.x's HTTP server meters exist in the second
            PrometheusText p = f.scrape();
            String[] l = {"pool", POOL, "user", USER};

            assertEquals(1, p.value("pgfleet_proxy_up"));
            assertEquals(1, p.value("pgfleet_health_up"));
            assertEquals(1, p.value("pgfleet_listening"));
            assertEquals(0, p.value("pgfleet_draining"));
            assertEquals(35, p.value("pgfleet_client_connections"));
            assertEquals(1_700_000_000, p.value("pgfleet_start_time_seconds"));
            assertEquals("counter", p.family("pgfleet_transactions_total").type());
            assertEquals(1_000, p.value("pgfleet_transactions_total", l));
            assertEquals(3_000, p.value("pgfleet_queries_total", l));
            assertEquals(1_234, p.value("pgfleet_server_assignments_total", l));
            assertEquals(123_456, p.value("pgfleet_received_bytes_total", l));
            assertEquals(654_321, p.value("pgfleet_sent_bytes_total", l));
            assertEquals(0.25, p.value("pgfleet_client_wait_seconds_total", l));
            assertEquals(7, p.value("pgfleet_pool_clients", "pool", POOL, "state", "active"));
            assertEquals(25, p.value("pgfleet_pool_clients", "pool", POOL, "state", "waiting"));
            assertEquals(3, p.value("pgfleet_pool_clients", "pool", POOL, "state", "idle"));
            assertEquals(5, p.value("pgfleet_pool_servers", "pool", POOL, "state", "active"));
            assertEquals(1, p.value("pgfleet_pool_servers", "pool", POOL, "state", "used"));
            assertEquals(2, p.value("pgfleet_pool_servers", "pool", POOL, "state", "login"));
            assertEquals(1.5, p.value("pgfleet_pool_max_wait_seconds", l));
            assertEquals(5, p.value("pgfleet_pool_size", l));
            assertEquals(3, p.value("pgfleet_client_errors_total", "pool", POOL, "class", "42"));
            assertEquals(1, p.value("pgfleet_client_errors_total", "pool", POOL, "class", "28"));
            assertEquals(6, p.value("pgfleet_prepared_cache_hits_total", l));
            assertEquals(4, p.value("pgfleet_prepared_cache_misses_total", l));
            assertEquals(2, p.value("pgfleet_prepared_cache_evictions_total", l));
            String primary = cluster.primary().host() + ":" + cluster.primary().port();
            assertEquals(6, p.value("pgfleet_server_connects_total", "server", primary));
            assertEquals(1, p.value("pgfleet_server_connect_errors_total", "server", primary));
            assertEquals(5, p.value("pgfleet_server_connections", "server", primary, "state", "active"));

            // Histograms: ProxyStats' per-bucket counts, cumulative in the exposition, seconds.
            assertEquals("histogram", p.family("pgfleet_transaction_duration_seconds").type());
            assertEquals(0, bucket(p, "pgfleet_transaction_duration_seconds", 0.0001));
            assertEquals(100, bucket(p, "pgfleet_transaction_duration_seconds", 0.00025));
            assertEquals(500, bucket(p, "pgfleet_transaction_duration_seconds", 0.0005));
            assertEquals(1_000, bucket(p, "pgfleet_transaction_duration_seconds", 0.001));
            assertEquals(1_000, bucket(p, "pgfleet_transaction_duration_seconds", Double.POSITIVE_INFINITY));
            assertEquals(1_000, p.value("pgfleet_transaction_duration_seconds_count", l));
            assertEquals(2.0, p.value("pgfleet_transaction_duration_seconds_sum", l));
            assertEquals(2_999, bucket(p, "pgfleet_query_duration_seconds", 10));
            assertEquals(3_000, bucket(p, "pgfleet_query_duration_seconds", Double.POSITIVE_INFINITY));
            assertEquals(ProxyStats.DURATION_BUCKETS_MICROS.length + 1,
                    p.samples("pgfleet_query_duration_seconds_bucket", l).size());

            // Health, from the real probes: every server up, roles as detected.
            assertEquals(1, p.value("pgfleet_server_up", "server", primary, "role", "primary"));
            for (PgServer r : cluster.replicas()) {
                String key = r.host() + ":" + r.port();
                assertEquals(1, p.value("pgfleet_server_up", "pool", POOL, "server", key, "role", "replica"));
                assertEquals(0, p.value("pgfleet_server_banned", "server", key));
                assertTrue(p.value("pgfleet_replica_lag_bytes", "server", key) >= 0);
                assertTrue(p.value("pgfleet_health_probes_total", "server", key, "result", "ok") >= 1);
                // A probe may time out on a loaded machine; the series is there all the same.
                assertTrue(p.value("pgfleet_health_probes_total", "server", key, "result", "failed") >= 0);
            }
            double bansBefore = p.value("pgfleet_bans");

            // JVM binders and Vert.x's own metrics; none of Vert.x's per-read TCP meters.
            for (String family : List.of("jvm_memory_used_bytes", "jvm_threads_live_threads", "jvm_classes_loaded_classes",
                    "system_cpu_count", "process_uptime_seconds", "jvm_gc_max_data_size_bytes",
                    "vertx_http_server_requests_total", "vertx_eventbus_handlers")) {
                assertTrue(p.families().containsKey(family), () -> family + " missing: " + p.families().keySet());
            }
            assertFalse(p.families().keySet().stream().anyMatch(n -> n.startsWith("vertx_net_")), () ->
                    p.families().keySet().toString());
            assertTrue(p.samples("vertx_pool_in_use", "pool_type", "sql").isEmpty());
            assertTrue(p.samples("vertx_eventbus_handlers").stream()
                    .noneMatch(s -> String.valueOf(s.labels().get("address")).matches("__vertx\\.reply\\.\\d+")));

            // A ban shows at the next scrape.
            PgServer r2 = cluster.replicas().get(1);
            String r2Key = r2.host() + ":" + r2.port();
            assertEquals(null, f.health("BAN", r2Key, "30").sqlState());
            PrometheusText banned = f.scrape();
            assertTrue(banned.value("pgfleet_bans") >= 1);
            assertEquals(bansBefore + 1, banned.value("pgfleet_bans"));
            assertEquals(1, banned.value("pgfleet_server_banned", "server", r2Key));
            assertEquals(0, banned.value("pgfleet_server_serves_reads", "server", r2Key));
        }
    }

    @Test
    void withoutTheProxyTheScrapeStillAnswersAndSaysSo() {
        PgCluster cluster = TestPostgres.cluster();
        try (MetricsFixture f = new MetricsFixture(Map.of(POOL, MetricsFixture.servers(cluster.servers(), "auto")), "")) {
            PrometheusText p = f.scrape();
            assertEquals(0, p.value("pgfleet_proxy_up"));
            assertEquals(1, p.value("pgfleet_health_up"));
            assertTrue(p.samples("pgfleet_transactions_total").isEmpty());
            HttpResponse<String> ready = f.get("/ready");
            assertEquals(503, ready.statusCode());
            assertTrue(ready.body().contains("the proxy does not answer STATS"), ready.body());
        }
    }

    @Test
    void readyFollowsListeningDrainingAndReachableServers() {
        PgCluster cluster = TestPostgres.cluster();
        try (MetricsFixture f = new MetricsFixture(Map.of(POOL, MetricsFixture.servers(cluster.servers(), "auto")), "")) {
            AtomicReference<ProxyStats> stats = new AtomicReference<>(stats(cluster.primary(), false, false));
            standIn(f, stats);
            HttpResponse<String> r = f.get("/ready");
            assertEquals(503, r.statusCode());
            assertTrue(r.body().contains("not listening"), r.body());
            stats.set(stats(cluster.primary(), true, false));
            r = f.get("/ready");
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("ready\n", r.body());
            stats.set(stats(cluster.primary(), true, true));
            r = f.get("/ready");
            assertEquals(503, r.statusCode());
            assertTrue(r.body().contains("draining"), r.body());
        }
    }

    @Test
    void notReadyWhenAPoolsOnlyServerIsDown() {
        PgCluster cluster = TestPostgres.cluster();
        int closed = MetricsFixture.freePort();
        Map<String, String> pools = new java.util.LinkedHashMap<>();
        pools.put(POOL, MetricsFixture.servers(cluster.servers(), "auto"));
        pools.put("gone", "[\"127.0.0.1\", " + closed + ", \"primary\"]");
        try (MetricsFixture f = new MetricsFixture(pools, "")) {
            standIn(f, new AtomicReference<>(stats(cluster.primary(), true, false)));
            HttpResponse<String> r = f.get("/ready");
            assertEquals(503, r.statusCode());
            assertTrue(r.body().contains("pool gone: no server reachable"), r.body());
            assertFalse(r.body().contains("pool app"), r.body());
            PrometheusText p = f.scrape();
            assertEquals(0, p.value("pgfleet_server_up", "pool", "gone"));
            assertTrue(p.value("pgfleet_health_probes_total", "pool", "gone", "result", "failed") >= 1);
        }
    }

    @Test
    void liveWhileEveryEventLoopRunsTasks() throws Exception {
        PgCluster cluster = TestPostgres.cluster();
        try (MetricsFixture f = new MetricsFixture(Map.of(POOL, MetricsFixture.servers(cluster.servers(), "auto")), "")) {
            HttpResponse<String> r = f.get("/health");
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("alive\n", r.body());
            assertEquals(404, f.get("/nothing").statusCode());

            // Block every event loop but the one the HTTP server reads on (so the request gets in);
            // with two loops, one is stuck and /health must say so.
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch blocked = new CountDownLatch(1);
            Context loop = f.vertx.getOrCreateContext();
            loop.runOnContext(v -> {
                blocked.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            blocked.await();
            try {
                HttpResponse<String> stuck;
                try {
                    stuck = f.get("/health", java.time.Duration.ofSeconds(3));
                } catch (IllegalStateException timedOut) {
                    stuck = null;   // the blocked loop was the server's: no answer is "not alive" too
                }
                if (stuck != null) {
                    assertNotEquals(200, stuck.statusCode(), stuck.body());
                    assertTrue(stuck.body().contains("1 of 2 event loops"), stuck.body());
                }
            } finally {
                release.countDown();
            }
            assertEquals(200, f.get("/health").statusCode());
        }
    }
}
