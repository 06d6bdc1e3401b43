package dev.pgfleet.dist;

import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.ServerConfig;
import dev.pgfleet.shared.config.ServerRole;
import dev.pgfleet.shared.config.ShardConfig;
import dev.pgfleet.testkit.PgServer;
import java.util.ArrayList;
import java.util.List;

/**
 * How the demo configuration's servers map onto the servers the demo starts. The file's
 * addresses are placeholders (the servers pick free ports), so the mapping goes by shape:
 * <ul>
 *   <li>a pool with one shard is served by the replicated cluster: its {@code primary} entry is
 *       the cluster's primary, its {@code replica} (or {@code auto}) entries the cluster's
 *       replicas in order;</li>
 *   <li>a pool with several shards gets standalone server i for shard i (one server per shard).</li>
 * </ul>
 */
final class DemoTopology {

    private DemoTopology() {
    }

    /** Replicas the cluster needs: the most any single-shard pool lists. */
    static int replicasNeeded(PgFleetConfig config) {
        return config.pools().values().stream().filter(p -> p.shards().size() == 1)
                .mapToInt(p -> (int) p.shards().get(0).servers().stream()
                        .filter(s -> s.role() != ServerRole.PRIMARY).count())
                .max().orElse(0);
    }

    /** Standalone shard servers needed: the most shards of any sharded pool (0 when none is). */
    static int shardsNeeded(PgFleetConfig config) {
        return config.pools().values().stream().mapToInt(p -> p.shards().size()).filter(n -> n > 1)
                .max().orElse(0);
    }

    /**
     * The configuration pointed at the started servers, listening on {@code port}.
     *
     * @param clusterServers the primary first, then the replicas
     * @param shardServers   shard i at index i
     * @throws IllegalArgumentException if a sharded pool's shard does not hold exactly one primary
     */
    static PgFleetConfig rewrite(PgFleetConfig config, List<PgServer> clusterServers, List<PgServer> shardServers,
                                 int port) {
        PgFleetConfig rewritten = ConfigEdits.withShards(config, pool -> pool.shards().size() == 1
                ? List.of(onCluster(pool.shards().get(0), clusterServers))
                : onShards(pool, shardServers));
        return ConfigEdits.withPort(rewritten, port);
    }

    private static ShardConfig onCluster(ShardConfig shard, List<PgServer> cluster) {
        List<ServerConfig> servers = new ArrayList<>();
        int replica = 1;
        for (ServerConfig s : shard.servers()) {
            PgServer target = s.role() == ServerRole.PRIMARY ? cluster.get(0) : cluster.get(replica++);
            servers.add(new ServerConfig(target.host(), target.port(), s.role()));
        }
        return new ShardConfig(shard.index(), shard.database(), servers, shard.mirrors());
    }

    private static List<ShardConfig> onShards(PoolConfig pool, List<PgServer> shardServers) {
        List<ShardConfig> shards = new ArrayList<>();
        for (ShardConfig shard : pool.shards()) {
            if (shard.servers().size() != 1 || shard.servers().get(0).role() == ServerRole.REPLICA) {
                throw new IllegalArgumentException(pool.name() + ": pools." + pool.name() + ".shards." + shard.index()
                        + ": the demo starts one standalone server per shard; list exactly one primary");
            }
            PgServer target = shardServers.get(shard.index());
            ServerConfig s = new ServerConfig(target.host(), target.port(), shard.servers().get(0).role());
            shards.add(new ShardConfig(shard.index(), shard.database(), List.of(s), shard.mirrors()));
        }
        return shards;
    }
}
