package dev.pgfleet.router;

import dev.pgfleet.shared.config.ConfigEpoch;
import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.shared.health.HealthSnapshot;
import dev.pgfleet.shared.health.ServerKey;
import dev.pgfleet.shared.health.ShardHealth;
import dev.pgfleet.shared.routing.RoutingTable;
import dev.pgfleet.shared.routing.ServerRoute;
import dev.pgfleet.shared.routing.ShardRoute;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tables from configurations and synthetic health snapshots: what the router publishes. */
class RoutingTablesTest {

    static final ServerKey A = new ServerKey("h", 5001);
    static final ServerKey B = new ServerKey("h", 5002);
    static final ServerKey C = new ServerKey("h", 5003);

    static ConfigEpoch epoch(long n, int poolSize, String servers) {
        return new ConfigEpoch(n, ConfigLoader.parse("""
                [general]
                admin_username = "admin"
                admin_password = "admin"
                healthcheck_delay = 7000
                [pools.app]
                pool_mode = "transaction"
                query_parser_enabled = true
                query_parser_read_write_splitting = true
                [pools.app.users.0]
                username = "u"
                password = "p"
                server_username = "s"
                pool_size = %d
                idle_timeout = 5000
                [pools.app.shards.0]
                database = "appdb"
                servers = [%s]
                """.formatted(poolSize, servers), "t.toml"), Instant.EPOCH);
    }

    static HealthSnapshot health(long version, ServerKey primary, ServerKey... readable) {
        ShardHealth shard = new ShardHealth("app", 0, "appdb", Optional.of(primary), true, List.of(),
                List.of(readable), List.of(), List.of());
        return new HealthSnapshot(version, Instant.EPOCH, Map.of("app", List.of(shard)), Map.of());
    }

    static ShardRoute shard(RoutingTable t) {
        return t.pool("app").orElseThrow().shards().get(0);
    }

    static boolean readable(RoutingTable t, ServerKey key) {
        return shard(t).servers().stream().anyMatch(s -> s.server().equals(key) && s.readable());
    }

    @Test
    void withoutHealthTheConfigurationDecides() {
        RoutingTable t = RoutingTables.build(1, epoch(1, 5, "[\"h\", 5001, \"replica\"], [\"h\", 5002, \"primary\"]"),
                HealthSnapshot.EMPTY, null, Instant.EPOCH);
        assertEquals(1, shard(t).primary(), "the configured primary");
        assertTrue(readable(t, A));
        assertFalse(readable(t, B), "the primary is never among the readable");
        var user = t.pool("app").orElseThrow().users().get(0);
        assertEquals("s", user.serverUsername());
        assertEquals(5, user.settings().poolSize());
        assertEquals(5000, user.settings().idleTimeout().toMillis());
        assertEquals(7000, user.settings().healthcheckDelay().toMillis());
        assertTrue(t.pool("app").orElseThrow().splitting());
        assertEquals("appdb", shard(t).database());
    }

    @Test
    void aServerAddedByAReloadIsReadableOnlyOnceProbed() {
        String two = "[\"h\", 5001, \"primary\"], [\"h\", 5002, \"replica\"]";
        String three = two + ", [\"h\", 5003, \"replica\"]";
        HealthSnapshot probed = health(4, A, B);
        RoutingTable t1 = RoutingTables.build(1, epoch(1, 5, two), probed, null, Instant.EPOCH);
        RoutingTable t2 = RoutingTables.build(2, epoch(2, 5, three), probed, t1, Instant.EPOCH);
        assertTrue(readable(t2, B));
        assertFalse(readable(t2, C), "not in any snapshot yet");
        RoutingTable t3 = RoutingTables.build(3, epoch(2, 5, three), health(5, A, B, C), t2, Instant.EPOCH);
        assertTrue(readable(t3, C));
        assertFalse(t3.sameRoutes(t2));
        assertTrue(RoutingTables.build(4, epoch(2, 5, three), health(6, A, B, C), t3, Instant.EPOCH).sameRoutes(t3),
                "a snapshot that changes no route makes the same routes (the router publishes nothing)");
    }

    @Test
    void thePrimaryFollowsTheSnapshotAndIsKeptWhenItNamesNone() {
        String servers = "[\"h\", 5001, \"auto\"], [\"h\", 5002, \"auto\"], [\"h\", 5003, \"auto\"]";
        RoutingTable t1 = RoutingTables.build(1, epoch(1, 5, servers), health(1, B, A, C), null, Instant.EPOCH);
        assertEquals(B, shard(t1).servers().get(shard(t1).primary()).server());
        HealthSnapshot silent = new HealthSnapshot(2, Instant.EPOCH, Map.of(), Map.of());
        RoutingTable t2 = RoutingTables.build(2, epoch(2, 6, servers), silent, t1, Instant.EPOCH);
        assertEquals(B, shard(t2).servers().get(shard(t2).primary()).server(), "kept from the last table");
        assertFalse(shard(t2).servers().stream().anyMatch(ServerRoute::readable),
                "health runs but has not probed the pool: no replica reads");
        RoutingTable t3 = RoutingTables.build(3, epoch(3, 6, "[\"h\", 5001, \"auto\"], [\"h\", 5003, \"auto\"]"),
                silent, t2, Instant.EPOCH);
        assertEquals(0, shard(t3).primary(), "the last primary is gone from the shard: the first server");
        assertEquals(2, shard(t3).servers().size());
    }
}
