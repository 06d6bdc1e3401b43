package dev.pgfleet.proxy;

import dev.pgfleet.health.HealthVerticle;
import dev.pgfleet.health.LocalBanRegistry;
import dev.pgfleet.router.RouterVerticle;
import dev.pgfleet.shared.config.ConfigBus;
import dev.pgfleet.shared.config.ConfigEpoch;
import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.shared.routing.RouterBus;
import dev.pgfleet.shared.routing.RoutingTable;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.MessageConsumer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * PgFleet as dist deploys it (health verticle optional, router, proxy), reconfigured by
 * publishing {@link ConfigEpoch}s on {@link ConfigBus#APPLIED} as the config owner does: each
 * {@link #reload} builds the TOML of the given pools, publishes epoch 2, 3, ... and returns once
 * the proxy has applied the table built from it.
 */
final class ReloadProxy implements AutoCloseable {

    /** A user of a pool: client login, server password (null: the same), pool_size, extra lines. */
    record User(String name, String password, String serverPassword, int poolSize, String extra) {
        User(String name, String password, int poolSize) {
            this(name, password, null, poolSize, "");
        }
    }

    /** A pool: its name (the database clients ask for), mode, users, servers (first is the primary). */
    record Pool(String name, String mode, List<User> users, List<PgServer> servers, String extra) {
        Pool(String name, List<User> users, List<PgServer> servers) {
            this(name, "transaction", users, servers, "");
        }
    }

    final Vertx vertx;
    final int port;
    final ProxyRuntime runtime;
    final RouterVerticle router;
    final HealthVerticle health;
    /** Every table published since start, in order. */
    final List<RoutingTable> tables;
    private final MessageConsumer<RoutingTable> tableCounter;
    private final String general;
    private long epoch = 1;

    private ReloadProxy(Vertx vertx, int port, ProxyRuntime runtime, RouterVerticle router, HealthVerticle health,
                                            MessageConsumer<RoutingTable> counter, String general, List<RoutingTable> tables) {
        this.tables = tables;
        this.vertx = vertx;
        this.port = port;
        this.runtime = runtime;
        this.router = router;
        this.health = health;
        this.tableCounter = counter;
        this.general = general;
    }

    /**
     * @param withHealth deploy a health verticle (probing as the superuser, so that the probes do not
     *                   count among a pool's connections), with short intervals
     * @param general    extra [general] lines
     */
    static ReloadProxy start(boolean withHealth, String general, List<Pool> pools) {
        int port = ProxyFixture.freePort();
        String generalLines = general + (withHealth ? """

            healthcheck_interval = 250
            healthcheck_timeout = 2000
            healthcheck_user = "%s"
            healthcheck_password = "%s"
            ban_time = 1
            """.formatted(TestUsers.SUPERUSER, TestUsers.SUPERUSER_PASSWORD) : "");
        PgFleetConfig config = ConfigLoader.parse(toml(port, generalLines, pools), "reload-1.toml");
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        LocalBanRegistry bans = new LocalBanRegistry();
        HealthVerticle health = null;
        if (withHealth) {
            health = new HealthVerticle(config, bans);
            vertx.deployVerticle(health).await();
        }
        // Subscribed before the router starts, so the table it publishes at start is seen too.
        List<RoutingTable> seen = new CopyOnWriteArrayList<>();
        MessageConsumer<RoutingTable> counter = vertx.eventBus().localConsumer(RouterBus.TABLE, m -> seen.add(m.body()));
        counter.completion().await();
        RouterVerticle router = new RouterVerticle(config);
        vertx.deployVerticle(router).await();
        ProxyRuntime runtime = new ProxyRuntime(config, bans);
        runtime.deploy(vertx, 2).await();
        return new ReloadProxy(vertx, port, runtime, router, health, counter, generalLines, seen);
    }

    /** Publishes the next epoch with these pools and waits until the proxy routes by it. */
    RoutingTable reload(List<Pool> pools) {
        return reload(general, pools);
    }

    RoutingTable reload(String generalLines, List<Pool> pools) {
        long e = ++epoch;
        PgFleetConfig config = ConfigLoader.parse(toml(port, generalLines, pools), "reload-" + e + ".toml");
        vertx.eventBus().publish(ConfigBus.APPLIED, new ConfigEpoch(e, config, Instant.now()));
        ClusterProxy.await("the proxy applies the table of epoch " + e, Duration.ofSeconds(10),
            () -> runtime.table().configEpoch() == e);
        return runtime.table();
    }

    static String toml(int port, String general, List<Pool> pools) {
        StringBuilder b = new StringBuilder("""
            [general]
            host = "127.0.0.1"
            port = %d
            admin_username = "admin"
            admin_password = "admin"
            %s
            """.formatted(port, general));
        for (Pool p : pools) {
            b.append("\n[pools.").append(p.name()).append("]\npool_mode = \"").append(p.mode()).append("\"\n")
                .append("query_parser_enabled = true\nquery_parser_read_write_splitting = true\n")
                .append("load_balancing_mode = \"round_robin\"\nprimary_reads_enabled = false\n").append(p.extra()).append('\n');
            for (int i = 0; i < p.users().size(); i++) {
                User u = p.users().get(i);
                b.append("\n[pools.").append(p.name()).append(".users.").append(i).append("]\n")
                    .append("username = \"").append(u.name()).append("\"\npassword = \"").append(u.password()).append("\"\n")
                    .append("pool_size = ").append(u.poolSize()).append('\n');
                if (u.serverPassword() != null) {
                    b.append("server_password = \"").append(u.serverPassword()).append("\"\n");
                }
                b.append(u.extra()).append('\n');
            }
            StringBuilder servers = new StringBuilder();
            for (int i = 0; i < p.servers().size(); i++) {
                PgServer s = p.servers().get(i);
                servers.append(i == 0 ? "" : ", ").append("[\"").append(s.host()).append("\", ").append(s.port())
                    .append(", \"").append(i == 0 ? "primary" : "replica").append("\"]");
            }
            b.append("\n[pools.").append(p.name()).append(".shards.0]\ndatabase = \"").append(TestUsers.DATABASE)
                .append("\"\nservers = [").append(servers).append("]\n");
        }
        return b.toString();
    }

    Connection connect(String database, String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("connectTimeout", "20");
        p.setProperty("socketTimeout", "30");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database
            + "?sslmode=disable&gssEncMode=disable", p);
    }

    /** Server connections of {@code user} on {@code server} (client backends, not PgFleet's probes). */
    static int serverConnections(PgServer server, String user) {
        try (Connection c = server.connectSuperuser(TestUsers.DATABASE); Statement st = c.createStatement();
                  ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                      + " AND usename = '" + user + "' AND application_name <> 'pgfleet-health'")) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Tables published since index {@code from} of {@link #tables}. */
    List<RoutingTable> tablesSince(int from) {
        return new ArrayList<>(tables.subList(from, tables.size()));
    }

    @Override
    public void close() {
        tableCounter.unregister();
        runtime.shutdown(vertx, Duration.ofSeconds(2)).await();
        vertx.close().await();
    }
}
