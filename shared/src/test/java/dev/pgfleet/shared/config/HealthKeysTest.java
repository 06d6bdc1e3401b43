package dev.pgfleet.shared.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The health keys PgFleet adds: {@code healthcheck_interval} ([general] only),
 * {@code max_replica_lag_bytes} and {@code max_replica_lag_ms} ([general], overridden per pool).
 */
class HealthKeysTest {

    @Test
    void defaults() {
        PgFleetConfig c = ConfigLoader.parse(DefaultsTest.MINIMAL, "minimal.toml");
        General g = c.general();
        assertEquals(Duration.ofMillis(1_000), g.healthcheckInterval());
        assertEquals(0, g.maxReplicaLagBytes(), "0 = no limit, as PgCat, which has no lag check");
        assertEquals(Duration.ZERO, g.maxReplicaLag());
        PoolConfig p = c.pool("db").orElseThrow();
        assertEquals(0, p.maxReplicaLagBytes());
        assertEquals(Duration.ZERO, p.maxReplicaLag());
        assertEquals(List.of(), c.warnings(), "no warning for keys left out");
    }

    @Test
    void poolInheritsGeneralAndOverridesIt() {
        String toml = ConfigErrorsTest.valid("""
                healthcheck_interval = 250
                max_replica_lag_bytes = 1048576
                max_replica_lag_ms = 5000
                """, "", "pool_size = 5", "servers = [[\"127.0.0.1\", 5432, \"primary\"]]")
                + """

                [pools.other]
                max_replica_lag_bytes = 0
                max_replica_lag_ms = 200

                [pools.other.users.0]
                username = "u"
                password = "p"
                pool_size = 1

                [pools.other.shards.0]
                database = "db"
                servers = [["127.0.0.1", 5432, "auto"]]
                """;
        PgFleetConfig c = ConfigLoader.parse(toml, "t.toml");
        assertEquals(List.of(), c.warnings());
        assertEquals(Duration.ofMillis(250), c.general().healthcheckInterval());
        PoolConfig app = c.pool("app").orElseThrow();
        assertEquals(1_048_576, app.maxReplicaLagBytes(), "inherited from [general]");
        assertEquals(Duration.ofMillis(5_000), app.maxReplicaLag());
        PoolConfig other = c.pool("other").orElseThrow();
        assertEquals(0, other.maxReplicaLagBytes(), "a pool can turn the limit off");
        assertEquals(Duration.ofMillis(200), other.maxReplicaLag());
    }

    @Test
    void badValuesNameTheKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(
                ConfigErrorsTest.valid("""
                        healthcheck_interval = 0
                        max_replica_lag_bytes = -1
                        max_replica_lag_ms = "5s"
                        """, "max_replica_lag_bytes = 1.5", "pool_size = 5",
                        "servers = [[\"127.0.0.1\", 5432, \"primary\"]]"), ConfigErrorsTest.FILE));
        List<String> errors = e.errors();
        assertTrue(errors.contains("conf/pgfleet.toml: general.healthcheck_interval: must be at least 1 (ms); "
                + "the probe cannot be turned off"), errors::toString);
        assertTrue(errors.contains("conf/pgfleet.toml: general.max_replica_lag_bytes: must be at least 0, got -1"),
                errors::toString);
        assertTrue(errors.contains("conf/pgfleet.toml: general.max_replica_lag_ms: expected an integer, "
                + "got a string \"5s\""), errors::toString);
        assertTrue(errors.contains("conf/pgfleet.toml: pools.app.max_replica_lag_bytes: expected an integer, "
                + "got a float 1.5"), errors::toString);
    }

    @Test
    void overridableFromTheEnvironment() {
        JsonObject merged = new JsonObject().put("general", new JsonObject())
                .put("PGFLEET_GENERAL_HEALTHCHECK_INTERVAL", "500")
                .put("pgfleet.general.max_replica_lag_ms", "2000")
                .put("PGFLEET_GENERAL_MAX_REPLICA_LAG_BYTES", "4096");
        JsonObject general = Overrides.apply(merged, "t.toml").getJsonObject("general");
        assertEquals(500L, general.getValue("healthcheck_interval"));
        assertEquals(2000L, general.getValue("max_replica_lag_ms"));
        assertEquals(4096L, general.getValue("max_replica_lag_bytes"));
    }

    @Test
    void documentedInTheExample() throws IOException {
        PgFleetConfig c = ConfFilesTest.parseConf("pgfleet.toml");
        assertEquals(Duration.ofMillis(1_000), c.general().healthcheckInterval());
        assertEquals(0, c.general().maxReplicaLagBytes());
        assertEquals(Duration.ZERO, c.general().maxReplicaLag());
    }

    @Test
    void copiesKeepEveryOtherComponent() {
        PgFleetConfig c = ConfigLoader.parse(DefaultsTest.MINIMAL, "minimal.toml");
        General g = c.general();
        General moved = g.withPort(7000);
        assertEquals(7000, moved.port());
        assertEquals(g.toString().replace("port=6432", "port=7000"), moved.toString());
        General fast = g.withHealth(Duration.ofMillis(100), Duration.ofMillis(50), Duration.ofSeconds(2));
        assertEquals(Duration.ofMillis(50), fast.healthcheckInterval());
        assertEquals(g.withHealth(g.healthcheckTimeout(), g.healthcheckInterval(), g.banTime()), g);

        PoolConfig p = c.pool("db").orElseThrow();
        assertEquals(p, p.withShards(p.shards()));
        assertEquals(p, p.withMaxReplicaLag(p.maxReplicaLagBytes(), p.maxReplicaLag()));
        PoolConfig limited = p.withMaxReplicaLag(10, Duration.ofMillis(20));
        assertEquals(10, limited.maxReplicaLagBytes());
        assertEquals(Duration.ofMillis(20), limited.maxReplicaLag());
        assertEquals(p.shards(), limited.shards());
    }
}
