package dev.pgfleet.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.admin.AdminReply;
import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole path of a reload in one process: a file laid out as Kubernetes mounts a ConfigMap
 * ({@code pgfleet.toml -> ..data/pgfleet.toml}, {@code ..data -> ..<n>}) is updated by swapping the
 * {@code ..data} link; the configuration owner sees it within its scan period, the router publishes
 * a table, and the proxy's pool takes the new size (seen in PostgreSQL's pg_stat_activity). A
 * broken file written the same way is refused and the running pool keeps serving.
 */
class ReloadEndToEndTest {

    private static final String APP = "reload_e2e";

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String toml(int port, int poolSize, PgServer primary) {
        return toml(port, poolSize, primary, "admin");
    }

    private static String toml(int port, int poolSize, PgServer primary, String adminPassword) {
        return """
            [general]
            host = "127.0.0.1"
            port = %d
            admin_username = "admin"
            admin_password = "%s"
            autoreload = 200
            query_wait_timeout = 20000
            shutdown_timeout = 1000

            [pools.%s]
            pool_mode = "transaction"

            [pools.%s.users.0]
            username = "%s"
            password = "%s"
            pool_size = %d

            [pools.%s.shards.0]
            database = "%s"
            servers = [["%s", %d, "primary"]]
            """.formatted(port, adminPassword, TestUsers.DATABASE, TestUsers.DATABASE, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD,
            poolSize, TestUsers.DATABASE, TestUsers.DATABASE, primary.host(), primary.port());
    }

    /** The kubelet's atomic update: a new ..<n> directory, a new ..data link renamed over the old. */
    private static final class ConfigMap {
        private final Path dir;
        private int generation;

        ConfigMap(Path dir) throws IOException {
            this.dir = dir;
        }

        Path file() {
            return dir.resolve("pgfleet.toml");
        }

        void write(String content) throws IOException {
            Path data = dir.resolve("..gen" + (++generation));
            Files.createDirectory(data);
            Files.writeString(data.resolve("pgfleet.toml"), content);
            Path tmp = dir.resolve("..data_tmp");
            Files.createSymbolicLink(tmp, data.getFileName());
            Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            if (!Files.exists(file(), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(file(), Path.of("..data", "pgfleet.toml"));
            }
        }
    }

    private static Connection client(int port) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + TestUsers.DATABASE
            + "?sslmode=disable&gssEncMode=disable&ApplicationName=" + APP, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD);
    }

    /** PgFleet's server connections for the kit's SCRAM user, as PostgreSQL counts them. */
    private static int serverConnections(PgServer primary) throws SQLException {
        try (Connection c = DriverManager.getConnection(primary.jdbcUrl(TestUsers.DATABASE), TestUsers.SUPERUSER,
            TestUsers.SUPERUSER_PASSWORD); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = '"
                 + TestUsers.SCRAM_USER + "' AND backend_type = 'client backend'"
                 + " AND application_name <> 'pgfleet-health' AND pid <> pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Opens {@code n} clients, each in a transaction that has run a query: each holds a server connection. */
    private static List<Connection> holding(int port, int n) throws SQLException {
        List<Connection> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Connection c = client(port);
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("SELECT 1");
            }
            out.add(c);
        }
        return out;
    }

    private static void closeAll(List<Connection> cs) throws SQLException {
        for (Connection c : cs) {
            c.rollback();
            c.close();
        }
    }

    @Test
    @Timeout(120)
    void aSwappedConfigMapResizesThePoolAndABrokenOneIsRefusedWhileClientsKeepWorking(@TempDir Path dir)
        throws Exception {
        PgServer primary = TestPostgres.cluster().primary();
        int port = freePort();
        ConfigMap map = new ConfigMap(dir);
        map.write(toml(port, 1, primary));
        ProxyNode node = ProxyNode.start(ConfigLoader.parse(Files.readString(map.file()), map.file().toString()),
            map.file(), UnaryOperator.identity());
        try {
            List<Connection> one = holding(port, 1);
            assertEquals(1, serverConnections(primary));
            closeAll(one);

            map.write(toml(port, 3, primary));
            // Three transactions at once need three server connections: with pool_size 1 the
            // second would wait. Each attempt waits at most for the scan period and the apply.
            long deadline = System.nanoTime() + 10_000_000_000L;
            List<Connection> three = null;
            while (three == null) {
                List<Connection> tried = new ArrayList<>();
                try {
                    Connection c = client(port);
                    tried.add(c);
                    c.setAutoCommit(false);
                    try (Statement st = c.createStatement()) {
                        st.execute("SELECT 1");
                    }
                    Connection d = client(port);
                    tried.add(d);
                    d.setAutoCommit(false);
                    try (Statement st = d.createStatement()) {
                        st.setQueryTimeout(1);   // waits for a slot while the pool is still 1
                        st.execute("SELECT 1");
                    }
                    three = new ArrayList<>(tried);
                    three.addAll(holding(port, 1));
                } catch (SQLException notYet) {
                    for (Connection c : tried) {
                        c.close();
                    }
                    assertTrue(System.nanoTime() < deadline, "pool_size 3 not applied within 10 s: " + notYet);
                }
            }
            assertEquals(3, serverConnections(primary));
            closeAll(three);

            // Broken: pool_size 0. Refused; the pool keeps its size 3 and keeps serving.
            map.write(toml(port, 0, primary));
            AdminReply refused = node.reload().toCompletionStage().toCompletableFuture().get();
            assertEquals("F0000", refused.sqlState(), refused.toString());
            assertTrue(refused.message().contains("pool_size"), refused.message());
            List<Connection> still = holding(port, 3);
            assertEquals(3, serverConnections(primary));
            closeAll(still);

            // A new admin_password: the next console login needs it (SCRAM verifier recomputed).
            map.write(toml(port, 3, primary, "admin-2"));
            AdminReply changed = node.reload().toCompletionStage().toCompletableFuture().get();
            assertEquals(null, changed.sqlState(), changed.toString());
            String console = "jdbc:postgresql://127.0.0.1:" + port + "/pgfleet?sslmode=disable&gssEncMode=disable";
            // The proxy applies the table after the reply (its SCRAM verifier is computed off the
            // event loop first): the old password stops working within moments.
            long until = System.nanoTime() + 10_000_000_000L;
            String refusedWith = null;
            while (refusedWith == null) {
                try {
                    DriverManager.getConnection(console, "admin", "admin").close();
                    assertTrue(System.nanoTime() < until, "the old admin_password still works 10 s after RELOAD");
                    Thread.sleep(50);
                } catch (SQLException e) {
                    refusedWith = e.getSQLState();
                }
            }
            assertEquals("28P01", refusedWith);
            try (Connection admin = DriverManager.getConnection(console, "admin", "admin-2");
                 Statement st = admin.createStatement(); ResultSet rs = st.executeQuery("SHOW POOLS")) {
                assertTrue(rs.next(), "SHOW POOLS has the pool");
            }
            // SHOW CONFIG keeps PgBouncer's four columns; where each value came from is PgFleet's
            // SHOW CONFIG_SOURCES; SHOW <key> answers as PostgreSQL's SHOW.
            try (Connection admin = DriverManager.getConnection(console, "admin", "admin-2");
                 Statement st = admin.createStatement()) {
                try (ResultSet rs = st.executeQuery("SHOW CONFIG")) {
                    java.sql.ResultSetMetaData md = rs.getMetaData();
                    assertEquals(4, md.getColumnCount());
                    assertEquals(List.of("key", "value", "default", "changeable"), List.of(md.getColumnName(1),
                        md.getColumnName(2), md.getColumnName(3), md.getColumnName(4)));
                }
                java.util.Map<String, String> sources = new java.util.HashMap<>();
                try (ResultSet rs = st.executeQuery("SHOW CONFIG_SOURCES")) {
                    while (rs.next()) {
                        sources.put(rs.getString("key"), rs.getString("source") + " " + rs.getString("value"));
                    }
                }
                assertEquals("file 200", sources.get("autoreload"));
                assertEquals("default 60", sources.get("ban_time"));
                assertEquals("file ********", sources.get("admin_password"));
                try (ResultSet rs = st.executeQuery("SHOW query_wait_timeout")) {
                    assertTrue(rs.next());
                    assertEquals("query_wait_timeout", rs.getMetaData().getColumnName(1));
                    assertEquals("20000", rs.getString(1));
                }
            }
        } finally {
            node.stop();
        }
    }
}
