package dev.pgfleet.admin.console;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.pgfleet.shared.admin.ProxyStats;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** PgBouncer's averages (stats.c's calc_average) against the older of two stats_period samples. */
class StatsSamplerTest {

    private static ProxyStats at(long startedAt, long takenAt, long xacts, long queries, long xactMicros, long waits,
                                 long waitMicros, long received) {
        ProxyStats.PoolStats p = new ProxyStats.PoolStats("db", "u", "transaction", false, false, 5, 0,
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                waits, xacts, queries, received, 0, xactMicros, 0, waitMicros, 0, 0, 0, 0, 0, 0, 0, 0, Map.of(),
                new long[17], new long[17], List.of());
        return new ProxyStats("i", startedAt, takenAt, true, false, false, 0, 100, List.of(p), List.of(), List.of(),
                List.of());
    }

    @Test
    void beforeTheFirstPeriodAgainstZerosASecondBeforeTheStart() {
        StatsSampler s = new StatsSampler();
        ProxyStats now = at(10_000, 19_000, 100, 300, 50_000, 10, 2_000, 4_000);
        // 10 s since the zero sample at start - 1 s: 10 xacts/s, 30 queries/s, 400 B/s;
        // 500 µs per transaction, 200 µs wait per assignment, 1 assignment/s.
        assertArrayEquals(new long[] {1, 10, 30, 400, 0, 500, 0, 200, 0, 0, 0},
                s.averages(now).of("db", Shows.counters(now.pools().get(0))));
    }

    @Test
    void afterTwoTicksAgainstTheOlderSample() {
        StatsSampler s = new StatsSampler();
        s.tick(at(0, 60_000, 600, 600, 60_000, 0, 0, 0));
        s.tick(at(0, 120_000, 1_800, 3_000, 180_000, 0, 0, 0));
        ProxyStats now = at(0, 150_000, 2_400, 4_200, 300_000, 0, 0, 0);
        // Older sample: the first tick (60 s): 1,800 xacts and 3,600 queries in 90 s.
        assertArrayEquals(new long[] {0, 20, 40, 0, 0, 133, 0, 0, 0, 0, 0},
                s.averages(now).of("db", Shows.counters(now.pools().get(0))));
    }
}
