package dev.pgfleet.shared.health;

import dev.pgfleet.shared.config.ServerConfig;

import java.util.Objects;

/**
 * A PostgreSQL server as bans and health know it: {@code host:port}, the form of
 * {@link ServerConfig#address()}. The same server listed in several pools or shards is one key,
 * so a ban applies wherever it is listed (as PgCat's ban list, keyed by address).
 */
public record ServerKey(String host, int port) {

    public ServerKey {
        Objects.requireNonNull(host, "host");
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port must be between 1 and 65535, got " + port);
        }
    }

    public static ServerKey of(ServerConfig server) {
        return new ServerKey(server.host(), server.port());
    }

    /** Parses {@code host:port}, the form {@link #toString()} writes (IPv6 hosts may hold colons). */
    public static ServerKey parse(String address) {
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            throw new IllegalArgumentException("expected host:port, got \"" + address + "\"");
        }
        return new ServerKey(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
    }

    @Override
    public String toString() {
        return host + ":" + port;
    }
}
