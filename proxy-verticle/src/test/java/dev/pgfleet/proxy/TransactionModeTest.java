package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Transaction pooling: many clients on few server connections, against a real primary. */
class TransactionModeTest {

    static ProxyFixture proxy;
    static Vertx clientVertx;

    @BeforeAll
    static void start() {
        proxy = ProxyFixture.start("transaction", 10, null);
        clientVertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() {
        clientVertx.close().await();
        proxy.close();
    }

    @BeforeEach
    void reset() {
        TestPostgres.reset();
    }

    private static int serverConnections(String user) throws SQLException {
        try (Connection d = proxy.direct(); ResultSet rs = d.createStatement().executeQuery(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = '" + user + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static Pool vertxPool(int size) {
        PgConnectOptions options = proxy.pgOptions(TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD);
        return PgBuilder.pool().with(new PoolOptions().setMaxSize(size)).connectingTo(options).using(clientVertx).build();
    }

    /**
     * 250 pgjdbc clients and 250 vertx-pg-client connections, each with its own session setting,
     * run transactions that increment one counter: the count is exact, no client ever sees
     * another's setting, and the server never has more than pool_size connections.
     */
    @Test
    void fiveHundredClientsOnTenServerConnections() throws Exception {
        try (Connection c = proxy.connectScram()) {
            c.createStatement().execute("CREATE TABLE counter (n bigint); INSERT INTO counter VALUES (0)");
        }
        int jdbcClients = 250;
        int vertxClients = 250;
        int rounds = 4;
        AtomicInteger maxServers = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread watcher = new Thread(() -> {
            while (running.get()) {
                try {
                    maxServers.accumulateAndGet(serverConnections(TestUsers.SCRAM_USER), Math::max);
                    Thread.sleep(50);
                } catch (Exception e) {
                    return;
                }
            }
        });
        watcher.start();
        ExecutorService threads = Executors.newFixedThreadPool(jdbcClients);
        Pool vertx = vertxPool(vertxClients);
        try {
            List<java.util.concurrent.Future<?>> jdbc = new ArrayList<>();
            for (int i = 0; i < jdbcClients; i++) {
                String id = "jdbc-" + i;
                jdbc.add(threads.submit(() -> {
                    try (Connection c = proxy.connectScram(); Statement st = c.createStatement()) {
                        st.execute("SET pgfleet.client_id = '" + id + "'");
                        for (int r = 0; r < rounds; r++) {
                            c.setAutoCommit(false);
                            st.executeUpdate("UPDATE counter SET n = n + 1");
                            try (ResultSet rs = st.executeQuery("SELECT current_setting('pgfleet.client_id')")) {
                                rs.next();
                                assertEquals(id, rs.getString(1));
                            }
                            c.commit();
                            c.setAutoCommit(true);
                        }
                    }
                    return null;
                }));
            }
            List<Future<Void>> vx = new ArrayList<>();
            for (int i = 0; i < vertxClients; i++) {
                String id = "vertx-" + i;
                vx.add(vertx.getConnection().compose(conn -> conn.query("SET pgfleet.client_id = '" + id + "'").execute()
                    .compose(v -> runRounds(conn, id, rounds))
                    .eventually(conn::close)));
            }
            for (java.util.concurrent.Future<?> f : jdbc) {
                f.get(180, TimeUnit.SECONDS);
            }
            Future.all(vx).await();
        } finally {
            running.set(false);
            watcher.join();
            threads.shutdownNow();
            vertx.close().await();
        }
        try (Connection c = proxy.connectScram(); ResultSet rs = c.createStatement().executeQuery("SELECT n FROM counter")) {
            rs.next();
            assertEquals((long) (jdbcClients + vertxClients) * rounds, rs.getLong(1));
        }
        assertTrue(maxServers.get() <= 10, "server connections seen: " + maxServers.get());
        assertTrue(maxServers.get() > 0);
    }

    private static Future<Void> runRounds(SqlConnection conn, String id, int rounds) {
        Future<Void> chain = Future.succeededFuture();
        for (int r = 0; r < rounds; r++) {
            chain = chain.compose(v -> conn.begin().compose(tx -> conn.query("UPDATE counter SET n = n + 1").execute()
                .compose(x -> conn.query("SELECT current_setting('pgfleet.client_id')").execute())
                .compose(rows -> {
                    String seen = rows.iterator().next().getString(0);
                    if (!id.equals(seen)) {
                        return Future.failedFuture(new AssertionError(id + " saw " + seen));
                    }
                    return tx.commit();
                })));
        }
        return chain;
    }

    /** pgjdbc with prepareThreshold=1 and vertx-pg-client prepared queries: 50 clients, 5 server connections. */
    @Test
    void preparedStatementsAcrossServerConnections() throws Exception {
        try (ProxyFixture small = ProxyFixture.start("transaction", 5, null)) {
            int jdbcClients = 25;
            int vertxClients = 25;
            int perClient = 200;   // 50 clients x 200 = 10,000 executions
            ExecutorService threads = Executors.newFixedThreadPool(jdbcClients);
            AtomicInteger executions = new AtomicInteger();
            try {
                List<java.util.concurrent.Future<?>> jdbc = new ArrayList<>();
                for (int i = 0; i < jdbcClients; i++) {
                    int id = i;
                    jdbc.add(threads.submit(() -> {
                        Properties p = new Properties();
                        p.setProperty("user", TestUsers.SCRAM_USER);
                        p.setProperty("password", TestUsers.SCRAM_PASSWORD);
                        p.setProperty("prepareThreshold", "1");
                        try (Connection c = java.sql.DriverManager.getConnection(small.jdbcUrl(), p);
                                  PreparedStatement a = c.prepareStatement("SELECT ?::int + 1");
                                  PreparedStatement b = c.prepareStatement("SELECT ?::text || '-' || ?::int")) {
                            for (int n = 0; n < perClient / 2; n++) {
                                a.setInt(1, n);
                                try (ResultSet rs = a.executeQuery()) {
                                    rs.next();
                                    assertEquals(n + 1, rs.getInt(1));
                                }
                                b.setString(1, "c" + id);
                                b.setInt(2, n);
                                try (ResultSet rs = b.executeQuery()) {
                                    rs.next();
                                    assertEquals("c" + id + "-" + n, rs.getString(1));
                                }
                                executions.addAndGet(2);
                            }
                        }
                        return null;
                    }));
                }
                PgConnectOptions options = small.pgOptions(TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD);
                List<Future<Void>> vx = new ArrayList<>();
                for (int i = 0; i < vertxClients; i++) {
                    int id = i;
                    vx.add(io.vertx.pgclient.PgConnection.connect(clientVertx, options).compose(conn -> {
                        Future<Void> chain = Future.succeededFuture();
                        for (int n = 0; n < perClient; n++) {
                            int k = n;
                            chain = chain.compose(v -> conn.preparedQuery("SELECT $1::int * 2, $2::text").execute(Tuple.of(k, "v" + id))
                                .compose(rows -> {
                                    io.vertx.sqlclient.Row row = rows.iterator().next();
                                    executions.incrementAndGet();
                                    return row.getInteger(0) == k * 2 && row.getString(1).equals("v" + id) ? Future.<Void>succeededFuture()
                                        : Future.<Void>failedFuture(new AssertionError("wrong row " + row.deepToString()));
                                }));
                        }
                        return chain.eventually(conn::close);
                    }));
                }
                for (java.util.concurrent.Future<?> f : jdbc) {
                    f.get(180, TimeUnit.SECONDS);
                }
                Future.all(vx).await();
            } finally {
                threads.shutdownNow();
            }
            assertEquals(10_000, executions.get());
        }
    }

    @Test
    void serverKilledMidTransactionFailsOnlyThatClient() throws Exception {
        try (Connection victim = proxy.connectScram(); Connection bystander = proxy.connectScram()) {
            victim.setAutoCommit(false);
            int pid;
            try (ResultSet rs = victim.createStatement().executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                pid = rs.getInt(1);
            }
            try (Connection d = proxy.direct()) {
                d.createStatement().execute("SELECT pg_terminate_backend(" + pid + ")");
            }
            SQLException e = assertThrows(SQLException.class, () -> victim.createStatement().executeQuery("SELECT 1"));
            assertTrue(e.getSQLState() != null && (e.getSQLState().startsWith("08") || e.getSQLState().startsWith("57P01")),
                e.getSQLState() + " " + e.getMessage());
            try (ResultSet rs = bystander.createStatement().executeQuery("SELECT 2")) {
                rs.next();
                assertEquals(2, rs.getInt(1));
            }
        }
        // The pool refills: new clients are served by fresh server connections.
        for (int i = 0; i < 12; i++) {
            try (Connection c = proxy.connectScram(); ResultSet rs = c.createStatement().executeQuery("SELECT 3")) {
                rs.next();
                assertEquals(3, rs.getInt(1));
            }
        }
    }

    @Test
    void sqlPrepareIsRefusedClearlyAndDeallocateAllWorks() throws SQLException {
        try (Connection c = proxy.connectScram(); Statement st = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> st.execute("PREPARE p AS SELECT 1"));
            assertEquals("0A000", e.getSQLState());
            st.execute("DEALLOCATE ALL");
            try (ResultSet rs = st.executeQuery("SELECT 'still usable'")) {
                rs.next();
                assertEquals("still usable", rs.getString(1));
            }
        }
    }

    @Test
    void settingsFollowTheClientAcrossServerConnections() throws Exception {
        try (Connection a = proxy.connectScram(); Connection b = proxy.connectScram()) {
            a.createStatement().execute("SET search_path TO pg_catalog, public");
            a.createStatement().execute("SET statement_timeout = '7s'");
            // A rolled-back SET does not stick.
            a.setAutoCommit(false);
            a.createStatement().execute("SET application_name = 'rolled-back'");
            a.rollback();
            a.setAutoCommit(true);
            for (int i = 0; i < 20; i++) {
                try (ResultSet rs = a.createStatement().executeQuery(
                    "SELECT current_setting('search_path'), current_setting('statement_timeout'), current_setting('application_name')")) {
                    rs.next();
                    assertEquals("pg_catalog, public", rs.getString(1));
                    assertEquals("7s", rs.getString(2));
                    assertTrue(!"rolled-back".equals(rs.getString(3)));
                }
                try (ResultSet rs = b.createStatement().executeQuery(
                    "SELECT current_setting('search_path'), current_setting('statement_timeout')")) {
                    rs.next();
                    assertEquals("\"$user\", public", rs.getString(1));
                    assertEquals("0", rs.getString(2));
                }
            }
        }
    }

    @Test
    void statementModeRefusesTransactionBlocks() throws Exception {
        try (ProxyFixture statement = ProxyFixture.start("statement", 3, null);
                  Connection c = statement.connectScram()) {
            try (ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
                rs.next();
            }
            SQLException e = assertThrows(SQLException.class, () -> c.createStatement().execute("BEGIN"));
            assertEquals("0A000", e.getSQLState());
        }
    }

    @Test
    void maxClientConnIs53300() throws Exception {
        try (ProxyFixture limited = ProxyFixture.start("transaction", 3, "max_client_conn = 2");
                  Connection a = limited.connectScram(); Connection b = limited.connectScram()) {
            SQLException e = assertThrows(SQLException.class, limited::connectScram);
            assertEquals("53300", e.getSQLState());
            try (ResultSet rs = a.createStatement().executeQuery("SELECT 1")) {
                assertTrue(rs.next());
            }
            b.close();
            try (Connection c = limited.connectScram(); ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
                assertTrue(rs.next());
            }
        }
    }
}
