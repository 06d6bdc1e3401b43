package dev.pgfleet.health;

import dev.pgfleet.shared.config.ConfigBus;
import dev.pgfleet.shared.config.ConfigEpoch;
import dev.pgfleet.testkit.PgCluster;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestPostgres;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static dev.pgfleet.health.HealthFixture.key;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The health verticle follows the configuration epochs the config owner publishes. */
class ConfigEpochsTest {

    @Test
    void aNewEpochIsProbedAtOnceAndAnOldOneIgnored() {
        PgCluster cluster = TestPostgres.cluster();
        PgServer replica = cluster.replicas().get(0);
        try (HealthFixture f = new HealthFixture(HealthFixture.config(List.of(cluster.primary()), "auto", 60, "app"))) {
            assertEquals(1, f.shard("app").servers().size());
            ConfigBus.register(f.vertx.eventBus());
            f.vertx.eventBus().publish(ConfigBus.APPLIED, new ConfigEpoch(2,
                    HealthFixture.config(List.of(cluster.primary(), replica), "auto", 60, "app"), Instant.now()));
            f.await("the replica added by epoch 2 probed and readable", Duration.ofSeconds(5),
                    s -> s.shard("app", 0).orElseThrow().readReplicas().equals(List.of(key(replica))));

            // Epoch 2 again (a late duplicate) is not newer: nothing changes.
            f.vertx.eventBus().publish(ConfigBus.APPLIED, new ConfigEpoch(2,
                    HealthFixture.config(List.of(cluster.primary()), "auto", 60, "app"), Instant.now()));
            long version = f.current().version();
            f.await("two more rounds", Duration.ofSeconds(5), s -> s.version() >= version + 2);
            assertEquals(2, f.shard("app").servers().size());
        }
    }
}
