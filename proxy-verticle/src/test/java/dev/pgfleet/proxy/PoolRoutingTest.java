package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.health.LocalBanRegistry;
import dev.pgfleet.router.Route;
import dev.pgfleet.router.RoutingTables;
import dev.pgfleet.shared.config.ConfigEpoch;
import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.shared.config.ServerTlsMode;
import dev.pgfleet.shared.health.HealthSnapshot;
import dev.pgfleet.shared.health.ServerKey;
import dev.pgfleet.shared.health.ShardHealth;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.SqlState;
import dev.pgfleet.shared.routing.RoutingTable;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Routing decisions from synthetic health snapshots (what the health verticle publishes), without
 * servers: nothing here connects. The same decisions run against real servers in
 * ReplicaHealthTest and FailoverThroughProxyTest.
 */
class PoolRoutingTest {

    final LocalBanRegistry bans = new LocalBanRegistry();
    final ServerPool a = pool(5001);
    final ServerPool b = pool(5002);
    final ServerPool c = pool(5003);
    final PoolRouting routing = new PoolRouting("app", bans);
    final ConfigEpoch epoch = epoch("any");
    RoutingTable table;
    long version;

    static ServerPool pool(int port) {
        return new ServerPool("app@" + port, new ServerTarget("h", port, "app", "u", "p", ServerTlsMode.DISABLE), 5, 2,
            Duration.ZERO, Duration.ZERO, Duration.ofSeconds(30), Duration.ofSeconds(1));
    }

    /** Servers h:5001 (primary), h:5002, h:5003, with an optional fourth element (weights) per server. */
    static ConfigEpoch epoch(String defaultRole, String... weights) {
        String w1 = weights.length > 1 ? ", " + weights[0] : "";
        String w2 = weights.length > 1 ? ", " + weights[1] : "";
        String w3 = weights.length > 1 ? ", " + weights[2] : "";
        return new ConfigEpoch(1, ConfigLoader.parse("""
            [general]
            admin_username = "admin"
            admin_password = "admin"
            [pools.app]
            pool_mode = "transaction"
            default_role = "%s"
            query_parser_enabled = true
            query_parser_read_write_splitting = true
            load_balancing_mode = "round_robin"
            [pools.app.users.0]
            username = "u"
            password = "p"
            pool_size = 5
            min_pool_size = 2
            [pools.app.shards.0]
            database = "app"
            servers = [["h", 5001, "primary"%s], ["h", 5002, "replica"%s], ["h", 5003, "replica"%s]]
            """.formatted(defaultRole, w1, w2, w3), "routing-test.toml"), Instant.EPOCH);
    }

    PoolRoutingTest() {
        apply(HealthSnapshot.EMPTY);
    }

    /** What the router makes of a snapshot, applied as ProxyRuntime applies a table. */
    void apply(HealthSnapshot snapshot) {
        apply(routing, epoch, snapshot);
    }

    void apply(PoolRouting r, ConfigEpoch e, HealthSnapshot snapshot) {
        table = RoutingTables.build(table == null ? 1 : table.version() + 1, e, snapshot, table, Instant.EPOCH);
        r.update(table.pool("app").orElseThrow(), List.of(a, b, c), Duration.ofSeconds(60));
    }

    HealthSnapshot snapshot(ServerPool primary, boolean primaryUp, ServerPool... readReplicas) {
        List<ServerKey> readers = java.util.Arrays.stream(readReplicas).map(ServerPool::server).toList();
        ShardHealth shard = new ShardHealth("app", 0, "app", Optional.of(primary.server()), primaryUp, List.of(), readers,
            List.of(), List.of());
        return new HealthSnapshot(++version, Instant.EPOCH, Map.of("app", List.of(shard)), Map.of());
    }

    Set<ServerPool> reads(int n) {
        Set<ServerPool> seen = new HashSet<>();
        for (int i = 0; i < n; i++) {
            seen.add(routing.pick(Route.REPLICA, false));
        }
        return seen;
    }

    @Test
    void readsFollowTheServersWeights() {
        PoolRouting weighted = new PoolRouting("app", bans);
        table = null;
        apply(weighted, epoch("any", "1", "3", "1"), HealthSnapshot.EMPTY);
        Map<ServerPool, Integer> counts = new java.util.HashMap<>();
        for (int i = 0; i < 400; i++) {
            counts.merge(weighted.pick(Route.REPLICA, false), 1, Integer::sum);
        }
        assertEquals(Map.of(b, 300, c, 100), counts, "round robin gives each replica exactly its weight per cycle");
    }

    @Test
    void byConfigurationUntilTheFirstSnapshot() {
        assertSame(a, routing.view.primary);
        assertSame(a, routing.pick(Route.PRIMARY, false));
        assertEquals(Set.of(b, c), reads(10));
        assertTrue(a.belowMinimum(), "min_pool_size holds for the primary's pool");
        assertFalse(b.belowMinimum());
    }

    @Test
    void readsSkipWhatTheSnapshotLeavesOutAndWhatIsBannedNow() {
        apply(snapshot(a, true, c));   // b lagging or down
        assertEquals(Set.of(c), reads(10));
        bans.ban(c.server(), Duration.ofSeconds(60), "connect failed");
        assertEquals(Set.of(a), reads(10), "no replica fit: reads go to the primary");
        bans.unban(c.server());
        assertEquals(Set.of(c), reads(10));
        assertEquals(Set.of(a, c), new HashSet<>(List.of(routing.pick(Route.REPLICA, true), routing.pick(Route.REPLICA, true))),
            "primary reads: the primary takes its turn");
    }

    @Test
    void writesFollowThePrimaryTheSnapshotNames() {
        apply(snapshot(b, true, c));
        assertSame(b, routing.view.primary);
        assertSame(b, routing.pick(Route.PRIMARY, false));
        assertEquals(Set.of(c), reads(10), "the old primary is not among the fit replicas");
        assertTrue(b.belowMinimum());
        assertFalse(a.belowMinimum(), "min_pool_size moved with the primary");

        apply(new HealthSnapshot(++version, Instant.EPOCH, Map.of("other", List.of()), Map.of()));
        assertSame(b, routing.view.primary, "a snapshot without this pool keeps the primary of the last table");
        assertEquals(Set.of(b), reads(10), "and, not probed, no replica reads: the primary takes them");

        apply(snapshot(b, false, c));
        assertSame(b, routing.pick(Route.PRIMARY, false), "an unreachable primary still takes the writes");
        assertNull(routing.serverFailed(b, new PgException(SqlState.CONNECTION_FAILURE, "refused")));
        assertFalse(bans.isBanned(b.server()), "the primary is never banned");
    }

    @Test
    void aFailedReplicaIsBannedAndTheCallerSentElsewhere() {
        apply(snapshot(a, true, b, c));
        assertSame(c, routing.serverFailed(b, new PgException(SqlState.CONNECTION_FAILURE, "refused")));
        assertTrue(bans.isBanned(b.server()));
        assertSame(a, routing.serverFailed(c, new PgException(SqlState.CANNOT_CONNECT_NOW, "shutting down")),
            "no replica left: the primary");
        bans.clear();
        assertNull(routing.serverFailed(b, new PgException(SqlState.INVALID_PASSWORD, "password authentication failed")),
            "a refused login is the configuration's fault: no ban");
        assertFalse(bans.isBanned(b.server()));
    }

    @Test
    void sessionModeBindsByDefaultRole() {
        PoolRouting replicaRole = new PoolRouting("app", bans);
        table = null;
        apply(replicaRole, epoch("replica"), HealthSnapshot.EMPTY);
        assertTrue(Set.of(b, c).contains(replicaRole.forSession()));
        assertSame(a, routing.forSession(), "any: the primary");
    }
}
