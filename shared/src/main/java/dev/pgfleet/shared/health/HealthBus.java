package dev.pgfleet.shared.health;

/**
 * Event-bus addresses of health, shared by the health verticle that publishes and the proxy that
 * reads, neither depending on the other. Bodies are {@link HealthSnapshot}s, carried by
 * {@link HealthSnapshotCodec} (the same instance within a process).
 */
public final class HealthBus {

    /**
     * Every new snapshot, published after each probe round and each change of bans. The proxy
     * listens with a local consumer: each PgFleet instance routes by its own health verticle,
     * whose bans are already the fleet's (see {@link BanRegistry}).
     */
    public static final String SNAPSHOTS = "pgfleet.health.snapshot";

    /**
     * Request-reply: the newest snapshot. Asked once by a reader that starts after the health
     * verticle (dist deploys health first), so it does not wait a probe interval for its first.
     */
    public static final String CURRENT = "pgfleet.health.snapshot.current";

    private HealthBus() {
    }
}
