package dev.pgfleet.health;

import java.util.HashMap;
import java.util.Map;

/**
 * How many probes of each target answered, failed, or were not counted (PgFleet was late, see
 * {@link ProbeResult#inconclusive()}), since the target entered the configuration. One result per
 * target per round, after its retries: the numbers say what the bans were decided on, not how many
 * connections were tried. Read by the admin {@code HEALTH} command, so the metrics endpoint can
 * expose them as counters. Owned by the health verticle's context; not thread-safe.
 */
final class ProbeCounters {

    /** The counts of one target; immutable. */
    record Counts(long ok, long failed, long inconclusive) {
        static final Counts ZERO = new Counts(0, 0, 0);

        Counts plus(ProbeResult r) {
            if (r.reachable()) {
                return new Counts(ok + 1, failed, inconclusive);
            }
            return r.inconclusive() ? new Counts(ok, failed, inconclusive + 1) : new Counts(ok, failed + 1, inconclusive);
        }
    }

    private final Map<ProbeTarget, Counts> counts = new HashMap<>();

    /**
     * Counts one round's results as probed (before an inconclusive one is replaced by the last).
     * Targets not probed this round left the configuration: their counts go with them, as a
     * Prometheus series of a server that is gone stops.
     */
    void record(Map<ProbeTarget, ProbeResult> round) {
        counts.keySet().retainAll(round.keySet());
        round.forEach((t, r) -> counts.merge(t, Counts.ZERO.plus(r), (a, b) -> a.plus(r)));
    }

    Counts of(ProbeTarget target) {
        return counts.getOrDefault(target, Counts.ZERO);
    }
}
