package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.io.StringReader;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.copy.CopyManager;

/** pgjdbc through PgFleet in session mode, against a real primary. */
class SessionModeTest {

    static ProxyFixture proxy;

    @BeforeAll
    static void startProxy() {
        proxy = ProxyFixture.start(20);
    }

    @AfterAll
    static void stopProxy() {
        proxy.close();
    }

    @BeforeEach
    void reset() {
        TestPostgres.reset();
    }

    @Test
    void scramSimpleQuery() throws SQLException {
        try (Connection c = proxy.connectScram(); Statement st = c.createStatement();
                  ResultSet rs = st.executeQuery("SELECT current_user, 40 + 2")) {
            assertTrue(rs.next());
            assertEquals(TestUsers.SCRAM_USER, rs.getString(1));
            assertEquals(42, rs.getInt(2));
        }
    }

    @Test
    void md5PreparedQuery() throws SQLException {
        try (Connection c = proxy.connect(TestUsers.MD5_USER, TestUsers.MD5_PASSWORD);
                  PreparedStatement ps = c.prepareStatement("SELECT ?::int * 2, current_user")) {
            // pgjdbc switches to a named server-side statement after prepareThreshold (5) uses.
            for (int i = 0; i < 10; i++) {
                ps.setInt(1, i);
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals(i * 2, rs.getInt(1));
                    assertEquals(TestUsers.MD5_USER, rs.getString(2));
                }
            }
        }
    }

    @Test
    void serverSideCleartextAndTrustLogins() throws SQLException {
        // PgFleet authenticates the client with SCRAM; the server asks PgFleet for a cleartext
        // password (app_clear) or nothing at all (app_trust).
        try (Connection c = proxy.connect(TestUsers.CLEARTEXT_USER, TestUsers.CLEARTEXT_PASSWORD);
                  ResultSet rs = c.createStatement().executeQuery("SELECT current_user")) {
            assertTrue(rs.next());
            assertEquals(TestUsers.CLEARTEXT_USER, rs.getString(1));
        }
        try (Connection c = proxy.connect(TestUsers.TRUST_USER, "unused");
                  ResultSet rs = c.createStatement().executeQuery("SELECT current_user")) {
            assertTrue(rs.next());
            assertEquals(TestUsers.TRUST_USER, rs.getString(1));
        }
    }

    @Test
    void transactionsCommitAndRollBack() throws SQLException {
        try (Connection c = proxy.connectScram(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE tx_test (id int primary key, v text)");
            c.setAutoCommit(false);
            st.execute("INSERT INTO tx_test VALUES (1, 'kept')");
            c.commit();
            st.execute("INSERT INTO tx_test VALUES (2, 'dropped')");
            c.rollback();
            // A failed transaction: the error, then ROLLBACK brings the connection back.
            assertThrows(SQLException.class, () -> st.execute("INSERT INTO tx_test VALUES (1, 'duplicate')"));
            c.rollback();
            c.setAutoCommit(true);
            try (ResultSet rs = st.executeQuery("SELECT string_agg(v, ',' ORDER BY id) FROM tx_test")) {
                assertTrue(rs.next());
                assertEquals("kept", rs.getString(1));
            }
        }
    }

    @Test
    void wrongPasswordAndUnknownUserLookTheSame() {
        SQLException wrong = assertThrows(SQLException.class, () -> proxy.connect(TestUsers.SCRAM_USER, "nope"));
        SQLException unknown = assertThrows(SQLException.class, () -> proxy.connect("nobody_here", "nope"));
        assertEquals("28P01", wrong.getSQLState());
        assertEquals("28P01", unknown.getSQLState());
        assertEquals(wrong.getMessage().replace(TestUsers.SCRAM_USER, "X"), unknown.getMessage().replace("nobody_here", "X"));
    }

    @Test
    void unknownDatabaseIs3D000AfterAuthentication() {
        String url = "jdbc:postgresql://127.0.0.1:" + proxy.port + "/no_such_db?sslmode=disable&gssEncMode=disable";
        SQLException e = assertThrows(SQLException.class,
            () -> java.sql.DriverManager.getConnection(url, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD));
        assertEquals("3D000", e.getSQLState());
        // With a wrong password the same request fails authentication first.
        SQLException auth = assertThrows(SQLException.class,
            () -> java.sql.DriverManager.getConnection(url, TestUsers.SCRAM_USER, "wrong"));
        assertEquals("28P01", auth.getSQLState());
    }

    @Test
    void copyInAndOutOf100kRows() throws Exception {
        int rows = 100_000;
        StringBuilder data = new StringBuilder(rows * 24);
        long expectedSum = 0;
        for (int i = 0; i < rows; i++) {
            data.append(i).append('\t').append("row-").append(i).append('\n');
            expectedSum += i;
        }
        try (Connection c = proxy.connectScram(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE copy_test (id int, label text)");
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            long copied = copy.copyIn("COPY copy_test FROM STDIN", new StringReader(data.toString()));
            assertEquals(rows, copied);
            try (ResultSet rs = st.executeQuery("SELECT count(*), sum(id), count(DISTINCT label) FROM copy_test")) {
                assertTrue(rs.next());
                assertEquals(rows, rs.getLong(1));
                assertEquals(expectedSum, rs.getLong(2));
                assertEquals(rows, rs.getLong(3));
            }
            StringWriter out = new StringWriter();
            long exported = copy.copyOut("COPY (SELECT id, label FROM copy_test ORDER BY id) TO STDOUT", out);
            assertEquals(rows, exported);
            assertEquals(data.toString(), out.toString());
        }
    }

    @Test
    void listenNotify() throws Exception {
        try (Connection listener = proxy.connectScram(); Connection notifier = proxy.connectScram()) {
            listener.createStatement().execute("LISTEN pgfleet_chan");
            notifier.createStatement().execute("NOTIFY pgfleet_chan, 'hello'");
            PGNotification[] got = listener.unwrap(PGConnection.class).getNotifications(5000);
            assertNotNull(got);
            assertEquals(1, got.length);
            assertEquals("pgfleet_chan", got[0].getName());
            assertEquals("hello", got[0].getParameter());
        }
    }

    @Test
    void cancelReachesTheRightServerWithinASecond() throws Exception {
        try (Connection c = proxy.connectScram(); Connection other = proxy.connectScram()) {
            Statement st = c.createStatement();
            CompletableFuture<SQLException> result = CompletableFuture.supplyAsync(() -> {
                try {
                    st.execute("SELECT pg_sleep(30)");
                    return null;
                } catch (SQLException e) {
                    return e;
                }
            });
            // Let the query reach the server before cancelling it.
            waitUntilRunning("pg_sleep(30)");
            long start = System.nanoTime();
            st.cancel();
            SQLException e = result.get(5, TimeUnit.SECONDS);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertNotNull(e, "the query should have been cancelled");
            assertEquals("57014", e.getSQLState());
            assertTrue(millis < 1000, "cancel took " + millis + " ms");
            // The other client's session was not touched, and this one is still usable.
            try (ResultSet rs = other.createStatement().executeQuery("SELECT 1")) {
                assertTrue(rs.next());
            }
            try (ResultSet rs = c.createStatement().executeQuery("SELECT 2")) {
                assertTrue(rs.next());
                assertEquals(2, rs.getInt(1));
            }
        }
    }

    private void waitUntilRunning(String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        try (Connection d = proxy.direct()) {
            while (System.nanoTime() < deadline) {
                try (ResultSet rs = d.createStatement().executeQuery(
                    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%" + text + "%' AND pid <> pg_backend_pid()")) {
                    rs.next();
                    if (rs.getInt(1) > 0) {
                        return;
                    }
                }
                Thread.sleep(20);
            }
        }
        throw new AssertionError("query never started: " + text);
    }
}
