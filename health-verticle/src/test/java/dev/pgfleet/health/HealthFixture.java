package dev.pgfleet.health;

import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.shared.health.HealthSnapshot;
import dev.pgfleet.shared.health.ServerKey;
import dev.pgfleet.shared.health.ShardHealth;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.fail;

/** A Vert.x instance running a {@link HealthVerticle} over real servers, with short intervals. */
final class HealthFixture implements AutoCloseable {

    static final Duration INTERVAL = Duration.ofMillis(250);
    static final Duration TIMEOUT = Duration.ofMillis(1_000);
    /** healthcheck_max_retries as shipped, with a short healthcheck_retry_delay. */
    static final int RETRIES = 2;
    static final Duration RETRY_DELAY = Duration.ofMillis(100);
    /**
     * What "within one interval" may take on a loaded 2-core machine: an interval, a round with
     * its retries (each attempt at most the timeout), slack.
     */
    static final Duration ONE_ROUND = INTERVAL.plus(TIMEOUT.multipliedBy(RETRIES + 1))
            .plus(RETRY_DELAY.multipliedBy(RETRIES)).plusMillis(750);

    /** One event loop: a test that blocks "the loop" blocks the health verticle's. */
    final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    final LocalBanRegistry bans = new LocalBanRegistry();
    final HealthVerticle verticle;

    HealthFixture(PgFleetConfig config) {
        // The probe's login from the configuration, as a process built from a file has it.
        verticle = new HealthVerticle(config, null, bans, Clock.systemUTC());
        vertx.deployVerticle(verticle).await();
    }

    /** The newest published snapshot. */
    HealthSnapshot current() {
        return verticle.current();
    }

    /**
     * One pool per {@code pools} entry ("name" or "name:extra toml lines"), each with one shard
     * over {@code servers} with {@code role}, logging in as the SCRAM test user.
     */
    static PgFleetConfig config(List<PgServer> servers, String role, int banTimeSeconds, String... pools) {
        String list = servers.stream().map(s -> "[\"" + s.host() + "\", " + s.port() + ", \"" + role + "\"]")
                .collect(Collectors.joining(", "));
        return config("", list, banTimeSeconds, pools);
    }

    /**
     * As above with extra [general] lines (they come last: a key given there wins) and the
     * servers as a TOML list ({@code ["host", port, "role"], ...}).
     */
    static PgFleetConfig config(String extraGeneral, String list, int banTimeSeconds, String... pools) {
        StringBuilder toml = new StringBuilder("""
                [general]
                admin_username = "admin"
                admin_password = "admin"
                healthcheck_interval = %d
                healthcheck_timeout = %d
                ban_time = %d
                %s
                """.formatted(INTERVAL.toMillis(), TIMEOUT.toMillis(), banTimeSeconds,
                extraGeneral.contains("healthcheck_max_retries") ? extraGeneral
                        : "healthcheck_max_retries = " + RETRIES + "\n" + extraGeneral));
        if (!extraGeneral.contains("healthcheck_retry_delay")) {
            toml.append("healthcheck_retry_delay = ").append(RETRY_DELAY.toMillis()).append('\n');
        }
        for (String pool : pools) {
            String[] parts = pool.split(":", 2);
            toml.append("""

                    [pools.%s]
                    %s

                    [pools.%s.users.0]
                    username = "%s"
                    password = "%s"
                    pool_size = 1

                    [pools.%s.shards.0]
                    database = "%s"
                    servers = [%s]
                    """.formatted(parts[0], parts.length > 1 ? parts[1] : "", parts[0], TestUsers.SCRAM_USER,
                    TestUsers.SCRAM_PASSWORD, parts[0], TestUsers.DATABASE, list));
        }
        return ConfigLoader.parse(toml.toString(), "health-test.toml");
    }

    ShardHealth shard(String pool) {
        return current().shard(pool, 0).orElseThrow();
    }

    /** Waits until the published snapshot passes {@code condition}; returns how long it took. */
    Duration await(String what, Duration timeout, Predicate<HealthSnapshot> condition) {
        long start = System.nanoTime();
        while (true) {
            HealthSnapshot s = current();
            if (condition.test(s)) {
                return Duration.ofNanos(System.nanoTime() - start);
            }
            if (System.nanoTime() - start > timeout.toNanos()) {
                fail("not within " + timeout + ": " + what + "; last snapshot: " + s);
            }
            sleep(20);
        }
    }

    static ServerKey key(PgServer server) {
        return new ServerKey(server.host(), server.port());
    }

    static void sql(PgServer server, String... statements) throws SQLException {
        try (Connection c = server.connectSuperuser(TestUsers.DATABASE); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        vertx.close().await();
    }
}
