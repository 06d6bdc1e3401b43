package dev.pgfleet.shared.config;

import java.util.List;
import java.util.Optional;

/**
 * {@code [pools.<db>.shards.<index>]}: a PostgreSQL database and the servers that hold it.
 * Indexes run 0..N-1 without gaps, since sharding functions map a key to {@code hash mod N}.
 */
public record ShardConfig(int index, String database, List<ServerConfig> servers, List<MirrorConfig> mirrors) {

    public ShardConfig {
        servers = List.copyOf(servers);
        mirrors = List.copyOf(mirrors);
    }

    /** The server declared primary, if any ({@code auto} servers are resolved at run time). */
    public Optional<ServerConfig> primary() {
        return servers.stream().filter(s -> s.role() == ServerRole.PRIMARY).findFirst();
    }

    public List<ServerConfig> replicas() {
        return servers.stream().filter(s -> s.role() == ServerRole.REPLICA).toList();
    }
}
