package dev.pgfleet.health;

import dev.pgfleet.shared.health.ServerKey;
import dev.pgfleet.shared.health.ShardHealth;
import dev.pgfleet.testkit.PgCluster;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestPostgres;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static dev.pgfleet.health.HealthFixture.key;
import static dev.pgfleet.health.HealthFixture.sql;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replay paused on a replica of the shared cluster (resumed at the end) while the primary
 * writes. Two pools over the same servers, one limited in bytes and one in time, show the
 * pool-level limits and that one probe serves both.
 */
class ReplicaLagTest {

    static final long MAX_BYTES = 256 * 1024;
    static final long MAX_MILLIS = 1_500;

    @Test
    void pausedReplicaLagsAndComesBackAfterResume() throws Exception {
        PgCluster cluster = TestPostgres.cluster();
        PgServer paused = cluster.replicas().get(0);
        PgServer other = cluster.replicas().get(1);
        ServerKey pausedKey = key(paused);
        try (HealthFixture f = new HealthFixture(HealthFixture.config(cluster.servers(), "auto", 60,
                "bytes:max_replica_lag_bytes = " + MAX_BYTES, "time:max_replica_lag_ms = " + MAX_MILLIS))) {
            sql(cluster.primary(), "DROP TABLE IF EXISTS health_lag", "CREATE TABLE health_lag (x int, pad text)");
            cluster.awaitReplicasCaughtUp(Duration.ofSeconds(30));
            f.await("both replicas usable in both pools", Duration.ofSeconds(10),
                    s -> s.shard("bytes", 0).orElseThrow().readReplicas().size() == 2
                            && s.shard("time", 0).orElseThrow().readReplicas().size() == 2);

            // Idle primary for longer than the time limit: no false lag in any snapshot of that
            // window (each one read, not one sample after a sleep).
            long windowEnd = System.nanoTime() + Duration.ofMillis(MAX_MILLIS + 500).toNanos();
            f.await("an idle primary for longer than max_replica_lag_ms", Duration.ofSeconds(10), s -> {
                assertEquals(List.of(pausedKey, key(other)), s.shard("time", 0).orElseThrow().readReplicas(), s::toString);
                return System.nanoTime() > windowEnd;
            });

            try {
                sql(paused, "SELECT pg_wal_replay_pause()");
                // A small write: a few hundred bytes behind, under the byte limit, but the time grows.
                sql(cluster.primary(), "INSERT INTO health_lag VALUES (1, 'x')");
                Duration took = f.await("over max_replica_lag_ms", Duration.ofSeconds(10),
                        s -> s.shard("time", 0).orElseThrow().lagging().equals(List.of(pausedKey)));
                assertTrue(took.toMillis() >= MAX_MILLIS - HealthFixture.INTERVAL.toMillis(), "too early: " + took);
                ShardHealth bytes = f.shard("bytes");
                assertEquals(List.of(pausedKey, key(other)), bytes.readReplicas(), bytes::toString);
                assertTrue(bytes.health(pausedKey).orElseThrow().lagBytes() > 0, bytes::toString);

                // About 1 MB of WAL: over the byte limit too.
                sql(cluster.primary(), "INSERT INTO health_lag SELECT g, repeat('x', 100) FROM generate_series(1, 8000) g");
                f.await("over max_replica_lag_bytes", Duration.ofSeconds(10),
                        s -> s.shard("bytes", 0).orElseThrow().lagging().equals(List.of(pausedKey)));
                ShardHealth lagging = f.shard("bytes");
                assertEquals(List.of(key(other)), lagging.readReplicas(), "the other replica keeps serving reads");
                assertTrue(lagging.health(pausedKey).orElseThrow().lagBytes() > MAX_BYTES, lagging::toString);
                assertEquals(List.of(), lagging.banned(), "lagging is not a ban");
                assertTrue(f.bans.bans().isEmpty());
            } finally {
                sql(paused, "SELECT pg_wal_replay_resume()");
            }
            Duration back = f.await("usable again after resume", Duration.ofSeconds(10),
                    s -> s.shard("bytes", 0).orElseThrow().readReplicas().size() == 2
                            && s.shard("time", 0).orElseThrow().readReplicas().size() == 2);
            assertTrue(back.compareTo(HealthFixture.ONE_ROUND.multipliedBy(2)) < 0, "took " + back);
        } finally {
            sql(cluster.primary(), "DROP TABLE IF EXISTS health_lag");
            cluster.awaitReplicasCaughtUp(Duration.ofSeconds(30));
        }
    }
}
