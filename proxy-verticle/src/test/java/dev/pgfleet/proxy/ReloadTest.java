package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.proxy.ReloadProxy.Pool;
import dev.pgfleet.proxy.ReloadProxy.User;
import dev.pgfleet.shared.routing.RoutingTable;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Configuration epochs applied through the routing table, against a real primary with pgjdbc
 * clients: the table on start and per epoch (none per query), pool sizes changed under load,
 * pools removed and added, passwords changed.
 */
class ReloadTest {

    static final String DB = TestUsers.DATABASE;
    static PgServer primary;

    @BeforeAll
    static void servers() {
        TestPostgres.reset();
        primary = TestPostgres.cluster().primary();
    }

    static Pool pool(String name, User... users) {
        return new Pool(name, List.of(users), List.of(primary));
    }

    static User clear(int poolSize) {
        return new User(TestUsers.CLEARTEXT_USER, TestUsers.CLEARTEXT_PASSWORD, poolSize);
    }

    static int selectOne(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void aTableOnStartAndPerEpochAndNonePerQuery() throws Exception {
        try (ReloadProxy p = ReloadProxy.start(false, "", List.of(pool(DB, clear(5))))) {
            assertEquals(List.of(1L), p.tables.stream().map(RoutingTable::version).toList(), "one table at start");
            assertEquals(1, p.runtime.table().version());
            p.reload(List.of(pool(DB, clear(6))));
            p.reload(List.of(pool(DB, clear(7))));
            assertEquals(List.of(1L, 2L, 3L), p.tables.stream().map(RoutingTable::version).toList());
            assertEquals(List.of(1L, 2L, 3L), p.tables.stream().map(RoutingTable::configEpoch).toList());
            assertEquals(7, p.runtime.table().pool(DB).orElseThrow().users().get(0).settings().poolSize());

            int before = p.tables.size();
            try (Connection c = p.connect(DB, TestUsers.CLEARTEXT_USER, TestUsers.CLEARTEXT_PASSWORD)) {
                for (int i = 0; i < 1_000; i++) {
                    assertEquals(1, selectOne(c));
                }
            }
            // Anything published during the queries would have been delivered by now: ask the router
            // (a round trip on the same bus, after any earlier publish).
            p.vertx.eventBus().request(dev.pgfleet.shared.routing.RouterBus.CURRENT, null).await();
            assertEquals(before, p.tables.size(), "no table message during 1,000 queries");
        }
    }

    @Test
    void poolSizeLoweredUnderLoadSettlesAndNoClientFails() throws Exception {
        try (ReloadProxy p = ReloadProxy.start(false, "", List.of(pool(DB, clear(8))))) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger errors = new AtomicInteger();
            AtomicReference<Throwable> firstError = new AtomicReference<>();
            AtomicInteger done = new AtomicInteger();
            ExecutorService clients = Executors.newFixedThreadPool(16);
            List<Future<?>> running = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                running.add(clients.submit(() -> {
                    try (Connection c = p.connect(DB, TestUsers.CLEARTEXT_USER, TestUsers.CLEARTEXT_PASSWORD);
                              Statement st = c.createStatement()) {
                        while (!stop.get()) {
                            st.execute("SELECT pg_sleep(0.005)");
                            done.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        errors.incrementAndGet();
                        firstError.compareAndSet(null, e);
                    }
                    return null;
                }));
            }
            ClusterProxy.await("8 server connections under load", Duration.ofSeconds(20),
                () -> ReloadProxy.serverConnections(primary, TestUsers.CLEARTEXT_USER) == 8);
            p.reload(List.of(pool(DB, clear(3))));
            ClusterProxy.await("the pool settles at its new size", Duration.ofSeconds(20),
                () -> ReloadProxy.serverConnections(primary, TestUsers.CLEARTEXT_USER) == 3);
            int progress = done.get();
            for (int i = 0; i < 20; i++) {
                int n = ReloadProxy.serverConnections(primary, TestUsers.CLEARTEXT_USER);
                assertTrue(n <= 3, "after the settle at most 3 server connections, saw " + n);
                Thread.sleep(50);
            }
            assertTrue(done.get() > progress, "clients go on at the smaller size");
            stop.set(true);
            for (Future<?> f : running) {
                f.get(30, TimeUnit.SECONDS);
            }
            clients.shutdown();
            assertEquals(0, errors.get(), () -> "client errors: " + firstError.get());
        }
    }

    @Test
    void poolSizeRaisedServesAWaiterAtOnce() throws Exception {
        try (ReloadProxy p = ReloadProxy.start(false, "", List.of(pool(DB, clear(1))));
                  Connection holder = p.connect(DB, TestUsers.CLEARTEXT_USER, TestUsers.CLEARTEXT_PASSWORD);
                  Connection waiter = p.connect(DB, TestUsers.CLEARTEXT_USER, TestUsers.CLEARTEXT_PASSWORD)) {
            holder.setAutoCommit(false);
            selectOne(holder);   // holds the pool's one server connection in its transaction
            CompletableFuture<Integer> waited = CompletableFuture.supplyAsync(() -> {
                try {
                    return selectOne(waiter);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            ClusterProxy.await("the second client waits for a server connection", Duration.ofSeconds(10),
                () -> p.runtime.pools().values().stream().mapToInt(ServerPool::waiting).sum() == 1);
            p.reload(List.of(pool(DB, clear(2))));
            assertEquals(1, waited.get(10, TimeUnit.SECONDS), "served while the first still holds its connection");
            assertEquals(2, ReloadProxy.serverConnections(primary, TestUsers.CLEARTEXT_USER));
            holder.commit();
        }
    }

    @Test
    void aChangedServerAddressMovesTrafficAsTransactionsEnd() throws Exception {
        PgServer first = TestPostgres.shards().servers().get(0);
        PgServer second = TestPostgres.shards().servers().get(1);
        TestPostgres.reset();
        Pool before = new Pool(DB, List.of(clear(3)), List.of(first));
        Pool after = new Pool(DB, List.of(clear(3)), List.of(second));
        try (ReloadProxy p = ReloadProxy.start(false, "", List.of(before));
                  Connection inTransaction = p.connect(DB, TestUsers.CLEARTEXT_USER, TestUsers.CLEARTEXT_PASSWORD);
                  Connection other = p.connect(DB, TestUsers.CLEARTEXT_USER, TestUsers.CLEARTEXT_PASSWORD)) {
            assertEquals(first.port(), serverPort(other));
            inTransaction.setAutoCommit(false);
            assertEquals(first.port(), serverPort(inTransaction));

            p.reload(List.of(after));
            assertEquals(second.port(), serverPort(other), "the next transaction goes to the new server");
            assertEquals(first.port(), serverPort(inTransaction), "an open transaction stays where it is");
            assertEquals(1, ReloadProxy.serverConnections(first, TestUsers.CLEARTEXT_USER),
                "the old server keeps the connection of the open transaction, and only that one");
            inTransaction.commit();
            ClusterProxy.await("the old server's connection closes once its transaction ended", Duration.ofSeconds(10),
                () -> ReloadProxy.serverConnections(first, TestUsers.CLEARTEXT_USER) == 0);
            assertEquals(second.port(), serverPort(inTransaction), "and that client's next transaction goes to the new one");
        }
    }

    static int serverPort(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void changedTimeoutsApply() throws Exception {
        try (ReloadProxy p = ReloadProxy.start(false, "", List.of(pool(DB, clear(2))))) {
            try (Connection a = p.connect(DB, TestUsers.CLEARTEXT_USER, TestUsers.CLEARTEXT_PASSWORD);
                      Connection b = p.connect(DB, TestUsers.CLEARTEXT_USER, TestUsers.CLEARTEXT_PASSWORD)) {
                a.setAutoCommit(false);
                b.setAutoCommit(false);
                selectOne(a);
                selectOne(b);   // two server connections open at once
                a.commit();
                b.commit();
            }
            assertEquals(2, ReloadProxy.serverConnections(primary, TestUsers.CLEARTEXT_USER),
                "idle in the pool (idle_timeout is 10 minutes)");
            User shortIdle = new User(TestUsers.CLEARTEXT_USER, TestUsers.CLEARTEXT_PASSWORD, null, 1, "idle_timeout = 200");
            p.reload("query_wait_timeout = 300", List.of(pool(DB, shortIdle)));
            ClusterProxy.await("idle connections close after the new idle_timeout", Duration.ofSeconds(10),
                () -> ReloadProxy.serverConnections(primary, TestUsers.CLEARTEXT_USER) == 0);

            try (Connection holder = p.connect(DB, TestUsers.CLEARTEXT_USER, TestUsers.CLEARTEXT_PASSWORD);
                      Connection waiter = p.connect(DB, TestUsers.CLEARTEXT_USER, TestUsers.CLEARTEXT_PASSWORD)) {
                holder.setAutoCommit(false);
                selectOne(holder);   // pool_size 1 now: the waiter waits, at most the new query_wait_timeout
                long started = System.nanoTime();
                SQLException timedOut = assertThrows(SQLException.class, () -> selectOne(waiter));
                long waitedMs = (System.nanoTime() - started) / 1_000_000;
                assertEquals("57014", timedOut.getSQLState(), timedOut.getMessage());
                assertTrue(timedOut.getMessage().contains("300 ms"), timedOut.getMessage());
                assertTrue(waitedMs < 5_000, "the new query_wait_timeout, not the old 120 s: " + waitedMs + " ms");
                holder.commit();
            }
        }
    }

    @Test
    void removedPoolRefusesLoginsAndClosesWhenItsClientLeavesAddedPoolWorksChangedPasswordApplies() throws Exception {
        User scram = new User(TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD, 3);
        // The user stays in DB's pool: a login to a database that is gone authenticates, then gets
        // 3D000, as PostgreSQL does (a user in no pool at all is refused as unknown, 28P01).
        try (ReloadProxy p = ReloadProxy.start(false, "", List.of(pool(DB, clear(3), scram), pool("other", scram)))) {
            Connection old = p.connect("other", TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD);
            assertEquals(1, selectOne(old));
            assertEquals(1, ReloadProxy.serverConnections(primary, TestUsers.SCRAM_USER));

            p.reload(List.of(pool(DB, clear(3), scram)));
            SQLException refused = assertThrows(SQLException.class,
                () -> p.connect("other", TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD).close());
            assertEquals("3D000", refused.getSQLState());
            for (int i = 0; i < 20; i++) {
                assertEquals(1, selectOne(old), "a client logged in before the reload keeps working");
            }
            assertEquals(1, ReloadProxy.serverConnections(primary, TestUsers.SCRAM_USER));
            old.close();
            ClusterProxy.await("the removed pool's server connections close once its client left", Duration.ofSeconds(10),
                () -> ReloadProxy.serverConnections(primary, TestUsers.SCRAM_USER) == 0);

            p.reload(List.of(pool(DB, clear(3)), pool("third", scram)));
            try (Connection c = p.connect("third", TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD)) {
                assertEquals(1, selectOne(c), "an added pool takes logins");
            }

            // The client-facing password changes; PgFleet keeps logging in to the server with the old one.
            User renamed = new User(TestUsers.CLEARTEXT_USER, "changed_pw", TestUsers.CLEARTEXT_PASSWORD, 3, "");
            p.reload(List.of(pool(DB, renamed), pool("third", scram)));
            SQLException oldPassword = assertThrows(SQLException.class,
                () -> p.connect(DB, TestUsers.CLEARTEXT_USER, TestUsers.CLEARTEXT_PASSWORD).close());
            assertEquals("28P01", oldPassword.getSQLState());
            try (Connection c = p.connect(DB, TestUsers.CLEARTEXT_USER, "changed_pw")) {
                assertEquals(1, selectOne(c), "new logins need the new password");
            }
        }
    }
}
