package dev.pgfleet.proxy.sharding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.health.LocalBanRegistry;
import dev.pgfleet.proxy.ProxyRuntime;
import dev.pgfleet.router.RouterVerticle;
import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.Shards;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;

/**
 * A write split between shards on a pool with {@code two_phase_commit = true}: it commits with
 * PREPARE TRANSACTION and COMMIT PREPARED after a COMMIT record in the decision log, and a PREPARE
 * that fails on one shard (a deferred unique constraint, checked at PREPARE) leaves nothing on any.
 */
class TwoPhaseCommitTest {

    private final Shards shards = TestPostgres.shards();
    @TempDir
    Path dir;
    private Path logFile;
    private Vertx vertx;
    private ProxyRuntime runtime;
    private int port;
    private long[] keys;

    /** The shards allow prepared transactions (PostgreSQL's default, 0, does not): a restart when needed. */
    @BeforeAll
    static void allowPreparedTransactions() throws SQLException {
        for (PgServer s : TestPostgres.shards().servers()) {
            setMaxPreparedTransactions(s, 10);
        }
    }

    static void setMaxPreparedTransactions(PgServer s, int n) throws SQLException {
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

    @BeforeEach
    void setUp() throws SQLException {
        TestPostgres.reset();
        for (PgServer s : shards.servers()) {
            ShardedProxy.sql(s,
                "CREATE TABLE users (id bigint PRIMARY KEY, name text)",
                // Checked at the end of the transaction: with two phases, at PREPARE TRANSACTION.
                "CREATE TABLE dusers (id bigint, name text, CONSTRAINT dusers_id UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)",
                "CREATE TABLE pt (id bigint) PARTITION BY HASH (id)",
                "GRANT ALL ON users, dusers, pt TO " + TestUsers.SCRAM_USER);
        }
        keys = ShardedProxy.keyPerShard(shards);
        logFile = dir.resolve("decisions").resolve("pgfleet-2pc.log");
        start(ShardedProxy.freePort());
    }

    /** PgFleet on {@code port} (the instance's name derives from the host name and the port). */
    private void start(int port) {
        this.port = port;
        StringBuilder toml = new StringBuilder("""
            [general]
            host = "127.0.0.1"
            port = %d
            admin_username = "admin"
            admin_password = "admin"
            two_phase_log = "%s"

            [pools.sharded]
            pool_mode = "transaction"
            query_parser_enabled = true
            sharding_function = "pg_bigint_hash"
            two_phase_commit = true
            cross_shard_writes = "all"

            [[pools.sharded.sharded_tables]]
            name = "users"
            column = "id"
            type = "bigint"

            [[pools.sharded.sharded_tables]]
            name = "dusers"
            column = "id"
            type = "bigint"

            [pools.sharded.users.0]
            username = "%s"
            password = "%s"
            pool_size = 4
            """.formatted(port, logFile, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD));
        for (int i = 0; i < shards.size(); i++) {
            PgServer s = shards.get(i);
            toml.append("\n[pools.sharded.shards.").append(i).append("]\ndatabase = \"").append(TestUsers.DATABASE)
                .append("\"\nservers = [[\"").append(s.host()).append("\", ").append(s.port()).append(", \"primary\"]]\n");
        }
        PgFleetConfig config = ConfigLoader.parse(toml.toString(), "twophase.toml");
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        runtime = new ProxyRuntime(config, new LocalBanRegistry());
        vertx.deployVerticle(new RouterVerticle(config)).await();
        runtime.deploy(vertx, 2).await();
    }

    @AfterEach
    void tearDown() throws SQLException {
        if (runtime != null) {
            runtime.shutdown(vertx, Duration.ofSeconds(2)).await();
            vertx.close().await();
        }
        // Whatever a failed test left prepared would keep the next reset from dropping the database.
        for (PgServer s : shards.servers()) {
            for (String gid : prepared(s)) {
                ShardedProxy.sql(s, "ROLLBACK PREPARED '" + gid + "'");
            }
        }
    }

    private Connection connect() throws SQLException {
        return connect("extended");
    }

    /** pgjdbc in {@code preferQueryMode} simple (Query messages) or extended (Parse/Bind/Execute/Sync). */
    private Connection connect(String queryMode) throws SQLException {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("preferQueryMode", queryMode);
        p.setProperty("user", TestUsers.SCRAM_USER);
        p.setProperty("password", TestUsers.SCRAM_PASSWORD);
        p.setProperty("connectTimeout", "20");
        p.setProperty("socketTimeout", "30");
        return java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/sharded"
            + "?sslmode=disable&gssEncMode=disable", p);
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

    /** The log's records, e.g. "COMMIT pgfleet_..." (DONE is written after the client's answer: waited for). */
    private List<String> records(int atLeast) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        List<String> lines;
        do {
            lines = Files.readAllLines(logFile);
            if (lines.size() >= atLeast) {
                break;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        return lines;
    }

    @Test
    void splitInsertCommitsOnBothShardsThroughTheLog() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            assertEquals(2, st.executeUpdate("INSERT INTO users (id, name) VALUES (" + keys[0] + ", 'a'), ("
                + keys[1] + ", 'b')"));
        }
        assertEquals(1, countOn(0, "users WHERE id = " + keys[0]));
        assertEquals(1, countOn(1, "users WHERE id = " + keys[1]));
        assertEquals(0, countOn(0, "users WHERE id = " + keys[1]));
        for (PgServer s : shards.servers()) {
            assertEquals(List.of(), prepared(s), "prepared transactions left on " + s);
        }
        List<String> lines = records(2);
        assertEquals(2, lines.size(), "records: " + lines);
        assertTrue(lines.get(0).matches("COMMIT pgfleet_[0-9a-f]{8}_\\d+_1"), lines.get(0));
        assertEquals(lines.get(0).replace("COMMIT ", "DONE "), lines.get(1));
    }

    @Test
    void simpleQueryAndConcurrentSplitInsertsEachGetTheirOwnDecision() throws Exception {
        int threads = 6;
        int each = 10;
        long[][] ids = new long[threads * each][];
        long next = Math.max(keys[0], keys[1]);
        for (int n = 0; n < ids.length; n++) {
            long a = ShardedProxy.anotherKeyOn(shards, 0, next);
            long b = ShardedProxy.anotherKeyOn(shards, 1, next);
            ids[n] = new long[] {a, b};
            next = Math.max(a, b);
        }
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int from = t * each;
            all.add(CompletableFuture.runAsync(() -> {
                try (Connection c = connect(from % 2 == 0 ? "simple" : "extended"); Statement st = c.createStatement()) {
                    for (int n = from; n < from + each; n++) {
                        assertEquals(2, st.executeUpdate("INSERT INTO users (id, name) VALUES (" + ids[n][0] + ", 'a'), ("
                            + ids[n][1] + ", 'b')"));
                    }
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
        assertEquals(ids.length, countOn(0, "users"));
        assertEquals(ids.length, countOn(1, "users"));
        for (PgServer s : shards.servers()) {
            assertEquals(List.of(), prepared(s), "prepared transactions left on " + s);
        }
        List<String> lines = records(2 * ids.length);
        assertEquals(ids.length, lines.stream().filter(l -> l.startsWith("COMMIT ")).distinct().count(), "one decision each");
        assertEquals(ids.length, lines.stream().filter(l -> l.startsWith("DONE ")).distinct().count());
    }

    @Test
    void keylessUpdateOnEveryShardCommitsThroughTheLog() throws Exception {
        ShardedProxy.sql(shards.get(0), "INSERT INTO users (id, name) VALUES (" + keys[0] + ", 'a')");
        ShardedProxy.sql(shards.get(1), "INSERT INTO users (id, name) VALUES (" + keys[1] + ", 'b')");
        try (Connection c = connect(); Statement st = c.createStatement()) {
            assertEquals(2, st.executeUpdate("UPDATE users SET name = 'z'"));
        }
        assertEquals(1, countOn(0, "users WHERE name = 'z'"));
        assertEquals(1, countOn(1, "users WHERE name = 'z'"));
        for (PgServer s : shards.servers()) {
            assertEquals(List.of(), prepared(s), "prepared transactions left on " + s);
        }
        List<String> lines = records(2);
        assertEquals(2, lines.size(), "records: " + lines);
        assertTrue(lines.get(0).startsWith("COMMIT pgfleet_"), lines.get(0));
        assertEquals(lines.get(0).replace("COMMIT ", "DONE "), lines.get(1));
    }

    @Test
    void splitCopyCommitsOnBothShardsThroughTheLog() throws Exception {
        try (Connection c = connect()) {
            long n = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY users (id, name) FROM STDIN",
                new StringReader(keys[0] + "\ta\n" + keys[1] + "\tb\n"));
            assertEquals(2, n);
        }
        assertEquals(1, countOn(0, "users WHERE id = " + keys[0]));
        assertEquals(1, countOn(1, "users WHERE id = " + keys[1]));
        for (PgServer s : shards.servers()) {
            assertEquals(List.of(), prepared(s), "prepared transactions left on " + s);
        }
        List<String> lines = records(2);
        assertTrue(lines.get(0).startsWith("COMMIT pgfleet_"), "records: " + lines);
        assertEquals(lines.get(0).replace("COMMIT ", "DONE "), lines.get(1));
    }

    @Test
    void aPrepareThatFailsOnOneShardLeavesNothingOnEither() throws Exception {
        // The clash is only found at PREPARE TRANSACTION (the constraint is deferred): shard 0 has
        // prepared by then, and must roll back.
        ShardedProxy.sql(shards.get(1), "INSERT INTO dusers VALUES (" + keys[1] + ", 'there before')");
        SQLException e;
        try (Connection c = connect(); Statement st = c.createStatement()) {
            e = assertThrows(SQLException.class, () -> st.executeUpdate("INSERT INTO dusers (id, name) VALUES ("
                + keys[0] + ", 'a'), (" + keys[1] + ", 'b')"));
            // The session goes on.
            try (ResultSet rs = st.executeQuery("SELECT 1")) {
                rs.next();
                assertEquals(1, rs.getInt(1));
            }
        }
        assertEquals("23505", e.getSQLState(), e.getMessage());
        assertEquals(0, countOn(0, "dusers"));
        assertEquals(1, countOn(1, "dusers"));
        for (PgServer s : shards.servers()) {
            assertEquals(List.of(), prepared(s), "prepared transactions left on " + s);
        }
        assertEquals(List.of(), Files.readAllLines(logFile), "no decision for a transaction that rolled back");
    }

    @Test
    void recoveryResolvesWhatARestartFinds() throws Exception {
        // Prepared transactions of an earlier start of this instance: one with a COMMIT record, one
        // without, and another program's. The instance's name is in the gids: learn it from a commit.
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO users (id, name) VALUES (" + keys[0] + ", 'a'), (" + keys[1] + ", 'b')");
        }
        String instance = records(2).get(0).substring("COMMIT ".length()).split("_")[1];
        runtime.shutdown(vertx, Duration.ofSeconds(2)).await();
        vertx.close().await();
        runtime = null;

        long earlier = 1_000_000_000_000L;
        String committed = "pgfleet_" + instance + "_" + earlier + "_1";
        String undecided = "pgfleet_" + instance + "_" + earlier + "_2";
        String foreign = "pgfleet_someoneelse_" + earlier + "_1_0";
        long k0 = ShardedProxy.anotherKeyOn(shards, 0, keys[0]);
        long k1 = ShardedProxy.anotherKeyOn(shards, 1, keys[1]);
        long u0 = ShardedProxy.anotherKeyOn(shards, 0, k0);
        long u1 = ShardedProxy.anotherKeyOn(shards, 1, k1);
        prepare(shards.get(0), "INSERT INTO users VALUES (" + k0 + ", 'c')", committed + "_0");
        prepare(shards.get(1), "INSERT INTO users VALUES (" + k1 + ", 'c')", committed + "_1");
        prepare(shards.get(0), "INSERT INTO users VALUES (" + u0 + ", 'u')", undecided + "_0");
        prepare(shards.get(1), "INSERT INTO users VALUES (" + u1 + ", 'u')", undecided + "_1");
        prepare(shards.get(0), "SELECT 1", foreign);
        Files.writeString(logFile, "COMMIT " + committed + "\n", java.nio.file.StandardOpenOption.APPEND);

        start(port);   // the same instance; its first recovery pass runs before deploy completes
        assertEquals(1, countOn(0, "users WHERE id = " + k0));
        assertEquals(1, countOn(1, "users WHERE id = " + k1));
        assertEquals(0, countOn(0, "users WHERE id = " + u0));
        assertEquals(0, countOn(1, "users WHERE id = " + u1));
        assertEquals(List.of(foreign), prepared(shards.get(0)), "another program's prepared transaction is left alone");
        assertEquals(List.of(), prepared(shards.get(1)));
        // Compacted at start: the done pair is gone; the recovered commit gets its DONE once no shard holds it.
        List<String> after = records(2);
        assertEquals(List.of("COMMIT " + committed, "DONE " + committed), after);
        ShardedProxy.sql(shards.get(0), "ROLLBACK PREPARED '" + foreign + "'");
    }

    @Test
    void aCommitPreparedLostAfterTheDecisionIsAnsweredAsCommittedAndFinishedByRecovery() throws Exception {
        // The fail point pauses after the COMMIT record; meanwhile shard 1's server connection is
        // terminated, so its COMMIT PREPARED cannot be sent.
        runtime.shutdown(vertx, Duration.ofSeconds(2)).await();
        vertx.close().await();
        runtime = null;
        System.setProperty("pgfleet.test.twoPhasePauseMillis", "1500");
        try {
            start(port);
        } finally {
            System.clearProperty("pgfleet.test.twoPhasePauseMillis");
        }
        CompletableFuture<Integer> insert = CompletableFuture.supplyAsync(() -> {
            try (Connection c = connect(); Statement st = c.createStatement()) {
                return st.executeUpdate("INSERT INTO users (id, name) VALUES (" + keys[0] + ", 'a'), (" + keys[1] + ", 'b')");
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (prepared(shards.get(1)).isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "nothing prepared on shard 1");
            Thread.sleep(20);
        }
        try (Connection c = shards.get(1).connectSuperuser(TestUsers.DATABASE); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '"
                 + TestUsers.SCRAM_USER + "'")) {
            rs.next();
            assertTrue(rs.getLong(1) >= 1, "PgFleet's connection to shard 1");
        }
        assertEquals(2, insert.get(30, TimeUnit.SECONDS), "the decision was logged: the client is told it committed");
        assertEquals(1, countOn(0, "users WHERE id = " + keys[0]));
        assertEquals(1, prepared(shards.get(1)).size(), "shard 1 still prepared, left to recovery");
        long resolved = System.nanoTime() + 15_000_000_000L;   // a pass every 10 s
        while (!prepared(shards.get(1)).isEmpty()) {
            assertTrue(System.nanoTime() < resolved, "recovery did not commit shard 1's prepared transaction");
            Thread.sleep(100);
        }
        assertEquals(1, countOn(1, "users WHERE id = " + keys[1]));
    }

    // -- a client's transaction block over several shards ------------------------------------

    /** One transaction block: a row on each shard (by parameter key), read back and updated inside it. */
    private void blockOverBothShards(Connection c, long a, long b) throws SQLException {
        c.setAutoCommit(false);
        try (java.sql.PreparedStatement ins = c.prepareStatement("INSERT INTO users (id, name) VALUES (?, ?)");
             java.sql.PreparedStatement sel = c.prepareStatement("SELECT name FROM users WHERE id = ?");
             java.sql.PreparedStatement upd = c.prepareStatement("UPDATE users SET name = name || '!' WHERE id = ?")) {
            ins.setLong(1, a);
            ins.setString(2, "a");
            assertEquals(1, ins.executeUpdate());
            ins.setLong(1, b);
            ins.setString(2, "b");
            assertEquals(1, ins.executeUpdate());
            // Back on the first shard, which still holds its part of the transaction.
            sel.setLong(1, a);
            try (ResultSet rs = sel.executeQuery()) {
                assertTrue(rs.next(), "the transaction's own row on the first shard");
                assertEquals("a", rs.getString(1));
            }
            upd.setLong(1, b);
            assertEquals(1, upd.executeUpdate());
        }
    }

    @Test
    void aTransactionBlockOverTwoShardsCommitsOnBothThroughTheLog() throws Exception {
        for (String mode : List.of("extended", "simple")) {
            long a = ShardedProxy.anotherKeyOn(shards, 0, mode.equals("simple") ? keys[0] + 1000 : keys[0]);
            long b = ShardedProxy.anotherKeyOn(shards, 1, mode.equals("simple") ? keys[1] + 1000 : keys[1]);
            int before = Files.exists(logFile) ? Files.readAllLines(logFile).size() : 0;
            try (Connection c = connect(mode)) {
                blockOverBothShards(c, a, b);
                // Not visible outside the transaction before COMMIT.
                assertEquals(0, countOn(0, "users WHERE id = " + a));
                assertEquals(0, countOn(1, "users WHERE id = " + b));
                c.commit();
                // The session goes on, in a transaction of its own.
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT name FROM users WHERE id = "
                    + b)) {
                    assertTrue(rs.next());
                    assertEquals("b!", rs.getString(1));
                }
                c.commit();
            }
            assertEquals(1, countOn(0, "users WHERE id = " + a + " AND name = 'a'"), mode);
            assertEquals(1, countOn(1, "users WHERE id = " + b + " AND name = 'b!'"), mode);
            assertEquals(0, countOn(0, "users WHERE id = " + b), mode);
            for (PgServer s : shards.servers()) {
                assertEquals(List.of(), prepared(s), "prepared transactions left on " + s);
            }
            List<String> lines = records(before + 2);
            assertEquals(before + 2, lines.size(), "records: " + lines);
            assertTrue(lines.get(before).startsWith("COMMIT pgfleet_"), lines.get(before));
            assertEquals(lines.get(before).replace("COMMIT ", "DONE "), lines.get(before + 1));
        }
    }

    @Test
    void rollbackOfATransactionBlockOverTwoShardsLeavesNothingOnEither() throws Exception {
        for (String mode : List.of("extended", "simple")) {
            try (Connection c = connect(mode)) {
                blockOverBothShards(c, keys[0], keys[1]);
                c.rollback();
                c.setAutoCommit(true);
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
                    assertTrue(rs.next());
                }
            }
            assertEquals(0, countOn(0, "users"), mode);
            assertEquals(0, countOn(1, "users"), mode);
        }
        assertTrue(!Files.exists(logFile) || Files.readAllLines(logFile).isEmpty(), "no decision for a rollback");
    }

    @Test
    void anErrorOnOneShardFailsTheWholeTransactionBlock() throws Exception {
        ShardedProxy.sql(shards.get(1), "INSERT INTO users (id, name) VALUES (" + keys[1] + ", 'there before')");
        try (Connection c = connect("simple"); Statement st = c.createStatement()) {
            st.execute("BEGIN");
            st.executeUpdate("INSERT INTO users (id, name) VALUES (" + keys[0] + ", 'a')");
            SQLException dup = assertThrows(SQLException.class,
                () -> st.executeUpdate("INSERT INTO users (id, name) VALUES (" + keys[1] + ", 'b')"));
            assertEquals("23505", dup.getSQLState());
            // As on one PostgreSQL: every later statement is refused until the block ends, on any shard.
            SQLException aborted = assertThrows(SQLException.class,
                () -> st.executeUpdate("UPDATE users SET name = 'x' WHERE id = " + keys[0]));
            assertEquals("25P02", aborted.getSQLState(), aborted.getMessage());
            st.execute("COMMIT");   // of a failed transaction: PostgreSQL's answer is ROLLBACK
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM users WHERE id = " + keys[0])) {
                rs.next();
                assertEquals(0, rs.getLong(1));
            }
        }
        assertEquals(0, countOn(0, "users"));
        assertEquals(1, countOn(1, "users WHERE name = 'there before'"));
        for (PgServer s : shards.servers()) {
            assertEquals(List.of(), prepared(s), "prepared transactions left on " + s);
        }
    }

    @Test
    void aDeferredConstraintThatFailsAtCommitLeavesNothingOnEitherShard() throws Exception {
        ShardedProxy.sql(shards.get(1), "INSERT INTO dusers VALUES (" + keys[1] + ", 'there before')");
        try (Connection c = connect()) {
            c.setAutoCommit(false);
            try (java.sql.PreparedStatement ins = c.prepareStatement("INSERT INTO dusers (id, name) VALUES (?, 'x')")) {
                ins.setLong(1, keys[0]);
                ins.executeUpdate();
                ins.setLong(1, keys[1]);
                ins.executeUpdate();   // the clash is found at PREPARE TRANSACTION
            }
            SQLException e = assertThrows(SQLException.class, c::commit);
            assertEquals("23505", e.getSQLState(), e.getMessage());
            c.setAutoCommit(true);
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM dusers WHERE id = "
                + keys[0])) {
                rs.next();
                assertEquals(0, rs.getLong(1), "the session goes on, and shard 0 rolled back");
            }
        }
        assertEquals(0, countOn(0, "dusers"));
        assertEquals(1, countOn(1, "dusers"));
        for (PgServer s : shards.servers()) {
            assertEquals(List.of(), prepared(s), "prepared transactions left on " + s);
        }
    }

    @Test
    void aClientThatLeavesMidBlockCommitsNothing() throws Exception {
        try (Connection c = connect()) {
            blockOverBothShards(c, keys[0], keys[1]);
        }   // closed without COMMIT
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (busyServerConnections() > 0) {
            assertTrue(System.nanoTime() < deadline, "server connections still in the client's transaction");
            Thread.sleep(20);
        }
        assertEquals(0, countOn(0, "users"));
        assertEquals(0, countOn(1, "users"));
        for (PgServer s : shards.servers()) {
            assertEquals(List.of(), prepared(s), "prepared transactions left on " + s);
        }
    }

    /** PgFleet's server connections that are inside a transaction, on every shard. */
    private long busyServerConnections() throws SQLException {
        long n = 0;
        for (PgServer s : shards.servers()) {
            try (Connection c = s.connectSuperuser("postgres"); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = '"
                     + TestUsers.SCRAM_USER + "' AND state LIKE 'idle in transaction%'")) {
                rs.next();
                n += rs.getLong(1);
            }
        }
        return n;
    }

    @Test
    void savepointsAndSplitStatementsInsideABlockOverShardsAreRefused() throws Exception {
        try (Connection c = connect("simple"); Statement st = c.createStatement()) {
            st.execute("BEGIN");
            st.executeUpdate("INSERT INTO users (id, name) VALUES (" + keys[0] + ", 'a')");
            st.executeUpdate("INSERT INTO users (id, name) VALUES (" + keys[1] + ", 'b')");
            SQLException e = assertThrows(SQLException.class, () -> st.execute("SAVEPOINT s1"));
            assertEquals("0A000", e.getSQLState());
            assertTrue(e.getMessage().contains("savepoints"), e.getMessage());
            st.execute("ROLLBACK");
            st.execute("BEGIN");
            st.executeUpdate("INSERT INTO users (id, name) VALUES (" + keys[0] + ", 'a')");
            e = assertThrows(SQLException.class, () -> st.executeQuery("SELECT * FROM users WHERE id IN (" + keys[0] + ", "
                + keys[1] + ")"));
            assertEquals("0A000", e.getSQLState());
            assertTrue(e.getMessage().contains("each statement must go to one shard"), e.getMessage());
            st.execute("ROLLBACK");
            try (ResultSet rs = st.executeQuery("SELECT 1")) {
                assertTrue(rs.next());
            }
        }
        assertEquals(0, countOn(0, "users"));
        assertEquals(0, countOn(1, "users"));
    }

    @Test
    void manyClientsRunBlocksOverBothShardsOnFewServerConnections() throws Exception {
        // 6 clients, 4 server connections per shard; half of them go to shard 1 first, half to shard 0.
        int threads = 6;
        int each = 8;
        long[][] ids = new long[threads * each][];
        long next = Math.max(keys[0], keys[1]);
        for (int n = 0; n < ids.length; n++) {
            long a = ShardedProxy.anotherKeyOn(shards, 0, next);
            long b = ShardedProxy.anotherKeyOn(shards, 1, next);
            ids[n] = n % 2 == 0 ? new long[] {a, b} : new long[] {b, a};
            next = Math.max(a, b);
        }
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int from = t * each;
            all.add(CompletableFuture.runAsync(() -> {
                try (Connection c = connect(from % 3 == 0 ? "simple" : "extended")) {
                    for (int n = from; n < from + each; n++) {
                        blockOverBothShards(c, ids[n][0], ids[n][1]);
                        if (n % 4 == 3) {
                            c.rollback();
                        } else {
                            c.commit();
                        }
                    }
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(120, TimeUnit.SECONDS);
        long committed = java.util.stream.IntStream.range(0, ids.length).filter(n -> n % 4 != 3).count();
        assertEquals(committed, countOn(0, "users"));
        assertEquals(committed, countOn(1, "users"));
        assertEquals(committed, countOn(0, "users WHERE name LIKE '%!'") + countOn(1, "users WHERE name LIKE '%!'"));
        for (PgServer s : shards.servers()) {
            assertEquals(List.of(), prepared(s), "prepared transactions left on " + s);
        }
    }

    @Test
    void vertxPgClientTransactionsOverTwoShardsCommitAndRollBack() throws Exception {
        // Its default (named statements, described once) and the unnamed statements of useLayer7Proxy.
        long next = Math.max(keys[0], keys[1]);
        for (boolean layer7 : new boolean[] {false, true}) {
            long a = ShardedProxy.anotherKeyOn(shards, 0, next);
            long b = ShardedProxy.anotherKeyOn(shards, 1, next);
            long a2 = ShardedProxy.anotherKeyOn(shards, 0, Math.max(a, b));
            long b2 = ShardedProxy.anotherKeyOn(shards, 1, Math.max(a, b));
            next = Math.max(a2, b2);
            io.vertx.pgclient.PgConnectOptions o = new io.vertx.pgclient.PgConnectOptions().setHost("127.0.0.1")
                .setPort(port).setDatabase("sharded").setUser(TestUsers.SCRAM_USER).setPassword(TestUsers.SCRAM_PASSWORD)
                .setUseLayer7Proxy(layer7);
            io.vertx.pgclient.PgConnection c = await(io.vertx.pgclient.PgConnection.connect(vertx, o));
            try {
                String insert = "INSERT INTO users (id, name) VALUES ($1, $2)";
                io.vertx.sqlclient.Transaction tx = await(c.begin());
                await(c.preparedQuery(insert).execute(io.vertx.sqlclient.Tuple.of(a, "a")));
                await(c.preparedQuery(insert).execute(io.vertx.sqlclient.Tuple.of(b, "b")));
                io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row> rs = await(c.preparedQuery(
                    "SELECT name FROM users WHERE id = $1").execute(io.vertx.sqlclient.Tuple.of(a)));
                assertEquals("a", rs.iterator().next().getString(0), "layer7 " + layer7);
                await(tx.commit());
                tx = await(c.begin());
                await(c.preparedQuery(insert).execute(io.vertx.sqlclient.Tuple.of(b2, "b2")));
                await(c.preparedQuery(insert).execute(io.vertx.sqlclient.Tuple.of(a2, "a2")));
                await(tx.rollback());
            } finally {
                await(c.close());
            }
            assertEquals(1, countOn(0, "users WHERE id = " + a), "layer7 " + layer7);
            assertEquals(1, countOn(1, "users WHERE id = " + b), "layer7 " + layer7);
            assertEquals(0, countOn(0, "users WHERE id = " + a2), "layer7 " + layer7);
            assertEquals(0, countOn(1, "users WHERE id = " + b2), "layer7 " + layer7);
        }
        for (PgServer s : shards.servers()) {
            assertEquals(List.of(), prepared(s), "prepared transactions left on " + s);
        }
    }

    private static <T> T await(io.vertx.core.Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    /** A prepared transaction of PgFleet's server login (only its owner or a superuser may finish it). */
    private static void prepare(PgServer s, String sql, String gid) throws SQLException {
        try (Connection c = s.connect(TestUsers.DATABASE, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD);
             Statement st = c.createStatement()) {
            st.execute("BEGIN");
            st.execute(sql);
            st.execute("PREPARE TRANSACTION '" + gid + "'");
        }
    }
}
