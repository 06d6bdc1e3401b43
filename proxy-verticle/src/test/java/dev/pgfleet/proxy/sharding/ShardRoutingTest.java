package dev.pgfleet.proxy.sharding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.Shards;
import dev.pgfleet.testkit.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Tuple;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/** Issue 13's acceptance tests: a sharded pool routes by key as PostgreSQL's PARTITION BY HASH would. */
class ShardRoutingTest {
    private final Shards shards = TestPostgres.shards();
    private ShardedProxy proxy;
    private long[] keys;

    @BeforeEach
    void setUp() throws SQLException {
        TestPostgres.reset();
        ShardedProxy.createSchema(shards);
        keys = ShardedProxy.keyPerShard(shards);
        proxy = ShardedProxy.start(shards);
    }

    @AfterEach
    void tearDown() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void selectWithoutTableWorks() throws SQLException {
        try (Connection c = proxy.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT 1")) {
            rs.next();
            assertEquals(1, rs.getInt(1));
        }
    }

    @Test
    void simpleQueriesRouteByKey() throws SQLException {
        try (Connection c = proxy.connect("preferQueryMode", "simple"); Statement st = c.createStatement()) {
            for (int s = 0; s < keys.length; s++) {
                long k = keys[s];
                assertEquals(1, st.executeUpdate("INSERT INTO users (id, name) VALUES (" + k + ", 'n" + k + "')"));
                assertEquals(1, proxy.countOn(s, "users WHERE id = " + k), "key " + k + " on shard " + s);
                assertEquals(0, proxy.countOn(1 - s, "users WHERE id = " + k));
                try (ResultSet rs = st.executeQuery("SELECT name, inet_server_port() FROM users WHERE id = " + k)) {
                    assertTrue(rs.next());
                    assertEquals("n" + k, rs.getString(1));
                    assertEquals(proxy.shardPort(s), rs.getInt(2));
                }
                assertEquals(1, st.executeUpdate("UPDATE users SET name = 'u' WHERE id = " + k));
                assertEquals(1, proxy.countOn(s, "users WHERE id = " + k + " AND name = 'u'"));
                assertEquals(1, st.executeUpdate("DELETE FROM users WHERE id = " + k));
                assertEquals(0, proxy.countOn(s, "users WHERE id = " + k));
            }
        }
    }

    @Test
    void preparedQueriesRouteByKeyInTextAndBinary() throws SQLException {
        // prepareThreshold=1: pgjdbc names the statement at once and sends setLong parameters in binary after warm-up.
        for (String threshold : new String[] {"-1", "1"}) {
            try (Connection c = proxy.connect("prepareThreshold", threshold);
                 PreparedStatement ins = c.prepareStatement("INSERT INTO users (id, name) VALUES (?, ?)");
                 PreparedStatement sel = c.prepareStatement("SELECT name, inet_server_port() FROM users WHERE id = ?");
                 PreparedStatement del = c.prepareStatement("DELETE FROM users WHERE id = ?")) {
                for (int round = 0; round < 3; round++) {
                    for (int s = 0; s < keys.length; s++) {
                        long k = keys[s];
                        ins.setLong(1, k);
                        ins.setString(2, "p" + k);
                        assertEquals(1, ins.executeUpdate());
                        assertEquals(1, proxy.countOn(s, "users WHERE id = " + k), "threshold " + threshold);
                        sel.setLong(1, k);
                        try (ResultSet rs = sel.executeQuery()) {
                            assertTrue(rs.next());
                            assertEquals("p" + k, rs.getString(1));
                            assertEquals(proxy.shardPort(s), rs.getInt(2));
                        }
                        del.setLong(1, k);
                        assertEquals(1, del.executeUpdate());
                        assertEquals(0, proxy.countOn(s, "users WHERE id = " + k));
                    }
                }
            }
        }
    }

    @Test
    void tenThousandSingleRowInsertsLandOnTheirShards() throws Exception {
        int n = 10_000;
        try (Connection c = proxy.connect("preferQueryMode", "simple"); Statement st = c.createStatement()) {
            for (int k = 1; k <= n / 4; k++) {
                st.executeUpdate("INSERT INTO users (id, name) VALUES (" + k + ", 's')");
            }
        }
        try (Connection c = proxy.connect(); PreparedStatement ps = c.prepareStatement("INSERT INTO users (id, name) VALUES (?, 'p')")) {
            for (int k = n / 4 + 1; k <= n / 2; k++) {
                ps.setLong(1, k);
                ps.executeUpdate();
            }
        }
        Vertx vertx = Vertx.vertx();
        try {
            PgConnection conn = PgConnection.connect(vertx, proxy.pgOptions()).await();
            for (long k = n / 2 + 1; k <= n; k++) {
                conn.preparedQuery("INSERT INTO users (id, name) VALUES ($1, 'v')").execute(Tuple.of(k)).await();
            }
            conn.close().await();
        } finally {
            vertx.close().await();
        }
        long total = 0;
        for (int s = 0; s < shards.size(); s++) {
            long expected;
            try (Connection c = shards.get(0).connectSuperuser(dev.pgfleet.testkit.TestUsers.DATABASE);
                 Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM generate_series(1, " + n + ") k"
                     + " WHERE satisfies_hash_partition('pt'::regclass, " + shards.size() + ", " + s + ", k::bigint)")) {
                rs.next();
                expected = rs.getLong(1);
            }
            assertEquals(expected, proxy.countOn(s, "users"), "rows on shard " + s);
            assertEquals(0, proxy.countOn(s, "(SELECT id FROM users GROUP BY id HAVING count(*) > 1) d"));
            total += proxy.countOn(s, "users");
        }
        assertEquals(n, total);
    }

    @Test
    void explicitShardSelection() throws SQLException {
        try (Connection c = proxy.connect("preferQueryMode", "simple"); Statement st = c.createStatement()) {
            st.execute("SET SHARD TO '1'");
            assertEquals(proxy.shardPort(1), ShardedProxy.serverPort(st));
            try (ResultSet rs = st.executeQuery("SHOW SHARD")) {
                assertTrue(rs.next());
                assertEquals("1", rs.getString(1));
            }
            st.execute("SET SHARD TO '0'");
            assertEquals(proxy.shardPort(0), ShardedProxy.serverPort(st));
            st.execute("SET SHARDING KEY TO '" + keys[1] + "'");
            assertEquals(proxy.shardPort(1), ShardedProxy.serverPort(st));
            st.execute("SET SHARDING KEY TO '" + keys[0] + "'");
            assertEquals(proxy.shardPort(0), ShardedProxy.serverPort(st));
        }
        try (Connection c = proxy.connect("preferQueryMode", "simple"); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("/* shard_id: 1 */ SELECT inet_server_port()")) {
                rs.next();
                assertEquals(proxy.shardPort(1), rs.getInt(1));
            }
            try (ResultSet rs = st.executeQuery("/* sharding_key: " + keys[1] + " */ SELECT inet_server_port()")) {
                rs.next();
                assertEquals(proxy.shardPort(1), rs.getInt(1));
            }
        }
        try (Connection c = proxy.connect("options", "-c pgfleet.shard=1"); Statement st = c.createStatement()) {
            assertEquals(proxy.shardPort(1), ShardedProxy.serverPort(st));
        }
    }

    @Test
    void keylessWriteOnShardedTableIsRefusedAndKeylessReadIsMerged() throws SQLException {
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> st.executeUpdate("UPDATE users SET name = 'y'"));
            assertEquals("0A000", e.getSQLState());
            assertTrue(e.getMessage().contains(ShardedProxy.POOL), e.getMessage());
            assertTrue(e.getMessage().contains("id"), e.getMessage());
            assertEquals(1, st.executeUpdate("INSERT INTO users (id, name) VALUES (" + keys[0] + ", 'x')"));
            assertEquals(1, st.executeUpdate("INSERT INTO users (id, name) VALUES (" + keys[1] + ", 'z')"));
            // A SELECT without the key reads every shard (issue 14's cross-shard merge).
            try (ResultSet rs = st.executeQuery("SELECT name FROM users ORDER BY name")) {
                assertTrue(rs.next());
                assertEquals("x", rs.getString(1));
                assertTrue(rs.next());
                assertEquals("z", rs.getString(1));
                assertTrue(!rs.next());
            }
        }
    }

    @Test
    void defaultShardTakesKeylessQueries() throws SQLException {
        proxy.close();
        proxy = ShardedProxy.start(shards, "transaction", "default_shard = 1", ShardedProxy.USERS_AND_PAYMENTS, 4);
        ShardedProxy.sql(shards.get(1), "INSERT INTO users VALUES (" + keys[1] + ", 'd')");
        try (Connection c = proxy.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*), inet_server_port() FROM users GROUP BY 2")) {
            assertTrue(rs.next());
            assertEquals(1, rs.getLong(1));
            assertEquals(proxy.shardPort(1), rs.getInt(2));
        }
    }

    @Test
    void transactionStaysOnItsShard() throws SQLException {
        try (Connection c = proxy.connect()) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO users (id, name) VALUES (" + keys[0] + ", 't')");
                try (ResultSet rs = st.executeQuery("SELECT name, inet_server_port() FROM users WHERE id = " + keys[0])) {
                    assertTrue(rs.next());
                    assertEquals(proxy.shardPort(0), rs.getInt(2));
                }
                c.commit();
                assertEquals(1, proxy.countOn(0, "users WHERE id = " + keys[0]));

                long other = ShardedProxy.anotherKeyOn(shards, 0, keys[0]);
                st.executeUpdate("INSERT INTO users (id, name) VALUES (" + other + ", 't')");
                SQLException e = assertThrows(SQLException.class,
                    () -> st.executeQuery("SELECT * FROM users WHERE id = " + keys[1]));
                assertEquals("0A000", e.getSQLState());
                assertTrue(e.getMessage().contains("two_phase_commit = true"), e.getMessage());
                SQLException aborted = assertThrows(SQLException.class, () -> st.executeQuery("SELECT 1"));
                assertEquals("25P02", aborted.getSQLState());
                c.rollback();
                assertEquals(0, proxy.countOn(0, "users WHERE id = " + other));
            }
        }
    }

    @Test
    void sessionModeWithSetShard() throws SQLException {
        proxy.close();
        proxy = ShardedProxy.start(shards, "session", "", ShardedProxy.USERS_AND_PAYMENTS, 2);
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            st.execute("SET SHARD TO '1'");
            st.execute("BEGIN");
            st.executeUpdate("INSERT INTO payments (user_id, amount) VALUES (" + keys[1] + ", 1.5)");
            assertEquals(proxy.shardPort(1), ShardedProxy.serverPort(st));
            st.execute("COMMIT");
            assertEquals(1, proxy.countOn(1, "payments WHERE user_id = " + keys[1]));
        }
    }

    @Test
    void multiRowInsertSplitsAcrossShards() throws SQLException {
        long a = keys[0];
        long b = keys[1];
        long a2 = ShardedProxy.anotherKeyOn(shards, 0, a);
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("INSERT INTO users (id, name) VALUES (" + a + ", 'a'), (" + b + ", 'b'), ("
                + a2 + ", 'a2') RETURNING id")) {
                java.util.Set<Long> ids = new java.util.HashSet<>();
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
                assertEquals(java.util.Set.of(a, b, a2), ids);
            }
            assertEquals(2, proxy.countOn(0, "users"));
            assertEquals(1, proxy.countOn(1, "users"));
            long b2 = ShardedProxy.anotherKeyOn(shards, 1, b);
            assertEquals(2, st.executeUpdate("INSERT INTO users (id, name) VALUES (" + b2 + ", 'x'), ("
                + ShardedProxy.anotherKeyOn(shards, 0, a2) + ", 'y')"));
            // A duplicate on shard 1: neither shard keeps a row of this INSERT.
            long a3 = ShardedProxy.anotherKeyOn(shards, 0, ShardedProxy.anotherKeyOn(shards, 0, a2));
            SQLException e = assertThrows(SQLException.class,
                () -> st.executeUpdate("INSERT INTO users (id, name) VALUES (" + a3 + ", 'z'), (" + b + ", 'dup')"));
            assertEquals("23505", e.getSQLState());
            assertEquals(0, proxy.countOn(0, "users WHERE id = " + a3));
            assertEquals(5, proxy.countOn(0, "users") + proxy.countOn(1, "users"));
        }
    }

    @Test
    void copyFromStdinSplitsRows() throws Exception {
        int n = 10_000;
        StringBuilder text = new StringBuilder();
        for (int k = 1; k <= n / 2; k++) {
            text.append(k).append("\tt").append(k).append('\n');
        }
        StringBuilder csv = new StringBuilder("id,name\n");
        for (int k = n / 2 + 1; k <= n; k++) {
            csv.append(k).append(",\"q,\"\"").append(k).append("\nline\"\n");
        }
        try (Connection c = proxy.connect()) {
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            assertEquals(n / 2, copy.copyIn("COPY users (id, name) FROM STDIN", new StringReader(text.toString())));
            assertEquals(n / 2, copy.copyIn("COPY users FROM STDIN WITH (FORMAT csv, HEADER)", new StringReader(csv.toString())));
            long total = 0;
            for (int s = 0; s < shards.size(); s++) {
                long onShard = proxy.countOn(s, "users");
                long misplaced = 0;
                try (Connection d = shards.get(s).connectSuperuser(dev.pgfleet.testkit.TestUsers.DATABASE);
                     Statement st = d.createStatement();
                     ResultSet rs = st.executeQuery("SELECT count(*) FROM users WHERE NOT satisfies_hash_partition("
                         + "'pt'::regclass, " + shards.size() + ", " + s + ", id)")) {
                    rs.next();
                    misplaced = rs.getLong(1);
                }
                assertEquals(0, misplaced, "rows on the wrong shard " + s);
                total += onShard;
            }
            assertEquals(n, total);
            long quoted = n / 2 + 1;
            assertEquals(1, proxy.countOn(ShardedProxy.expectedShard(shards, quoted),
                "users WHERE id = " + quoted + " AND name = E'q,\\\"" + quoted + "\\nline'"), "CSV quotes and newline kept");
            java.io.StringWriter out = new java.io.StringWriter();
            assertEquals(n, copy.copyOut("COPY users TO STDOUT", out));

            String bad = "20001\tok\n20002\tok\nnot-a-number\tbad\n20003\tok\n";
            SQLException e = assertThrows(SQLException.class, () -> copy.copyIn("COPY users FROM STDIN", new StringReader(bad)));
            assertEquals("22P02", e.getSQLState());
            for (int s = 0; s < shards.size(); s++) {
                assertEquals(0, proxy.countOn(s, "users WHERE id > 20000"));
            }
        }
    }

    @Test
    void binaryCopyFromStdinSplitsRows() throws Exception {
        int n = 10_000;
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
        out.write(new byte[] {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0});
        out.writeInt(0);
        out.writeInt(0);
        for (long k = 1; k <= n; k++) {
            byte[] name = ("b" + k).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            out.writeShort(2);
            out.writeInt(8);
            out.writeLong(k);
            out.writeInt(name.length);
            out.write(name);
        }
        out.writeShort(-1);
        out.flush();
        try (Connection c = proxy.connect()) {
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            assertEquals(n, copy.copyIn("COPY users (id, name) FROM STDIN WITH (FORMAT binary)",
                new java.io.ByteArrayInputStream(bytes.toByteArray())));
        }
        long total = 0;
        for (int s = 0; s < shards.size(); s++) {
            try (Connection d = shards.get(s).connectSuperuser(dev.pgfleet.testkit.TestUsers.DATABASE);
                 Statement st = d.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM users WHERE NOT satisfies_hash_partition("
                     + "'pt'::regclass, " + shards.size() + ", " + s + ", id) OR name <> 'b' || id")) {
                rs.next();
                assertEquals(0, rs.getLong(1), "rows on the wrong shard " + s);
            }
            total += proxy.countOn(s, "users");
        }
        assertEquals(n, total);
    }

    @Test
    void manyClientsOnFewServerConnectionsRouteByKey() throws Exception {
        proxy.close();
        proxy = ShardedProxy.start(shards, "transaction", "", ShardedProxy.USERS_AND_PAYMENTS, 2);
        int clients = 16;
        int perClient = 200;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(clients);
        try {
            java.util.List<java.util.concurrent.Future<Void>> done = new java.util.ArrayList<>();
            for (int t = 0; t < clients; t++) {
                int client = t;
                done.add(pool.submit(() -> {
                    try (Connection c = proxy.connect("prepareThreshold", "1");
                         PreparedStatement ins = c.prepareStatement("INSERT INTO users (id, name) VALUES (?, 'c')");
                         PreparedStatement sel = c.prepareStatement("SELECT inet_server_port() FROM users WHERE id = ?")) {
                        for (int i = 0; i < perClient; i++) {
                            long k = (long) client * perClient + i + 1;
                            ins.setLong(1, k);
                            assertEquals(1, ins.executeUpdate());
                            sel.setLong(1, k);
                            try (ResultSet rs = sel.executeQuery()) {
                                assertTrue(rs.next(), "key " + k + " reads back");
                            }
                        }
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<Void> f : done) {
                f.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        long total = 0;
        for (int s = 0; s < shards.size(); s++) {
            try (Connection d = shards.get(s).connectSuperuser(dev.pgfleet.testkit.TestUsers.DATABASE);
                 Statement st = d.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM users WHERE NOT satisfies_hash_partition("
                     + "'pt'::regclass, " + shards.size() + ", " + s + ", id)")) {
                rs.next();
                assertEquals(0, rs.getLong(1), "rows on the wrong shard " + s);
            }
            total += proxy.countOn(s, "users");
        }
        assertEquals((long) clients * perClient, total);
    }
}
