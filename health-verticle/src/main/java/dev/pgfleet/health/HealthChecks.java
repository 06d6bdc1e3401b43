package dev.pgfleet.health;

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
        return nowNanos - lastUsedNanos >= delay.toNanos();
    }
}
