package dev.pgfleet.health;

import dev.pgfleet.shared.health.ServerHealth;
import java.time.Instant;
import java.util.Optional;

/**
 * The raw answer of one probe, before the shard-level decisions (primary, lag, bans).
 *
 * @param currentLsn    {@code pg_current_wal_lsn()} out of recovery, else {@link Lsn#UNKNOWN}
 * @param receiveLsn    {@code pg_last_wal_receive_lsn()}, {@link Lsn#UNKNOWN} when NULL
 * @param replayLsn     {@code pg_last_wal_replay_lsn()}, {@link Lsn#UNKNOWN} when NULL
 * @param replayAgeMillis {@code clock_timestamp() - pg_last_xact_replay_timestamp()} on the
 *                      server, {@link ServerHealth#UNKNOWN} when NULL
 * @param atNanos       {@link System#nanoTime()} when the answer came
 * @param at            the same moment on the wall clock
 * @param inconclusive  failed, but PgFleet itself was late to see the answer (its event loop was
 *                      blocked, or the timeout timer fired long after it was due): says nothing
 *                      about the server, so it bans nothing
 */
record ProbeResult(boolean reachable, boolean inRecovery, long currentLsn, long receiveLsn, long replayLsn,
                   long replayAgeMillis, long atNanos, Instant at, Optional<String> error, boolean inconclusive) {

    ProbeResult(boolean reachable, boolean inRecovery, long currentLsn, long receiveLsn, long replayLsn,
                long replayAgeMillis, long atNanos, Instant at, Optional<String> error) {
        this(reachable, inRecovery, currentLsn, receiveLsn, replayLsn, replayAgeMillis, atNanos, at, error, false);
    }

    static ProbeResult failed(String error, long atNanos, Instant at) {
        return new ProbeResult(false, false, Lsn.UNKNOWN, Lsn.UNKNOWN, Lsn.UNKNOWN, ServerHealth.UNKNOWN, atNanos, at,
                Optional.of(error));
    }

    /** A failure seen too late to blame the server for (see {@link #inconclusive()}). */
    static ProbeResult late(String error, long atNanos, Instant at) {
        return new ProbeResult(false, false, Lsn.UNKNOWN, Lsn.UNKNOWN, Lsn.UNKNOWN, ServerHealth.UNKNOWN, atNanos, at,
                Optional.of(error), true);
    }

    /** The server's own WAL position: where it writes out of recovery, where it replays in recovery. */
    long walLsn() {
        return inRecovery ? replayLsn : currentLsn;
    }
}
