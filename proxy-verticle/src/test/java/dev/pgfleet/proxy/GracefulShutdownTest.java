package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.auth.Md5Auth;
import dev.pgfleet.shared.protocol.FrontendMessages;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** Shutdown stops accepting, lets a running transaction finish, and sends 57P01. */
class GracefulShutdownTest {

    /** Longer than any test here waits: what happens within it is draining, not the timeout's cut. */
    private static final Duration DRAIN_GRACE = Duration.ofSeconds(30);
    /** How long draining may take to reach a client between transactions: far less than the grace. */
    private static final Duration DRAINED_WITHIN = Duration.ofSeconds(10);

    @Test
    void runningTransactionFinishesIdleClientsGet57P01() throws Exception {
        TestPostgres.reset();
        try (ProxyFixture proxy = ProxyFixture.start(5)) {
            try (Connection setup = proxy.connectScram()) {
                setup.createStatement().execute("CREATE TABLE shutdown_test (id int)");
            }
            Connection idle = proxy.connectScram();
            Connection busy = proxy.connectScram();
            busy.setAutoCommit(false);
            Statement st = busy.createStatement();
            st.execute("INSERT INTO shutdown_test VALUES (1)");

            io.vertx.core.Future<Void> shutdown = proxy.runtime.shutdown(proxy.vertx, DRAIN_GRACE);
            // The idle client is told to go at once; the busy one stays.
            awaitUntil("the idle client is gone", () -> proxy.runtime.clientCount() == 1);
            SQLException gone = assertThrows(SQLException.class, () -> idle.createStatement().execute("SELECT 1"));
            assertEquals("57P01", gone.getSQLState(), "idle client: " + gone);
            // No new clients.
            assertThrows(SQLException.class, proxy::connectScram);
            // The transaction in flight can still finish.
            st.execute("INSERT INTO shutdown_test VALUES (2)");
            busy.commit();
            shutdown.toCompletionStage().toCompletableFuture().get();
            SQLException after = assertThrows(SQLException.class, () -> busy.createStatement().execute("SELECT 1"));
            assertEquals("57P01", after.getSQLState(), "the busy client goes after its transaction: " + after);
            try (Connection d = proxy.direct(); ResultSet rs = d.createStatement().executeQuery("SELECT count(*) FROM shutdown_test")) {
                rs.next();
                assertEquals(2, rs.getInt(1));
            }
            idle.close();
            busy.close();
        }
    }

    /**
     * pgjdbc looping short transactions while shutdown begins: once draining, the client is
     * refused with 57P01 at the start of its next transaction (or as it ends one), never inside
     * one; every transaction it saw commit is in the table, the refused one left nothing.
     */
    @Test
    void transactionLoopGets57P01BetweenTransactions() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 5, null)) {
            try (Connection setup = proxy.connectScram(); Statement st = setup.createStatement()) {
                st.execute("DROP TABLE IF EXISTS drain_jdbc");
                st.execute("CREATE TABLE drain_jdbc (n int)");
            }
            Connection c = proxy.connectScram();
            c.setAutoCommit(false);
            AtomicInteger committed = new AtomicInteger();
            AtomicInteger failedAt = new AtomicInteger(-1);
            AtomicReference<SQLException> failure = new AtomicReference<>();
            Thread loop = new Thread(() -> {
                int step = 0;
                try (Statement st = c.createStatement()) {
                    for (int n = 1; ; n++) {
                        step = 0;
                        st.execute("INSERT INTO drain_jdbc VALUES (" + n + ")");
                        step = 1;
                        st.execute("SELECT pg_sleep(0.001)");
                        step = 2;
                        c.commit();
                        committed.set(n);
                    }
                } catch (SQLException e) {
                    failedAt.set(step);
                    failure.set(e);
                }
            }, "transaction-loop");
            loop.start();
            awaitUntil("some transactions committed", () -> committed.get() >= 20);

            io.vertx.core.Future<Void> shutdown = proxy.runtime.shutdown(proxy.vertx, DRAIN_GRACE);
            loop.join(DRAINED_WITHIN.toMillis());
            assertFalse(loop.isAlive(), "still running transactions " + DRAINED_WITHIN + " into draining");
            SQLException e = failure.get();
            assertEquals("57P01", e.getSQLState(), e::toString);
            // pgjdbc sends BEGIN with the transaction's first statement, so step 0 is "between
            // transactions"; a COMMIT refused (step 2) would be a transaction cut.
            assertEquals(0, failedAt.get(), "refused inside a transaction: " + e);
            shutdown.await();
            try (Connection d = proxy.direct(); ResultSet rs = d.createStatement().executeQuery("SELECT count(*), max(n) FROM drain_jdbc")) {
                rs.next();
                assertEquals(committed.get(), rs.getInt(1), "every commit the client saw, no other row");
                assertEquals(committed.get(), rs.getInt(2));
            }
            c.close();
        }
    }

    /**
     * A client that pipelines COMMIT and its next BEGIN in one write leaves no moment between
     * transactions for a periodic check to see: draining must refuse it when the COMMIT's answer
     * goes out, before the BEGIN reaches a server.
     */
    @Test
    void pipelinedTransactionsEndWith57P01AfterACommit() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 5, null)) {
            try (Connection setup = proxy.connectScram(); Statement st = setup.createStatement()) {
                st.execute("DROP TABLE IF EXISTS drain_raw");
                st.execute("CREATE TABLE drain_raw (n int)");
                st.execute("GRANT ALL ON drain_raw TO PUBLIC");
            }
            try (RawClient raw = md5Login(proxy)) {
                raw.send(b -> {
                    FrontendMessages.query(b, "BEGIN");
                    FrontendMessages.query(b, "INSERT INTO drain_raw VALUES (1)");
                });
                readReady(raw, 2);
                io.vertx.core.Future<Void> shutdown = null;
                long deadline = 0;
                int committed = 0;
                RawClient.Message error = null;
                for (int n = 2; error == null; n++) {
                    int next = n;
                    raw.send(b -> {
                        FrontendMessages.query(b, "COMMIT");
                        FrontendMessages.query(b, "BEGIN");
                        FrontendMessages.query(b, "INSERT INTO drain_raw VALUES (" + next + ")");
                    });
                    // COMMIT's answer, then either BEGIN's and INSERT's or the FATAL.
                    RawClient.Message m;
                    while ((m = raw.read()).type() != 'Z') {
                        assertTrue(m.type() != 'E', () -> "COMMIT failed");
                    }
                    committed = n - 1;
                    for (int ready = 0; ready < 2 && error == null; ) {
                        m = raw.read();
                        if (m.type() == 'E') {
                            error = m;
                        } else if (m.type() == 'Z') {
                            ready++;
                        }
                    }
                    if (shutdown == null && n == 20) {
                        shutdown = proxy.runtime.shutdown(proxy.vertx, DRAIN_GRACE);
                        deadline = System.nanoTime() + DRAINED_WITHIN.toNanos();
                    }
                    assertTrue(deadline == 0 || System.nanoTime() < deadline || error != null,
                        "still running transactions " + DRAINED_WITHIN + " into draining");
                }
                assertEquals("57P01", error.error().sqlState(), error.error()::toString);
                assertTrue(raw.closedByServer());
                assertTrue(shutdown != null, "refused before shutdown began");
                shutdown.await();
                try (Connection d = proxy.direct(); ResultSet rs = d.createStatement().executeQuery("SELECT count(*), max(n) FROM drain_raw")) {
                    rs.next();
                    assertEquals(committed, rs.getInt(1), "the transactions whose COMMIT was answered, and no other");
                    assertEquals(committed, rs.getInt(2));
                }
            }
        }
    }

    /** A client waiting for a server connection has sent nothing to a server: draining ends it at once. */
    @Test
    void clientWaitingForACheckoutGets57P01() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 1, "query_wait_timeout = 0");
                  Connection holder = proxy.connectScram(); Connection waiter = proxy.connectScram()) {
            holder.setAutoCommit(false);
            holder.createStatement().execute("SELECT 1");   // holds the only server connection
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                Future<Integer> waited = pool.submit(() -> {
                    try (ResultSet rs = waiter.createStatement().executeQuery("SELECT 2")) {
                        rs.next();
                        return rs.getInt(1);
                    }
                });
                awaitUntil("the waiter queued for the connection", () -> waitingClients(proxy) == 1);
                io.vertx.core.Future<Void> shutdown = proxy.runtime.shutdown(proxy.vertx, DRAIN_GRACE);
                ExecutionException e = assertThrows(ExecutionException.class,
                    () -> waited.get(DRAINED_WITHIN.toMillis(), TimeUnit.MILLISECONDS));
                assertEquals("57P01", ((SQLException) e.getCause()).getSQLState(), e.getCause()::toString);
                // The holder's transaction, already running, still finishes.
                holder.createStatement().execute("SELECT 3");
                holder.commit();
                shutdown.await();
            } finally {
                pool.shutdownNow();
            }
        }
    }

    private static int waitingClients(ProxyFixture proxy) {
        return proxy.runtime.pools().values().stream().mapToInt(ServerPool::waiting).sum();
    }

    private static void awaitUntil(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "not within 20 s: " + what);
            Thread.sleep(10);
        }
    }

    private static RawClient md5Login(ProxyFixture proxy) throws Exception {
        RawClient raw = new RawClient(proxy.port);
        raw.startup(TestUsers.MD5_USER, TestUsers.DATABASE);
        RawClient.Message challenge = raw.read();
        assertEquals('R', challenge.type());
        byte[] salt = java.util.Arrays.copyOfRange(challenge.body(), 4, 8);
        String response = Md5Auth.md5Response(TestUsers.MD5_PASSWORD, TestUsers.MD5_USER, salt);
        raw.send(b -> {
            b.writeByte('p').writeInt(4 + response.length() + 1);
            b.writeBytes(response.getBytes(java.nio.charset.StandardCharsets.US_ASCII)).writeByte(0);
        });
        readReady(raw, 1);
        return raw;
    }

    private static void readReady(RawClient raw, int count) throws Exception {
        for (int ready = 0; ready < count; ) {
            RawClient.Message m = raw.read();
            assertTrue(m.type() != 'E', () -> "error: " + m.error());
            if (m.type() == 'Z') {
                ready++;
            }
        }
    }

    @Test
    void lateTransactionsAreTerminatedAtTheTimeout() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start(5)) {
            Connection busy = proxy.connectScram();
            busy.setAutoCommit(false);
            busy.createStatement().execute("SELECT 1");
            // Completes only once every session is gone: the one in a transaction is cut at the timeout.
            proxy.runtime.shutdown(proxy.vertx, Duration.ofMillis(500)).toCompletionStage().toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
            assertEquals(0, proxy.runtime.clientCount());
            SQLException e = assertThrows(SQLException.class, () -> busy.createStatement().execute("SELECT 1"));
            assertEquals("57P01", e.getSQLState(), e::toString);
            busy.close();
        }
    }
}
