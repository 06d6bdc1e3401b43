package dev.pgfleet.health;

import dev.pgfleet.shared.health.Ban;
import dev.pgfleet.shared.health.BanRegistry;
import dev.pgfleet.shared.health.ServerKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The bans of one PgFleet process. Readers see an immutable map through one volatile field
 * (copy on write, as PgCat's ArcSwap'd ban list): {@link #isBanned} is a volatile read, a hash
 * lookup and a clock read, with no lock, so the proxy's event loops can ask on every checkout.
 * Writers, rare, serialize on a lock and publish a new map.
 *
 * <p>Expiry is by the injected {@link Clock}: an expired ban stops counting at once in
 * {@link #isBanned}, and is dropped (and listeners told) on the next write or {@link #expire()}.
 */
public final class LocalBanRegistry implements BanRegistry {

    /** Immutable; {@code untilMillis} kept unboxed so the hot check compares two longs. */
    private record Entry(Ban ban, long untilMillis) {
    }

    private final Clock clock;
    private final Object writeLock = new Object();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private volatile Map<ServerKey, Entry> entries = Map.of();

    public LocalBanRegistry() {
        this(Clock.systemUTC());
    }

    /** With a clock of the caller's choosing (tests move time by hand). */
    public LocalBanRegistry(Clock clock) {
        this.clock = clock;
    }

    @Override
    public void ban(ServerKey server, Duration duration, String reason) {
        if (duration.isZero() || duration.isNegative()) {
            return;
        }
        Map<ServerKey, Ban> changed;
        synchronized (writeLock) {
            long now = clock.millis();
            long until = saturatedAdd(now, duration.toMillis());
            Entry current = entries.get(server);
            boolean wasBanned = current != null && current.untilMillis() > now;
            if (wasBanned && current.untilMillis() >= until) {
                return; // already banned for longer
            }
            boolean expiredOthers = hasExpired(now);
            Map<ServerKey, Entry> next = liveCopy(now);
            next.put(server, new Entry(new Ban(server, Instant.ofEpochMilli(now), Instant.ofEpochMilli(until),
                    reason), until));
            entries = Map.copyOf(next);
            changed = !wasBanned || expiredOthers ? bans() : null;
        }
        notifyListeners(changed);
    }

    @Override
    public void unban(ServerKey server) {
        Map<ServerKey, Ban> changed;
        synchronized (writeLock) {
            if (!entries.containsKey(server)) {
                return;
            }
            long now = clock.millis();
            boolean wasBanned = entries.get(server).untilMillis() > now;
            boolean expiredOthers = hasExpired(now);
            Map<ServerKey, Entry> next = liveCopy(now);
            next.remove(server);
            entries = Map.copyOf(next);
            changed = wasBanned || expiredOthers ? bans() : null;
        }
        notifyListeners(changed);
    }

    @Override
    public boolean isBanned(ServerKey server) {
        Entry e = entries.get(server);
        return e != null && e.untilMillis() > clock.millis();
    }

    @Override
    public Map<ServerKey, Ban> bans() {
        long now = clock.millis();
        Map<ServerKey, Ban> out = new LinkedHashMap<>();
        entries.forEach((k, e) -> {
            if (e.untilMillis() > now) {
                out.put(k, e.ban());
            }
        });
        return Map.copyOf(out);
    }

    @Override
    public void clear() {
        Map<ServerKey, Ban> changed;
        synchronized (writeLock) {
            if (entries.isEmpty()) {
                return;
            }
            boolean anyLive = !bans().isEmpty();
            entries = Map.of();
            changed = anyLive ? Map.of() : null;
        }
        notifyListeners(changed);
    }

    @Override
    public void expire() {
        Map<ServerKey, Ban> changed;
        synchronized (writeLock) {
            long now = clock.millis();
            if (!hasExpired(now)) {
                return;
            }
            entries = Map.copyOf(liveCopy(now));
            changed = bans();
        }
        notifyListeners(changed);
    }

    @Override
    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    @Override
    public void removeListener(Listener listener) {
        listeners.remove(listener);
    }

    @Override
    public String toString() {
        return "LocalBanRegistry" + bans().keySet();
    }

    /** Whether the current map holds entries whose time is up (not yet dropped). */
    private boolean hasExpired(long now) {
        for (Entry e : entries.values()) {
            if (e.untilMillis() <= now) {
                return true;
            }
        }
        return false;
    }

    private Map<ServerKey, Entry> liveCopy(long now) {
        Map<ServerKey, Entry> copy = new HashMap<>();
        entries.forEach((k, e) -> {
            if (e.untilMillis() > now) {
                copy.put(k, e);
            }
        });
        return copy;
    }

    private void notifyListeners(Map<ServerKey, Ban> bans) {
        if (bans == null) {
            return;
        }
        for (Listener l : listeners) {
            l.bansChanged(bans);
        }
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }
}
