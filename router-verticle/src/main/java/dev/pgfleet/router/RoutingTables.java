package dev.pgfleet.router;

import dev.pgfleet.shared.config.ConfigEpoch;
import dev.pgfleet.shared.config.General;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.PoolMode;
import dev.pgfleet.shared.config.ServerConfig;
import dev.pgfleet.shared.config.ServerRole;
import dev.pgfleet.shared.config.ShardConfig;
import dev.pgfleet.shared.config.UserConfig;
import dev.pgfleet.shared.health.HealthSnapshot;
import dev.pgfleet.shared.health.ServerKey;
import dev.pgfleet.shared.health.ShardHealth;
import dev.pgfleet.shared.routing.PoolRoute;
import dev.pgfleet.shared.routing.PoolSettings;
import dev.pgfleet.shared.routing.RoutingTable;
import dev.pgfleet.shared.routing.ServerRoute;
import dev.pgfleet.shared.routing.ShardRoute;
import dev.pgfleet.shared.routing.UserRoute;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Builds a {@link RoutingTable} from a configuration and a health snapshot: a pure function, so
 * that the {@link RouterVerticle} and tests build the same tables.
 *
 * <ul>
 *   <li>The primary of a shard: the server the snapshot names, if the configuration still lists
 *       it; else the one the previous table named, if still listed (a reload does not move writes
 *       by itself); else the configured primary; else the first server.</li>
 *   <li>Readable replicas: with no health verticle (snapshot version 0), every server but the
 *       primary, as the configuration says. Once health runs, only those the snapshot lists as
 *       fit for reads: a server added by a reload serves no reads before its first healthy probe,
 *       nor does every replica of a pool added by a reload.</li>
 * </ul>
 */
public final class RoutingTables {

    private RoutingTables() {
    }

    /**
     * @param previous the table this one follows (its primaries are kept when the snapshot names
     *                 none), or null
     */
    public static RoutingTable build(long version, ConfigEpoch epoch, HealthSnapshot health, RoutingTable previous,
                                     Instant now) {
        General general = epoch.config().general();
        Map<String, PoolRoute> pools = new LinkedHashMap<>();
        for (PoolConfig pool : epoch.config().pools().values()) {
            List<UserRoute> users = new ArrayList<>();
            for (UserConfig u : pool.users()) {
                PoolMode mode = u.poolMode() != null ? u.poolMode() : pool.poolMode();
                users.add(new UserRoute(u.username(), u.serverUsername(), mode, new PoolSettings(u.poolSize(),
                        u.minPoolSize(), u.idleTimeout(), u.serverLifetime(), general.healthcheckDelay(),
                        general.healthcheckTimeout())));
            }
            List<ShardRoute> shards = new ArrayList<>();
            for (ShardConfig shard : pool.shards()) {
                Optional<ShardRoute> before = previous == null ? Optional.empty()
                        : previous.pool(pool.name()).filter(p -> p.shards().size() > shard.index())
                        .map(p -> p.shards().get(shard.index()));
                shards.add(shard(shard, health, health.shard(pool.name(), shard.index()), before));
            }
            pools.put(pool.name(), new PoolRoute(pool.name(), pool.poolMode(), pool.defaultRole(),
                    pool.loadBalancingMode(), pool.queryParserEnabled() && pool.queryParserReadWriteSplitting(),
                    pool.primaryReadsEnabled(), users, shards));
        }
        return new RoutingTable(version, epoch.epoch(), health.version(), now, pools, epoch.config());
    }

    private static ShardRoute shard(ShardConfig shard, HealthSnapshot health, Optional<ShardHealth> probed,
                                    Optional<ShardRoute> before) {
        List<ServerConfig> servers = shard.servers();
        int primary = probed.flatMap(ShardHealth::primary).map(k -> indexOf(servers, k)).filter(i -> i >= 0)
                .orElseGet(() -> before.map(b -> indexOf(servers, b.servers().get(b.primary()).server()))
                        .filter(i -> i >= 0)
                        .orElseGet(() -> configuredPrimary(servers)));
        List<ServerRoute> routes = new ArrayList<>();
        for (int i = 0; i < servers.size(); i++) {
            ServerConfig s = servers.get(i);
            ServerKey key = ServerKey.of(s);
            boolean readable;
            if (i == primary) {
                readable = false;
            } else if (health.version() == 0) {
                readable = true;
            } else {
                readable = probed.map(h -> h.readReplicas().contains(key)).orElse(false);
            }
            routes.add(new ServerRoute(key, s.role(), s.weight(), readable));
        }
        ServerKey primaryKey = routes.get(primary).server();
        boolean primaryReachable = probed.map(h -> h.primary().map(primaryKey::equals).orElse(false)
                && h.primaryReachable()).orElse(true);
        return new ShardRoute(shard.index(), shard.database(), routes, primary, primaryReachable);
    }

    private static int configuredPrimary(List<ServerConfig> servers) {
        for (int i = 0; i < servers.size(); i++) {
            if (servers.get(i).role() == ServerRole.PRIMARY) {
                return i;
            }
        }
        return 0;
    }

    private static int indexOf(List<ServerConfig> servers, ServerKey key) {
        for (int i = 0; i < servers.size(); i++) {
            if (ServerKey.of(servers.get(i)).equals(key)) {
                return i;
            }
        }
        return -1;
    }
}
