package dev.pgfleet.shared.config;

/**
 * One {@code [host, port, server_index]} entry of a shard's {@code mirrors}: traffic sent to
 * {@code servers[serverIndex]} is copied to this address. Parsed and kept; PgFleet does not
 * mirror traffic yet.
 */
public record MirrorConfig(String host, int port, int serverIndex) {
}
