package dev.pgfleet.health;

import dev.pgfleet.shared.health.HealthBus;
import dev.pgfleet.shared.health.HealthSnapshot;
import dev.pgfleet.shared.health.ServerHealth;
import dev.pgfleet.shared.health.ServerKey;
import dev.pgfleet.shared.health.ShardHealth;
import dev.pgfleet.testkit.PgCluster;
import dev.pgfleet.testkit.TestPostgres;
import io.vertx.core.eventbus.MessageConsumer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.pgfleet.health.HealthFixture.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shared primary + 2 streaming replicas, left as found. */
class HealthyClusterTest {

    @Test
    void primaryDetectedAndBothReplicasServeReads() throws Exception {
        PgCluster cluster = TestPostgres.cluster();
        try (HealthFixture f = new HealthFixture(HealthFixture.config(cluster.servers(), "auto", 60, "app"))) {
            // start() completes after the first round: current() is already populated.
            ShardHealth shard = f.shard("app");
            assertEquals(Optional.of(key(cluster.primary())), shard.primary());
            assertTrue(shard.primaryReachable());
            assertEquals(List.of(key(cluster.replicas().get(0)), key(cluster.replicas().get(1))),
                    shard.readReplicas(), shard::toString);
            assertEquals(List.of(), shard.banned());
            assertEquals(List.of(), shard.lagging());
            assertEquals(List.of(), f.bans.bans().keySet().stream().toList());
            for (ServerHealth h : shard.servers()) {
                assertTrue(h.reachable(), h::toString);
                assertTrue(h.walLsn().isPresent(), h::toString);
                // An idle primary: whatever background WAL it writes, a replica is at most a
                // record or two behind, and never seconds.
                assertTrue(h.lagBytes() >= 0 && h.lagBytes() < 64 * 1024, h::toString);
                assertTrue(h.lagMillis() >= 0 && h.lagMillis() < 2_000, h::toString);
            }
            assertEquals(shard.servers().get(0).inRecovery(), false);
            assertTrue(shard.servers().get(1).inRecovery() && shard.servers().get(2).inRecovery());
        }
    }

    @Test
    void snapshotsOnTheEventBus() throws Exception {
        PgCluster cluster = TestPostgres.cluster();
        try (HealthFixture f = new HealthFixture(HealthFixture.config(cluster.servers(), "auto", 60, "app"))) {
            CompletableFuture<HealthSnapshot> received = new CompletableFuture<>();
            MessageConsumer<HealthSnapshot> consumer = f.vertx.eventBus().consumer(HealthVerticle.SNAPSHOT_ADDRESS,
                    m -> received.complete(m.body()));
            consumer.completion().await();
            HealthSnapshot s = received.get(10, TimeUnit.SECONDS);
            assertTrue(s.version() >= 1);
            assertTrue(s.shard("app", 0).orElseThrow().primary().isPresent());
            f.await("current() catches up with the bus", Duration.ofSeconds(5), v -> v.version() >= s.version());

            // The same instance in-process: transform() does not copy.
            HealthSnapshot[] both = new HealthSnapshot[2];
            CompletableFuture<Void> next = new CompletableFuture<>();
            consumer.handler(m -> {
                both[0] = m.body();
                both[1] = f.current();
                next.complete(null);
            });
            next.get(10, TimeUnit.SECONDS);
            assertSame(both[1], both[0]);

            // A reader that starts late asks for the newest one instead of waiting a round.
            HealthSnapshot asked = f.vertx.eventBus().<HealthSnapshot>request(HealthBus.CURRENT, null).await().body();
            assertTrue(asked.version() >= s.version());
            assertTrue(asked.shard("app", 0).orElseThrow().primaryReachable());
        }
    }

    @Test
    void aBanFromTheProxyIsPublishedAtOnceAndConfigCanChange() throws Exception {
        PgCluster cluster = TestPostgres.cluster();
        try (HealthFixture f = new HealthFixture(HealthFixture.config(cluster.servers(), "auto", 60, "app"))) {
            ServerKey r2 = key(cluster.replicas().get(1));
            // What the proxy does when a connect fails: ban through the process's registry.
            long before = f.current().version();
            f.bans.ban(r2, Duration.ofSeconds(60), "connect failed: Connection refused");
            Duration took = f.await("the ban in the snapshot", Duration.ofSeconds(5),
                    s -> s.shard("app", 0).orElseThrow().banned().equals(List.of(r2)));
            assertTrue(f.current().version() > before);
            assertEquals(List.of(key(cluster.replicas().get(0))), f.shard("app").readReplicas());
            assertEquals("connect failed: Connection refused", f.current().bans().get(r2).reason());
            System.out.println("ban published in " + took.toMillis() + " ms");

            f.bans.unban(r2);
            f.await("unbanned", Duration.ofSeconds(5), s -> s.shard("app", 0).orElseThrow().readReplicas().size() == 2);

            // A reload: a second pool over the same servers appears in the next snapshot.
            f.verticle.updateConfig(HealthFixture.config(cluster.servers(), "auto", 60, "app", "reports"));
            f.await("the new pool", Duration.ofSeconds(5), s -> s.shard("reports", 0)
                    .map(shard -> shard.primary().equals(Optional.of(key(cluster.primary())))).orElse(false));
            f.verticle.updateConfig(HealthFixture.config(cluster.servers(), "auto", 60, "reports"));
            f.await("the old pool gone", Duration.ofSeconds(5), s -> s.shard("app", 0).isEmpty());
        }
    }
}
