package dev.pgfleet.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.Shards;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two-phase commit's acceptance test: PgFleet in a JVM of its own is killed (SIGKILL) while a split
 * INSERT is between its PREPAREs and its COMMIT PREPAREDs (a test-only fail point pauses there, on a
 * timer), then started again on the same port (the same instance): within 15 s no shard holds a
 * prepared transaction, and the rows are on both shards when the decision was logged before the
 * kill, on neither when it was not. And a shard with max_prepared_transactions = 0: an ERROR line
 * naming it, and 0A000 for the pool's writes across shards.
 */
class TwoPhaseCrashTest {

    private static final long START_DEADLINE_MS = 60_000;
    private static final String POOL = "twophase";

    private final Shards shards = TestPostgres.shards();
    @TempDir
    Path dir;
    private Path logFile;
    private Path config;
    private int port;
    private long[] keys;
    private final List<Process> started = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        for (PgServer s : shards.servers()) {
            setMaxPreparedTransactions(s, 10);
        }
        TestPostgres.reset();
        for (PgServer s : shards.servers()) {
            sql(s, "CREATE TABLE users (id bigint PRIMARY KEY, name text)",
                "CREATE TABLE pt (id bigint) PARTITION BY HASH (id)",
                "GRANT ALL ON users TO " + TestUsers.SCRAM_USER);
        }
        keys = keyPerShard();
        port = SignalsTest.freePort();
        logFile = dir.resolve("pgfleet-2pc.log");
        config = dir.resolve("pgfleet.toml");
        StringBuilder toml = new StringBuilder("""
            [general]
            host = "127.0.0.1"
            port = %d
            admin_username = "admin"
            admin_password = "admin"
            worker_threads = 1
            shutdown_timeout = 2000
            two_phase_log = "%s"

            [pools.%s]
            pool_mode = "transaction"
            query_parser_enabled = true
            sharding_function = "pg_bigint_hash"
            two_phase_commit = true

            [[pools.%s.sharded_tables]]
            name = "users"
            column = "id"
            type = "bigint"

            [pools.%s.users.0]
            username = "%s"
            password = "%s"
            pool_size = 2
            """.formatted(port, logFile, POOL, POOL, POOL, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD));
        for (int i = 0; i < shards.size(); i++) {
            PgServer s = shards.get(i);
            toml.append("\n[pools.").append(POOL).append(".shards.").append(i).append("]\ndatabase = \"")
                .append(TestUsers.DATABASE).append("\"\nservers = [[\"").append(s.host()).append("\", ")
                .append(s.port()).append(", \"primary\"]]\n");
        }
        Files.writeString(config, toml);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Process p : started) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        for (PgServer s : shards.servers()) {
            for (String gid : prepared(s)) {
                sql(s, "ROLLBACK PREPARED '" + gid + "'");
            }
        }
    }

    @Test
    @Timeout(240)
    void killedAfterTheDecisionCommitsOnBothShardsAfterRestart() throws Exception {
        killMidCommitThenRestart("after-commit-record", true);
    }

    @Test
    @Timeout(240)
    void killedBeforeTheDecisionCommitsOnNeitherAfterRestart() throws Exception {
        killMidCommitThenRestart("before-commit-record", false);
    }

    @Test
    @Timeout(240)
    void aTransactionBlockKilledAfterTheDecisionCommitsOnBothShardsAfterRestart() throws Exception {
        killMidCommitThenRestart("after-commit-record", true, true);
    }

    private void killMidCommitThenRestart(String pauseAt, boolean logged) throws Exception {
        killMidCommitThenRestart(pauseAt, logged, false);
    }

    /** {@code block}: BEGIN, a row on each shard, COMMIT (pgjdbc, extended protocol); else one split INSERT. */
    private void killMidCommitThenRestart(String pauseAt, boolean logged, boolean block) throws Exception {
        Process pgfleet = start("-Dpgfleet.test.twoPhasePauseMillis=60000", "-Dpgfleet.test.twoPhasePauseAt=" + pauseAt);
        ProcessOutput output = new ProcessOutput(pgfleet, START_DEADLINE_MS);
        output.await("PgFleet listening", pgfleet);
        CompletableFuture<Integer> insert = CompletableFuture.supplyAsync(() -> {
            try (Connection c = connect(); Statement st = c.createStatement()) {
                if (!block) {
                    return st.executeUpdate("INSERT INTO users (id, name) VALUES (" + keys[0] + ", 'a'), (" + keys[1]
                        + ", 'b')");
                }
                c.setAutoCommit(false);
                try (java.sql.PreparedStatement ins = c.prepareStatement("INSERT INTO users (id, name) VALUES (?, ?)")) {
                    ins.setLong(1, keys[0]);
                    ins.setString(2, "a");
                    int n = ins.executeUpdate();
                    ins.setLong(1, keys[1]);
                    ins.setString(2, "b");
                    n += ins.executeUpdate();
                    c.commit();
                    return n;
                }
            } catch (SQLException e) {
                return -1;   // the kill: the client never hears the end
            }
        });
        // Both shards prepared (and, for the logged case, the decision on disk): the pause is running.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(prepared(shards.get(0)).size() == 1 && prepared(shards.get(1)).size() == 1
            && (!logged || Files.readString(logFile).startsWith("COMMIT ")))) {
            assertTrue(System.nanoTime() < deadline, "no prepared transaction on both shards:\n" + output);
            Thread.sleep(50);
        }
        assertEquals(logged ? 1 : 0, Files.readAllLines(logFile).size(), "decision records before the kill");
        pgfleet.destroyForcibly();
        assertTrue(pgfleet.waitFor(30, TimeUnit.SECONDS));
        assertEquals(-1, insert.get(30, TimeUnit.SECONDS), "the client got no answer");
        assertEquals(0, countOn(0, "users") + countOn(1, "users"), "nothing visible while prepared");

        Process again = start();
        ProcessOutput output2 = new ProcessOutput(again, START_DEADLINE_MS);
        output2.await("PgFleet listening", again);
        long resolved = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!prepared(shards.get(0)).isEmpty() || !prepared(shards.get(1)).isEmpty()) {
            assertTrue(System.nanoTime() < resolved, "prepared transactions left 15 s after the restart: "
                + prepared(shards.get(0)) + " " + prepared(shards.get(1)) + "\n" + output2);
            Thread.sleep(100);
        }
        long expected = logged ? 1 : 0;
        assertEquals(expected, countOn(0, "users WHERE id = " + keys[0]), "shard 0");
        assertEquals(expected, countOn(1, "users WHERE id = " + keys[1]), "shard 1");
        // And the restarted PgFleet commits in two phases as usual.
        try (Connection c = connect(); Statement st = c.createStatement()) {
            assertEquals(2, st.executeUpdate("INSERT INTO users (id, name) VALUES (" + anotherKeyOn(0, keys[0])
                + ", 'c'), (" + anotherKeyOn(1, keys[1]) + ", 'd')"));
        }
    }

    @Test
    @Timeout(240)
    void aShardWithoutPreparedTransactionsIsNamedAndWritesAcrossShardsGet0A000() throws Exception {
        setMaxPreparedTransactions(shards.get(1), 0);
        try {
            Process pgfleet = start();
            ProcessOutput output = new ProcessOutput(pgfleet, START_DEADLINE_MS);
            output.await("PgFleet listening", pgfleet);
            output.await("pool " + POOL + " shard 1 (server " + shards.get(1).host() + ":" + shards.get(1).port()
                + "): max_prepared_transactions is 0", pgfleet);
            assertTrue(output.toString().lines().anyMatch(l -> l.contains("max_prepared_transactions is 0")
                && l.contains("ERROR")), output.toString());
            try (Connection c = connect(); Statement st = c.createStatement()) {
                SQLException e = assertThrows(SQLException.class, () -> st.executeUpdate(
                    "INSERT INTO users (id, name) VALUES (" + keys[0] + ", 'a'), (" + keys[1] + ", 'b')"));
                assertEquals("0A000", e.getSQLState(), e.getMessage());
                assertTrue(e.getMessage().contains("max_prepared_transactions is 0"), e.getMessage());
                // A write on one shard is no two-phase commit: it goes on.
                assertEquals(1, st.executeUpdate("INSERT INTO users (id, name) VALUES (" + keys[0] + ", 'a')"));
            }
            assertEquals(1, countOn(0, "users"));
            assertEquals(0, countOn(1, "users"));
        } finally {
            setMaxPreparedTransactions(shards.get(1), 10);
        }
    }

    private Process start(String... jvmOptions) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(List.of(jvmOptions));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.pgfleet.dist.PgFleetMain", "run", "-c",
            config.toString()));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        started.add(p);
        return p;
    }

    private Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestUsers.SCRAM_USER);
        p.setProperty("password", TestUsers.SCRAM_PASSWORD);
        p.setProperty("connectTimeout", "20");
        p.setProperty("socketTimeout", "90");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + POOL
            + "?sslmode=disable&gssEncMode=disable", p);
    }

    /** PostgreSQL's default, 0, allows no prepared transaction: set, with a restart when it changes. */
    static void setMaxPreparedTransactions(PgServer s, int n) throws SQLException {
        if (!s.isRunning()) {
            s.start();
        }
        try (Connection c = s.connectSuperuser("postgres"); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SHOW max_prepared_transactions")) {
                rs.next();
                if (rs.getInt(1) == n) {
                    return;
                }
            }
            st.execute("ALTER SYSTEM SET max_prepared_transactions = " + n);
        }
        s.restart();
    }

    static List<String> prepared(PgServer s) throws SQLException {
        List<String> gids = new ArrayList<>();
        try (Connection c = s.connectSuperuser(TestUsers.DATABASE); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT gid FROM pg_prepared_xacts WHERE database = current_database()")) {
            while (rs.next()) {
                gids.add(rs.getString(1));
            }
        }
        return gids;
    }

    private long countOn(int shard, String where) throws SQLException {
        try (Connection c = shards.get(shard).connectSuperuser(TestUsers.DATABASE); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The shard PostgreSQL's PARTITION BY HASH (MODULUS = shard count) puts {@code key} in. */
    private int shardOf(long key) throws SQLException {
        try (Connection c = shards.get(0).connectSuperuser(TestUsers.DATABASE); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT r FROM generate_series(0, " + (shards.size() - 1) + ") r"
                 + " WHERE satisfies_hash_partition('pt'::regclass, " + shards.size() + ", r, " + key + "::bigint)")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private long[] keyPerShard() throws SQLException {
        long[] found = {-1, -1};
        for (long k = 1; found[0] < 0 || found[1] < 0; k++) {
            int s = shardOf(k);
            if (found[s] < 0) {
                found[s] = k;
            }
        }
        return found;
    }

    private long anotherKeyOn(int shard, long not) throws SQLException {
        for (long k = not + 1; ; k++) {
            if (shardOf(k) == shard) {
                return k;
            }
        }
    }

    private static void sql(PgServer server, String... statements) throws SQLException {
        try (Connection c = server.connectSuperuser(TestUsers.DATABASE); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }
}
