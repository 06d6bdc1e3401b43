package dev.pgfleet.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** ProxyNode with enable_prometheus_exporter: the endpoint comes and goes with the node. */
class ProxyNodeMetricsTest {

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void exporterServesMetricsHealthAndReadyWhileTheNodeRuns() throws Exception {
        PgServer primary = TestPostgres.cluster().primary();
        int port = freePort();
        int metricsPort = freePort();
        String toml = """
            [general]
            host = "127.0.0.1"
            port = %d
            admin_username = "admin"
            admin_password = "admin"
            enable_prometheus_exporter = true
            prometheus_exporter_port = %d
            shutdown_timeout = 1000

            [pools.%s.users.0]
            username = "%s"
            password = "%s"
            pool_size = 2

            [pools.%s.shards.0]
            database = "%s"
            servers = [["%s", %d, "primary"]]
            """.formatted(port, metricsPort, TestUsers.DATABASE, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD,
            TestUsers.DATABASE, TestUsers.DATABASE, primary.host(), primary.port());
        ProxyNode node = ProxyNode.start(ConfigLoader.parse(toml, "metrics-node.toml"));
        try {
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/"
                    + TestUsers.DATABASE + "?sslmode=disable&gssEncMode=disable", TestUsers.SCRAM_USER,
                    TestUsers.SCRAM_PASSWORD); Statement st = c.createStatement()) {
                st.execute("SELECT 1");
            }
            HttpResponse<String> metrics = get(metricsPort, "/metrics");
            assertEquals(200, metrics.statusCode());
            String body = metrics.body();
            assertTrue(body.contains("\npgfleet_proxy_up 1.0\n"), body);
            assertTrue(body.contains("\npgfleet_health_up 1.0\n"), body);
            assertTrue(body.contains("\njvm_memory_used_bytes{"), body);
            assertTrue(body.contains("\nvertx_eventbus_handlers "), body);
            assertFalse(body.contains("vertx_net_"), "Vert.x's per-read TCP meters are off");
            assertTrue(body.contains("pgfleet_transactions_total{pool=\"" + TestUsers.DATABASE + "\""), body);
            assertEquals(200, get(metricsPort, "/health").statusCode());
            HttpResponse<String> ready = get(metricsPort, "/ready");
            assertEquals(200, ready.statusCode(), ready.body());
        } finally {
            node.stop();
        }
        assertThrows(IOException.class, () -> get(metricsPort, "/health"), "the endpoint closes with the node");
    }
}
