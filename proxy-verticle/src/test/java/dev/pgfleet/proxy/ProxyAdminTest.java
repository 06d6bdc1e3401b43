package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.admin.AdminBus;
import dev.pgfleet.shared.admin.AdminReply;
import dev.pgfleet.shared.admin.AdminRequest;
import dev.pgfleet.shared.admin.ProxyStats;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The proxy's admin commands on AdminBus.PROXY, against the real server, with pgjdbc clients. */
class ProxyAdminTest {

    private static CompletableFuture<AdminReply> send(ProxyFixture proxy, String command, String... args) {
        CompletableFuture<AdminReply> f = new CompletableFuture<>();
        proxy.vertx.eventBus().<JsonObject>request(AdminBus.PROXY, AdminRequest.of(command, args).toJson(),
                new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(60_000))
            .onSuccess(m -> f.complete(AdminReply.fromJson(m.body())))
            .onFailure(f::completeExceptionally);
        return f;
    }

    private static AdminReply command(ProxyFixture proxy, String command, String... args) throws Exception {
        return send(proxy, command, args).get(30, TimeUnit.SECONDS);
    }

    private static void ok(ProxyFixture proxy, String command, String... args) throws Exception {
        AdminReply r = command(proxy, command, args);
        assertNull(r.sqlState(), command + ": " + r.message());
    }

    private static Set<Integer> backends() throws SQLException {
        Set<Integer> pids = new HashSet<>();
        try (Connection d = dev.pgfleet.testkit.TestPostgres.cluster().primary().connectSuperuser(TestUsers.DATABASE);
                  ResultSet rs = d.createStatement().executeQuery(
                      "SELECT pid FROM pg_stat_activity WHERE usename = '" + TestUsers.SCRAM_USER + "'")) {
            while (rs.next()) {
                pids.add(rs.getInt(1));
            }
        }
        return pids;
    }

    private static int backendPid(Connection c) throws SQLException {
        try (ResultSet rs = c.createStatement().executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void pauseUnderLoadHoldsNewTransactionsAndResumeReleasesThem() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 5, "")) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger done = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            ExecutorService pool = Executors.newFixedThreadPool(20);
            List<Future<?>> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 20; i++) {
                    clients.add(pool.submit(() -> {
                        try (Connection c = proxy.connectScram()) {
                            c.setAutoCommit(false);
                            while (!stop.get()) {
                                c.createStatement().execute("SELECT pg_sleep(0.002)");
                                c.createStatement().execute("SELECT 1");
                                c.commit();
                                done.incrementAndGet();
                            }
                        } catch (Throwable t) {
                            failure.compareAndSet(null, t);
                        }
                        return null;
                    }));
                }
                ProxyStatsTest.awaitStats(proxy, s -> ProxyStatsTest.scramPool(s).xacts() >= 100, "load running");
                AdminReply paused = command(proxy, "PAUSE");
                assertNull(paused.sqlState(), paused.message());
                // PgBouncer's PAUSE: every server connection of the pools is released and closed.
                assertEquals(Set.of(), backends());
                ProxyStats held = ProxyStatsTest.awaitStats(proxy, s -> ProxyStatsTest.scramPool(s).clWaiting() == 20,
                    "all 20 clients held");
                ProxyStats.PoolStats p = ProxyStatsTest.scramPool(held);
                assertEquals(0, p.svActive());
                assertTrue(p.maxWaitMicros() > 0);
                long xacts = p.xacts();
                // Held: nothing more ends while paused (every client is waiting, none has a server).
                assertEquals(xacts, ProxyStatsTest.scramPool(ProxyStatsTest.stats(proxy)).xacts());
                assertEquals("already suspended/paused", command(proxy, "PAUSE").message());
                assertEquals("08P01", command(proxy, "PAUSE").sqlState());
                assertNull(failure.get());

                ok(proxy, "RESUME");
                ProxyStatsTest.awaitStats(proxy, s -> ProxyStatsTest.scramPool(s).xacts() >= xacts + 100, "all proceed");
                AdminReply again = command(proxy, "RESUME");
                assertEquals("08P01", again.sqlState());
                assertEquals("pooler is not paused/suspended", again.message());
                stop.set(true);
                for (Future<?> f : clients) {
                    f.get(30, TimeUnit.SECONDS);
                }
                assertNull(failure.get(), () -> "a client failed: " + failure.get());
            } finally {
                stop.set(true);
                pool.shutdownNow();
            }
        }
    }

    @Test
    void pauseOfOneDatabaseAndItsErrors() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 5, "")) {
            AdminReply unknown = command(proxy, "PAUSE", "nope");
            assertEquals("3D000", unknown.sqlState());
            assertEquals("no such database: nope", unknown.message());
            AdminReply notPaused = command(proxy, "RESUME", TestUsers.DATABASE);
            assertEquals("08P01", notPaused.sqlState());
            assertEquals("database " + TestUsers.DATABASE + " is not paused", notPaused.message());
            ok(proxy, "PAUSE", TestUsers.DATABASE);
            // A new client of a paused database waits (at login) until RESUME.
            CompletableFuture<Integer> late = CompletableFuture.supplyAsync(() -> {
                try (Connection c = proxy.connectScram(); ResultSet rs = c.createStatement().executeQuery("SELECT 7")) {
                    rs.next();
                    return rs.getInt(1);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            ProxyStatsTest.awaitStats(proxy, s -> ProxyStatsTest.scramPool(s).clWaiting() == 1, "the new client held");
            assertTrue(ProxyStatsTest.scramPool(ProxyStatsTest.stats(proxy)).paused());
            assertFalse(late.isDone());
            ok(proxy, "RESUME", TestUsers.DATABASE);
            assertEquals(7, late.get(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void killDatabaseSends57P01AndThePoolServesNewClients() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 5, "");
                  Connection idle = proxy.connectScram(); Connection inTx = proxy.connectScram()) {
            assertEquals(1, idle.createStatement().executeQuery("SELECT 1").next() ? 1 : 0);
            inTx.setAutoCommit(false);
            int oldPid = backendPid(inTx);   // a transaction is open
            ok(proxy, "KILL", TestUsers.DATABASE);
            for (Connection c : List.of(idle, inTx)) {
                SQLException e = assertThrows(SQLException.class, () -> c.createStatement().execute("SELECT 2"));
                assertEquals("57P01", e.getSQLState(), e.getMessage());
            }
            try (Connection fresh = proxy.connectScram()) {
                int pid = backendPid(fresh);
                assertNotEquals(oldPid, pid);
            }
            assertFalse(ProxyStatsTest.scramPool(ProxyStatsTest.stats(proxy)).paused(), "the pool serves on (the issue's KILL)");
        }
    }

    @Test
    void killClientEndsThatClientOnly() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 5, "");
                  Connection victim = proxy.connectScram(); Connection other = proxy.connectScram()) {
            victim.createStatement().execute("SET application_name = 'victim'");
            ProxyStats s = ProxyStatsTest.awaitStats(proxy,
                x -> x.clients().stream().anyMatch(c -> c.applicationName().equals("victim")), "the victim listed");
            long id = s.clients().stream().filter(c -> c.applicationName().equals("victim")).findFirst().orElseThrow().id();
            ok(proxy, "KILL_CLIENT", Long.toString(id));
            SQLException e = assertThrows(SQLException.class, () -> victim.createStatement().execute("SELECT 1"));
            assertEquals("57P01", e.getSQLState(), e.getMessage());
            assertEquals(1, other.createStatement().executeQuery("SELECT 1").next() ? 1 : 0);
            AdminReply missing = command(proxy, "KILL_CLIENT", Long.toString(id));
            assertEquals("08P01", missing.sqlState());
        }
    }

    @Test
    void reconnectThenWaitCloseChangesTheBackends() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 5, "");
                  Connection holder = proxy.connectScram(); Connection other = proxy.connectScram()) {
            holder.setAutoCommit(false);
            int held = backendPid(holder);   // open transaction: its connection is busy
            backendPid(other);
            Set<Integer> before = backends();
            assertTrue(before.contains(held));
            ok(proxy, "RECONNECT", TestUsers.DATABASE);
            CompletableFuture<AdminReply> waitClose = send(proxy, "WAIT_CLOSE", TestUsers.DATABASE);
            ProxyStats s = ProxyStatsTest.stats(proxy);
            assertTrue(s.servers().stream().anyMatch(ProxyStats.ConnectionStats::closeNeeded), "the busy one is close_needed");
            assertFalse(waitClose.isDone(), "WAIT_CLOSE waits for the busy connection");
            holder.commit();
            assertNull(waitClose.get(20, TimeUnit.SECONDS).sqlState());
            holder.setAutoCommit(true);
            int now = backendPid(holder);
            assertFalse(before.contains(now), "a new backend " + now + ", not one of " + before);
            assertFalse(before.contains(backendPid(other)));
        }
    }

    @Test
    void disableRefusesNewLoginsAndEnableUndoes() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 5, ""); Connection existing = proxy.connectScram()) {
            ok(proxy, "DISABLE", TestUsers.DATABASE);
            SQLException e = assertThrows(SQLException.class, proxy::connectScram);
            assertEquals("55000", e.getSQLState(), e.getMessage());
            assertTrue(e.getMessage().contains("database does not allow connections: " + TestUsers.DATABASE), e.getMessage());
            assertEquals(1, existing.createStatement().executeQuery("SELECT 1").next() ? 1 : 0);
            assertEquals("3D000", command(proxy, "DISABLE", "nope").sqlState());
            ok(proxy, "ENABLE", TestUsers.DATABASE);
            try (Connection c = proxy.connectScram()) {
                assertEquals(1, c.createStatement().executeQuery("SELECT 1").next() ? 1 : 0);
            }
        }
    }

    @Test
    void suspendStopsReadingUntilResume() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 5, ""); Connection c = proxy.connectScram()) {
            backendPid(c);
            ok(proxy, "SUSPEND");
            assertTrue(ProxyStatsTest.stats(proxy).suspended());
            assertEquals("already suspended/paused", command(proxy, "SUSPEND").message());
            CompletableFuture<Integer> query = CompletableFuture.supplyAsync(() -> {
                try (ResultSet rs = c.createStatement().executeQuery("SELECT 5")) {
                    rs.next();
                    return rs.getInt(1);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            // A round trip to every loop and one to the server later, the query is still unread.
            ProxyStatsTest.stats(proxy);
            backends();
            assertFalse(query.isDone());
            ok(proxy, "RESUME");
            assertEquals(5, query.get(20, TimeUnit.SECONDS));
            assertFalse(ProxyStatsTest.stats(proxy).suspended());
        }
    }

    @Test
    void shutdownSends57P01AndRunsTheHook() throws Exception {
        ProxyFixture proxy = ProxyFixture.start("transaction", 5, "");
        try (Connection c = proxy.connectScram()) {
            CompletableFuture<Void> hook = new CompletableFuture<>();
            proxy.runtime.onShutdownRequest(() -> hook.complete(null));
            assertEquals("42601", command(proxy, "SHUTDOWN", "SOON").sqlState());
            ok(proxy, "SHUTDOWN");
            hook.get(20, TimeUnit.SECONDS);
            SQLException e = assertThrows(SQLException.class, () -> c.createStatement().execute("SELECT 1"));
            assertEquals("57P01", e.getSQLState(), e.getMessage());
        } finally {
            proxy.close();
        }
    }

    @Test
    void shutdownWaitForServersLetsTheRunningTransactionEnd() throws Exception {
        ProxyFixture proxy = ProxyFixture.start("transaction", 5, "");
        try (Connection holder = proxy.connectScram(); Connection idle = proxy.connectScram()) {
            holder.setAutoCommit(false);
            backendPid(holder);   // a transaction is open
            backendPid(idle);
            CompletableFuture<Void> hook = new CompletableFuture<>();
            proxy.runtime.onShutdownRequest(() -> hook.complete(null));
            ok(proxy, "SHUTDOWN", "WAIT_FOR_SERVERS");
            assertFalse(ProxyStatsTest.stats(proxy).listening());
            assertThrows(SQLException.class, proxy::connectScram, "no new clients");
            holder.createStatement().execute("SELECT 2");   // the running transaction goes on
            assertFalse(hook.isDone());
            holder.commit();
            hook.get(20, TimeUnit.SECONDS);
            SQLException e = assertThrows(SQLException.class, () -> idle.createStatement().execute("SELECT 1"));
            assertEquals("57P01", e.getSQLState(), e.getMessage());
        } finally {
            proxy.close();
        }
    }

    @Test
    void shutdownWaitForClientsWaitsForTheLastClient() throws Exception {
        ProxyFixture proxy = ProxyFixture.start("transaction", 5, "");
        try {
            Connection c = proxy.connectScram();
            CompletableFuture<Void> hook = new CompletableFuture<>();
            proxy.runtime.onShutdownRequest(() -> hook.complete(null));
            ok(proxy, "SHUTDOWN", "WAIT_FOR_CLIENTS");
            assertThrows(SQLException.class, proxy::connectScram, "no new clients");
            assertEquals(1, c.createStatement().executeQuery("SELECT 1").next() ? 1 : 0);
            assertFalse(hook.isDone());
            c.close();
            hook.get(20, TimeUnit.SECONDS);
        } finally {
            proxy.close();
        }
    }
}
