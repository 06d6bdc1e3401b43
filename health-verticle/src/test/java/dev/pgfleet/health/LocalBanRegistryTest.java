package dev.pgfleet.health;

import dev.pgfleet.shared.health.Ban;
import dev.pgfleet.shared.health.BanRegistry;
import dev.pgfleet.shared.health.ServerKey;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalBanRegistryTest {

    static final ServerKey A = new ServerKey("10.0.0.1", 5432);
    static final ServerKey B = new ServerKey("10.0.0.2", 5432);

    final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    final LocalBanRegistry bans = new LocalBanRegistry(clock);
    final List<Set<ServerKey>> changes = new ArrayList<>();

    LocalBanRegistryTest() {
        bans.addListener(b -> changes.add(b.keySet()));
    }

    @Test
    void banExpiresWithTheClock() {
        bans.ban(A, Duration.ofSeconds(60), "health check failed");
        assertTrue(bans.isBanned(A));
        assertFalse(bans.isBanned(B));
        Ban ban = bans.bans().get(A);
        assertEquals(Instant.parse("2026-01-01T00:01:00Z"), ban.until());
        assertEquals("health check failed", ban.reason());

        clock.advance(Duration.ofSeconds(59));
        assertTrue(bans.isBanned(A));
        clock.advance(Duration.ofSeconds(1));
        assertFalse(bans.isBanned(A), "expired at until, without any write");
        assertEquals(Map.of(), bans.bans());
        assertEquals(List.of(Set.of(A)), changes, "expiry not reported before expire()");
        bans.expire();
        assertEquals(List.of(Set.of(A), Set.of()), changes);
        bans.expire();
        assertEquals(2, changes.size(), "nothing more to expire");
    }

    @Test
    void laterEndIsKeptAndExtensionsAreQuiet() {
        bans.ban(A, Duration.ofSeconds(60), "first");
        bans.ban(A, Duration.ofSeconds(10), "shorter");
        assertEquals("first", bans.bans().get(A).reason(), "a shorter ban does not cut a longer one");
        clock.advance(Duration.ofSeconds(30));
        bans.ban(A, Duration.ofSeconds(60), "again");
        assertEquals(Instant.parse("2026-01-01T00:01:30Z"), bans.bans().get(A).until());
        assertEquals("again", bans.bans().get(A).reason());
        assertEquals(List.of(Set.of(A)), changes, "an extension is not a change of the banned set");
    }

    @Test
    void zeroDurationIsNoBan() {
        bans.ban(A, Duration.ZERO, "ban_time = 0");
        bans.ban(A, Duration.ofSeconds(-1), "negative");
        assertFalse(bans.isBanned(A));
        assertEquals(List.of(), changes);
    }

    @Test
    void unbanAndClear() {
        bans.ban(A, Duration.ofSeconds(60), "a");
        bans.ban(B, Duration.ofSeconds(60), "b");
        bans.unban(A);
        assertFalse(bans.isBanned(A));
        assertTrue(bans.isBanned(B));
        bans.unban(A);
        bans.clear();
        assertEquals(Map.of(), bans.bans());
        bans.clear();
        assertEquals(List.of(Set.of(A), Set.of(A, B), Set.of(B), Set.of()), changes);
    }

    @Test
    void reBanAfterExpiryIsAChange() {
        bans.ban(A, Duration.ofSeconds(1), "a");
        clock.advance(Duration.ofSeconds(2));
        bans.ban(A, Duration.ofSeconds(1), "again");
        assertTrue(bans.isBanned(A));
        assertEquals(List.of(Set.of(A), Set.of(A)), changes);
    }

    @Test
    void removedListenerHearsNothing() {
        AtomicReference<Map<ServerKey, Ban>> heard = new AtomicReference<>();
        BanRegistry.Listener l = heard::set;
        bans.addListener(l);
        bans.removeListener(l);
        bans.ban(A, Duration.ofSeconds(1), "a");
        assertNull(heard.get());
    }

    @Test
    void readersNeverSeeATornState() throws InterruptedException {
        LocalBanRegistry real = new LocalBanRegistry();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            try {
                while (!stop.get()) {
                    real.isBanned(A);
                    real.bans().forEach((k, b) -> {
                        if (!k.equals(b.server())) {
                            throw new AssertionError("entry under the wrong key");
                        }
                    });
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        reader.start();
        for (int i = 0; i < 20_000; i++) {
            ServerKey k = new ServerKey("10.0.0." + (i % 50), 5432);
            real.ban(k, Duration.ofMinutes(1), "x");
            if (i % 3 == 0) {
                real.unban(k);
            }
        }
        stop.set(true);
        reader.join();
        assertNull(failure.get());
    }
}
