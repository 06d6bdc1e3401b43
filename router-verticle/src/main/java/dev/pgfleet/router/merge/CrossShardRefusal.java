package dev.pgfleet.router.merge;

/**
 * A SELECT PgFleet does not run across shards; the message names the construct. The proxy sends
 * it to the client as an ErrorResponse with SQLSTATE 0A000 (feature_not_supported).
 */
public final class CrossShardRefusal extends Exception {
    private static final long serialVersionUID = 1L;

    public CrossShardRefusal(String message) {
        super(message, null, false, false);
    }
}
