package dev.pgfleet.shared.routing;

import dev.pgfleet.shared.config.DefaultRole;
import dev.pgfleet.shared.config.LoadBalancingMode;
import dev.pgfleet.shared.config.PoolMode;

import java.util.List;
import java.util.Optional;

/**
 * One pool of the table: its routing settings, its users (each a server pool per server) and its
 * shards.
 *
 * @param splitting     query_parser_enabled and query_parser_read_write_splitting
 * @param primaryReads  primary_reads_enabled
 * @param users         in configuration order
 * @param shards        in index order
 */
public record PoolRoute(String name, PoolMode poolMode, DefaultRole defaultRole, LoadBalancingMode loadBalancing,
                        boolean splitting, boolean primaryReads, List<UserRoute> users, List<ShardRoute> shards) {

    public PoolRoute {
        users = List.copyOf(users);
        shards = List.copyOf(shards);
    }

    public Optional<UserRoute> user(String username) {
        return users.stream().filter(u -> u.username().equals(username)).findFirst();
    }
}
