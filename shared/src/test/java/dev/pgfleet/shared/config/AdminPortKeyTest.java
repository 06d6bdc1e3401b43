package dev.pgfleet.shared.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code admin_port}: PgFleet's listener for the admin console alone (0 = none). */
class AdminPortKeyTest {

    private static final String POOL = "pool_size = 5";
    private static final String SHARD = "servers = [[\"127.0.0.1\", 5432, \"primary\"]]";

    @Test
    void offByDefault() {
        assertEquals(0, ConfigLoader.parse(DefaultsTest.MINIMAL, "minimal.toml").general().adminPort());
    }

    @Test
    void read() {
        PgFleetConfig c = ConfigLoader.parse(ConfigErrorsTest.valid("admin_port = 6433", "", POOL, SHARD), "t.toml");
        assertEquals(6433, c.general().adminPort());
    }

    @Test
    void notThePortItselfNorOutOfRange() {
        ConfigException same = assertThrows(ConfigException.class, () -> ConfigLoader.parse(
                ConfigErrorsTest.valid("port = 6432\nadmin_port = 6432", "", POOL, SHARD), "t.toml"));
        assertTrue(same.getMessage().contains("general.admin_port: must differ from port (6432)"), same.getMessage());
        ConfigException range = assertThrows(ConfigException.class, () -> ConfigLoader.parse(
                ConfigErrorsTest.valid("admin_port = 70000", "", POOL, SHARD), "t.toml"));
        assertTrue(range.getMessage().contains("general.admin_port"), range.getMessage());
    }
}
