package dev.pgfleet.health;

import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * healthcheck_user, healthcheck_password and healthcheck_database: the probe holds its one
 * connection per server as its own role in its own database, so the pooled database can be
 * dropped (renamed, used as a template) while PgFleet runs.
 */
class ProbeLoginTest {

    private static final String PROBE_USER = "pgfleet_probe";
    private static final String PROBE_PASSWORD = "probe_pw";
    private static final String POOLED = "probe_pooled_copy";

    @Test
    void probeLogsInAsItsOwnUserToPostgresAndThePooledDatabaseCanBeDropped() throws Exception {
        PgServer primary = TestPostgres.cluster().primary();
        try (Connection su = primary.connectSuperuser("postgres"); Statement st = su.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + POOLED + " WITH (FORCE)");
            st.execute("DROP ROLE IF EXISTS " + PROBE_USER);
            st.execute("SET password_encryption = 'scram-sha-256'");
            st.execute("CREATE ROLE " + PROBE_USER + " LOGIN PASSWORD '" + PROBE_PASSWORD + "'");
            st.execute("CREATE DATABASE " + POOLED);
        }
        StringBuilder toml = new StringBuilder("""
                [general]
                admin_username = "admin"
                admin_password = "admin"
                healthcheck_interval = %d
                healthcheck_user = "%s"
                healthcheck_password = "%s"
                healthcheck_database = "postgres"
                """.formatted(HealthFixture.INTERVAL.toMillis(), PROBE_USER, PROBE_PASSWORD));
        for (String pool : List.of("app", "reports")) {
            toml.append("""

                    [pools.%s.users.0]
                    username = "%s"
                    password = "%s"
                    pool_size = 1

                    [pools.%s.shards.0]
                    database = "%s"
                    servers = [["%s", %d, "primary"]]
                    """.formatted(pool, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD, pool, POOLED,
                    primary.host(), primary.port()));
        }
        try (HealthFixture f = new HealthFixture(ConfigLoader.parse(toml.toString(), "probe-login.toml"))) {
            // Two pools over the server: one probe, as the probe user, in postgres.
            List<String> probes = probeSessions(primary);
            assertEquals(List.of(PROBE_USER + "@postgres"), probes);
            try (Connection su = primary.connectSuperuser("postgres"); Statement st = su.createStatement()) {
                st.execute("DROP DATABASE " + POOLED);   // no FORCE: fails while anyone is in it
            }
            long version = f.current().version();
            f.await("rounds go on", Duration.ofSeconds(10), s -> s.version() > version + 1);
            assertEquals(true, f.shard("app").primaryReachable());
        } finally {
            try (Connection su = primary.connectSuperuser("postgres"); Statement st = su.createStatement()) {
                st.execute("DROP DATABASE IF EXISTS " + POOLED + " WITH (FORCE)");
                st.execute("DROP ROLE IF EXISTS " + PROBE_USER);
            }
        }
    }

    private static List<String> probeSessions(PgServer server) throws Exception {
        try (Connection c = server.connectSuperuser("postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT usename, datname FROM pg_stat_activity"
                     + " WHERE application_name = 'pgfleet-health' ORDER BY 1, 2")) {
            List<String> sessions = new ArrayList<>();
            while (rs.next()) {
                sessions.add(rs.getString(1) + "@" + rs.getString(2));
            }
            return sessions;
        }
    }
}
