package dev.pgfleet.admin.metrics;

import dev.pgfleet.health.HealthVerticle;
import dev.pgfleet.health.LocalBanRegistry;
import dev.pgfleet.shared.admin.AdminBus;
import dev.pgfleet.shared.admin.AdminReply;
import dev.pgfleet.shared.admin.AdminRequest;
import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A Vert.x with PgFleet's metrics registry, a real health verticle over testkit servers, and the
 * metrics verticle on a free port; the proxy is whatever the test deploys (a stand-in STATS
 * consumer, or the real one).
 */
final class MetricsFixture implements AutoCloseable {

    final PgFleetMetrics metrics = PgFleetMetrics.create();
    final Vertx vertx;
    final LocalBanRegistry bans = new LocalBanRegistry();
    final PgFleetConfig config;
    final int proxyPort;
    final int metricsPort;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /**
     * @param pools pool name to its servers as a TOML list ({@code ["host", port, "role"], ...});
     *              every pool logs in as the SCRAM test user
     */
    MetricsFixture(Map<String, String> pools, String extraGeneral) {
        proxyPort = freePort();
        metricsPort = freePort();
        StringBuilder toml = new StringBuilder("""
                [general]
                host = "127.0.0.1"
                port = %d
                admin_username = "admin"
                admin_password = "admin"
                enable_prometheus_exporter = true
                prometheus_exporter_port = %d
                healthcheck_interval = 250
                healthcheck_timeout = 2000
                healthcheck_max_retries = 2
                healthcheck_retry_delay = 100
                ban_time = 60
                %s
                """.formatted(proxyPort, metricsPort, extraGeneral));
        pools.forEach((name, servers) -> toml.append("""

                [pools.%s]
                pool_mode = "transaction"

                [pools.%s.users.0]
                username = "%s"
                password = "%s"
                pool_size = 5

                [pools.%s.shards.0]
                database = "%s"
                servers = [%s]
                """.formatted(name, name, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD, name, TestUsers.DATABASE,
                servers)));
        config = ConfigLoader.parse(toml.toString(), "metrics-test.toml");
        vertx = metrics.vertx(new VertxOptions().setEventLoopPoolSize(2));
        vertx.deployVerticle(new HealthVerticle(config, bans)).await();
        MetricsVerticle.deploy(vertx, config, metrics).await();
    }

    static String servers(List<PgServer> servers, String role) {
        return servers.stream().map(s -> "[\"" + s.host() + "\", " + s.port() + ", \"" + role + "\"]")
                .collect(Collectors.joining(", "));
    }

    HttpResponse<String> get(String path) {
        return get(path, Duration.ofSeconds(10));
    }

    HttpResponse<String> get(String path, Duration timeout) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + path))
                    .timeout(timeout).GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** GET /metrics, checked 200 and 0.0.4, parsed strictly (and linted by promtool where installed). */
    PrometheusText scrape() {
        HttpResponse<String> r = get("/metrics");
        if (r.statusCode() != 200) {
            throw new AssertionError("/metrics: " + r.statusCode() + " " + r.body());
        }
        String type = r.headers().firstValue("Content-Type").orElse("");
        if (!type.startsWith("text/plain; version=0.0.4")) {
            throw new AssertionError("Content-Type " + type);
        }
        Promtool.check(r.body());
        return PrometheusText.parse(r.body());
    }

    AdminReply health(String command, String... args) {
        JsonObject body = vertx.eventBus().<JsonObject>request(AdminBus.HEALTH, AdminRequest.of(command, args).toJson())
                .await().body();
        return AdminReply.fromJson(body);
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        vertx.close().await();
        metrics.close();
    }
}
