package dev.pgfleet.admin.console;

import dev.pgfleet.proxy.ProxyRuntime;
import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * PgFleet's proxy in front of testkit's primary with the console registered, on free loopback
 * ports. With {@code separateBus} the console asks its questions on a Vert.x of its own, where a
 * test answers them with stand-in consumers (rendering tests, before the real consumers exist);
 * without, it asks the proxy's own Vert.x (end-to-end tests).
 */
final class ConsoleFixture implements AutoCloseable {

    static final String ADMIN = "admin";
    static final String ADMIN_PASSWORD = "admin_pw";

    final PgServer primary;
    final int port;
    final int adminPort;
    final Vertx vertx;
    final Vertx bus;
    final ProxyRuntime runtime;
    final ConsoleService console;

    private ConsoleFixture(PgServer primary, int port, int adminPort, Vertx vertx, Vertx bus, ProxyRuntime runtime,
                           ConsoleService console) {
        this.primary = primary;
        this.port = port;
        this.adminPort = adminPort;
        this.vertx = vertx;
        this.bus = bus;
        this.runtime = runtime;
        this.console = console;
    }

    static ConsoleFixture start(boolean separateBus, String poolMode, int poolSize, String extraGeneral,
                                Duration statsPeriod, int instances) {
        PgServer primary = TestPostgres.cluster().primary();
        int port = freePort();
        int adminPort = freePort();
        String toml = """
                [general]
                host = "127.0.0.1"
                port = %d
                admin_port = %d
                admin_username = "%s"
                admin_password = "%s"
                %s

                [pools.%s]
                pool_mode = "%s"

                [pools.%s.users.0]
                username = "%s"
                password = "%s"
                pool_size = %d

                [pools.%s.shards.0]
                database = "%s"
                servers = [["127.0.0.1", %d, "primary"]]
                """.formatted(port, adminPort, ADMIN, ADMIN_PASSWORD, extraGeneral == null ? "" : extraGeneral,
                TestUsers.DATABASE, poolMode, TestUsers.DATABASE, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD,
                poolSize, TestUsers.DATABASE, TestUsers.DATABASE, primary.port());
        PgFleetConfig config = ConfigLoader.parse(toml, "console-test.toml");
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Math.max(2, instances)));
        Vertx bus = separateBus ? Vertx.vertx() : vertx;
        ProxyRuntime runtime = new ProxyRuntime(config, new dev.pgfleet.health.LocalBanRegistry());
        ConsoleService console = new ConsoleService(bus, config, statsPeriod);
        console.start().await();
        runtime.console(console);
        runtime.deploy(vertx, instances).await();
        return new ConsoleFixture(primary, port, adminPort, vertx, bus, runtime, console);
    }

    static ConsoleFixture standIns() {
        return start(true, "transaction", 5, null, ConsoleService.DEFAULT_STATS_PERIOD, 2);
    }

    String consoleUrl(int atPort, String database) {
        return "jdbc:postgresql://127.0.0.1:" + atPort + "/" + database + "?sslmode=disable&gssEncMode=disable";
    }

    Connection console(String user, String password, String... extra) throws SQLException {
        return console(port, "pgfleet", user, password, extra);
    }

    Connection console(int atPort, String database, String user, String password, String... extra) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("connectTimeout", "20");
        for (int i = 0; i + 1 < extra.length; i += 2) {
            p.setProperty(extra[i], extra[i + 1]);
        }
        return DriverManager.getConnection(consoleUrl(atPort, database), p);
    }

    Connection admin(String... extra) throws SQLException {
        return console(ADMIN, ADMIN_PASSWORD, extra);
    }

    Connection app() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestUsers.SCRAM_USER);
        p.setProperty("password", TestUsers.SCRAM_PASSWORD);
        p.setProperty("connectTimeout", "20");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + TestUsers.DATABASE
                + "?sslmode=disable&gssEncMode=disable", p);
    }

    static boolean psqlPresent() {
        return Files.isExecutable(Path.of("/usr/bin/psql"));
    }

    /** psql -X -A -F '|' with ON_ERROR_STOP; returns exit status and output (stdout and stderr). */
    String[] psql(String url, String password, String... commands) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/psql", "-X", "-A", "-F", "|", "-v", "ON_ERROR_STOP=1", url));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", password);
        pb.environment().remove("PGSSLMODE");
        Process proc = pb.start();
        String out = new String(proc.getInputStream().readAllBytes());
        if (!proc.waitFor(60, TimeUnit.SECONDS)) {
            proc.destroyForcibly();
            return new String[] {"timeout", out};
        }
        return new String[] {String.valueOf(proc.exitValue()), out};
    }

    String psqlUrl(String user, String database) {
        return "postgresql://" + user + "@127.0.0.1:" + port + "/" + database + "?sslmode=disable";
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        runtime.shutdown(vertx, Duration.ofSeconds(1)).await();
        console.stop().await();
        vertx.close().await();
        if (bus != vertx) {
            bus.close().await();
        }
    }
}
