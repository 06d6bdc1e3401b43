package dev.pgfleet.shared.config;

/** One {@code [host, port, role]} entry of a shard's {@code servers}. */
public record ServerConfig(String host, int port, ServerRole role) {

    /** {@code host:port}, the form used in log lines and metric labels. */
    public String address() {
        return host + ":" + port;
    }
}
