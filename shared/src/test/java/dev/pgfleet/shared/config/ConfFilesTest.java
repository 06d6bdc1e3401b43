package dev.pgfleet.shared.config;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The files shipped in conf/ parse, and mean what their comments say. */
class ConfFilesTest {

    static final Path CONF = Path.of(System.getProperty("user.dir")).resolve("../conf").normalize();

    static PgFleetConfig parseConf(String name) throws IOException {
        return ConfigLoader.parse(Files.readString(CONF.resolve(name)), "conf/" + name);
    }

    @Test
    void pgfleetExample() throws IOException {
        PgFleetConfig c = parseConf("pgfleet.toml");
        assertEquals(List.of(), c.warnings(), "the documented example has no unknown keys");
        assertEquals(6432, c.general().port());
        assertEquals(AuthType.SCRAM_SHA_256, c.general().authType());
        assertEquals(ServerTlsMode.DISABLE, c.general().serverTlsMode());
        assertEquals(64 * 1024 * 1024, c.general().maxMessageSize());
        assertEquals("DISCARD ALL", c.general().serverResetQuery());

        PoolConfig app = c.pool("app").orElseThrow();
        assertEquals(PoolMode.TRANSACTION, app.poolMode());
        assertEquals(LoadBalancingMode.ROUND_ROBIN, app.loadBalancingMode());
        assertEquals(1, app.shards().size());
        ShardConfig shard = app.shards().get(0);
        assertEquals("app", shard.database());
        assertEquals(List.of(new ServerConfig("127.0.0.1", 5433, ServerRole.PRIMARY),
                new ServerConfig("127.0.0.1", 5434, ServerRole.REPLICA),
                new ServerConfig("127.0.0.1", 5435, ServerRole.REPLICA)), shard.servers());
        UserConfig user = app.user("app_user").orElseThrow();
        assertEquals(AuthType.SCRAM_SHA_256, user.authType());
        assertEquals(20, user.poolSize());
        assertEquals("app_user", user.serverUsername(), "server_username falls back to username");
        assertEquals(Duration.ofMillis(30_000), user.idleTimeout(), "inherited from [general]");
        assertFalse(user.toString().contains("app_password"), "passwords never printed");
    }

    @Test
    void pgcatOwnExampleParsesAndWarnsAboutItsTypo() throws IOException {
        PgFleetConfig c = parseConf("pgcat.toml");
        General g = c.general();
        assertEquals("0.0.0.0", g.host());
        assertEquals(6432, g.port());
        assertEquals(Duration.ofMillis(5_000), g.connectTimeout());
        assertEquals(Duration.ofMillis(86_400_000), g.serverLifetime());
        assertEquals(Duration.ofSeconds(60), g.banTime());
        assertEquals(Duration.ofMillis(15_000), g.autoreload().orElseThrow());
        assertEquals(5, g.workerThreads());
        assertEquals(ServerTlsMode.DISABLE, g.serverTlsMode());
        assertTrue(g.enablePrometheusExporter());
        assertEquals("admin_user", g.adminUsername());
        assertFalse(g.toString().contains("admin_pass"), "admin password never printed");

        assertEquals(List.of("sharded_db", "simple_db"), List.copyOf(c.pools().keySet()));
        PoolConfig sharded = c.pool("sharded_db").orElseThrow();
        assertEquals(PoolMode.TRANSACTION, sharded.poolMode());
        assertEquals(DefaultRole.ANY, sharded.defaultRole());
        assertEquals(LoadBalancingMode.RANDOM, sharded.loadBalancingMode());
        assertTrue(sharded.queryParserEnabled());
        assertTrue(sharded.queryParserReadWriteSplitting());
        assertEquals(500, sharded.preparedStatementsCacheSize());
        assertEquals(Duration.ofMillis(40_000), sharded.idleTimeout(), "pool overrides general");
        assertEquals(Duration.ofMillis(3_000), sharded.connectTimeout());
        assertTrue(sharded.plugins().containsKey("prewarmer"), "plugins kept unparsed");
        assertEquals(3, sharded.shards().size());
        for (int i = 0; i < 3; i++) {
            assertEquals(i, sharded.shards().get(i).index());
            assertEquals("shard" + i, sharded.shards().get(i).database());
            assertEquals(List.of(new ServerConfig("127.0.0.1", 5432, ServerRole.PRIMARY),
                    new ServerConfig("localhost", 5432, ServerRole.REPLICA)), sharded.shards().get(i).servers());
        }
        assertEquals(List.of("sharding_user", "other_user"),
                sharded.users().stream().map(UserConfig::username).toList());
        UserConfig other = sharded.user("other_user").orElseThrow();
        assertEquals(21, other.poolSize());
        assertEquals(Duration.ofMillis(15_000), other.statementTimeout());
        assertEquals(Duration.ofMillis(1_000), other.idleTimeout(), "user overrides pool");
        assertEquals(Duration.ofMillis(40_000), sharded.user("sharding_user").orElseThrow().idleTimeout());

        PoolConfig simple = c.pool("simple_db").orElseThrow();
        assertEquals(PoolMode.SESSION, simple.poolMode());
        assertEquals(DefaultRole.PRIMARY, simple.defaultRole());
        UserConfig simpleUser = simple.users().get(0);
        assertEquals(3, simpleUser.minPoolSize());
        assertEquals(Duration.ofMillis(60_000), simpleUser.serverLifetime());
        assertEquals(PoolMode.SESSION, simpleUser.poolMode(), "inherited from the pool");
        assertEquals("some_db", simple.shards().get(0).database());

        // [pool.sharded_db.plugins] in PgCat's own file is a typo for "pools": warned, not fatal.
        assertTrue(c.warnings().stream().anyMatch(w ->
                w.startsWith("conf/pgcat.toml: pool: unknown key") && w.contains("did you mean 'pools'")),
                c.warnings()::toString);
        assertTrue(c.warnings().stream().anyMatch(w -> w.startsWith("conf/pgcat.toml: plugins: ")));
    }

    @Test
    void demo() throws IOException {
        PgFleetConfig c = parseConf("demo.toml");
        assertEquals(List.of(), c.warnings());
        assertEquals("127.0.0.1", c.general().host());
        assertEquals(6432, c.general().port());
        assertEquals("admin", c.general().adminUsername());
        assertEquals("admin", c.general().adminPassword());

        PoolConfig demo = c.pool("demo").orElseThrow();
        assertEquals(PoolMode.TRANSACTION, demo.poolMode());
        UserConfig user = demo.user("demo").orElseThrow();
        assertEquals("demo", user.password());
        assertEquals(20, user.poolSize());
        ShardConfig shard = demo.shards().get(0);
        assertEquals("demo", shard.database());
        assertEquals(new ServerConfig("127.0.0.1", 15432, ServerRole.PRIMARY), shard.primary().orElseThrow());
        assertEquals(List.of(new ServerConfig("127.0.0.1", 15433, ServerRole.REPLICA)), shard.replicas());

        PoolConfig sharded = c.pool("sharded").orElseThrow();
        assertEquals(2, sharded.shards().size());
        assertEquals(15434, sharded.shards().get(0).servers().get(0).port());
        assertEquals(15435, sharded.shards().get(1).servers().get(0).port());
        assertTrue(sharded.shards().stream().allMatch(s -> s.database().equals("demo")));
    }
}
