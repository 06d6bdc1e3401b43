package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.TestUsers;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** Pool sizes and timeouts in transaction mode, each checked against the real server. */
class PoolLimitsTest {

    private static int serverConnections(ProxyFixture proxy) throws SQLException {
        try (Connection d = proxy.direct(); ResultSet rs = d.createStatement().executeQuery(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = '" + TestUsers.SCRAM_USER + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static int awaitServerConnections(ProxyFixture proxy, int expected, long millis) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        int n;
        do {
            n = serverConnections(proxy);
            if (n == expected) {
                return n;
            }
            Thread.sleep(100);
        } while (System.currentTimeMillis() < deadline);
        return n;
    }

    @Test
    void queryWaitTimeoutErrorsAndTheClientStaysUsable() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 1, "query_wait_timeout = 500");
                  Connection holder = proxy.connectScram(); Connection waiter = proxy.connectScram()) {
            holder.setAutoCommit(false);
            holder.createStatement().execute("SELECT 1");   // holds the only server connection
            long start = System.nanoTime();
            SQLException e = assertThrows(SQLException.class, () -> waiter.createStatement().executeQuery("SELECT 2"));
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertEquals("57014", e.getSQLState(), e.getMessage());
            assertTrue(e.getMessage().contains("query_wait_timeout"), e.getMessage());
            assertTrue(ms >= 400 && ms < 5000, "waited " + ms + " ms");
            holder.commit();
            try (ResultSet rs = waiter.createStatement().executeQuery("SELECT 3")) {
                rs.next();
                assertEquals(3, rs.getInt(1));
            }
        }
    }

    @Test
    void aWaiterThatLeavesPassesItsTurnOn() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 1, "query_wait_timeout = 10000");
                  Connection holder = proxy.connectScram(); Connection leaver = proxy.connectScram();
                  Connection next = proxy.connectScram()) {
            holder.setAutoCommit(false);
            next.setAutoCommit(false);
            holder.createStatement().execute("SELECT 1");   // holds the only server connection
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
            try {
                java.util.concurrent.Future<?> gone = pool.submit(() -> leaver.createStatement().executeQuery("SELECT 2"));
                proxy.awaitWaiting(1);   // the leaver waits for the connection
                leaver.abort(pool);   // and drops its socket while waiting
                assertThrows(java.util.concurrent.ExecutionException.class, () -> gone.get(5, java.util.concurrent.TimeUnit.SECONDS));
                java.util.concurrent.Future<Integer> served = pool.submit(() -> {
                    try (ResultSet rs = next.createStatement().executeQuery("SELECT 3")) {
                        rs.next();
                        return rs.getInt(1);
                    }
                });
                proxy.awaitWaiting(1);   // the leaver's wait is gone, the next client waits
                holder.commit();
                assertEquals(3, served.get(5, java.util.concurrent.TimeUnit.SECONDS));
                next.commit();
                // Whichever loop the leaver waited on, the only slot is not lost to it: both clients
                // left get a connection again, and the server sees one session.
                for (Connection c : new Connection[] {holder, next}) {
                    java.util.concurrent.Future<Integer> again = pool.submit(() -> {
                        try (ResultSet rs = c.createStatement().executeQuery("SELECT 4")) {
                            rs.next();
                            return rs.getInt(1);
                        }
                    });
                    assertEquals(4, again.get(5, java.util.concurrent.TimeUnit.SECONDS));
                    c.commit();
                }
                assertEquals(1, serverConnections(proxy));
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /**
     * The first waiter sent its query and a Terminate together: handed the connection, it forwards
     * the query and leaves at once, so the connection (its query unanswered) is closed. The waiter
     * after it must still be served, on a new connection, and nothing may hang.
     */
    @Test
    void aWaiterThatLeavesAsSoonAsItIsHandedTheConnectionDoesNotStallTheNext() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 1, "query_wait_timeout = 10000");
                  Connection holder = proxy.connect(TestUsers.MD5_USER, TestUsers.MD5_PASSWORD);
                  Connection next = proxy.connect(TestUsers.MD5_USER, TestUsers.MD5_PASSWORD);
                  RawClient quitter = new RawClient(proxy.port)) {
            quitter.md5Login();
            holder.setAutoCommit(false);
            holder.createStatement().execute("SELECT 1");   // holds the only server connection
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                // First in line: a query and a Terminate in one write.
                quitter.send(b -> {
                    dev.pgfleet.shared.protocol.FrontendMessages.query(b, "SELECT pg_sleep(0.2)");
                    b.writeByte('X').writeInt(4);
                });
                proxy.awaitWaiting(1);   // the quitter is first in line
                java.util.concurrent.Future<Integer> served = pool.submit(() -> {
                    try (ResultSet rs = next.createStatement().executeQuery("SELECT 2")) {
                        rs.next();
                        return rs.getInt(1);
                    }
                });
                proxy.awaitWaiting(2);   // second in line
                holder.commit();
                assertEquals(2, served.get(5, java.util.concurrent.TimeUnit.SECONDS));
                assertTrue(quitter.closedByServer(), "the quitter's Terminate closed it");
                try (ResultSet rs = holder.createStatement().executeQuery("SELECT 3")) {
                    rs.next();
                    assertEquals(3, rs.getInt(1));
                }
                holder.commit();
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void idleInTransactionClientIsDisconnectedWith25P03() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 2, "idle_client_in_transaction_timeout = 300");
                  Connection idle = proxy.connectScram(); Connection other = proxy.connectScram()) {
            idle.setAutoCommit(false);
            int backend = backendPid(idle);
            // Disconnected past the timeout: its server connection, mid-transaction, is closed with it.
            awaitBackendGone(proxy, backend);
            SQLException e = assertThrows(SQLException.class, () -> idle.createStatement().executeQuery("SELECT 2"));
            assertEquals("25P03", e.getSQLState(), e.getMessage());
            try (ResultSet rs = other.createStatement().executeQuery("SELECT 4")) {
                rs.next();
                assertEquals(4, rs.getInt(1));
            }
            // An idle client outside a transaction is left alone: while "other" sits idle, a second
            // client idle in a transaction is disconnected, so the timeout has passed for both.
            try (Connection second = proxy.connectScram()) {
                second.setAutoCommit(false);
                awaitBackendGone(proxy, backendPid(second));
            }
            try (ResultSet rs = other.createStatement().executeQuery("SELECT 5")) {
                rs.next();
                assertEquals(5, rs.getInt(1));
            }
        }
    }

    private static int backendPid(Connection c) throws SQLException {
        try (ResultSet rs = c.createStatement().executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void awaitBackendGone(ProxyFixture proxy, int pid) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        while (true) {
            try (Connection d = proxy.direct(); ResultSet rs = d.createStatement().executeQuery(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid)) {
                rs.next();
                if (rs.getInt(1) == 0) {
                    return;
                }
            }
            assertTrue(System.currentTimeMillis() < deadline, "backend " + pid + " still there after 10 s");
            Thread.sleep(50);
        }
    }

    @Test
    void idleServerConnectionsCloseAfterIdleTimeoutDownToMinPoolSize() throws Exception {
        String general = "idle_timeout = 500";
        try (ProxyFixture proxy = ProxyFixture.startWithUserSettings("transaction", 5, general, "min_pool_size = 2")) {
            // min_pool_size warms the pool with no client at all.
            assertEquals(2, awaitServerConnections(proxy, 2, 5000));
            Connection[] clients = new Connection[4];
            for (int i = 0; i < clients.length; i++) {
                clients[i] = proxy.connectScram();
                clients[i].setAutoCommit(false);
                clients[i].createStatement().execute("SELECT 1");
            }
            assertEquals(4, serverConnections(proxy));
            for (Connection c : clients) {
                c.commit();
                c.close();
            }
            // Idle past idle_timeout: closed, but not below min_pool_size.
            assertEquals(2, awaitServerConnections(proxy, 2, 5000));
        }
    }

    @Test
    void serverLifetimeReplacesOldConnectionsBetweenTransactions() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 2, "server_lifetime = 300");
                  Connection c = proxy.connectScram()) {
            int first;
            try (ResultSet rs = c.createStatement().executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                first = rs.getInt(1);
            }
            // Past server_lifetime the connection is retired between transactions: a later
            // transaction gets another backend (polled, with a deadline, instead of a fixed sleep).
            long deadline = System.currentTimeMillis() + 10_000;
            int second;
            do {
                Thread.sleep(100);
                second = backendPid(c);
            } while (second == first && System.currentTimeMillis() < deadline);
            assertTrue(first != second, "the old server connection should have been retired");
        }
    }

    @Test
    void perUserStatementTimeoutHoldsInTransactionMode() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.startWithUserSettings("transaction", 2, null, "statement_timeout = 200");
                  Connection c = proxy.connectScram()) {
            for (int i = 0; i < 3; i++) {   // on whichever server connection the client gets
                SQLException e = assertThrows(SQLException.class, () -> c.createStatement().execute("SELECT pg_sleep(2)"));
                assertEquals("57014", e.getSQLState(), e.getMessage());
            }
            try (ResultSet rs = c.createStatement().executeQuery("SELECT current_setting('statement_timeout')")) {
                rs.next();
                assertEquals("200ms", rs.getString(1));
            }
        }
    }
}
