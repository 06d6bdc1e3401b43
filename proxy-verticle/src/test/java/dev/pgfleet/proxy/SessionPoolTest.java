package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.TestUsers;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Many clients on a pool of 20 server connections in session mode. */
class SessionPoolTest {

    static ProxyFixture proxy;

    @BeforeAll
    static void start() {
        proxy = ProxyFixture.start(20);
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    private int serverConnections() throws Exception {
        try (Connection d = proxy.direct(); ResultSet rs = d.createStatement().executeQuery(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = '" + TestUsers.SCRAM_USER + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void theTwentyFirstWaitsUntilAClientLeaves() throws Exception {
        List<Connection> held = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                held.add(proxy.connectScram());
            }
            CompletableFuture<Connection> twentyFirst = CompletableFuture.supplyAsync(() -> {
                try {
                    return proxy.connectScram();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            proxy.awaitWaiting(1);   // the 21st logged in and waits for a server connection
            assertFalse(twentyFirst.isDone(), "the 21st client must wait for a server connection");
            assertEquals(20, serverConnections());
            held.remove(0).close();
            Connection c = twentyFirst.get(10, TimeUnit.SECONDS);
            held.add(c);
            try (ResultSet rs = c.createStatement().executeQuery("SELECT 21")) {
                assertTrue(rs.next());
            }
            assertEquals(20, serverConnections());
        } finally {
            for (Connection c : held) {
                c.close();
            }
        }
    }

    @Test
    void twoHundredClientsNeverSeeAnotherClientsSession() throws Exception {
        int clients = 200;
        AtomicInteger maxServers = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int id = i;
                results.add(pool.submit(() -> {
                    try (Connection c = proxy.connectScram(); Statement st = c.createStatement()) {
                        // Session state of our own: a custom setting and a temp table.
                        st.execute("SET pgfleet.client_id = '" + id + "'");
                        st.execute("CREATE TEMP TABLE mine (id int)");
                        st.execute("INSERT INTO mine VALUES (" + id + ")");
                        for (int round = 0; round < 3; round++) {
                            try (ResultSet rs = st.executeQuery(
                                "SELECT current_setting('pgfleet.client_id'), (SELECT id FROM mine), count(*) FROM mine")) {
                                rs.next();
                                assertEquals(String.valueOf(id), rs.getString(1));
                                assertEquals(id, rs.getInt(2));
                                assertEquals(1, rs.getInt(3));
                            }
                            Thread.sleep(5);
                        }
                        return id;
                    }
                }));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            int done = 0;
            for (Future<Integer> f : results) {
                maxServers.accumulateAndGet(serverConnections(), Math::max);
                f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                done++;
            }
            assertEquals(clients, done);
            assertTrue(maxServers.get() <= 20, "server connections seen: " + maxServers.get());
        } finally {
            pool.shutdownNow();
        }
        // The pool is reused: a reset (DISCARD ALL) removed each client's temp table and setting.
        try (Connection c = proxy.connectScram(); ResultSet rs = c.createStatement().executeQuery(
            "SELECT current_setting('pgfleet.client_id', true), to_regclass('pg_temp.mine') IS NULL")) {
            rs.next();
            assertTrue(rs.getString(1) == null || rs.getString(1).isEmpty(), "setting leaked: " + rs.getString(1));
            assertTrue(rs.getBoolean(2), "temp table leaked");
        }
    }
}
