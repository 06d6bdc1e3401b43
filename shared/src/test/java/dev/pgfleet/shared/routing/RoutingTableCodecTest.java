package dev.pgfleet.shared.routing;

import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.shared.config.DefaultRole;
import dev.pgfleet.shared.config.LoadBalancingMode;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.shared.config.PoolMode;
import dev.pgfleet.shared.config.ServerRole;
import dev.pgfleet.shared.health.ServerKey;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RoutingTableCodecTest {

    static final String SECRET = "s3cret-never-on-the-wire";

    static RoutingTable sample() {
        PgFleetConfig config = ConfigLoader.parse("""
                [general]
                admin_username = "admin"
                admin_password = "admin"
                [pools.app.users.0]
                username = "u"
                password = "%s"
                pool_size = 5
                [pools.app.shards.0]
                database = "app"
                servers = [["10.0.0.1", 5432, "primary"]]
                """.formatted(SECRET), "t.toml");
        ShardRoute shard = new ShardRoute(0, "app", List.of(
                new ServerRoute(new ServerKey("10.0.0.1", 5432), ServerRole.AUTO, 1, false),
                new ServerRoute(new ServerKey("10.0.0.2", 5433), ServerRole.REPLICA, 3, true)), 0, true);
        UserRoute user = new UserRoute("u", "server_u", PoolMode.TRANSACTION, new PoolSettings(5, 1,
                Duration.ofSeconds(600), Duration.ofHours(1), Duration.ofSeconds(30), Duration.ofSeconds(1)));
        PoolRoute pool = new PoolRoute("app", PoolMode.TRANSACTION, DefaultRole.ANY,
                LoadBalancingMode.LEAST_OUTSTANDING_CONNECTIONS, true, false, List.of(user), List.of(shard));
        return new RoutingTable(4, 2, 17, Instant.parse("2026-01-01T00:00:00.123Z"), Map.of("app", pool), config);
    }

    @Test
    void wireRoundTripWithoutTheConfiguration() {
        RoutingTableCodec codec = new RoutingTableCodec();
        RoutingTable t = sample();
        Buffer wire = Buffer.buffer("xx"); // the event bus writes after its own header
        codec.encodeToWire(wire, t);
        assertFalse(wire.toString().contains(SECRET), "no password on the wire");
        RoutingTable back = codec.decodeFromWire(2, wire);
        assertNull(back.config());
        assertEquals(new RoutingTable(4, 2, 17, t.builtAt(), t.pools(), null), back);
        assertEquals("pgfleet.router.table.v1", codec.name());
        assertEquals(-1, codec.systemCodecID());
    }

    @Test
    void localDeliveryKeepsTheInstance() {
        RoutingTable t = sample();
        assertSame(t, new RoutingTableCodec().transform(t));
    }

    @Test
    void unknownFormatFailsLoudly() {
        Buffer wire = Buffer.buffer().appendByte((byte) 2).appendInt(2).appendString("{}");
        assertThrows(IllegalStateException.class, () -> new RoutingTableCodec().decodeFromWire(0, wire));
    }

    @Test
    void toStringHasNoPassword() {
        assertFalse(sample().toString().contains(SECRET));
    }
}
