package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.protocol.FrontendMessages;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Server connections killed while idle in the pool (pg_terminate_backend from outside): a client
 * whose checkout gets one before PgFleet has read its close must not fail, since nothing of the
 * client's reached that server (only PgFleet's settings sync, or the session-mode login's SET).
 *
 * <p>To make "before PgFleet has read its close" certain rather than a race, the proxy's event
 * loops are held while the clients' requests are sent and then the backends die: when the loops
 * go on, the clients' bytes are ready before the servers' closes.
 */
class IdleServerLostTest {

    private static final int POOL = 2;
    private static final int CLIENTS = 4;

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void clientsGetAnotherConnection(String mode) throws Exception {
        TestPostgres.reset();
        try (ProxyFixture proxy = ProxyFixture.start(mode, POOL, null)) {
            // Fill the pool: POOL clients at once, each in a transaction, then gone.
            List<RawClient> fill = new ArrayList<>();
            for (int i = 0; i < POOL; i++) {
                RawClient raw = new RawClient(proxy.port);
                raw.md5Login();
                raw.send(b -> FrontendMessages.query(b, "BEGIN; SELECT 1"));
                raw.readUntil('Z');
                fill.add(raw);
            }
            for (RawClient raw : fill) {
                raw.send(b -> FrontendMessages.query(b, "COMMIT"));
                raw.readUntil('Z');
                raw.close();
            }
            waitForIdle(proxy, POOL);

            // New clients with a startup parameter, so their checkout syncs settings first.
            List<RawClient> clients = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                RawClient raw = new RawClient(proxy.port);
                raw.md5Start(Map.of("application_name", "lost-" + i));
                if (mode.equals("transaction")) {
                    raw.md5Password();
                    raw.readUntil('Z');
                }
                clients.add(raw);
            }
            CountDownLatch release = holdEventLoops(proxy);
            try {
                for (RawClient raw : clients) {
                    if (mode.equals("session")) {
                        raw.md5Password();   // the login's server connection is taken when this is read
                    } else {
                        raw.send(b -> FrontendMessages.query(b, "SELECT current_setting('application_name')"));
                    }
                }
                terminateIdleBackends(proxy);
            } finally {
                release.countDown();
            }
            // Read side by side: in session mode the clients that got a connection hold it until they leave.
            java.util.concurrent.ExecutorService readers = java.util.concurrent.Executors.newFixedThreadPool(CLIENTS);
            List<java.util.concurrent.Callable<String>> reads = new ArrayList<>();
            for (RawClient raw : clients) {
                reads.add(() -> {
                    try (raw) {
                        if (mode.equals("session")) {
                            raw.readUntil('Z');
                            raw.send(b -> FrontendMessages.query(b, "SELECT current_setting('application_name')"));
                        }
                        RawClient.Message row = raw.readUntil('D');
                        raw.readUntil('Z');
                        return new String(row.body(), 6, row.body().length - 6, java.nio.charset.StandardCharsets.UTF_8);
                    } catch (java.io.IOException e) {
                        return e.getMessage();
                    }
                });
            }
            List<String> got = new ArrayList<>();
            try {
                for (java.util.concurrent.Future<String> f : readers.invokeAll(reads)) {
                    got.add(f.get());
                }
            } finally {
                readers.shutdownNow();
            }
            List<String> want = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                want.add("lost-" + i);
            }
            assertEquals(want, got);
        }
    }

    /** Polls (with a deadline) until the server shows {@code n} idle backends of the pool's user. */
    private static void waitForIdle(ProxyFixture proxy, int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        try (Connection c = proxy.direct(); Statement st = c.createStatement()) {
            while (true) {
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = '"
                    + TestUsers.MD5_USER + "' AND state = 'idle'")) {
                    rs.next();
                    if (rs.getInt(1) == n) {
                        return;
                    }
                }
                assertTrue(System.nanoTime() < deadline, "the pool never had " + n + " idle server connections");
                Thread.sleep(20);
            }
        }
    }

    /** Kills the pool's backends from a direct connection, and waits until they are gone. */
    private static void terminateIdleBackends(ProxyFixture proxy) throws Exception {
        try (Connection c = proxy.direct(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '"
                + TestUsers.MD5_USER + "'")) {
                rs.next();
                assertEquals(POOL, rs.getInt(1), "backends terminated");
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (true) {
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = '"
                    + TestUsers.MD5_USER + "'")) {
                    rs.next();
                    if (rs.getInt(1) == 0) {
                        return;
                    }
                }
                assertTrue(System.nanoTime() < deadline, "terminated backends did not exit");
                Thread.sleep(10);
            }
        }
    }

    /** Blocks every event loop of the proxy until the returned latch is counted down. */
    private static CountDownLatch holdEventLoops(ProxyFixture proxy) throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        List<java.util.concurrent.Executor> loops = dev.pgfleet.shared.net.NetSockets.eventLoops(proxy.vertx);
        CountDownLatch held = new CountDownLatch(loops.size());
        for (java.util.concurrent.Executor loop : loops) {
            loop.execute(() -> {
                held.countDown();
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        assertTrue(held.await(10, TimeUnit.SECONDS));
        return release;
    }
}
