package dev.pgfleet.shared.health;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HealthChecksTest {

    @Test
    void connectionUsedWithinTheDelaySkipsTheCheck() {
        Duration delay = Duration.ofMillis(30_000);
        long used = 5_000_000_000L;
        assertFalse(HealthChecks.needsCheck(used, used + delay.toNanos() - 1, delay));
        assertTrue(HealthChecks.needsCheck(used, used + delay.toNanos(), delay));
        assertTrue(HealthChecks.needsCheck(Long.MAX_VALUE - 10, Long.MIN_VALUE + delay.toNanos(), delay),
                "nanoTime may wrap: differences still hold");
    }

    @Test
    void serverKeyRoundTrip() {
        ServerKey k = new ServerKey("::1", 5432);
        org.junit.jupiter.api.Assertions.assertEquals(k, ServerKey.parse(k.toString()));
    }
}
