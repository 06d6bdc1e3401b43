package dev.pgfleet.router;

import dev.pgfleet.shared.config.LoadBalancingMode;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;

/**
 * Picks one server among the candidates of a shard and role (PgCat's {@code load_balancing_mode}).
 * Pure: the caller passes the candidates as they are now (health, weight, outstanding work) and
 * gets an index back; nothing is remembered about them between calls except the round-robin
 * position.
 *
 * <p>Eligible are the healthy candidates with a weight above 0. Weight 0 means "never, unless
 * nothing else is healthy": when every healthy candidate has weight 0 they share the load equally.
 * With no healthy candidate the answer is {@link #NONE}; what to do then (wait, try a banned
 * server, fail with an error) is the caller's decision.
 *
 * <p>Thread safety: one instance may serve every event loop. Round robin's position is an
 * {@link AtomicInteger}; random draws come from {@link ThreadLocalRandom} unless a generator is
 * injected (an injected one must be thread safe if the instance is shared, {@link java.util.Random}
 * is; tests use a seeded one on one thread).
 */
public final class LoadBalancer {

    /** No candidate is healthy. */
    public static final int NONE = -1;

    /** How to choose. */
    public enum Mode {
        /** Weighted random. */
        RANDOM,
        /** Weighted rotation: over every cycle of (sum of weights) picks, candidate i gets exactly weight(i). */
        ROUND_ROBIN,
        /** Least outstanding connections: the smallest outstanding / weight; ties broken at random. */
        LOC;

        /** The mode a pool's {@code load_balancing_mode} names. */
        public static Mode of(LoadBalancingMode configured) {
            return switch (configured) {
                case RANDOM -> RANDOM;
                case ROUND_ROBIN -> ROUND_ROBIN;
                case LEAST_OUTSTANDING_CONNECTIONS -> LOC;
            };
        }

        /**
         * From a config value: {@code random}, {@code round_robin}, {@code loc} or
         * {@code least_outstanding_connections}, spelled as {@link LoadBalancingMode} accepts them.
         */
        public static Mode fromConfigName(String name) {
            return of(LoadBalancingMode.fromConfigName(name).orElseThrow(() -> new IllegalArgumentException(
                    "unknown load balancing mode \"" + name + "\"; expected random, round_robin or loc")));
        }
    }

    /**
     * The candidates, as the caller sees them now; typically a view over the routing snapshot, so
     * nothing is copied per pick. Indexes run from 0 to {@code size() - 1}.
     */
    public interface Candidates {
        int size();

        /** Reachable and not banned. */
        boolean healthy(int index);

        /** Relative share of the load; 0 = only when nothing else is healthy; negative counts as 0. */
        default int weight(int index) {
            return 1;
        }

        /** Work in flight on this server (checked-out connections plus waiting clients); only {@link Mode#LOC} asks. */
        default int outstanding(int index) {
            return 0;
        }

        /**
         * Array-backed candidates.
         *
         * @param healthy     one flag per candidate
         * @param weights     null = all 1
         * @param outstanding null = all 0
         */
        static Candidates of(boolean[] healthy, int[] weights, int[] outstanding) {
            if ((weights != null && weights.length != healthy.length)
                    || (outstanding != null && outstanding.length != healthy.length)) {
                throw new IllegalArgumentException("arrays of different lengths");
            }
            return new Candidates() {
                @Override
                public int size() {
                    return healthy.length;
                }

                @Override
                public boolean healthy(int index) {
                    return healthy[index];
                }

                @Override
                public int weight(int index) {
                    return weights == null ? 1 : weights[index];
                }

                @Override
                public int outstanding(int index) {
                    return outstanding == null ? 0 : outstanding[index];
                }
            };
        }
    }

    private final Mode mode;
    private final RandomGenerator random;
    private final AtomicInteger position = new AtomicInteger();

    /** With {@link ThreadLocalRandom} for the random draws. */
    public LoadBalancer(Mode mode) {
        this(mode, null);
    }

    /**
     * @param random source of random draws (RANDOM, and LOC's tie-break); null for
     *               {@link ThreadLocalRandom}
     */
    public LoadBalancer(Mode mode, RandomGenerator random) {
        if (mode == null) {
            throw new IllegalArgumentException("mode is null");
        }
        this.mode = mode;
        this.random = random;
    }

    public Mode mode() {
        return mode;
    }

    /** The index of the chosen candidate, or {@link #NONE} when none is healthy. */
    public int pick(Candidates candidates) {
        int n = candidates.size();
        long total = 0;
        int healthy = 0;
        for (int i = 0; i < n; i++) {
            if (candidates.healthy(i)) {
                healthy++;
                int w = candidates.weight(i);
                if (w > 0) {
                    total += w;
                }
            }
        }
        if (healthy == 0) {
            return NONE;
        }
        // Only weight-0 candidates are healthy: they share the load equally.
        boolean zeroWeights = total == 0;
        if (zeroWeights) {
            total = healthy;
        }
        switch (mode) {
            case RANDOM:
                return at(candidates, rng().nextLong(total), zeroWeights);
            case ROUND_ROBIN:
                long turn = position.getAndIncrement() & 0x7FFF_FFFFL;
                return at(candidates, turn % total, zeroWeights);
            default:
                return leastOutstanding(candidates, zeroWeights);
        }
    }

    private RandomGenerator rng() {
        return random != null ? random : ThreadLocalRandom.current();
    }

    private static int effectiveWeight(Candidates c, int i, boolean zeroWeights) {
        if (!c.healthy(i)) {
            return 0;
        }
        if (zeroWeights) {
            return 1;
        }
        return Math.max(0, c.weight(i));
    }

    /** The candidate whose share of [0, total) holds {@code point}. */
    private static int at(Candidates c, long point, boolean zeroWeights) {
        int n = c.size();
        int last = NONE;
        for (int i = 0; i < n; i++) {
            int w = effectiveWeight(c, i, zeroWeights);
            if (w > 0) {
                if (point < w) {
                    return i;
                }
                point -= w;
                last = i;
            }
        }
        return last; // only if the candidates changed under us between the two passes
    }

    private int leastOutstanding(Candidates c, boolean zeroWeights) {
        int n = c.size();
        int best = NONE;
        long bestLoad = 0;
        long bestWeight = 1;
        int ties = 0;
        for (int i = 0; i < n; i++) {
            int w = effectiveWeight(c, i, zeroWeights);
            if (w <= 0) {
                continue;
            }
            long load = Math.max(0, c.outstanding(i));
            if (best == NONE) {
                best = i;
                bestLoad = load;
                bestWeight = w;
                ties = 1;
                continue;
            }
            // load / w against bestLoad / bestWeight, without division.
            long cmp = load * bestWeight - bestLoad * w;
            if (cmp < 0) {
                best = i;
                bestLoad = load;
                bestWeight = w;
                ties = 1;
            } else if (cmp == 0) {
                // Reservoir sampling: each of the k tied candidates ends up chosen with chance 1/k.
                ties++;
                if (rng().nextInt(ties) == 0) {
                    best = i;
                    bestLoad = load;
                    bestWeight = w;
                }
            }
        }
        return best;
    }
}
