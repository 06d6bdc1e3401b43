package dev.pgfleet.health;

import dev.pgfleet.shared.health.ShardHealth;
import dev.pgfleet.testkit.PgCluster;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestPostgres;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static dev.pgfleet.health.HealthFixture.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Destructive: private clusters, stopped, restarted and promoted. */
class FailoverTest {

    @Test
    void stoppedReplicaIsBannedAndComesBackWhenTheBanEnds() throws Exception {
        try (PgCluster cluster = TestPostgres.newCluster("health-stop", 2);
             HealthFixture f = new HealthFixture(HealthFixture.config(cluster.servers(), "auto", 2, "app"))) {
            PgServer r1 = cluster.replicas().get(0);
            PgServer r2 = cluster.replicas().get(1);
            assertEquals(List.of(key(r1), key(r2)), f.shard("app").readReplicas());

            r2.stop();
            Duration took = f.await("r2 banned", HealthFixture.ONE_ROUND,
                    s -> s.shard("app", 0).orElseThrow().banned().equals(List.of(key(r2))));
            ShardHealth shard = f.shard("app");
            assertEquals(List.of(key(r1)), shard.readReplicas(), "r1 keeps serving reads");
            assertTrue(f.bans.isBanned(key(r2)));
            assertFalse(shard.health(key(r2)).orElseThrow().reachable());
            assertTrue(shard.health(key(r2)).orElseThrow().error().isPresent());
            System.out.println("replica stop noticed in " + took.toMillis() + " ms");

            r1.stop();
            f.await("no replica left: reads go to the primary", HealthFixture.ONE_ROUND,
                    s -> s.shard("app", 0).orElseThrow().readsOnPrimary());
            assertEquals(List.of(key(cluster.primary())), f.shard("app").readTargets());

            r1.start();
            r2.start();
            long restarted = System.nanoTime();
            f.await("both usable once the bans end", Duration.ofSeconds(2).plus(HealthFixture.ONE_ROUND).plusSeconds(1),
                    s -> s.shard("app", 0).orElseThrow().readReplicas().size() == 2);
            long waited = (System.nanoTime() - restarted) / 1_000_000;
            assertTrue(f.bans.bans().isEmpty());
            System.out.println("replicas back " + waited + " ms after restart");
        }
    }

    @Test
    void promotedReplicaIsTheNewPrimaryWithinOneInterval() throws Exception {
        try (PgCluster cluster = TestPostgres.newCluster("health-promote", 1);
             HealthFixture f = new HealthFixture(HealthFixture.config(cluster.servers(), "auto", 60, "app"))) {
            PgServer oldPrimary = cluster.primary();
            PgServer replica = cluster.replicas().get(0);
            assertEquals(Optional.of(key(oldPrimary)), f.shard("app").primary());

            oldPrimary.stop();
            f.await("primary unreachable, still named, not banned", HealthFixture.ONE_ROUND, s -> {
                ShardHealth shard = s.shard("app", 0).orElseThrow();
                return !shard.primaryReachable() && shard.primary().equals(Optional.of(key(oldPrimary)));
            });
            assertFalse(f.bans.isBanned(key(oldPrimary)), "a failed primary is not banned");
            assertEquals(List.of(key(replica)), f.shard("app").readTargets(), "the replica still serves reads");

            replica.promote();
            Duration took = f.await("the promoted replica is the primary", HealthFixture.ONE_ROUND, s -> {
                ShardHealth shard = s.shard("app", 0).orElseThrow();
                return shard.primaryReachable() && shard.primary().equals(Optional.of(key(replica)));
            });
            System.out.println("promotion noticed in " + took.toMillis() + " ms");
            ShardHealth shard = f.shard("app");
            f.await("the old primary, now a failed auto server, is banned", HealthFixture.ONE_ROUND,
                    s -> s.shard("app", 0).orElseThrow().banned().equals(List.of(key(oldPrimary))));
            assertTrue(f.bans.isBanned(key(oldPrimary)));
            assertEquals(List.of(key(replica)), f.shard("app").readTargets(), "no replica left: the new primary reads");
            assertEquals(0, shard.health(key(replica)).orElseThrow().lagBytes());
        }
    }
}
