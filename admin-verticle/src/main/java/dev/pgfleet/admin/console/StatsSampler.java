package dev.pgfleet.admin.console;

import dev.pgfleet.shared.admin.ProxyStats;
import java.util.Map;

/**
 * The samples PgBouncer's averages are taken against (stats.c): every stats_period the newest
 * sample becomes the older one and the counters of now the newest; an average is then
 * {@code (now - older) / (time since older)} per second for counts and bytes, and time per
 * transaction, query or assignment for the times. Before the first period the older sample is
 * all zeros taken a second before the proxy started, as PgBouncer's stats_setup.
 */
final class StatsSampler {

    private record Sample(long atMillis, Map<String, long[]> byDatabase) {
    }

    private Sample older;
    private Sample newer;

    /** Starts from zeros at the proxy's start (the first STATS says when that was). */
    synchronized void start(long startedAtMillis) {
        if (older == null) {
            older = new Sample(startedAtMillis - 1000, Map.of());
            newer = new Sample(startedAtMillis, Map.of());
        }
    }

    /** A stats_period tick: the counters of now become the newest sample. */
    synchronized void tick(ProxyStats now) {
        start(now.startedAtMillis());
        older = newer;
        newer = new Sample(now.takenAtMillis(), Shows.byDatabase(now));
    }

    /** Averages of {@code now} against the older sample. */
    synchronized Averages averages(ProxyStats now) {
        start(now.startedAtMillis());
        return new Averages(older, now.takenAtMillis());
    }

    static final class Averages {
        private final Sample old;
        private final long nowMillis;

        private Averages(Sample old, long nowMillis) {
            this.old = old;
            this.nowMillis = nowMillis;
        }

        /** One database's averages, in SHOW STATS' order. */
        long[] of(String database, long[] current) {
            return average(current, old.byDatabase().getOrDefault(database, new long[current.length]));
        }

        /** Over every database (SHOW TOTALS). */
        long[] ofTotal(long[] currentTotal) {
            return average(currentTotal, Shows.total(old.byDatabase()));
        }

        /** stats.c's calc_average: rates per second over the time since the older sample. */
        private long[] average(long[] cur, long[] old) {
            long[] avg = new long[cur.length];
            long durMicros = (nowMillis - this.old.atMillis()) * 1000;
            if (durMicros <= 0) {
                return avg;
            }
            long assignments = cur[0] - old[0];
            long xacts = cur[1] - old[1];
            long queries = cur[2] - old[2];
            avg[0] = 1_000_000 * assignments / durMicros;
            avg[1] = 1_000_000 * xacts / durMicros;
            avg[2] = 1_000_000 * queries / durMicros;
            avg[3] = 1_000_000 * (cur[3] - old[3]) / durMicros;
            avg[4] = 1_000_000 * (cur[4] - old[4]) / durMicros;
            avg[5] = xacts > 0 ? (cur[5] - old[5]) / xacts : 0;
            avg[6] = queries > 0 ? (cur[6] - old[6]) / queries : 0;
            avg[7] = assignments > 0 ? (cur[7] - old[7]) / assignments : 0;
            avg[8] = 1_000_000 * (cur[8] - old[8]) / durMicros;
            avg[9] = 1_000_000 * (cur[9] - old[9]) / durMicros;
            avg[10] = 1_000_000 * (cur[10] - old[10]) / durMicros;
            return avg;
        }
    }
}
