package dev.pgfleet.router;

import dev.pgfleet.shared.config.ConfigBus;
import dev.pgfleet.shared.config.ConfigEpoch;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.shared.health.HealthBus;
import dev.pgfleet.shared.health.HealthSnapshot;
import dev.pgfleet.shared.health.HealthSnapshotCodec;
import dev.pgfleet.shared.routing.RouterBus;
import dev.pgfleet.shared.routing.RoutingTable;
import dev.pgfleet.shared.routing.RoutingTableCodec;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Owns the routing table of one PgFleet instance: builds it ({@link RoutingTables}) from the
 * configuration in force and the newest health snapshot, and publishes each new one on
 * {@value RouterBus#TABLE}; a request to {@value RouterBus#CURRENT} is answered with the newest.
 *
 * <p>A new table, its version one more than the last, for every configuration epoch
 * ({@value ConfigBus#APPLIED}) and for every health snapshot ({@value HealthBus#SNAPSHOTS}) that
 * changes routing (a primary, the readable replicas, whether the primary answers); a snapshot that
 * changes nothing of that (most probe rounds) publishes nothing, so readers are not woken up every
 * healthcheck_interval. Everything it listens to is local: each instance routes by its own
 * configuration and health (whose bans are already the fleet's).
 *
 * <p>Deploy after the health verticle and before the proxy (dist does): {@link #start()} asks for
 * the newest snapshot and the configuration epoch in force (from whoever answers
 * {@value ConfigBus#CURRENT}, else the configuration given here, as epoch 1), and completes once
 * the first table is published.
 */
public final class RouterVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(RouterVerticle.class);

    private final Clock clock;
    // Written on this verticle's context only; current is read from any thread.
    private ConfigEpoch epoch;
    private HealthSnapshot health = HealthSnapshot.EMPTY;
    private volatile RoutingTable current;
    private final List<MessageConsumer<?>> consumers = new ArrayList<>();

    /** @param config the configuration PgFleet started with (epoch 1, unless a config verticle answers with another) */
    public RouterVerticle(PgFleetConfig config) {
        this(config, Clock.systemUTC());
    }

    public RouterVerticle(PgFleetConfig config, Clock clock) {
        this.epoch = new ConfigEpoch(1, Objects.requireNonNull(config, "config"), clock.instant());
        this.clock = clock;
    }

    @Override
    public Future<?> start() {
        ConfigBus.register(vertx.eventBus());
        HealthSnapshotCodec.register(vertx.eventBus());
        RoutingTableCodec.register(vertx.eventBus());
        MessageConsumer<ConfigEpoch> epochs = vertx.eventBus().localConsumer(ConfigBus.APPLIED, m -> epoch(m.body()));
        MessageConsumer<HealthSnapshot> snapshots = vertx.eventBus().localConsumer(HealthBus.SNAPSHOTS,
                m -> health(m.body()));
        MessageConsumer<Void> answers = vertx.eventBus().localConsumer(RouterBus.CURRENT, m -> m.reply(current));
        consumers.add(epochs);
        consumers.add(snapshots);
        consumers.add(answers);
        return Future.all(epochs.completion(), snapshots.completion(), answers.completion())
                .compose(v -> vertx.eventBus().<HealthSnapshot>request(HealthBus.CURRENT, null).map(Message::body)
                        .otherwise(HealthSnapshot.EMPTY))   // no health verticle: routing by the configuration
                .compose(snapshot -> vertx.eventBus().<ConfigEpoch>request(ConfigBus.CURRENT, null).map(Message::body)
                        .otherwise(epoch)
                        .map(e -> {
                            if (e.epoch() >= epoch.epoch()) {
                                epoch = e;
                            }
                            if (snapshot.version() > health.version()) {
                                health = snapshot;
                            }
                            publish(build());
                            return null;
                        }));
    }

    @Override
    public Future<?> stop() {
        List<Future<Void>> done = new ArrayList<>();
        consumers.forEach(c -> done.add(c.unregister()));
        return Future.join(done);
    }

    /** The newest table; null before {@link #start()} completes. Any thread. */
    public RoutingTable current() {
        return current;
    }

    private void epoch(ConfigEpoch e) {
        if (current == null || e.epoch() <= epoch.epoch()) {
            return;   // before start (start asks for the current one) or not newer
        }
        epoch = e;
        RoutingTable t = build();
        LOG.info("configuration epoch {}: routing table {} ({} pools)", e.epoch(), t.version(), t.pools().size());
        publish(t);
    }

    private void health(HealthSnapshot s) {
        if (s.version() <= health.version()) {
            return;
        }
        health = s;
        if (current == null) {
            return;
        }
        RoutingTable t = build();
        if (!t.sameRoutes(current)) {
            LOG.debug("health snapshot {}: routing table {}", s.version(), t.version());
            publish(t);
        }
    }

    private RoutingTable build() {
        long version = current == null ? 1 : current.version() + 1;
        return RoutingTables.build(version, epoch, health, current, Instant.now(clock));
    }

    private void publish(RoutingTable t) {
        current = t;
        vertx.eventBus().publish(RouterBus.TABLE, t);
    }
}
