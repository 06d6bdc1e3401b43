package dev.pgfleet.shared.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The "toml" format through vertx-config, and {@link ConfigLoader#load} with overrides. */
class VertxConfigTest {

    private Vertx vertx;

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
    }

    @AfterEach
    void stop() throws Exception {
        System.clearProperty("pgfleet.general.port");
        System.clearProperty("pgfleet.general.admin_password");
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void tomlFormatThroughConfigRetriever(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("servers.toml");
        Files.writeString(file, """
                title = "mixed"
                [shard]
                servers = [["127.0.0.1", 5432, "primary"], ["localhost", 5433, "replica"]]
                big = 9007199254740993
                """);
        ConfigRetriever retriever = ConfigRetriever.create(vertx, new ConfigRetrieverOptions().setScanPeriod(0)
                .addStore(new ConfigStoreOptions().setType("file").setFormat("toml")
                        .setConfig(new JsonObject().put("path", file.toString()))));
        try {
            JsonObject json = await(retriever.getConfig());
            assertEquals("mixed", json.getString("title"));
            JsonArray servers = json.getJsonObject("shard").getJsonArray("servers");
            assertEquals(new JsonArray().add("127.0.0.1").add(5432).add("primary"), servers.getJsonArray(0));
            assertEquals(5433, servers.getJsonArray(1).getInteger(1));
            assertEquals(9007199254740993L, json.getJsonObject("shard").getLong("big"));
        } finally {
            await(retriever.close());
        }
    }

    @Test
    void loadReadsConfFileThroughVertxConfig() throws Exception {
        PgFleetConfig c = await(ConfigLoader.load(vertx, ConfFilesTest.CONF.resolve("demo.toml")));
        assertEquals(6432, c.general().port());
        assertEquals(2, c.pool("sharded").orElseThrow().shards().size());
        // Re-callable: a second load reads the file afresh.
        PgFleetConfig again = await(ConfigLoader.load(vertx, ConfFilesTest.CONF.resolve("demo.toml")));
        assertEquals(c, again);
    }

    @Test
    void systemPropertiesOverrideGeneralScalars(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("pgfleet.toml");
        Files.writeString(file, DefaultsTest.MINIMAL);
        System.setProperty("pgfleet.general.port", "7000");
        System.setProperty("pgfleet.general.admin_password", "12345");
        PgFleetConfig c = await(ConfigLoader.load(vertx, file));
        assertEquals(7000, c.general().port());
        assertEquals("12345", c.general().adminPassword(), "digits stay a string for string keys");
        assertEquals(java.util.List.of(), c.warnings(), "override names are not unknown keys");
    }

    @Test
    void missingFileFailsWithConfigException(@TempDir Path dir) {
        Path file = dir.resolve("absent.toml");
        Exception e = assertThrows(Exception.class, () -> await(ConfigLoader.load(vertx, file)));
        ConfigException ce = assertInstanceOf(ConfigException.class, e.getCause());
        assertTrue(ce.errors().get(0).startsWith(file + ": cannot read"), ce::getMessage);
    }

    @Test
    void tomlSyntaxErrorNamesFileAndLine(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("broken.toml");
        Files.writeString(file, "[general]\nport = = 1\n");
        Exception e = assertThrows(Exception.class, () -> await(ConfigLoader.load(vertx, file)));
        ConfigException ce = assertInstanceOf(ConfigException.class, e.getCause());
        assertTrue(ce.errors().get(0).startsWith(file + ": line 2"), ce::getMessage);
    }

    @Test
    void validationErrorsFromLoadNameTheFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("bad.toml");
        Files.writeString(file, DefaultsTest.MINIMAL.replace("pool_size = 5", "pool_size = 0"));
        Exception e = assertThrows(Exception.class, () -> await(ConfigLoader.load(vertx, file)));
        ConfigException ce = assertInstanceOf(ConfigException.class, e.getCause());
        assertEquals(java.util.List.of(file + ": pools.db.users.0.pool_size: must be at least 1, got 0"), ce.errors());
        assertNotEquals(null, ce.getMessage());
    }
}
