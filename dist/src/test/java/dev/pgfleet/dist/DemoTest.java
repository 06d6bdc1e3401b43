package dev.pgfleet.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.admin.AdminReply;
import dev.pgfleet.testkit.PgServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The demo, in-process: servers, seed data, the proxy in front, and a clean stop. */
class DemoTest {

    /** Under target/: when tests run as root the servers run as nobody, who cannot enter a 0700 temp dir. */
    private static final Path DIR = Path.of(System.getProperty("pgfleet.build.dir", "target")).resolve("demo-test");
    /** Surefire runs in the module directory: the repository's conf/ is one level up. */
    private static final Path CONFIG = Path.of("..", "conf", "demo.toml");

    @Test
    @Timeout(120)
    void servesSeededRowsThroughTheProxyAndStopsEveryServer() throws Exception {
        int port = freePort();
        Demo demo = new Demo(new Demo.Options(CONFIG, DIR, port));
        List<PgServer> servers;
        try {
            demo.start();
            servers = demo.servers();
            assertEquals(4, servers.size(), "primary, replica, 2 shards: " + servers);

            try (Connection c = connect(port, "demo"); Statement st = c.createStatement()) {
                try (ResultSet rs = st.executeQuery("SELECT id, email FROM users ORDER BY id")) {
                    for (int id = 1; id <= DemoSchema.USERS; id++) {
                        assertTrue(rs.next(), "user " + id);
                        assertEquals(id, rs.getLong(1));
                        assertEquals("user" + id + "@example.com", rs.getString(2));
                    }
                    assertFalse(rs.next());
                }
                try (ResultSet rs = st.executeQuery("SELECT count(*), count(DISTINCT user_id) FROM payments")) {
                    rs.next();
                    assertEquals(DemoSchema.PAYMENTS, rs.getInt(1));
                    assertEquals(DemoSchema.USERS, rs.getInt(2));
                }
            }
            // The shards split the users between them, each user on exactly one shard.
            int onShards = 0;
            for (PgServer shard : servers.subList(2, 4)) {
                try (Connection c = shard.connect(DemoSchema.DATABASE, DemoSchema.USER, DemoSchema.PASSWORD);
                     Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT count(*) FROM users")) {
                    rs.next();
                    onShards += rs.getInt(1);
                }
            }
            assertEquals(DemoSchema.USERS, onShards);
            // A reload reads conf/demo.toml again and points it at the same servers and port: nothing
            // changes (without the demo's rewrite every pool and the port would differ).
            AdminReply reload = Futures.await(demo.node().reload(), Duration.ofSeconds(30), "RELOAD");
            assertEquals("RELOAD: no change", reload.message(), reload.toString());
            // The sharded pool routes by key: user 7 is on the shard PostgreSQL's hash puts it on,
            // SET SHARD reads one shard, and a keyless query is refused rather than answered from one shard.
            try (Connection c = connect(port, "sharded"); Statement st = c.createStatement()) {
                try (ResultSet rs = st.executeQuery("SELECT email, inet_server_port() FROM users WHERE id = 7")) {
                    assertTrue(rs.next());
                    assertEquals("user7@example.com", rs.getString(1));
                    int shardOf7;
                    try (Connection d = servers.get(2).connect(DemoSchema.DATABASE, DemoSchema.USER, DemoSchema.PASSWORD);
                         ResultSet r2 = d.createStatement().executeQuery("SELECT count(*) FROM users WHERE id = 7")) {
                        r2.next();
                        shardOf7 = r2.getInt(1) == 1 ? 2 : 3;
                    }
                    assertEquals(servers.get(shardOf7).port(), rs.getInt(2));
                }
                // Without the key, every shard answers and PgFleet adds up their counts.
                long everyShard = 0;
                for (int s = 2; s <= 3; s++) {
                    try (Connection d = servers.get(s).connect(DemoSchema.DATABASE, DemoSchema.USER, DemoSchema.PASSWORD);
                         ResultSet r2 = d.createStatement().executeQuery("SELECT count(*) FROM users")) {
                        r2.next();
                        everyShard += r2.getLong(1);
                    }
                }
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM users")) {
                    assertTrue(rs.next());
                    assertEquals(everyShard, rs.getLong(1));
                }
                st.execute("SET SHARD TO '1'");
                try (ResultSet rs = st.executeQuery("SELECT count(*), inet_server_port() FROM users")) {
                    assertTrue(rs.next());
                    assertEquals(servers.get(3).port(), rs.getInt(2));
                }
            }
            // The banner says how to open the admin console, and that login works.
            String banner = DemoBanner.text(demo);
            String consoleUrl = DemoBanner.consoleUrl(demo.node(), demo.config());
            assertTrue(banner.contains("psql \"" + consoleUrl + "\""), banner);
            java.util.Properties admin = new java.util.Properties();
            admin.setProperty("user", demo.config().general().adminUsername());
            admin.setProperty("password", demo.config().general().adminPassword());
            try (Connection c = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port
                    + "/pgfleet?sslmode=disable&gssEncMode=disable", admin);
                 ResultSet rs = c.createStatement().executeQuery("SHOW VERSION")) {
                assertTrue(rs.next());
                assertTrue(rs.getString(1).contains("PgFleet"), rs.getString(1));
            }
        } finally {
            demo.stop();
        }

        for (PgServer server : servers) {
            assertFalse(server.isRunning(), server + " still running");
            // PostgreSQL removes postmaster.pid as the last step of a clean shutdown.
            assertFalse(Files.exists(server.dataDir().resolve("postmaster.pid")), server + " left postmaster.pid");
        }
        assertThrows(IOException.class, () -> new Socket("127.0.0.1", port).close(), "proxy port still open");
    }

    private static Connection connect(int port, String database) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", DemoSchema.USER);
        props.setProperty("password", DemoSchema.PASSWORD);
        props.setProperty("connectTimeout", "10");
        Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, props);
        assertNotNull(c);
        return c;
    }

    /** Never 5432 or 6432: a developer's PostgreSQL or pooler may be there. */
    private static int freePort() throws IOException {
        while (true) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
                int port = s.getLocalPort();
                if (port != 5432 && port != 6432) {
                    return port;
                }
            }
        }
    }
}
