package dev.pgfleet.shared.health;

import java.time.Duration;

/** Small rules the proxy applies on its own connections, kept next to the rest of health. */
public final class HealthChecks {

    private HealthChecks() {
    }

    /**
     * Whether a pooled server connection must pass a health check ({@code ;}, an empty query)
     * before it is handed out: PgCat's {@code healthcheck_delay}, a connection used within the
     * delay is trusted as it is. Times are {@link System#nanoTime()} readings.
     */
    public static boolean needsCheck(long lastUsedNanos, long nowNanos, Duration delay) {
        return needsCheck(lastUsedNanos, nowNanos, delay.toNanos());
    }

    /** The same with the delay in nanoseconds, converted once by the caller (a checkout asks it). */
    public static boolean needsCheck(long lastUsedNanos, long nowNanos, long delayNanos) {
        return nowNanos - lastUsedNanos >= delayNanos;
    }
}
