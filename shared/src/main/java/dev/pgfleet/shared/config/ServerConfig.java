package dev.pgfleet.shared.config;

/**
 * One {@code [host, port, role]} or {@code [host, port, role, weight]} entry of a shard's
 * {@code servers}.
 *
 * @param weight the server's share of reads under load balancing (default 1; 0: only when no
 *               other server is fit)
 */
public record ServerConfig(String host, int port, ServerRole role, int weight) {

    /** Weight when the entry gives none. */
    public static final int DEFAULT_WEIGHT = 1;

    public ServerConfig(String host, int port, ServerRole role) {
        this(host, port, role, DEFAULT_WEIGHT);
    }

    /** {@code host:port}, the form used in log lines and metric labels. */
    public String address() {
        return host + ":" + port;
    }
}
