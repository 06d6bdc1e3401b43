package dev.pgfleet.shared.routing;

/**
 * Event-bus addresses of the routing table, shared by the router verticle that publishes and the
 * proxy that reads. Bodies are {@link RoutingTable}s carried by {@link RoutingTableCodec} (the same
 * instance within a process).
 */
public final class RouterBus {

    /**
     * Every new table: after each configuration epoch, and after each health snapshot that changes
     * routing (a primary, the readable replicas). The proxy listens with a local consumer: each
     * instance of a fleet routes by its own router, fed by its own configuration and health.
     */
    public static final String TABLE = "pgfleet.router.table";

    /** Request-reply: the newest table, for a reader that starts after the router (dist deploys it first). */
    public static final String CURRENT = "pgfleet.router.table.current";

    private RouterBus() {
    }
}
