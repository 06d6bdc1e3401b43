package dev.pgfleet.shared.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OverridesTest {

    @Test
    void environmentThenSystemPropertiesWin() {
        JsonObject merged = new JsonObject()
                .put("general", new JsonObject().put("port", 6432).put("host", "0.0.0.0"))
                .put("PGFLEET_GENERAL_PORT", "7000")
                .put("PGFLEET_GENERAL_LOG_CLIENT_CONNECTIONS", "true")
                .put("pgfleet.general.port", "7001");
        JsonObject out = Overrides.apply(merged, "t.toml");
        JsonObject general = out.getJsonObject("general");
        assertEquals(7001L, general.getValue("port"), "system property beats environment");
        assertEquals(Boolean.TRUE, general.getValue("log_client_connections"));
        assertEquals("0.0.0.0", general.getString("host"));
        assertFalse(out.containsKey("PGFLEET_GENERAL_PORT"), "override entries are consumed");
        assertFalse(out.containsKey("pgfleet.general.port"));
    }

    @Test
    void onlyPgFleetSystemPropertiesAreRead() {
        JsonObject props = Overrides.systemProperties(Map.of("pgfleet.general.port", "7000", "user.dir", "/x",
                "pgfleet.pools.app.pool_mode", "session"));
        assertEquals(new JsonObject().put("pgfleet.general.port", "7000"), props);
    }

    @Test
    void environmentNames() {
        assertTrue(Overrides.envNames().contains("PGFLEET_GENERAL_ADMIN_PASSWORD"));
        assertTrue(Overrides.envNames().contains("PGFLEET_GENERAL_PORT"));
    }
}
