package dev.pgfleet.proxy;

import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.IOException;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;

/**
 * A PgFleet proxy (router verticle and proxy, no health verticle) in front of testkit's real
 * primary, on a free loopback port, with the kit's users. Tests make one per class (or per test for special configs) and close it.
 */
final class ProxyFixture implements AutoCloseable {

    final PgServer primary;
    final int port;
    final Vertx vertx;
    final ProxyRuntime runtime;

    private ProxyFixture(PgServer primary, int port, Vertx vertx, ProxyRuntime runtime) {
        this.primary = primary;
        this.port = port;
        this.vertx = vertx;
        this.runtime = runtime;
    }

    /** Session mode, pool_size as given, with extra [general] lines. */
    static ProxyFixture start(int poolSize, String extraGeneral) {
        PgServer primary = TestPostgres.cluster().primary();
        return start(poolSize, extraGeneral, primary, primary.port());
    }

    /** As above, with the pool's server at serverPort (a real server, or a misbehaving one). */
    static ProxyFixture start(int poolSize, String extraGeneral, PgServer primary, int serverPort) {
        return start("session", poolSize, extraGeneral, primary, serverPort);
    }

    /** In the given pool_mode ("session", "transaction", "statement"), against the main primary. */
    static ProxyFixture start(String poolMode, int poolSize, String extraGeneral) {
        PgServer primary = TestPostgres.cluster().primary();
        return start(poolMode, poolSize, extraGeneral, primary, primary.port());
    }

    static ProxyFixture start(String poolMode, int poolSize, String extraGeneral, PgServer primary, int serverPort) {
        return start(poolMode, poolSize, extraGeneral, "", primary, serverPort);
    }

    /** With extra lines for the SCRAM user's table (min_pool_size, statement_timeout...). */
    static ProxyFixture startWithUserSettings(String poolMode, int poolSize, String extraGeneral, String userLines) {
        PgServer primary = TestPostgres.cluster().primary();
        return start(poolMode, poolSize, extraGeneral, userLines, primary, primary.port());
    }

    static ProxyFixture start(String poolMode, int poolSize, String extraGeneral, String userLines, PgServer primary,
                                                        int serverPort) {
        return start(poolMode, poolSize, extraGeneral, userLines, primary, serverPort, 2);
    }

    /** With {@code instances} proxy verticles (event loops), as dist deploys worker_threads of them. */
    static ProxyFixture startInstances(String poolMode, int poolSize, String extraGeneral, int instances) {
        PgServer primary = TestPostgres.cluster().primary();
        return start(poolMode, poolSize, extraGeneral, "", primary, primary.port(), instances);
    }

    /**
     * With one event loop: every client is served by the same loop, so with pool_size 1 all of
     * them share one server connection (two loops would move the slot with a close and a login).
     */
    static ProxyFixture startOneLoop(String poolMode, int poolSize, String extraGeneral) {
        return startInstances(poolMode, poolSize, extraGeneral, 1);
    }

    static ProxyFixture start(String poolMode, int poolSize, String extraGeneral, String userLines, PgServer primary,
                                                        int serverPort, int instances) {
        int port = freePort();
        String toml = """
            [general]
            host = "127.0.0.1"
            port = %d
            admin_username = "admin"
            admin_password = "admin"
            %s

            [pools.%s]
            pool_mode = "%s"

            [pools.%s.users.0]
            username = "%s"
            password = "%s"
            pool_size = %d
            %s

            [pools.%s.users.1]
            username = "%s"
            password = "%s"
            auth_type = "md5"
            pool_size = %d

            [pools.%s.users.2]
            username = "%s"
            password = "%s"
            pool_size = 5

            [pools.%s.users.3]
            username = "%s"
            password = "unused"
            pool_size = 5

            [pools.%s.shards.0]
            database = "%s"
            servers = [["127.0.0.1", %d, "primary"]]
            """.formatted(port, extraGeneral == null ? "" : extraGeneral,
            TestUsers.DATABASE, poolMode, TestUsers.DATABASE, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD, poolSize,
            userLines,
            TestUsers.DATABASE, TestUsers.MD5_USER, TestUsers.MD5_PASSWORD, poolSize,
            TestUsers.DATABASE, TestUsers.CLEARTEXT_USER, TestUsers.CLEARTEXT_PASSWORD,
            TestUsers.DATABASE, TestUsers.TRUST_USER,
            TestUsers.DATABASE, TestUsers.DATABASE, serverPort);
        PgFleetConfig config = ConfigLoader.parse(toml, "test.toml");
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Math.max(2, instances)));
        ProxyRuntime runtime = new ProxyRuntime(config, new dev.pgfleet.health.LocalBanRegistry());
        // As dist: the router first (the proxy takes its first table), then the proxy.
        vertx.deployVerticle(new dev.pgfleet.router.RouterVerticle(config)).await();
        runtime.deploy(vertx, instances).await();
        return new ProxyFixture(primary, port, vertx, runtime);
    }

    static ProxyFixture start(int poolSize) {
        return start(poolSize, null);
    }

    String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + TestUsers.DATABASE + "?sslmode=disable&gssEncMode=disable";
    }

    Connection connect(String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("connectTimeout", "20");
        return DriverManager.getConnection(jdbcUrl(), p);
    }

    /** vertx-pg-client options for this proxy, in its layer-7-proxy mode. */
    io.vertx.pgclient.PgConnectOptions pgOptions(String user, String password) {
        return new io.vertx.pgclient.PgConnectOptions()
            .setHost("127.0.0.1").setPort(port).setDatabase(TestUsers.DATABASE)
            .setUser(user).setPassword(password)
            .setUseLayer7Proxy(true);
    }

    Connection connectScram() throws SQLException {
        return connect(TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD);
    }

    /**
     * Waits until exactly {@code n} clients wait for a server connection in this proxy's pools,
     * so a test orders its clients by an event instead of a sleep; fails past the deadline.
     */
    void awaitWaiting(int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        int now;
        while ((now = runtime.pools().values().stream().mapToInt(ServerPool::waiting).sum()) != n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + n + " clients waiting for a server connection, " + now + " are");
            }
            Thread.sleep(5);
        }
    }

    /** Direct to the primary, bypassing PgFleet, to check what the server sees. */
    Connection direct() throws SQLException {
        return primary.connectSuperuser(TestUsers.DATABASE);
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        runtime.shutdown(vertx, Duration.ofSeconds(2)).await();
        vertx.close().await();
    }
}
