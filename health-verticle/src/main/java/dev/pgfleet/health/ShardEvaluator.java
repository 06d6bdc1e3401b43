package dev.pgfleet.health;

import dev.pgfleet.shared.config.ServerConfig;
import dev.pgfleet.shared.config.ServerRole;
import dev.pgfleet.shared.config.ShardConfig;
import dev.pgfleet.shared.health.BanRegistry;
import dev.pgfleet.shared.health.ServerHealth;
import dev.pgfleet.shared.health.ServerKey;
import dev.pgfleet.shared.health.ShardHealth;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The decisions of one probe round for one shard, as pure functions of the probe results, the
 * primary's WAL history and the bans: which server is the primary, how far each standby lags,
 * which standbys serve reads. Placing bans is the caller's job ({@link HealthVerticle}), once per
 * round, so that re-evaluating after a ban change never extends a ban.
 */
final class ShardEvaluator {

    private ShardEvaluator() {
    }

    /**
     * The server that takes writes: the first reachable server out of recovery with role
     * {@code primary}, else with role {@code auto} (after a promotion, the promoted one); a
     * {@code replica} is never chosen, as PgCat trusts its configured roles. Among {@code auto}
     * servers the last primary seen keeps the role while it answers out of recovery: an old
     * primary that comes back out of recovery after a failover (split brain) must not take the
     * writes back from the promoted server just because it is listed first. When none answers out
     * of recovery: the configured primary, else the last primary seen, so that callers get "the
     * primary is unreachable" rather than "there is no primary".
     */
    static Optional<ServerKey> primary(ShardConfig shard, Function<ServerKey, ProbeResult> results,
                                       Optional<ServerKey> lastPrimary) {
        for (ServerConfig s : shard.servers()) {
            if (s.role() == ServerRole.PRIMARY && writable(results.apply(ServerKey.of(s)))) {
                return Optional.of(ServerKey.of(s));
            }
        }
        for (ServerConfig s : shard.servers()) {
            ServerKey key = ServerKey.of(s);
            if (s.role() == ServerRole.AUTO && lastPrimary.equals(Optional.of(key)) && writable(results.apply(key))) {
                return lastPrimary;
            }
        }
        for (ServerConfig s : shard.servers()) {
            if (s.role() == ServerRole.AUTO && writable(results.apply(ServerKey.of(s)))) {
                return Optional.of(ServerKey.of(s));
            }
        }
        Optional<ServerKey> configured = shard.primary().map(ServerKey::of);
        if (configured.isPresent()) {
            return configured;
        }
        return lastPrimary.filter(last -> shard.servers().stream().anyMatch(s -> ServerKey.of(s).equals(last)));
    }

    /**
     * The shard's health. A server without a result (not probed yet) counts as unreachable.
     *
     * @param maxLagBytes the pool's {@code max_replica_lag_bytes}, 0 = no limit
     * @param maxLag      the pool's {@code max_replica_lag_ms}, zero = no limit
     * @param history     the WAL history of the primary, or null when there is no primary
     */
    static ShardHealth evaluate(String pool, ShardConfig shard, long maxLagBytes, Duration maxLag,
                                Function<ServerKey, ProbeResult> results, Optional<ServerKey> primary,
                                LagHistory history, BanRegistry bans, ProbeResult notProbed) {
        ProbeResult primaryResult = primary.map(results).orElse(null);
        boolean primaryUp = primaryResult != null && primaryResult.reachable() && !primaryResult.inRecovery();
        long primaryLsn = primaryUp ? primaryResult.currentLsn() : Lsn.UNKNOWN;

        List<ServerHealth> servers = new ArrayList<>();
        List<ServerKey> readers = new ArrayList<>();
        List<ServerKey> lagging = new ArrayList<>();
        List<ServerKey> banned = new ArrayList<>();
        for (ServerConfig s : shard.servers()) {
            ServerKey key = ServerKey.of(s);
            ProbeResult r = results.apply(key);
            if (r == null) {
                r = notProbed;
            }
            ServerHealth h = health(s, r);
            if (primary.isPresent() && primary.get().equals(key)) {
                servers.add(primaryUp ? h.withLag(0, 0) : h);
                continue;
            }
            if (!r.reachable() || bans.isBanned(key)) {
                servers.add(h);
                banned.add(key);
                continue;
            }
            if (!r.inRecovery()) {
                servers.add(h);
                if (s.role() == ServerRole.REPLICA) {
                    // Configured as a replica yet out of recovery: a logical replica, say. Trusted
                    // as configured (PgCat does the same); its lag cannot be read from WAL positions.
                    readers.add(key);
                } else {
                    // Role auto out of recovery and not the primary: a second primary. Its data
                    // diverges from the primary's, so it serves no reads.
                    lagging.add(key);
                }
                continue;
            }
            long lagBytes = Lsn.bytesBehind(primaryLsn, r.replayLsn());
            long lagMillis = primaryUp ? history.millisBehind(r.replayLsn(), r.atNanos()) : standbyOwnEstimate(r);
            h = h.withLag(lagBytes, lagMillis);
            servers.add(h);
            if (over(lagBytes, maxLagBytes) || over(lagMillis, maxLag.toMillis())) {
                lagging.add(key);
            } else {
                readers.add(key);
            }
        }
        return new ShardHealth(pool, shard.index(), shard.database(), primary, primaryUp, servers, readers, lagging,
                banned);
    }

    /**
     * Without a primary to compare with, the standby's own view: caught up when it has replayed
     * all it received (the usual rule of PostgreSQL-aware tools), else the age of the last
     * transaction it replayed. A standby whose primary is gone is not held back for lag it cannot
     * make up: with the primary unreachable, lag from WAL history would only grow.
     */
    private static long standbyOwnEstimate(ProbeResult r) {
        if (r.receiveLsn() == Lsn.UNKNOWN || r.replayLsn() == Lsn.UNKNOWN) {
            return ServerHealth.UNKNOWN;
        }
        return r.replayLsn() >= r.receiveLsn() ? 0 : r.replayAgeMillis();
    }

    private static boolean writable(ProbeResult r) {
        return r != null && r.reachable() && !r.inRecovery();
    }

    private static boolean over(long lag, long limit) {
        return limit > 0 && lag != ServerHealth.UNKNOWN && lag > limit;
    }

    private static ServerHealth health(ServerConfig s, ProbeResult r) {
        long lsn = r.walLsn();
        return new ServerHealth(ServerKey.of(s), s.role(), r.reachable(), r.inRecovery(),
                lsn == Lsn.UNKNOWN ? Optional.empty() : Optional.of(Lsn.format(lsn)), ServerHealth.UNKNOWN,
                ServerHealth.UNKNOWN, r.at(), r.error());
    }
}
