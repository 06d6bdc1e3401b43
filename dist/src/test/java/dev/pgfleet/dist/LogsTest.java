package dev.pgfleet.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log of a real {@code pgfleet run} with {@code log_format = "json"} and both
 * {@code log_client_*} keys on: every line is one JSON object with PgFleet's fields, logins and
 * disconnects are there, and no password, SCRAM secret or parameter value is, after logins right
 * and wrong (SCRAM and md5), a Bind with a value, and a reload that changes a password.
 */
class LogsTest {

    private static final String WRONG_PASSWORD = "wrong-pw-4711";
    private static final String NEW_PASSWORD = "new-pw-0815";
    private static final String ADMIN_PASSWORD = "admin-pw-2342";
    private static final String PARAMETER_VALUE = "param-value-1337";

    @Test
    @Timeout(180)
    void jsonLinesWithLoginsAndDisconnectsAndNoSecrets(@TempDir Path dir) throws Exception {
        PgServer primary = TestPostgres.cluster().primary();
        int port = SignalsTest.freePort();
        Path config = dir.resolve("pgfleet.toml");
        String toml = """
                [general]
                host = "127.0.0.1"
                port = %d
                admin_username = "admin"
                admin_password = "%s"
                worker_threads = 1
                shutdown_timeout = 5000
                log_format = "json"
                log_client_connections = true
                log_client_disconnections = true

                [pools.%s.users.0]
                username = "%s"
                password = "%s"
                pool_size = 2

                [pools.%s.users.1]
                username = "%s"
                password = "%s"
                auth_type = "md5"
                pool_size = 2

                [pools.%s.shards.0]
                database = "%s"
                servers = [["%s", %d, "primary"]]
                """.formatted(port, ADMIN_PASSWORD, TestUsers.DATABASE, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD,
                TestUsers.DATABASE, TestUsers.MD5_USER, TestUsers.MD5_PASSWORD,
                TestUsers.DATABASE, TestUsers.DATABASE, primary.host(), primary.port());
        Files.writeString(config, toml);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process pgfleet = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "dev.pgfleet.dist.PgFleetMain", "run", "-c", config.toString()).redirectErrorStream(true).start();
        ProcessOutput output = new ProcessOutput(pgfleet, 60_000);
        try {
            output.await("PgFleet listening", pgfleet);

            assertEquals(PARAMETER_VALUE, bind(port, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD));
            assertEquals(PARAMETER_VALUE, bind(port, TestUsers.MD5_USER, TestUsers.MD5_PASSWORD));
            assertEquals("28P01", assertThrows(SQLException.class,
                    () -> bind(port, TestUsers.SCRAM_USER, WRONG_PASSWORD)).getSQLState());
            assertEquals("28P01", assertThrows(SQLException.class,
                    () -> bind(port, TestUsers.MD5_USER, WRONG_PASSWORD)).getSQLState());
            output.await("password authentication failed for user \\\"" + TestUsers.MD5_USER, pgfleet);

            Files.writeString(config, toml.replace("password = \"" + TestUsers.MD5_PASSWORD + "\"",
                    "password = \"" + NEW_PASSWORD + "\""));
            SignalsTest.signal(pgfleet, "HUP");
            output.await("configuration epoch 2: pools changed: " + TestUsers.DATABASE, pgfleet);

            SignalsTest.signal(pgfleet, "TERM");
            assertTrue(pgfleet.waitFor(60, TimeUnit.SECONDS), "stopped after SIGTERM:\n" + output);
            output.awaitEnd();
        } finally {
            pgfleet.destroyForcibly();
            pgfleet.waitFor(30, TimeUnit.SECONDS);
        }

        String log = output.toString();
        List<JsonObject> lines = new ArrayList<>();
        for (String line : log.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            try {
                lines.add(new JsonObject(line));
            } catch (DecodeException e) {
                throw new AssertionError("not a JSON line: " + line + "\n" + log, e);
            }
        }
        for (JsonObject l : lines) {
            assertTrue(l.fieldNames().containsAll(Set.of("time", "level", "logger", "thread", "message")), l.encode());
            assertTrue(l.getString("time").matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"), l.encode());
        }
        JsonObject login = lines.stream().filter(l -> l.getString("message").startsWith("client login: user="
                + TestUsers.MD5_USER)).findFirst().orElseThrow(() -> new AssertionError("no md5 login line:\n" + log));
        assertEquals("INFO", login.getString("level"));
        assertEquals("dev.pgfleet.proxy.ClientLog", login.getString("logger"));
        assertTrue(login.getString("message").matches("client login: user=app_md5 database=" + TestUsers.DATABASE
                + " address=127\\.0\\.0\\.1:\\d+ tls=no application_name=PostgreSQL JDBC Driver"), login.encode());
        assertTrue(lines.stream().anyMatch(l -> l.getString("message").matches("client disconnect: user="
                + TestUsers.SCRAM_USER + " .* reason=\"client close request\" age=\\d+\\.\\d{3}s")), log);
        assertTrue(lines.stream().anyMatch(l -> l.getString("message").startsWith("client disconnect: user="
                + TestUsers.SCRAM_USER) && l.getString("message").contains(" reason=\"28P01 password authentication"
                + " failed for user \"" + TestUsers.SCRAM_USER + "\"\" age=")), log);
        assertTrue(lines.stream().anyMatch(l -> l.getString("message").contains("SIGHUP received")), log);

        for (String secret : List.of(TestUsers.SCRAM_PASSWORD, TestUsers.MD5_PASSWORD, WRONG_PASSWORD, NEW_PASSWORD,
                ADMIN_PASSWORD, PARAMETER_VALUE, "SCRAM-SHA-256$", md5Secret(TestUsers.MD5_PASSWORD, TestUsers.MD5_USER))) {
            assertFalse(log.contains(secret), "\"" + secret + "\" in the log:\n" + log);
        }
    }

    /** PostgreSQL's stored md5 secret: "md5" + md5(password + user). */
    private static String md5Secret(String password, String user) throws Exception {
        byte[] d = java.security.MessageDigest.getInstance("MD5")
                .digest((password + user).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return "md5" + java.util.HexFormat.of().formatHex(d);
    }

    /** Logs in and runs a statement with a parameter: the value travels in a Bind. */
    private static String bind(int port, String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("connectTimeout", "20");
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/" + TestUsers.DATABASE
                + "?sslmode=disable&gssEncMode=disable&prepareThreshold=1";
        try (Connection c = DriverManager.getConnection(url, p);
             PreparedStatement st = c.prepareStatement("SELECT ?::text")) {
            st.setString(1, PARAMETER_VALUE);
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }
}
