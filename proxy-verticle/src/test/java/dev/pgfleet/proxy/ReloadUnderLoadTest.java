package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.proxy.ReloadProxy.Pool;
import dev.pgfleet.proxy.ReloadProxy.User;
import dev.pgfleet.shared.health.ServerKey;
import dev.pgfleet.shared.routing.RoutingTable;
import dev.pgfleet.testkit.PgCluster;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The acceptance test of live reconfiguration: 50 clients in transaction mode (reads split to the
 * replicas, writes on the primary) while 10 epochs raise and lower pool_size, add and remove a
 * replica and change timeouts. No client may fail, and after each epoch settles no server shows
 * more of the pool's connections than its pool_size (sampled every 50 ms), a removed replica
 * none, an added one some (after its first healthy probe).
 */
class ReloadUnderLoadTest {

    static final int CLIENTS = 50;
    static final String USER = TestUsers.CLEARTEXT_USER;

    record Step(String what, int poolSize, List<PgServer> servers, String general, String userExtra) {
    }

    @Test
    void fiftyClientsThroughTenEpochs() throws Exception {
        TestPostgres.reset();
        PgCluster cluster = TestPostgres.cluster();
        PgServer primary = cluster.primary();
        PgServer r1 = cluster.replicas().get(0);
        PgServer r2 = cluster.replicas().get(1);
        ClusterProxy.sql(primary, "CREATE TABLE reload_load (id bigint, at timestamptz DEFAULT now())",
            "GRANT ALL ON reload_load TO " + USER);
        cluster.awaitReplicasCaughtUp(Duration.ofSeconds(30));

        List<Step> steps = List.of(
            new Step("pool_size 5 -> 8", 8, List.of(primary, r1), "", ""),
            new Step("replica r2 added", 8, List.of(primary, r1, r2), "", ""),
            new Step("pool_size 8 -> 3", 3, List.of(primary, r1, r2), "", ""),
            new Step("timeouts changed", 3, List.of(primary, r1, r2), "query_wait_timeout = 60000", "idle_timeout = 5000"),
            new Step("replica r1 removed", 3, List.of(primary, r2), "query_wait_timeout = 60000", "idle_timeout = 5000"),
            new Step("pool_size 3 -> 10", 10, List.of(primary, r2), "query_wait_timeout = 60000", "idle_timeout = 5000"),
            new Step("replica r1 added again", 10, List.of(primary, r2, r1), "query_wait_timeout = 60000", ""),
            new Step("pool_size 10 -> 2", 2, List.of(primary, r2, r1), "query_wait_timeout = 60000", ""),
            new Step("replica r2 removed", 2, List.of(primary, r1), "query_wait_timeout = 60000", ""),
            new Step("pool_size 2 -> 6", 6, List.of(primary, r1), "", ""));

        try (ReloadProxy p = ReloadProxy.start(true, "", List.of(pool(5, List.of(primary, r1), "")))) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger errors = new AtomicInteger();
            AtomicReference<Throwable> firstError = new AtomicReference<>();
            AtomicInteger transactions = new AtomicInteger();
            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            List<Future<?>> running = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                long id = i;
                running.add(clients.submit(() -> {
                    try (Connection c = p.connect(TestUsers.DATABASE, USER, TestUsers.CLEARTEXT_PASSWORD);
                              Statement st = c.createStatement()) {
                        while (!stop.get()) {
                            if (ThreadLocalRandom.current().nextInt(5) == 0) {
                                c.setAutoCommit(false);
                                st.executeUpdate("INSERT INTO reload_load (id) VALUES (" + id + ")");
                                c.commit();
                                c.setAutoCommit(true);
                            } else {
                                st.executeQuery("SELECT count(*) FROM pg_class").close();
                            }
                            transactions.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        errors.incrementAndGet();
                        firstError.compareAndSet(null, e);
                    }
                    return null;
                }));
            }
            ClusterProxy.await("the replica takes reads under load", Duration.ofSeconds(30),
                () -> ReloadProxy.serverConnections(r1, USER) > 0);

            List<PgServer> all = List.of(primary, r1, r2);
            List<PgServer> previous = List.of(primary, r1);
            for (Step step : steps) {
                int from = p.tables.size();
                RoutingTable applied = p.reload(step.general(), List.of(pool(step.poolSize(), step.servers(),
                    step.userExtra())));
                for (PgServer s : step.servers()) {
                    if (s != primary && !previous.contains(s)) {
                        // The epoch's own table was built before any probe of the new server.
                        RoutingTable first = p.tablesSince(from).stream().filter(t -> t.configEpoch() == applied.configEpoch())
                            .findFirst().orElseThrow();
                        assertFalse(readable(first, s), step.what() + ": no reads before the first healthy probe");
                        ClusterProxy.await(step.what() + ": readable after its first healthy probe", Duration.ofSeconds(30),
                            () -> readable(p.runtime.table(), s));
                    }
                }
                previous = step.servers();
                ClusterProxy.await(step.what() + ": every server within pool_size " + step.poolSize()
                        + ", removed servers without connections", Duration.ofSeconds(30),
                    () -> all.stream().allMatch(s -> ReloadProxy.serverConnections(s, USER)
                        <= (step.servers().contains(s) ? step.poolSize() : 0)));
                for (PgServer s : step.servers()) {
                    ClusterProxy.await(step.what() + ": " + s + " takes traffic", Duration.ofSeconds(30),
                        () -> ReloadProxy.serverConnections(s, USER) > 0);
                }
                for (int sample = 0; sample < 10; sample++) {
                    for (PgServer s : all) {
                        int n = ReloadProxy.serverConnections(s, USER);
                        int limit = step.servers().contains(s) ? step.poolSize() : 0;
                        assertTrue(n <= limit, step.what() + ": " + s + " has " + n + " server connections of the pool, limit "
                            + limit);
                    }
                    Thread.sleep(50);
                }
                assertEquals(0, errors.get(), () -> step.what() + ": client error " + firstError.get());
            }
            int before = transactions.get();
            ClusterProxy.await("clients still run transactions", Duration.ofSeconds(10), () -> transactions.get() > before);
            stop.set(true);
            for (Future<?> f : running) {
                f.get(60, TimeUnit.SECONDS);
            }
            clients.shutdown();
            assertEquals(0, errors.get(), () -> "client errors: " + firstError.get());
        } finally {
            ClusterProxy.sql(primary, "DROP TABLE IF EXISTS reload_load");
        }
    }

    static boolean readable(RoutingTable t, PgServer server) {
        ServerKey key = new ServerKey(server.host(), server.port());
        return t.pool(TestUsers.DATABASE).orElseThrow().shards().get(0).servers().stream()
            .anyMatch(s -> s.server().equals(key) && s.readable());
    }

    static Pool pool(int poolSize, List<PgServer> servers, String userExtra) {
        return new Pool(TestUsers.DATABASE, "transaction",
            List.of(new User(USER, TestUsers.CLEARTEXT_PASSWORD, null, poolSize, userExtra)), servers, "");
    }
}
