package dev.pgfleet.shared.health;

import java.time.Duration;
import java.util.Map;

/**
 * Servers kept out of rotation for a while: a replica that failed a health probe, a server the
 * proxy could not connect to. Bans are keyed by {@link ServerKey} (host:port) and expire by time.
 *
 * <p>This is the seam for the fleet: health-verticle's {@code LocalBanRegistry} serves one PgFleet
 * process; a clustered implementation (a Hazelcast map with per-entry expiry, see ARCHITECTURE.md)
 * will make a ban placed on one instance visible on all. Callers depend on this interface only,
 * and one instance serves the whole process: {@code dist} creates it and passes it to the health
 * verticle and to the proxy, so a ban placed by either is seen by both.
 *
 * <p>Thread safety: every method may be called from any thread. {@link #isBanned} is called by
 * the proxy's event loops on every server checkout and must not block or allocate much.
 */
public interface BanRegistry {

    /**
     * Bans {@code server} for {@code duration}. When it is already banned until later, the later
     * end is kept (as PgCat); a zero or negative duration does nothing.
     */
    void ban(ServerKey server, Duration duration, String reason);

    /** Lifts the ban on {@code server}, if any. */
    void unban(ServerKey server);

    /** Whether {@code server} is banned now. Cheap: no lock, no I/O. */
    boolean isBanned(ServerKey server);

    /** The bans in force now, an immutable snapshot. */
    Map<ServerKey, Ban> bans();

    /** Lifts every ban (admin command, tests). */
    void clear();

    /**
     * Drops bans whose time is up and tells the listeners. Implementations whose store expires
     * entries by itself (and reports it) may do nothing here; the health verticle calls it once
     * per probe round.
     */
    void expire();

    /**
     * Called with the new set of bans each time a server becomes banned or stops being banned
     * (a ban, an unban, an expiry, a clear), not when a ban is merely extended. Listeners run on
     * the thread that made the change and must be quick.
     */
    void addListener(Listener listener);

    void removeListener(Listener listener);

    /** Told about changes in the set of banned servers. */
    @FunctionalInterface
    interface Listener {
        void bansChanged(Map<ServerKey, Ban> bans);
    }
}
