package dev.pgfleet.dist;

import dev.pgfleet.shared.config.General;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.ShardConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Modified copies of the (immutable) configuration records, for the demo, which must point a
 * file's configuration at servers whose ports are only known once they run. A new component
 * in these records breaks compilation here: that is the point, nothing is dropped silently.
 */
final class ConfigEdits {

    private ConfigEdits() {
    }

    static PgFleetConfig withPort(PgFleetConfig c, int port) {
        General g = c.general();
        General moved = new General(g.host(), port, g.adminUsername(), g.adminPassword(), g.authType(),
                g.maxClientConn(), g.maxMessageSize(), g.connectTimeout(), g.idleTimeout(), g.serverLifetime(),
                g.idleClientInTransactionTimeout(), g.healthcheckTimeout(), g.healthcheckDelay(),
                g.shutdownTimeout(), g.banTime(), g.workerThreads(), g.tcpKeepalivesIdle(),
                g.tcpKeepalivesCount(), g.tcpKeepalivesInterval(), g.tcpUserTimeout(), g.tlsCertificate(),
                g.tlsPrivateKey(), g.serverTlsMode(), g.serverResetQuery(), g.enablePrometheusExporter(),
                g.prometheusExporterPort(), g.logClientConnections(), g.logClientDisconnections(),
                g.autoreload(), g.preparedStatementsCacheSize());
        return new PgFleetConfig(moved, c.pools(), c.source(), c.warnings());
    }

    /** Every pool's shards replaced by {@code edit(pool)}. */
    static PgFleetConfig withShards(PgFleetConfig c, Function<PoolConfig, List<ShardConfig>> edit) {
        Map<String, PoolConfig> pools = new LinkedHashMap<>();
        c.pools().forEach((name, p) -> pools.put(name, new PoolConfig(p.name(), p.poolMode(), p.defaultRole(),
                p.loadBalancingMode(), p.queryParserEnabled(), p.queryParserReadWriteSplitting(),
                p.primaryReadsEnabled(), p.shardingFunction(), p.automaticShardingKey(), p.shardingKeyRegex(),
                p.shardIdRegex(), p.connectTimeout(), p.idleTimeout(), p.serverLifetime(),
                p.preparedStatementsCacheSize(), p.cleanupServerConnections(), p.plugins(), p.users(),
                edit.apply(p))));
        return new PgFleetConfig(c.general(), pools, c.source(), c.warnings());
    }
}
