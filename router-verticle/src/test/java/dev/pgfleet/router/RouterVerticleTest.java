package dev.pgfleet.router;

import dev.pgfleet.shared.config.ConfigBus;
import dev.pgfleet.shared.config.ConfigEpoch;
import dev.pgfleet.shared.health.HealthBus;
import dev.pgfleet.shared.health.HealthSnapshot;
import dev.pgfleet.shared.health.HealthSnapshotCodec;
import dev.pgfleet.shared.routing.RouterBus;
import dev.pgfleet.shared.routing.RoutingTable;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.pgfleet.router.RoutingTablesTest.A;
import static dev.pgfleet.router.RoutingTablesTest.B;
import static dev.pgfleet.router.RoutingTablesTest.epoch;
import static dev.pgfleet.router.RoutingTablesTest.health;
import static dev.pgfleet.router.RoutingTablesTest.readable;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The router on a real event bus, fed epochs and snapshots as the config owner and the health
 * verticle publish them: a table per epoch, one per snapshot that changes routing, none for a
 * snapshot that does not.
 */
class RouterVerticleTest {

    static final String SERVERS = "[\"h\", 5001, \"primary\"], [\"h\", 5002, \"replica\"]";
    final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() {
        vertx.close().await();
    }

    @Test
    void aTablePerEpochAndPerSnapshotThatChangesRouting() {
        List<RoutingTable> published = new CopyOnWriteArrayList<>();
        vertx.eventBus().<RoutingTable>localConsumer(RouterBus.TABLE, m -> published.add(m.body())).completion().await();
        RouterVerticle router = new RouterVerticle(epoch(1, 5, SERVERS).config());
        vertx.deployVerticle(router).await();
        assertEquals(1, router.current().version());
        assertTrue(readable(router.current(), B), "no health verticle: by the configuration");
        assertSame(router.current(), vertx.eventBus().request(RouterBus.CURRENT, null).await().body());

        HealthSnapshotCodec.register(vertx.eventBus());
        ConfigBus.register(vertx.eventBus());
        vertx.eventBus().publish(HealthBus.SNAPSHOTS, health(1, A));   // the replica is down
        vertx.eventBus().publish(HealthBus.SNAPSHOTS, health(2, A));   // still down: no new routes
        vertx.eventBus().publish(HealthBus.SNAPSHOTS, health(3, A, B));   // back
        vertx.eventBus().publish(ConfigBus.APPLIED, new ConfigEpoch(2, epoch(2, 9, SERVERS).config(), Instant.now()));
        vertx.eventBus().publish(ConfigBus.APPLIED, new ConfigEpoch(2, epoch(2, 1, SERVERS).config(), Instant.now()));
        HealthSnapshot stale = health(2, A);
        vertx.eventBus().publish(HealthBus.SNAPSHOTS, stale);   // older than the one applied
        // A request after the publishes is answered after them (one context, in order).
        RoutingTable last = vertx.eventBus().<RoutingTable>request(RouterBus.CURRENT, null).await().body();

        assertEquals(List.of(1L, 2L, 3L, 4L), published.stream().map(RoutingTable::version).toList());
        assertEquals(List.of(0L, 1L, 3L, 3L), published.stream().map(RoutingTable::healthVersion).toList());
        assertFalse(readable(published.get(1), B));
        assertTrue(readable(published.get(2), B));
        assertEquals(2, last.configEpoch());
        assertEquals(9, last.pool("app").orElseThrow().users().get(0).settings().poolSize(),
                "a second epoch 2 is not newer");
        assertSame(last, published.get(3));
    }
}
