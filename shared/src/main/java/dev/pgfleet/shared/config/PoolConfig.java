package dev.pgfleet.shared.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code [pools.<db>]}: one logical database clients connect to by name. Timeouts PgCat lets a
 * pool override are resolved against {@code [general]}.
 *
 * @param name                        what clients pass as {@code database} in the StartupMessage
 * @param maxReplicaLagBytes          {@code max_replica_lag_bytes}, resolved against {@code [general]};
 *                                    0 = no limit
 * @param maxReplicaLag               {@code max_replica_lag_ms}, resolved against {@code [general]};
 *                                    {@link Duration#ZERO} = no limit
 * @param preparedStatementsCacheSize 0 = prepared statement caching disabled (PgCat semantics)
 * @param plugins                     PgCat plugin settings, kept unparsed (PgFleet runs no plugins)
 * @param users                       in index order
 * @param shards                      in index order, {@code shards.get(i).index() == i}
 * @param defaultShard                {@code default_shard}: where a statement goes that names no shard, no
 *                                    key and no sharded table; empty: shard 0
 * @param shardedTables               {@code [[sharded_tables]]} as written, each (schema, name) once; the
 *                                    table of {@code automatic_sharding_key} first when it is not listed
 * @param crossShard                  omnisharded tables, cross-shard writes, two-phase commit, the memory limit
 */
public record PoolConfig(
        String name,
        PoolMode poolMode,
        DefaultRole defaultRole,
        LoadBalancingMode loadBalancingMode,
        boolean queryParserEnabled,
        boolean queryParserReadWriteSplitting,
        boolean primaryReadsEnabled,
        ShardingFunction shardingFunction,
        Optional<String> automaticShardingKey,
        Optional<String> shardingKeyRegex,
        Optional<String> shardIdRegex,
        Duration connectTimeout,
        Duration idleTimeout,
        Duration serverLifetime,
        long maxReplicaLagBytes,
        Duration maxReplicaLag,
        int preparedStatementsCacheSize,
        boolean cleanupServerConnections,
        Map<String, Object> plugins,
        List<UserConfig> users,
        List<ShardConfig> shards,
        Optional<DefaultShard> defaultShard,
        List<ShardedTable> shardedTables,
        CrossShard crossShard) {

    public PoolConfig {
        users = List.copyOf(users);
        shards = List.copyOf(shards);
        shardedTables = List.copyOf(shardedTables);
    }

    /** A copy with other shards (the demo points a file's pools at servers started on free ports). */
    public PoolConfig withShards(List<ShardConfig> shards) {
        return new PoolConfig(name, poolMode, defaultRole, loadBalancingMode, queryParserEnabled,
                queryParserReadWriteSplitting, primaryReadsEnabled, shardingFunction, automaticShardingKey,
                shardingKeyRegex, shardIdRegex, connectTimeout, idleTimeout, serverLifetime, maxReplicaLagBytes,
                maxReplicaLag, preparedStatementsCacheSize, cleanupServerConnections, plugins, users, shards,
                defaultShard, shardedTables, crossShard);
    }

    /** A copy with other replica lag limits (0 / {@link Duration#ZERO} = no limit). */
    public PoolConfig withMaxReplicaLag(long maxReplicaLagBytes, Duration maxReplicaLag) {
        return new PoolConfig(name, poolMode, defaultRole, loadBalancingMode, queryParserEnabled,
                queryParserReadWriteSplitting, primaryReadsEnabled, shardingFunction, automaticShardingKey,
                shardingKeyRegex, shardIdRegex, connectTimeout, idleTimeout, serverLifetime, maxReplicaLagBytes,
                maxReplicaLag, preparedStatementsCacheSize, cleanupServerConnections, plugins, users, shards,
                defaultShard, shardedTables, crossShard);
    }

    /** {@code two_phase_commit}: writes on several shards commit in two phases. */
    public boolean twoPhaseCommit() {
        return crossShard.twoPhaseCommit();
    }

    /** The user entry for a client login name. */
    public Optional<UserConfig> user(String username) {
        return users.stream().filter(u -> u.username().equals(username)).findFirst();
    }
}
