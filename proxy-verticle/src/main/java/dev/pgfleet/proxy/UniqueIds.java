package dev.pgfleet.proxy;

import dev.pgfleet.shared.config.General;

/**
 * {@code SELECT pgfleet.unique_id()}: 64-bit ids, time-ordered and unique across the fleet, so
 * that an application has a sharding key before it inserts. An id is 41 bits of milliseconds since
 * 2026-01-01 UTC (69 years), 10 bits of the instance ({@code instance_id}, 0 to 1023), 12 bits of
 * a sequence within the millisecond (4,096 ids per millisecond and instance; past that it waits for
 * the next millisecond). The sign bit stays 0, so ids are positive bigints. A clock that steps back
 * does not make an id repeat: the generator keeps the last millisecond it used.
 */
final class UniqueIds {

    /** 2026-01-01T00:00:00Z. */
    static final long EPOCH_MILLIS = 1_767_225_600_000L;
    private static final int SEQUENCE_BITS = 12;
    private static final int INSTANCE_BITS = 10;

    private final long instance;
    private long lastMillis;
    private long sequence;

    UniqueIds(int instance) {
        if (instance < 0 || instance >= 1 << INSTANCE_BITS) {
            throw new IllegalArgumentException("instance id must be 0 to 1023, got " + instance);
        }
        this.instance = instance;
    }

    /** The configured instance_id, else one derived from the host name and the port. */
    static int instanceOf(General general) {
        if (general.instanceId() >= 0) {
            return general.instanceId();
        }
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            host = "localhost";
        }
        return ((host + ":" + general.port()).hashCode() & 0x7fffffff) % (1 << INSTANCE_BITS);
    }

    int instance() {
        return (int) instance;
    }

    synchronized long next() {
        long now = Math.max(System.currentTimeMillis() - EPOCH_MILLIS, lastMillis);
        if (now == lastMillis) {
            sequence = (sequence + 1) & ((1 << SEQUENCE_BITS) - 1);
            if (sequence == 0) {
                while (now <= lastMillis) {
                    Thread.onSpinWait();
                    now = Math.max(System.currentTimeMillis() - EPOCH_MILLIS, lastMillis);
                    if (now == lastMillis) {
                        now = System.currentTimeMillis() - EPOCH_MILLIS;   // wait for the clock to move on
                    }
                }
            }
        } else {
            sequence = 0;
        }
        lastMillis = now;
        return (now << (INSTANCE_BITS + SEQUENCE_BITS)) | (instance << SEQUENCE_BITS) | sequence;
    }
}
