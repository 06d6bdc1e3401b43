package dev.pgfleet.proxy;

import dev.pgfleet.shared.admin.ProxyStats;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one event loop counts for one (database, user) pool: plain fields, written by that loop
 * only, so counting costs an add and never a lock, an atomic or an allocation. They are read on
 * the same loop too: STATS runs a task on every loop ({@link LoopStats#snapshot}) that copies them,
 * so a snapshot is exact, not a racy read. Definitions follow PgBouncer's SHOW STATS (see
 * {@link ProxyStats.PoolStats}).
 */
final class PoolCounters {

    static final long[] BOUNDS = ProxyStats.DURATION_BUCKETS_MICROS;
    /** SQLSTATE classes are two characters of [0-9A-Z]: an index instead of a map, no allocation per error. */
    private static final int CLASSES = 36 * 36;

    long serverAssignments;
    long xacts;
    long queries;
    long bytesReceived;
    long bytesSent;
    long xactMicros;
    long queryMicros;
    long waitMicros;
    long clientParses;
    long serverParses;
    long binds;
    long preparedHits;
    long preparedMisses;
    long preparedEvictions;
    final long[] xactBuckets = new long[BOUNDS.length + 1];
    final long[] queryBuckets = new long[BOUNDS.length + 1];
    final long[] errorsByClass = new long[CLASSES];

    /** A transaction of {@code nanos} ended. */
    void xactEnded(long nanos) {
        long micros = nanos / 1000;
        xacts++;
        xactMicros += micros;
        xactBuckets[bucket(micros)]++;
    }

    /** A query (a request up to its ReadyForQuery) of {@code nanos} ended. */
    void queryEnded(long nanos) {
        long micros = nanos / 1000;
        queries++;
        queryMicros += micros;
        queryBuckets[bucket(micros)]++;
    }

    /** An ErrorResponse went to a client. */
    void error(String sqlState) {
        int i = classIndex(sqlState);
        if (i >= 0) {
            errorsByClass[i]++;
        }
    }

    static int bucket(long micros) {
        int i = 0;
        while (i < BOUNDS.length && micros > BOUNDS[i]) {
            i++;
        }
        return i;
    }

    private static int classIndex(String sqlState) {
        if (sqlState == null || sqlState.length() < 2) {
            return classIndex("XX");   // no SQLSTATE: internal_error's class
        }
        int a = Character.digit(sqlState.charAt(0), 36);
        int b = Character.digit(sqlState.charAt(1), 36);
        return a < 0 || b < 0 ? -1 : a * 36 + b;
    }

    /** Adds {@code o} into this one (merging loops). */
    void add(PoolCounters o) {
        serverAssignments += o.serverAssignments;
        xacts += o.xacts;
        queries += o.queries;
        bytesReceived += o.bytesReceived;
        bytesSent += o.bytesSent;
        xactMicros += o.xactMicros;
        queryMicros += o.queryMicros;
        waitMicros += o.waitMicros;
        clientParses += o.clientParses;
        serverParses += o.serverParses;
        binds += o.binds;
        preparedHits += o.preparedHits;
        preparedMisses += o.preparedMisses;
        preparedEvictions += o.preparedEvictions;
        for (int i = 0; i < xactBuckets.length; i++) {
            xactBuckets[i] += o.xactBuckets[i];
            queryBuckets[i] += o.queryBuckets[i];
        }
        for (int i = 0; i < CLASSES; i++) {
            errorsByClass[i] += o.errorsByClass[i];
        }
    }

    PoolCounters copy() {
        PoolCounters c = new PoolCounters();
        c.add(this);
        return c;
    }

    /** Errors by class, only the classes seen ("28" -> 2), sorted. */
    Map<String, Long> errorsByClassMap() {
        Map<String, Long> m = new TreeMap<>();
        for (int i = 0; i < CLASSES; i++) {
            if (errorsByClass[i] != 0) {
                String cls = ("" + Character.forDigit(i / 36, 36) + Character.forDigit(i % 36, 36)).toUpperCase(java.util.Locale.ROOT);
                m.put(cls, errorsByClass[i]);
            }
        }
        return m;
    }
}
