package dev.pgfleet.health;

import dev.pgfleet.shared.health.ServerHealth;

/**
 * When a primary was first seen at each WAL position: the basis of a standby's lag in time.
 *
 * <p>Why not {@code now() - pg_last_xact_replay_timestamp()} on the standby: that is the age of
 * the last transaction replayed, which grows on an idle primary with no lag at all, and jumps to
 * the length of the idle spell the moment a write arrives and is not yet replayed. Tools that
 * use it patch the first case with "replay LSN == receive LSN means caught up", not the second.
 * Here, instead, each probe of the primary records (position, time) when the position moved;
 * a standby that has replayed up to R misses the WAL the primary had at the first sample past R,
 * so it has been behind for at least {@code now - that sample's time}. The estimate is low by at
 * most one probe interval, and exact in the case that matters: 0 as soon as R reaches the
 * primary's last seen position, idle or not.
 *
 * <p>Bounded: {@value #CAPACITY} positions (one per interval at most, only when the position
 * moved), about 17 minutes at the default interval; a standby behind all of them is reported
 * at least that far behind. Not thread safe: the {@link HealthVerticle}'s context owns it.
 */
final class LagHistory {

    static final int CAPACITY = 1024;

    private final long[] lsns = new long[CAPACITY];
    private final long[] nanos = new long[CAPACITY];
    private int first;
    private int size;

    /** Records that the primary was at {@code lsn} at {@code atNanos}. */
    void record(long lsn, long atNanos) {
        if (lsn == Lsn.UNKNOWN) {
            return;
        }
        if (size > 0) {
            long last = lsns[index(size - 1)];
            if (lsn == last) {
                return; // keep the first time it was seen there
            }
            if (lsn < last) {
                clear(); // a different server now, or restored from a backup: history is void
            }
        }
        if (size == CAPACITY) {
            first = (first + 1) % CAPACITY;
            size--;
        }
        lsns[index(size)] = lsn;
        nanos[index(size)] = atNanos;
        size++;
    }

    /**
     * How long a standby that has replayed up to {@code replayLsn} has been missing WAL, as of
     * {@code nowNanos}: 0 when it has what the primary last had; {@link ServerHealth#UNKNOWN}
     * with no history.
     */
    long millisBehind(long replayLsn, long nowNanos) {
        if (size == 0 || replayLsn == Lsn.UNKNOWN) {
            return ServerHealth.UNKNOWN;
        }
        if (replayLsn >= lsns[index(size - 1)]) {
            return 0;
        }
        // The first sample past replayLsn: positions only grow, so binary search.
        int lo = 0;
        int hi = size - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (lsns[index(mid)] > replayLsn) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return Math.max(0, (nowNanos - nanos[index(lo)]) / 1_000_000);
    }

    long lastLsn() {
        return size == 0 ? Lsn.UNKNOWN : lsns[index(size - 1)];
    }

    void clear() {
        first = 0;
        size = 0;
    }

    private int index(int i) {
        return (first + i) % CAPACITY;
    }
}
