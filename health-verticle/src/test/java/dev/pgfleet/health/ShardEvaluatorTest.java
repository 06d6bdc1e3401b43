package dev.pgfleet.health;

import dev.pgfleet.shared.config.ServerConfig;
import dev.pgfleet.shared.config.ServerRole;
import dev.pgfleet.shared.config.ShardConfig;
import dev.pgfleet.shared.health.ServerHealth;
import dev.pgfleet.shared.health.ServerKey;
import dev.pgfleet.shared.health.ShardHealth;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shard decisions from synthetic probe results; the same decisions run against real servers in HealthVerticleTest. */
class ShardEvaluatorTest {

    static final ServerKey P = new ServerKey("p", 5432);
    static final ServerKey R1 = new ServerKey("r1", 5432);
    static final ServerKey R2 = new ServerKey("r2", 5432);
    static final Instant T = Instant.parse("2026-01-01T00:00:00Z");
    static final long S = 1_000_000_000L;

    final LocalBanRegistry bans = new LocalBanRegistry(new MutableClock(T));
    final Map<ServerKey, ProbeResult> results = new HashMap<>();
    final LagHistory history = new LagHistory();

    static ShardConfig shard(ServerRole p, ServerRole r1, ServerRole r2) {
        return new ShardConfig(0, "db", List.of(new ServerConfig("p", 5432, p), new ServerConfig("r1", 5432, r1),
                new ServerConfig("r2", 5432, r2)), List.of());
    }

    static ProbeResult primaryAt(long lsn, long atNanos) {
        return new ProbeResult(true, false, lsn, Lsn.UNKNOWN, Lsn.UNKNOWN, ServerHealth.UNKNOWN, atNanos, T,
                Optional.empty());
    }

    static ProbeResult standby(long receive, long replay, long replayAgeMillis, long atNanos) {
        return new ProbeResult(true, true, Lsn.UNKNOWN, receive, replay, replayAgeMillis, atNanos, T, Optional.empty());
    }

    static ProbeResult down() {
        return ProbeResult.failed("Connection refused", 0, T);
    }

    ShardHealth evaluate(ShardConfig shard, long maxBytes, long maxMillis) {
        Optional<ServerKey> primary = ShardEvaluator.primary(shard, results::get, Optional.empty());
        return ShardEvaluator.evaluate("app", shard, maxBytes, Duration.ofMillis(maxMillis), results::get, primary,
                history, bans, ProbeResult.failed("not probed yet", 0, T));
    }

    @Test
    void healthyShard() {
        history.record(1_000, 0);
        results.put(P, primaryAt(1_000, 0));
        results.put(R1, standby(1_000, 1_000, 60_000, 0));
        results.put(R2, standby(1_000, 1_000, 60_000, 0));
        ShardHealth s = evaluate(shard(ServerRole.PRIMARY, ServerRole.REPLICA, ServerRole.REPLICA), 1, 1);
        assertEquals(Optional.of(P), s.primary());
        assertTrue(s.primaryReachable());
        assertEquals(List.of(R1, R2), s.readReplicas());
        assertEquals(List.of(R1, R2), s.readTargets());
        assertEquals(0, s.health(R1).orElseThrow().lagBytes());
        assertEquals(0, s.health(R1).orElseThrow().lagMillis(),
                "an old last-replayed transaction on an idle primary is no lag");
        assertEquals(Optional.of("0/3E8"), s.health(P).orElseThrow().walLsn());
    }

    @Test
    void autoRolesFindThePromotedServer() {
        results.put(P, down());
        results.put(R1, primaryAt(5_000, 0));
        results.put(R2, standby(4_000, 4_000, 0, 0));
        ShardConfig shard = shard(ServerRole.AUTO, ServerRole.AUTO, ServerRole.AUTO);
        assertEquals(Optional.of(R1), ShardEvaluator.primary(shard, results::get, Optional.of(P)));
        results.put(R1, down());
        assertEquals(Optional.of(P), ShardEvaluator.primary(shard, results::get, Optional.of(P)),
                "none out of recovery: the last primary seen, reported unreachable");
        assertEquals(Optional.empty(), ShardEvaluator.primary(shard, results::get, Optional.empty()));
        assertEquals(Optional.of(P), ShardEvaluator.primary(shard(ServerRole.PRIMARY, ServerRole.AUTO,
                ServerRole.AUTO), results::get, Optional.empty()), "the configured primary, even unreachable");
    }

    @Test
    void promotedAutoServerKeepsTheRoleWhenTheOldPrimaryComesBackOutOfRecovery() {
        ShardConfig shard = shard(ServerRole.AUTO, ServerRole.AUTO, ServerRole.AUTO);
        results.put(P, primaryAt(9_000, 0)); // the old primary, restarted on its own timeline
        results.put(R1, primaryAt(5_000, 0)); // promoted while P was down
        results.put(R2, standby(5_000, 5_000, 0, 0));
        assertEquals(Optional.of(R1), ShardEvaluator.primary(shard, results::get, Optional.of(R1)),
                "the last primary keeps the writes: no flapping back to a diverged server");
        results.put(R1, down());
        assertEquals(Optional.of(P), ShardEvaluator.primary(shard, results::get, Optional.of(R1)),
                "the last primary gone: the first auto server out of recovery");
        assertEquals(Optional.of(P), ShardEvaluator.primary(shard(ServerRole.PRIMARY, ServerRole.AUTO,
                ServerRole.AUTO), results::get, Optional.of(R1)), "a configured primary out of recovery comes first");
    }

    @Test
    void failedPrimaryStaysPrimaryAndReplicasKeepServingReads() {
        results.put(P, down());
        results.put(R1, standby(900, 900, 5_000, 0));
        results.put(R2, standby(900, 800, 5_000, 0));
        ShardHealth s = evaluate(shard(ServerRole.PRIMARY, ServerRole.REPLICA, ServerRole.REPLICA), 100, 1_000);
        assertEquals(Optional.of(P), s.primary());
        assertFalse(s.primaryReachable());
        assertFalse(s.banned().contains(P), "the primary is never listed as banned");
        assertEquals(List.of(R1), s.readReplicas(), "R2 replays what it received: its own estimate is 5 s");
        assertEquals(List.of(R2), s.lagging());
        assertEquals(ServerHealth.UNKNOWN, s.health(R1).orElseThrow().lagBytes(), "no primary position");
        assertEquals(List.of(R1), s.readTargets());
    }

    @Test
    void lagLimitsInBytesAndTime() {
        history.record(1_000, 0);
        history.record(2_000, 10 * S);
        results.put(P, primaryAt(2_000, 10 * S));
        results.put(R1, standby(2_000, 1_000, 9_999, 12 * S)); // missing WAL the primary had 2 s ago
        results.put(R2, standby(2_000, 1_990, 9_999, 12 * S));
        ShardConfig shard = shard(ServerRole.PRIMARY, ServerRole.REPLICA, ServerRole.REPLICA);

        ShardHealth noLimits = evaluate(shard, 0, 0);
        assertEquals(List.of(R1, R2), noLimits.readReplicas());
        assertEquals(1_000, noLimits.health(R1).orElseThrow().lagBytes());
        assertEquals(2_000, noLimits.health(R1).orElseThrow().lagMillis());

        ShardHealth bytes = evaluate(shard, 500, 0);
        assertEquals(List.of(R2), bytes.readReplicas());
        assertEquals(List.of(R1), bytes.lagging());

        ShardHealth time = evaluate(shard, 0, 1_000);
        assertEquals(List.of(), time.readReplicas(), "both miss WAL the primary had at 10 s");
        assertEquals(List.of(R1, R2), time.lagging());
        assertTrue(time.readsOnPrimary());
        assertEquals(List.of(P), time.readTargets(), "all replicas lagging: reads go to the primary");
    }

    @Test
    void bannedAndUnreachableReplicas() {
        history.record(1_000, 0);
        results.put(P, primaryAt(1_000, 0));
        results.put(R1, down());
        results.put(R2, standby(1_000, 1_000, 0, 0));
        bans.ban(R2, Duration.ofSeconds(60), "connect failed");
        ShardHealth s = evaluate(shard(ServerRole.PRIMARY, ServerRole.REPLICA, ServerRole.REPLICA), 0, 0);
        assertEquals(List.of(R1, R2), s.banned());
        assertEquals(List.of(), s.readReplicas());
        assertEquals(List.of(P), s.readTargets());

        results.put(P, down());
        ShardHealth nothing = evaluate(shard(ServerRole.PRIMARY, ServerRole.REPLICA, ServerRole.REPLICA), 0, 0);
        assertEquals(List.of(), nothing.readTargets(), "no replica, no primary: nowhere to read");
    }

    @Test
    void secondServerOutOfRecovery() {
        results.put(P, primaryAt(1_000, 0));
        results.put(R1, primaryAt(900, 0)); // role auto: split brain, no reads
        results.put(R2, primaryAt(900, 0)); // role replica: trusted, e.g. a logical replica
        ShardHealth s = evaluate(shard(ServerRole.AUTO, ServerRole.AUTO, ServerRole.REPLICA), 0, 0);
        assertEquals(Optional.of(P), s.primary(), "the first in configuration order");
        assertEquals(List.of(R1), s.lagging());
        assertEquals(List.of(R2), s.readReplicas());
    }
}
