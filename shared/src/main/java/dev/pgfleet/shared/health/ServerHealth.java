package dev.pgfleet.shared.health;

import dev.pgfleet.shared.config.ServerRole;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What the last probe of one server found. Immutable.
 *
 * @param role        the role written in the configuration ({@code auto} stays {@code auto}; the
 *                    shard's {@link ShardHealth#primary()} says which server acts as primary)
 * @param reachable   the probe connected and its query answered within {@code healthcheck_timeout}
 * @param inRecovery  {@code pg_is_in_recovery()}: a standby; false when unreachable
 * @param walLsn      on a primary {@code pg_current_wal_lsn()}, on a standby
 *                    {@code pg_last_wal_replay_lsn()}, as {@code X/Y} text; empty when unknown
 * @param lagBytes    WAL bytes a standby has not replayed yet, against the shard's primary;
 *                    0 for the primary; {@link #UNKNOWN} when the primary's position is unknown
 * @param lagMillis   how long a standby has been missing WAL the primary had (see
 *                    health-verticle's {@code LagHistory} for how it is measured); 0 for the primary;
 *                    {@link #UNKNOWN} when it cannot be told
 * @param lastChecked when the probe finished
 * @param error       why the probe failed; empty when reachable. Never holds a password.
 */
public record ServerHealth(
        ServerKey server,
        ServerRole role,
        boolean reachable,
        boolean inRecovery,
        Optional<String> walLsn,
        long lagBytes,
        long lagMillis,
        Instant lastChecked,
        Optional<String> error) {

    /** Lag that could not be measured. */
    public static final long UNKNOWN = -1;

    public ServerHealth {
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(walLsn, "walLsn");
        Objects.requireNonNull(lastChecked, "lastChecked");
        Objects.requireNonNull(error, "error");
    }

    /** A copy with the lag filled in (lag needs the whole shard, the probe sees one server). */
    public ServerHealth withLag(long lagBytes, long lagMillis) {
        return new ServerHealth(server, role, reachable, inRecovery, walLsn, lagBytes, lagMillis, lastChecked, error);
    }
}
