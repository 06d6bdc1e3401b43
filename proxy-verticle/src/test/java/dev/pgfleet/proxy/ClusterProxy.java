package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.fail;

import dev.pgfleet.health.HealthVerticle;
import dev.pgfleet.health.LocalBanRegistry;
import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.shared.health.ServerKey;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.function.BooleanSupplier;

/**
 * PgFleet as dist runs it, in front of a real primary and its streaming replicas: one ban
 * registry, the health verticle deployed first, then the router, then the proxy (transaction mode, read/write
 * splitting, round robin), with short health intervals so that tests see changes within a
 * second or two.
 */
final class ClusterProxy implements AutoCloseable {

    static final Duration INTERVAL = Duration.ofMillis(250);
    /** healthcheck_timeout: 2 s, so that a probe slowed by a loaded 2-core machine does not ban a healthy server. */
    static final Duration TIMEOUT = Duration.ofMillis(2_000);
    /** What "within one interval" may take on a loaded 2-core machine: an interval, a round, slack. */
    static final Duration ONE_ROUND = INTERVAL.plus(TIMEOUT).plusMillis(750);

    final Vertx vertx;
    /** The process's one registry, shared by the health verticle and the proxy. */
    final LocalBanRegistry bans;
    final HealthVerticle health;
    final ProxyRuntime runtime;
    final int port;

    private ClusterProxy(Vertx vertx, LocalBanRegistry bans, HealthVerticle health, ProxyRuntime runtime, int port) {
        this.vertx = vertx;
        this.bans = bans;
        this.health = health;
        this.runtime = runtime;
        this.port = port;
    }

    /**
     * @param servers      the shard's servers, in configuration order
     * @param roles        their roles ("primary", "replica", "auto"), one per server
     * @param poolMode     "transaction" or "session"
     * @param banSeconds   ban_time
     * @param generalLines extra [general] lines
     * @param poolLines    extra [pools.db] lines
     * @param eventLoops   event loops, one proxy verticle each
     */
    static ClusterProxy start(List<PgServer> servers, List<String> roles, String poolMode, int banSeconds,
                                                        String generalLines, String poolLines, int poolSize, int eventLoops) {
        int port = ProxyFixture.freePort();
        StringBuilder list = new StringBuilder();
        for (int i = 0; i < servers.size(); i++) {
            list.append(i == 0 ? "" : ", ").append("[\"").append(servers.get(i).host()).append("\", ")
                .append(servers.get(i).port()).append(", \"").append(roles.get(i)).append("\"]");
        }
        String toml = """
            [general]
            host = "127.0.0.1"
            port = %d
            admin_username = "admin"
            admin_password = "admin"
            healthcheck_interval = %d
            healthcheck_timeout = %d
            ban_time = %d
            %s

            [pools.%s]
            pool_mode = "%s"
            query_parser_enabled = true
            query_parser_read_write_splitting = true
            load_balancing_mode = "round_robin"
            primary_reads_enabled = false
            %s

            [pools.%s.users.0]
            username = "%s"
            password = "%s"
            pool_size = %d

            [pools.%s.shards.0]
            database = "%s"
            servers = [%s]
            """.formatted(port, INTERVAL.toMillis(), TIMEOUT.toMillis(), banSeconds, generalLines, TestUsers.DATABASE,
            poolMode, poolLines, TestUsers.DATABASE, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD, poolSize, TestUsers.DATABASE,
            TestUsers.DATABASE, list);
        PgFleetConfig config = ConfigLoader.parse(toml, "cluster-proxy.toml");
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(eventLoops));
        LocalBanRegistry bans = new LocalBanRegistry();
        HealthVerticle health = new HealthVerticle(config, bans);
        ProxyRuntime runtime = new ProxyRuntime(config, bans);
        // As dist: health first (its first round done), then the router, which asks for the newest
        // snapshot, then the proxy, which asks for the newest table.
        vertx.deployVerticle(health).await();
        vertx.deployVerticle(new dev.pgfleet.router.RouterVerticle(config)).await();
        runtime.deploy(vertx, eventLoops).await();
        return new ClusterProxy(vertx, bans, health, runtime, port);
    }

    Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestUsers.SCRAM_USER);
        p.setProperty("password", TestUsers.SCRAM_PASSWORD);
        p.setProperty("connectTimeout", "20");
        p.setProperty("socketTimeout", "10");   // a read stuck on a stopped server fails the test, not hangs it
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + TestUsers.DATABASE
            + "?sslmode=disable&gssEncMode=disable", p);
    }

    /** The defaults of most tests: transaction mode, pool_size 5, two event loops. */
    static ClusterProxy start(List<PgServer> servers, List<String> roles, int banSeconds, String generalLines,
                                                        String poolLines) {
        return start(servers, roles, "transaction", banSeconds, generalLines, poolLines, 5, 2);
    }

    /** The port of the server that ran {@code SELECT inet_server_port()}: a read, so a replica's if any is fit. */
    static int readPort(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static ServerKey key(PgServer server) {
        return new ServerKey(server.host(), server.port());
    }

    /** Polls {@code condition} every 20 ms until it holds; fails after {@code timeout}. Returns the time taken. */
    static Duration await(String what, Duration timeout, BooleanSupplier condition) {
        long start = System.nanoTime();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - start > timeout.toNanos()) {
                fail("not within " + timeout + ": " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    static void sql(PgServer server, String... statements) throws SQLException {
        try (Connection c = server.connectSuperuser(TestUsers.DATABASE); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    @Override
    public void close() {
        runtime.shutdown(vertx, Duration.ofSeconds(2)).await();
        vertx.close().await();
    }
}
