package dev.pgfleet.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;

class LoadBalancerTest {
    private static final int PICKS = 10_000;

    private static LoadBalancer seeded(LoadBalancer.Mode mode) {
        return new LoadBalancer(mode, new SplittableRandom(7));
    }

    private static int[] counts(LoadBalancer lb, LoadBalancer.Candidates c, int picks) {
        int[] n = new int[c.size()];
        for (int i = 0; i < picks; i++) {
            n[lb.pick(c)]++;
        }
        return n;
    }

    /** Each count within 10% of its expectation. */
    private static void assertShares(int[] counts, double... expectedShares) {
        int total = 0;
        for (int x : counts) {
            total += x;
        }
        for (int i = 0; i < counts.length; i++) {
            double expected = expectedShares[i] * total;
            assertTrue(Math.abs(counts[i] - expected) <= 0.10 * expected + (expected == 0 ? 0 : 1),
                    "candidate " + i + ": " + counts[i] + " picks, expected about " + expected);
        }
    }

    @Test
    void randomIsUniformAmongHealthy() {
        boolean[] healthy = {true, true, true, false};
        int[] n = counts(seeded(LoadBalancer.Mode.RANDOM), LoadBalancer.Candidates.of(healthy, null, null), PICKS);
        assertShares(n, 1 / 3.0, 1 / 3.0, 1 / 3.0, 0);
        assertEquals(0, n[3]);
    }

    @Test
    void randomFollowsWeights() {
        boolean[] healthy = {true, true, true};
        int[] weights = {1, 2, 5};
        int[] n = counts(seeded(LoadBalancer.Mode.RANDOM), LoadBalancer.Candidates.of(healthy, weights, null), PICKS);
        assertShares(n, 1 / 8.0, 2 / 8.0, 5 / 8.0);
    }

    @Test
    void weightZeroOnlyWhenNothingElse() {
        for (LoadBalancer.Mode mode : LoadBalancer.Mode.values()) {
            LoadBalancer lb = seeded(mode);
            int[] n = counts(lb, LoadBalancer.Candidates.of(new boolean[] {true, true}, new int[] {0, 3}, null), 1000);
            assertEquals(0, n[0], mode + ": weight 0 chosen although another is healthy");
            // The only weighted candidate is down: the weight-0 ones share the load.
            int[] m = counts(lb, LoadBalancer.Candidates.of(new boolean[] {true, true, false},
                    new int[] {0, 0, 3}, null), PICKS);
            assertEquals(0, m[2], mode.toString());
            if (mode != LoadBalancer.Mode.LOC) {
                assertShares(m, 0.5, 0.5, 0);
            }
        }
    }

    @Test
    void noneHealthy() {
        for (LoadBalancer.Mode mode : LoadBalancer.Mode.values()) {
            assertEquals(LoadBalancer.NONE, seeded(mode).pick(
                    LoadBalancer.Candidates.of(new boolean[] {false, false}, null, null)), mode.toString());
            assertEquals(LoadBalancer.NONE, seeded(mode).pick(
                    LoadBalancer.Candidates.of(new boolean[0], null, null)), mode.toString());
        }
    }

    @Test
    void roundRobinIsExact() {
        LoadBalancer lb = seeded(LoadBalancer.Mode.ROUND_ROBIN);
        LoadBalancer.Candidates c = LoadBalancer.Candidates.of(new boolean[] {true, false, true, true}, null, null);
        int[] expected = {0, 2, 3};
        for (int i = 0; i < 30; i++) {
            assertEquals(expected[i % 3], lb.pick(c), "pick " + i);
        }
    }

    @Test
    void weightedRoundRobinIsExactPerCycle() {
        LoadBalancer lb = seeded(LoadBalancer.Mode.ROUND_ROBIN);
        LoadBalancer.Candidates c = LoadBalancer.Candidates.of(new boolean[] {true, true, true}, new int[] {1, 0, 3}, null);
        int[] n = counts(lb, c, 4 * 2_500);
        assertEquals(2_500, n[0]);
        assertEquals(0, n[1]);
        assertEquals(7_500, n[2]);
    }

    @Test
    void roundRobinFromManyThreadsStaysExact() throws Exception {
        LoadBalancer lb = new LoadBalancer(LoadBalancer.Mode.ROUND_ROBIN);
        LoadBalancer.Candidates c = LoadBalancer.Candidates.of(new boolean[] {true, true, true}, null, null);
        AtomicIntegerArray n = new AtomicIntegerArray(3);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 3_000; i++) {
                        n.incrementAndGet(lb.pick(c));
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(4_000, n.get(i), "candidate " + i);
        }
    }

    @Test
    void locPicksTheLeastLoaded() {
        LoadBalancer lb = seeded(LoadBalancer.Mode.LOC);
        assertEquals(2, lb.pick(LoadBalancer.Candidates.of(new boolean[] {true, true, true, true}, null,
                new int[] {5, 3, 1, 2})));
        // The least loaded is unhealthy: the next one.
        assertEquals(3, lb.pick(LoadBalancer.Candidates.of(new boolean[] {true, true, false, true}, null,
                new int[] {5, 3, 1, 2})));
        // Weights: 6 outstanding on weight 4 (1.5 each) beats 2 on weight 1.
        assertEquals(0, lb.pick(LoadBalancer.Candidates.of(new boolean[] {true, true}, new int[] {4, 1},
                new int[] {6, 2})));
        // Weight 0 is skipped even when idle.
        assertEquals(1, lb.pick(LoadBalancer.Candidates.of(new boolean[] {true, true}, new int[] {0, 1},
                new int[] {0, 50})));
    }

    @Test
    void locSpreadsTies() {
        LoadBalancer.Candidates c = LoadBalancer.Candidates.of(new boolean[] {true, true, true, true}, null,
                new int[] {2, 2, 9, 2});
        int[] n = counts(seeded(LoadBalancer.Mode.LOC), c, PICKS);
        assertShares(n, 1 / 3.0, 1 / 3.0, 0, 1 / 3.0);
    }

    @Test
    void locFollowsTheLoadAsItChanges() {
        LoadBalancer lb = seeded(LoadBalancer.Mode.LOC);
        int[] outstanding = new int[3];
        LoadBalancer.Candidates c = LoadBalancer.Candidates.of(new boolean[] {true, true, true}, null, outstanding);
        for (int i = 0; i < 300; i++) {
            outstanding[lb.pick(c)]++; // connections are never given back
        }
        assertEquals(100, outstanding[0]);
        assertEquals(100, outstanding[1]);
        assertEquals(100, outstanding[2]);
    }

    @Test
    void modesFromConfigNames() {
        assertEquals(LoadBalancer.Mode.RANDOM, LoadBalancer.Mode.fromConfigName("random"));
        assertEquals(LoadBalancer.Mode.ROUND_ROBIN, LoadBalancer.Mode.fromConfigName("ROUND_ROBIN"));
        assertEquals(LoadBalancer.Mode.LOC, LoadBalancer.Mode.fromConfigName("loc"));
        assertEquals(LoadBalancer.Mode.LOC, LoadBalancer.Mode.fromConfigName("least_outstanding_connections"));
        assertThrows(IllegalArgumentException.class, () -> LoadBalancer.Mode.fromConfigName("fastest"));
        assertThrows(IllegalArgumentException.class, () -> LoadBalancer.Candidates.of(new boolean[2], new int[1], null));
    }
}
