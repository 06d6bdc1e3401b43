package dev.pgfleet.proxy.sharding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.Shards;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.io.StringReader;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * Text and uuid sharding keys through the proxy (pgjdbc in text format, vertx-pg-client in
 * binary), checked against PostgreSQL's own PARTITION BY HASH; and the all-or-nothing of a split
 * INSERT or COPY when a shard's server refuses a row (a duplicate key).
 */
class ShardKeyTypesTest {

    private static final String TABLES = ShardedProxy.USERS_AND_PAYMENTS + """

        [[pools.sharded.sharded_tables]]
        name = "accounts"
        column = "code"
        type = "text"

        [[pools.sharded.sharded_tables]]
        name = "devices"
        column = "id"
        type = "uuid"
        """;

    private final Shards shards = TestPostgres.shards();
    private ShardedProxy proxy;
    private long[] keys;

    @BeforeEach
    void setUp() throws SQLException {
        TestPostgres.reset();
        ShardedProxy.createSchema(shards);
        for (int i = 0; i < shards.size(); i++) {
            ShardedProxy.sql(shards.get(i),
                "CREATE TABLE accounts (code text PRIMARY KEY, n int)",
                "CREATE TABLE devices (id uuid PRIMARY KEY, n int)",
                "CREATE TABLE pt_text (k text) PARTITION BY HASH (k)",
                "CREATE TABLE pt_uuid (k uuid) PARTITION BY HASH (k)",
                "GRANT ALL ON accounts, devices TO " + TestUsers.SCRAM_USER);
        }
        keys = ShardedProxy.keyPerShard(shards);
        proxy = ShardedProxy.start(shards, "transaction", "", TABLES, 4);
    }

    @AfterEach
    void tearDown() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void textAndUuidKeysLandWherePartitionByHashPutsThem() throws Exception {
        int n = 1000;
        SplittableRandom random = new SplittableRandom(13);
        List<String> codes = new ArrayList<>();
        try (Connection c = proxy.connect();
             PreparedStatement ps = c.prepareStatement("INSERT INTO accounts (code, n) VALUES (?, ?)")) {
            for (int i = 0; i < n; i++) {
                String code = "acct-" + Long.toHexString(random.nextLong()) + (i % 7 == 0 ? "-é" : "");
                codes.add(code);
                ps.setString(1, code);
                ps.setInt(2, i);
                assertEquals(1, ps.executeUpdate());
            }
        }
        List<UUID> ids = new ArrayList<>();
        Vertx vertx = Vertx.vertx();
        try {
            PgConnection conn = PgConnection.connect(vertx, proxy.pgOptions()).await();
            for (int i = 0; i < n; i++) {
                UUID id = new UUID(random.nextLong(), random.nextLong());
                ids.add(id);
                conn.preparedQuery("INSERT INTO devices (id, n) VALUES ($1, $2)").execute(Tuple.of(id, i)).await();
            }
            // A keyed read by a binary uuid parameter finds its row on its shard.
            for (int i = 0; i < 50; i++) {
                RowSet<Row> rows = conn.preparedQuery("SELECT n FROM devices WHERE id = $1").execute(Tuple.of(ids.get(i))).await();
                assertEquals(1, rows.size(), "device " + ids.get(i));
                assertEquals(i, rows.iterator().next().getInteger(0));
            }
            conn.close().await();
        } finally {
            vertx.close().await();
        }
        long accounts = 0;
        long devices = 0;
        for (int s = 0; s < shards.size(); s++) {
            accounts += assertAllOnShard(s, "accounts", "code", "pt_text", "text");
            devices += assertAllOnShard(s, "devices", "id", "pt_uuid", "uuid");
        }
        assertEquals(n, accounts);
        assertEquals(n, devices);
        try (Connection c = proxy.connect(); PreparedStatement ps = c.prepareStatement("SELECT n FROM accounts WHERE code = ?")) {
            for (int i = 0; i < 50; i++) {
                ps.setString(1, codes.get(i));
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next(), codes.get(i));
                    assertEquals(i, rs.getInt(1));
                }
            }
        }
    }

    /** Every key of {@code table} on shard {@code s} has remainder {@code s} in PostgreSQL's hash partitioning; returns the count. */
    private long assertAllOnShard(int s, String table, String column, String partitioned, String type) throws SQLException {
        List<String> found = new ArrayList<>();
        try (Connection c = shards.get(s).connectSuperuser(TestUsers.DATABASE); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT " + column + "::text FROM " + table)) {
            while (rs.next()) {
                found.add(rs.getString(1));
            }
        }
        try (Connection c = shards.get(0).connectSuperuser(TestUsers.DATABASE);
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM unnest(?::" + type + "[]) k WHERE NOT "
                 + "satisfies_hash_partition('" + partitioned + "'::regclass, " + shards.size() + ", " + s + ", k)")) {
            Array arr = c.createArrayOf("text", found.toArray());
            ps.setArray(1, arr);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertEquals(0, rs.getLong(1), table + " rows on shard " + s + " that PostgreSQL puts elsewhere");
            }
        }
        return found.size();
    }

    @Test
    void multiRowInsertReturnsEveryShardsRows() throws SQLException {
        long a = keys[0];
        long b = keys[1];
        for (String mode : new String[] {"simple", "extended"}) {
            try (Connection c = proxy.connect("preferQueryMode", mode); Statement st = c.createStatement()) {
                long a2 = a + 1_000_000L * (mode.equals("simple") ? 1 : 2);
                long b2 = b + 1_000_000L * (mode.equals("simple") ? 1 : 2);
                a2 = ShardedProxy.anotherKeyOn(shards, 0, a2);
                b2 = ShardedProxy.anotherKeyOn(shards, 1, b2);
                Set<Long> returned = new HashSet<>();
                try (ResultSet rs = st.executeQuery("INSERT INTO users (id, name) VALUES (" + a2 + ", 'a'), (" + b2
                    + ", 'b') RETURNING id")) {
                    while (rs.next()) {
                        returned.add(rs.getLong(1));
                    }
                }
                assertEquals(Set.of(a2, b2), returned, mode);
                assertEquals(2, st.executeUpdate("INSERT INTO users (id, name) VALUES (" + (a2 + 7_000_000_000L) + ", 'c'), ("
                    + (b2 + 7_000_000_000L) + ", 'd')"), mode + ": the command tag counts every shard's rows");
            }
        }
    }

    @Test
    void multiRowInsertThatFailsOnOneShardLeavesNoRowAnywhere() throws SQLException {
        long a = keys[0];
        long b = keys[1];
        ShardedProxy.sql(shards.get(1), "INSERT INTO users (id, name) VALUES (" + b + ", 'already')");
        for (String mode : new String[] {"simple", "extended"}) {
            try (Connection c = proxy.connect("preferQueryMode", mode); Statement st = c.createStatement()) {
                SQLException e = assertThrows(SQLException.class, () -> st.executeUpdate(
                    "INSERT INTO users (id, name) VALUES (" + a + ", 'new'), (" + b + ", 'dup')"));
                assertEquals("23505", e.getSQLState(), mode + ": the shard's own error");
                assertEquals(0, proxy.countOn(0, "users WHERE id = " + a), mode + ": shard 0 rolled back");
                assertEquals(1, proxy.countOn(1, "users WHERE id = " + b));
                try (ResultSet rs = st.executeQuery("SELECT name FROM users WHERE id = " + b)) {
                    assertTrue(rs.next(), "the session goes on");
                    assertEquals("already", rs.getString(1));
                }
            }
        }
    }

    @Test
    void copyWithARowTheServerRefusesKeepsNoRowOnAnyShard() throws Exception {
        long dup = keys[1];
        ShardedProxy.sql(shards.get(1), "INSERT INTO users (id, name) VALUES (" + dup + ", 'already')");
        StringBuilder data = new StringBuilder();
        for (long k = 100_000; k < 102_000; k++) {
            data.append(k).append("\trow").append(k).append('\n');
            if (k == 101_000) {
                data.append(dup).append("\tduplicate\n");   // in the middle: shard 1's server refuses it
            }
        }
        try (Connection c = proxy.connect()) {
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            SQLException e = assertThrows(SQLException.class,
                () -> copy.copyIn("COPY users (id, name) FROM STDIN", new StringReader(data.toString())));
            assertEquals("23505", e.getSQLState(), e.getMessage());
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT name FROM users WHERE id = " + dup)) {
                assertTrue(rs.next(), "the session goes on after the failed COPY");
            }
        }
        assertEquals(0, proxy.countOn(0, "users"), "shard 0 keeps no row of the failed COPY");
        assertEquals(1, proxy.countOn(1, "users"), "shard 1 keeps only the row it had");
    }

    @Test
    void keylessStatementInsideATransactionFailsIt() throws SQLException {
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.executeUpdate("INSERT INTO users (id, name) VALUES (" + keys[1] + ", 'x')");
            SQLException e = assertThrows(SQLException.class, () -> st.executeQuery("SELECT count(*) FROM users"));
            assertEquals("0A000", e.getSQLState(), e.getMessage());
            SQLException aborted = assertThrows(SQLException.class,
                () -> st.executeQuery("SELECT name FROM users WHERE id = " + keys[1]));
            assertEquals("25P02", aborted.getSQLState(), "the transaction is aborted, as after any error");
            c.rollback();
            assertEquals(0, proxy.countOn(1, "users"));
        }
    }

    @Test
    void deferredBeginWaitsForItsShardsConnection() throws Exception {
        proxy.close();
        proxy = ShardedProxy.start(shards, "transaction", "", TABLES, 1);
        long k1 = keys[1];
        long k2 = ShardedProxy.anotherKeyOn(shards, 1, k1);
        try (Connection a = proxy.connect(); Connection b = proxy.connect()) {
            a.setAutoCommit(false);
            b.setAutoCommit(false);
            try (Statement sa = a.createStatement()) {
                sa.executeUpdate("INSERT INTO users (id, name) VALUES (" + k1 + ", 'a')");   // holds shard 1's only connection
            }
            java.util.concurrent.CompletableFuture<Integer> other = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try (Statement sb = b.createStatement()) {
                    return sb.executeUpdate("INSERT INTO users (id, name) VALUES (" + k2 + ", 'b')");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(300);
            assertTrue(!other.isDone(), "b waits for shard 1's connection");
            a.commit();
            assertEquals(1, other.get(20, java.util.concurrent.TimeUnit.SECONDS));
            b.rollback();   // b's INSERT ran inside its transaction: BEGIN went first, after the wait
        }
        assertEquals(1, proxy.countOn(1, "users WHERE id = " + k1));
        assertEquals(0, proxy.countOn(1, "users WHERE id = " + k2), "b's rolled-back row");
    }

    @Test
    void pgcatRegexesPickTheShard() throws SQLException {
        proxy.close();
        proxy = ShardedProxy.start(shards, "transaction", """
            shard_id_regex = '/\\* sh: (\\d+) \\*/'
            sharding_key_regex = '/\\* key: (\\d+) \\*/'
            """, TABLES, 2);
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            for (int s = 0; s < shards.size(); s++) {
                try (ResultSet rs = st.executeQuery("/* sh: " + s + " */ SELECT count(*), inet_server_port() FROM users")) {
                    rs.next();
                    assertEquals(proxy.shardPort(s), rs.getInt(2), "shard_id_regex " + s);
                }
                try (ResultSet rs = st.executeQuery("/* key: " + keys[s] + " */ SELECT count(*), inet_server_port() FROM users")) {
                    rs.next();
                    assertEquals(proxy.shardPort(s), rs.getInt(2), "sharding_key_regex " + keys[s]);
                }
            }
            SQLException e = assertThrows(SQLException.class, () -> st.executeQuery("/* sh: 9 */ SELECT 1"));
            assertEquals("22023", e.getSQLState());
        }
    }

    @Test
    void tenThousandRowsByMultiRowInsertLandOnTheirShards() throws SQLException {
        int n = 10_000;
        int perStatement = 500;
        long next = 1;
        for (String mode : new String[] {"simple", "extended"}) {
            try (Connection c = proxy.connect("preferQueryMode", mode); Statement st = c.createStatement()) {
                for (int s = 0; s < n / 2 / perStatement; s++) {
                    StringBuilder sql = new StringBuilder("INSERT INTO users (id, name) VALUES ");
                    for (int r = 0; r < perStatement; r++) {
                        sql.append(r == 0 ? "" : ", ").append("(").append(next++).append(", 'm')");
                    }
                    assertEquals(perStatement, st.executeUpdate(sql.toString()), mode);
                }
            }
        }
        long total = 0;
        for (int s = 0; s < shards.size(); s++) {
            total += proxy.countOn(s, "users");
            try (Connection d = shards.get(s).connectSuperuser(TestUsers.DATABASE); Statement st = d.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM users WHERE NOT satisfies_hash_partition('pt'::regclass, "
                     + shards.size() + ", " + s + ", id)")) {
                rs.next();
                assertEquals(0, rs.getLong(1), "rows on shard " + s + " that PostgreSQL's hash puts elsewhere");
            }
        }
        assertEquals(n, total, "none lost, none twice (id is the primary key on each shard)");
    }

    @Test
    void splitInsertInABatchWithMoreStatementsIsRefusedWhole() throws SQLException {
        long a = keys[0];
        long b = keys[1];
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            st.addBatch("INSERT INTO users (id, name) VALUES (" + a + ", 'a'), (" + b + ", 'b')");
            st.addBatch("INSERT INTO users (id, name) VALUES (" + ShardedProxy.anotherKeyOn(shards, 0, a) + ", 'c')");
            SQLException e = assertThrows(SQLException.class, st::executeBatch);
            SQLException first = e.getNextException() != null ? e.getNextException() : e;
            assertEquals("0A000", first.getSQLState(), first.getMessage());
            assertEquals(0, proxy.countOn(0, "users") + proxy.countOn(1, "users"), "nothing of the batch committed");
            try (ResultSet rs = st.executeQuery("SELECT 1")) {
                assertTrue(rs.next(), "the session goes on");
            }
        }
    }
}
