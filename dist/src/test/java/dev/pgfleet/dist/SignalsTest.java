package dev.pgfleet.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pgfleet run} as a process of its own (what {@code ./pgfleet} starts: PgFleetMain on a
 * JVM), against the testkit's primary, sent real signals.
 */
class SignalsTest {

    private static final long START_DEADLINE_MS = 60_000;

    @Test
    @Timeout(180)
    void sighupReloadsTheFileAndSigtermStopsCleanly(@TempDir Path dir) throws Exception {
        PgServer primary = TestPostgres.cluster().primary();
        int port = freePort();
        Path config = dir.resolve("pgfleet.toml");
        String toml = """
                [general]
                host = "127.0.0.1"
                port = %d
                admin_username = "admin"
                admin_password = "admin"
                worker_threads = 1
                shutdown_timeout = 5000

                [pools.%s.users.0]
                username = "%s"
                password = "%s"
                pool_size = 2

                [pools.%s.shards.0]
                database = "%s"
                servers = [["%s", %d, "primary"]]
                """.formatted(port, TestUsers.DATABASE, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD,
                TestUsers.DATABASE, TestUsers.DATABASE, primary.host(), primary.port());
        Files.writeString(config, toml);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "dev.pgfleet.dist.PgFleetMain", "run", "-c", config.toString()).redirectErrorStream(true);
        Process pgfleet = pb.start();
        ProcessOutput output = new ProcessOutput(pgfleet, START_DEADLINE_MS);
        try {
            output.await("PgFleet listening", pgfleet);
            assertEquals(42, query(port));

            // An unchanged file: read again, nothing applied. (Without a handler the JVM dies of
            // SIGHUP, exit 129.)
            signal(pgfleet, "HUP");
            output.await("(RELOAD): no change, epoch 1 stays", pgfleet);
            assertTrue(pgfleet.isAlive(), "pgfleet died of SIGHUP, exit " + exitOf(pgfleet) + ":\n" + output);

            // A changed file: the next epoch, naming what changed.
            Files.writeString(config, toml.replace("shutdown_timeout = 5000", "shutdown_timeout = 5000\nban_time = 17"));
            signal(pgfleet, "HUP");
            output.await("(RELOAD): configuration epoch 2: changed: ban_time", pgfleet);
            assertEquals(42, query(port), "still serving after SIGHUP");

            // A broken file: refused, naming the file and the key; still serving.
            Files.writeString(config, toml.replace("pool_size = 2", "pool_size = -1"));
            signal(pgfleet, "HUP");
            output.await("refused, configuration epoch 2 stays in force", pgfleet);
            output.await(config + ": pools." + TestUsers.DATABASE + ".users.0.pool_size: must be at least 1", pgfleet);
            assertEquals(42, query(port), "still serving after a refused reload");

            signal(pgfleet, "TERM");
            assertTrue(pgfleet.waitFor(60, TimeUnit.SECONDS), "stopped after SIGTERM:\n" + output);
            output.awaitEnd();
            // 143 (128 + SIGTERM) is the JVM's own status for an exit begun by SIGTERM, whatever
            // the shutdown hook does; the log says whether the stop was the graceful one.
            assertTrue(pgfleet.exitValue() == 143 || pgfleet.exitValue() == 0, "exit " + pgfleet.exitValue());
            assertTrue(output.toString().contains("PgFleet stopped"), "exit " + pgfleet.exitValue() + "\n" + output);
        } finally {
            pgfleet.destroyForcibly();
            pgfleet.waitFor(30, TimeUnit.SECONDS);
        }
    }

    static int query(int port) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", TestUsers.SCRAM_USER);
        p.setProperty("password", TestUsers.SCRAM_PASSWORD);
        p.setProperty("connectTimeout", "20");
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/" + TestUsers.DATABASE + "?sslmode=disable&gssEncMode=disable";
        try (Connection c = DriverManager.getConnection(url, p); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT 42")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static void signal(Process process, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
        assertEquals(0, kill.waitFor(), "kill -" + signal);
    }

    private static String exitOf(Process p) {
        return p.isAlive() ? "(alive)" : Integer.toString(p.exitValue());
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
