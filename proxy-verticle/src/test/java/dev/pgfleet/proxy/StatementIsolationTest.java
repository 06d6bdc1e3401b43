package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.protocol.FrontendMessages;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import io.netty.buffer.ByteBuf;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Transaction mode's extended protocol, client by client: each client's unnamed statement is
 * its own, a statement or portal name it did not create reaches nothing of another client's,
 * a shared statement recovers after a schema change, and a known Parse is answered without
 * a server connection. Raw messages where drivers would hide the difference, compared with
 * direct PostgreSQL where that helps.
 */
class StatementIsolationTest {

    @BeforeEach
    void reset() {
        TestPostgres.reset();
    }

    // -- messages -------------------------------------------------------------------------

    private static void cstring(ByteBuf b, String s) {
        b.writeBytes(s.getBytes(StandardCharsets.UTF_8)).writeByte(0);
    }

    private static int begin(ByteBuf b, char type) {
        b.writeByte(type);
        int at = b.writerIndex();
        b.writeInt(0);
        return at;
    }

    private static void end(ByteBuf b, int at) {
        b.setInt(at, b.writerIndex() - at);
    }

    static void parse(ByteBuf b, String name, String sql) {
        int at = begin(b, 'P');
        cstring(b, name);
        cstring(b, sql);
        b.writeShort(0);
        end(b, at);
    }

    /** Bind with no parameters, text results. */
    static void bind(ByteBuf b, String portal, String statement) {
        int at = begin(b, 'B');
        cstring(b, portal);
        cstring(b, statement);
        b.writeShort(0).writeShort(0).writeShort(0);
        end(b, at);
    }

    static void execute(ByteBuf b, String portal) {
        int at = begin(b, 'E');
        cstring(b, portal);
        b.writeInt(0);
        end(b, at);
    }

    static void describe(ByteBuf b, char kind, String name) {
        int at = begin(b, 'D');
        b.writeByte(kind);
        cstring(b, name);
        end(b, at);
    }

    static void close(ByteBuf b, char kind, String name) {
        int at = begin(b, 'C');
        b.writeByte(kind);
        cstring(b, name);
        end(b, at);
    }

    static void sync(ByteBuf b) {
        FrontendMessages.sync(b);
    }

    /** The messages up to and including ReadyForQuery. */
    static List<RawClient.Message> untilReady(RawClient raw) throws IOException {
        List<RawClient.Message> out = new ArrayList<>();
        RawClient.Message m;
        do {
            m = raw.read();
            if (m.type() != 'N') {
                out.add(m);
            }
        } while (m.type() != 'Z');
        return out;
    }

    static String types(List<RawClient.Message> ms) {
        StringBuilder s = new StringBuilder();
        for (RawClient.Message m : ms) {
            s.append(m.type());
        }
        return s.toString();
    }

    /** The first column of the first DataRow, as text. */
    static String firstValue(List<RawClient.Message> ms) {
        for (RawClient.Message m : ms) {
            if (m.type() == 'D') {
                ByteBuf b = io.netty.buffer.Unpooled.wrappedBuffer(m.body());
                b.readShort();
                int len = b.readInt();
                return len < 0 ? null : b.toString(b.readerIndex(), len, StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    static String sqlState(List<RawClient.Message> ms) {
        for (RawClient.Message m : ms) {
            if (m.type() == 'E') {
                return m.error().sqlState();
            }
        }
        return null;
    }

    static String errorMessage(List<RawClient.Message> ms) {
        for (RawClient.Message m : ms) {
            if (m.type() == 'E') {
                return m.error().message();
            }
        }
        return null;
    }

    /** A raw client logged in as the md5 user (PgFleet or the server: both ask md5 for it). */
    static RawClient login(int port) throws IOException {
        RawClient raw = new RawClient(port);
        raw.md5Login();
        return raw;
    }

    // -- defect 1: the unnamed statement --------------------------------------------------

    /**
     * vertx-pg-client at its defaults (cachePreparedStatements=false, useLayer7Proxy=false)
     * prepares unnamed (Parse+Describe+Sync), then binds it in a later batch.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 8})
    void vertxUnnamedStatementsGiveEachClientItsOwnRows(int poolSize) {
        Vertx clientVertx = Vertx.vertx();
        try (ProxyFixture proxy = ProxyFixture.start("transaction", poolSize, null)) {
            Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(24))
                .connectingTo(proxy.pgOptions(TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD).setUseLayer7Proxy(false))
                .using(clientVertx).build();
            try {
                AtomicInteger wrong = new AtomicInteger();
                AtomicInteger failed = new AtomicInteger();
                List<Future<?>> all = new ArrayList<>();
                for (int i = 0; i < 1000; i++) {
                    int k = i;
                    String sql = i % 2 == 0 ? "SELECT " + i : "SELECT $1::int + " + i;
                    Future<io.vertx.sqlclient.RowSet<Row>> f = i % 2 == 0 ? pool.preparedQuery(sql).execute()
                        : pool.preparedQuery(sql).execute(io.vertx.sqlclient.Tuple.of(1));
                    all.add(f.map(rs -> {
                        int expected = k % 2 == 0 ? k : k + 1;
                        if (rs.iterator().next().getInteger(0) != expected) {
                            wrong.incrementAndGet();
                        }
                        return null;
                    }).otherwise(err -> {
                        failed.incrementAndGet();
                        return null;
                    }));
                }
                Future.join(all).await();
                assertEquals(0, wrong.get(), "wrong results");
                assertEquals(0, failed.get(), "failed queries");
            } finally {
                pool.close().await();
            }
        } finally {
            clientVertx.close().await();
        }
    }

    /** Parse("")+Sync, then Bind("")+Execute+Sync, from several raw clients at once. */
    @ParameterizedTest
    @ValueSource(ints = {1, 8})
    void rawUnnamedStatementAcrossBatches(int poolSize) throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", poolSize, null)) {
            ExecutorService pool = Executors.newFixedThreadPool(12);
            AtomicInteger wrong = new AtomicInteger();
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (int c = 0; c < 12; c++) {
                int client = c;
                done.add(pool.submit(() -> {
                    try (RawClient raw = login(proxy.port)) {
                        for (int i = 0; i < 60; i++) {
                            String value = String.valueOf(client * 1000 + i);
                            raw.send(b -> {
                                parse(b, "", "SELECT " + value);
                                sync(b);
                            });
                            assertEquals("1Z", types(untilReady(raw)));
                            raw.send(b -> {
                                bind(b, "", "");
                                execute(b, "");
                                sync(b);
                            });
                            List<RawClient.Message> r = untilReady(raw);
                            if (!"2DCZ".equals(types(r)) || !value.equals(firstValue(r))) {
                                wrong.incrementAndGet();
                            }
                        }
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : done) {
                f.get();
            }
            pool.shutdown();
            assertEquals(0, wrong.get(), "wrong results");
        }
    }

    @Test
    void unnamedStatementRulesFollowPostgres() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 1, null);
                  RawClient raw = login(proxy.port);
                  RawClient direct = login(proxy.primary.port())) {
            for (RawClient c : List.of(raw, direct)) {
                // No unnamed statement yet.
                c.send(b -> {
                    bind(b, "", "");
                    execute(b, "");
                    sync(b);
                });
                List<RawClient.Message> r = untilReady(c);
                assertEquals("EZ", types(r));
                assertEquals("26000", sqlState(r));
                assertEquals("unnamed prepared statement does not exist", errorMessage(r));
                // Describe of it, in a later batch than its Parse.
                c.send(b -> {
                    parse(b, "", "SELECT 5 AS five");
                    sync(b);
                });
                assertEquals("1Z", types(untilReady(c)));
                c.send(b -> {
                    describe(b, 'S', "");
                    bind(b, "", "");
                    execute(b, "");
                    sync(b);
                });
                r = untilReady(c);
                assertEquals("tT2DCZ", types(r));
                assertEquals("5", firstValue(r));
                // A simple Query destroys the unnamed statement.
                c.send(b -> FrontendMessages.query(b, "SELECT 1"));
                untilReady(c);
                c.send(b -> {
                    bind(b, "", "");
                    execute(b, "");
                    sync(b);
                });
                r = untilReady(c);
                assertEquals("26000", sqlState(r));
            }
        }
    }

    // -- defect 3: names the client did not create ----------------------------------------

    /**
     * Pool of one: the other client's transactions run on the owner's server connection (the
     * spacer makes both land on the same event loop of the two, so the connection stays).
     */
    @Test
    void namesOfOtherClientsAreNotReachable() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 1, null);
                  RawClient owner = login(proxy.port);
                  RawClient spacer = login(proxy.port);
                  RawClient other = login(proxy.port)) {
            owner.send(b -> FrontendMessages.query(b, "SELECT pg_backend_pid()"));
            String pid = firstValue(untilReady(owner));
            other.send(b -> FrontendMessages.query(b, "SELECT pg_backend_pid()"));
            assertEquals(pid, firstValue(untilReady(other)), "not the same server connection: the test proves nothing");
            owner.send(b -> {
                parse(b, "mine", "SELECT 42");
                bind(b, "", "mine");
                execute(b, "");
                sync(b);
            });
            assertEquals("42", firstValue(untilReady(owner)));
            // A cursor WITH HOLD outlives the transaction on the (only) server connection.
            owner.send(b -> FrontendMessages.query(b, "DECLARE held CURSOR WITH HOLD FOR SELECT 7"));
            assertEquals(null, sqlState(untilReady(owner)));
            for (int n = 1; n <= 5; n++) {
                String name = "pgfleet_" + n;
                other.send(b -> {
                    bind(b, "", name);
                    execute(b, "");
                    sync(b);
                });
                List<RawClient.Message> r = untilReady(other);
                assertEquals("EZ", types(r), name);
                assertEquals("26000", sqlState(r));
                assertEquals("prepared statement \"" + name + "\" does not exist", errorMessage(r));
                other.send(b -> {
                    describe(b, 'S', name);
                    sync(b);
                });
                r = untilReady(other);
                assertEquals("EZ", types(r), name);
                assertEquals("26000", sqlState(r));
                other.send(b -> {
                    close(b, 'S', name);
                    sync(b);
                });
                assertEquals("3Z", types(untilReady(other)));
            }
            // A portal the client did not Bind, at the start of a batch and after other work.
            other.send(b -> {
                execute(b, "held");
                sync(b);
            });
            List<RawClient.Message> r = untilReady(other);
            assertEquals("EZ", types(r));
            assertEquals("34000", sqlState(r));
            assertEquals("portal \"held\" does not exist", errorMessage(r));
            other.send(b -> {
                parse(b, "", "SELECT 1");
                bind(b, "", "");
                execute(b, "");
                describe(b, 'P', "held");
                execute(b, "held");
                sync(b);
            });
            r = untilReady(other);
            assertEquals("12DCEZ", types(r));
            assertEquals("34000", sqlState(r));
            other.send(b -> {
                close(b, 'P', "held");
                sync(b);
            });
            assertEquals("3Z", types(untilReady(other)));
            // The owner's statement and cursor are untouched.
            owner.send(b -> {
                bind(b, "", "mine");
                execute(b, "");
                sync(b);
            });
            assertEquals("42", firstValue(untilReady(owner)));
            owner.send(b -> FrontendMessages.query(b, "FETCH ALL FROM held"));
            assertEquals("7", firstValue(untilReady(owner)));
        }
    }

    /** The client's own named portal works inside its transaction, and is gone after it (as on the server). */
    @Test
    void ownNamedPortalsLastTheTransaction() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 2, null);
                  RawClient raw = login(proxy.port);
                  RawClient direct = login(proxy.primary.port())) {
            for (RawClient c : List.of(raw, direct)) {
                c.send(b -> FrontendMessages.query(b, "BEGIN"));
                untilReady(c);
                c.send(b -> {
                    parse(b, "s", "SELECT generate_series(1, 3)");
                    bind(b, "p", "s");
                    sync(b);
                });
                assertEquals("12Z", types(untilReady(c)));
                c.send(b -> {
                    describe(b, 'P', "p");
                    execute(b, "p");
                    sync(b);
                });
                assertEquals("TDDDCZ", types(untilReady(c)));
                c.send(b -> FrontendMessages.query(b, "COMMIT"));
                untilReady(c);
                c.send(b -> {
                    execute(b, "p");
                    sync(b);
                });
                List<RawClient.Message> r = untilReady(c);
                assertEquals("34000", sqlState(r));
            }
        }
    }

    // -- defect 4: schema change ----------------------------------------------------------

    /** Raw messages: the first execute after ALTER fails as on PostgreSQL; Close + Parse, or a new name, recovers. */
    @Test
    void sharedStatementRecoversAfterSchemaChangeRaw() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 1, null)) {
            for (int port : new int[] {proxy.port, proxy.primary.port()}) {
                try (Connection admin = proxy.direct(); Statement st = admin.createStatement()) {
                    st.execute("DROP TABLE IF EXISTS sc");
                    st.execute("CREATE TABLE sc (a int)");
                    st.execute("INSERT INTO sc VALUES (1)");
                    st.execute("GRANT ALL ON sc TO " + TestUsers.MD5_USER);
                }
                // The spacer puts c and d on the same event loop of PgFleet's two, so both use the one connection.
                try (RawClient c = login(port); RawClient spacer = login(port); RawClient d = login(port)) {
                    for (RawClient x : List.of(c, d)) {
                        x.send(b -> {
                            parse(b, "q", "SELECT * FROM sc");
                            bind(b, "", "q");
                            execute(b, "");
                            sync(b);
                        });
                        assertEquals("12DCZ", types(untilReady(x)));
                    }
                    try (Connection admin = proxy.direct(); Statement st = admin.createStatement()) {
                        st.execute("ALTER TABLE sc ADD COLUMN b int");
                    }
                    c.send(b -> {
                        bind(b, "", "q");
                        execute(b, "");
                        sync(b);
                    });
                    List<RawClient.Message> r = untilReady(c);
                    assertEquals("0A000", sqlState(r), "port " + port);
                    assertEquals("cached plan must not change result type", errorMessage(r));
                    // Close + Parse with the same text.
                    c.send(b -> {
                        close(b, 'S', "q");
                        parse(b, "q", "SELECT * FROM sc");
                        bind(b, "", "q");
                        describe(b, 'P', "");
                        execute(b, "");
                        sync(b);
                    });
                    r = untilReady(c);
                    assertEquals("312TDCZ", types(r), "port " + port + ": " + errorMessage(r));
                    // The other client, under a new name with the same text.
                    d.send(b -> {
                        parse(b, "q2", "SELECT * FROM sc");
                        bind(b, "", "q2");
                        execute(b, "");
                        sync(b);
                    });
                    r = untilReady(d);
                    assertEquals("12DCZ", types(r), "port " + port + ": " + errorMessage(r));
                }
            }
        }
    }

    /**
     * pgjdbc with prepareThreshold=1 and its default autosave (never): as on direct PostgreSQL,
     * in autocommit it heals by itself (it re-prepares on this 0A000 and retries), inside a
     * transaction the execute fails with 0A000 and works after the rollback.
     */
    @Test
    void sharedStatementRecoversAfterSchemaChangePgjdbc() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 1, null)) {
            for (boolean through : new boolean[] {true, false}) {
                String where = through ? "through PgFleet" : "direct";
                try (Connection admin = proxy.direct(); Statement st = admin.createStatement()) {
                    st.execute("DROP TABLE IF EXISTS sj");
                    st.execute("CREATE TABLE sj (a int)");
                    st.execute("INSERT INTO sj VALUES (1)");
                    st.execute("GRANT ALL ON sj TO " + TestUsers.SCRAM_USER);
                }
                Properties p = new Properties();
                p.setProperty("user", TestUsers.SCRAM_USER);
                p.setProperty("password", TestUsers.SCRAM_PASSWORD);
                p.setProperty("prepareThreshold", "1");
                String url = through ? proxy.jdbcUrl()
                    : "jdbc:postgresql://127.0.0.1:" + proxy.primary.port() + "/" + TestUsers.DATABASE + "?sslmode=disable";
                try (Connection c = java.sql.DriverManager.getConnection(url, p);
                          java.sql.PreparedStatement ps = c.prepareStatement("SELECT * FROM sj")) {
                    for (int i = 0; i < 3; i++) {
                        try (ResultSet rs = ps.executeQuery()) {
                            assertEquals(1, rs.getMetaData().getColumnCount());
                        }
                    }
                    alter(proxy, "ALTER TABLE sj ADD COLUMN b int");
                    for (int i = 0; i < 3; i++) {
                        try (ResultSet rs = ps.executeQuery()) {
                            assertEquals(2, rs.getMetaData().getColumnCount(), where);
                        }
                    }
                    alter(proxy, "ALTER TABLE sj ADD COLUMN c int");
                    c.setAutoCommit(false);
                    SQLException e = assertThrows(SQLException.class, () -> ps.executeQuery().close(), where);
                    assertEquals("0A000", e.getSQLState(), where);
                    c.rollback();
                    for (int i = 0; i < 3; i++) {
                        try (ResultSet rs = ps.executeQuery()) {
                            assertEquals(3, rs.getMetaData().getColumnCount(), where);
                        }
                        c.commit();
                    }
                }
            }
        }
    }

    private static void alter(ProxyFixture proxy, String sql) throws SQLException {
        try (Connection admin = proxy.direct(); Statement st = admin.createStatement()) {
            st.execute(sql);
        }
    }

    // -- speed item 3: a known Parse without a server connection ---------------------------

    @Test
    void knownParseAndDescribeAnsweredWhileTheOnlyConnectionIsBusy() throws Exception {
        String sql = "SELECT $1::int + 1 AS n, 'x'::text AS t";
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 1, "query_wait_timeout = 2000");
                  RawClient first = login(proxy.port);
                  RawClient holder = login(proxy.port);
                  RawClient later = login(proxy.port);
                  RawClient direct = login(proxy.primary.port())) {
            first.send(b -> {
                parse(b, "a", sql);
                describe(b, 'S', "a");
                sync(b);
            });
            List<RawClient.Message> seen = untilReady(first);
            assertEquals("1tTZ", types(seen));
            holder.send(b -> FrontendMessages.query(b, "BEGIN"));
            assertEquals('T', (char) untilReady(holder).get(1).body()[0]);
            // The pool's only connection is in the holder's transaction: answered by PgFleet, or 57014 after 2 s.
            later.send(b -> {
                parse(b, "b", sql);
                describe(b, 'S', "b");
                sync(b);
            });
            List<RawClient.Message> r = untilReady(later);
            direct.send(b -> {
                parse(b, "b", sql);
                describe(b, 'S', "b");
                sync(b);
            });
            List<RawClient.Message> d = untilReady(direct);
            assertEquals(types(d), types(r), () -> "error: " + errorMessage(r));
            for (int i = 0; i < d.size(); i++) {
                assertEquals(d.get(i).type(), r.get(i).type());
                assertTrue(Arrays.equals(d.get(i).body(), r.get(i).body()), "message " + d.get(i).type());
            }
            // Describe of a name the client never parsed: 26000 from PgFleet, no wait either.
            later.send(b -> {
                describe(b, 'S', "nope");
                sync(b);
            });
            List<RawClient.Message> nope = untilReady(later);
            assertEquals("26000", sqlState(nope));
            holder.send(b -> FrontendMessages.query(b, "COMMIT"));
            untilReady(holder);
            // Prepared on the server just in time at Bind.
            later.send(b -> {
                int at = begin(b, 'B');
                cstring(b, "");
                cstring(b, "b");
                b.writeShort(0).writeShort(1);
                b.writeInt(1).writeByte('4');
                b.writeShort(0);
                end(b, at);
                execute(b, "");
                sync(b);
            });
            List<RawClient.Message> ran = untilReady(later);
            assertEquals("2DCZ", types(ran), () -> "error: " + errorMessage(ran));
            assertEquals("5", firstValue(ran));
            assertNotEquals(null, seen);
        }
    }
}
