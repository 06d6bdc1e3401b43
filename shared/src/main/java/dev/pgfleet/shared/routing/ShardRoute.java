package dev.pgfleet.shared.routing;

import java.util.List;

/**
 * One shard: its database and servers, which of them takes writes now and which serve reads.
 *
 * @param servers          in configuration order
 * @param primary          index in {@code servers} of the server that takes writes now: the one the
 *                         newest health snapshot names, else the one the last table named, else the
 *                         configured primary, else the first
 * @param primaryReachable whether the primary answered its last probe (it may then serve reads too)
 */
public record ShardRoute(int index, String database, List<ServerRoute> servers, int primary,
                         boolean primaryReachable) {

    public ShardRoute {
        servers = List.copyOf(servers);
        if (primary < 0 || primary >= servers.size()) {
            throw new IllegalArgumentException("primary index " + primary + " out of " + servers.size() + " servers");
        }
    }
}
