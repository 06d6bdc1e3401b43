package dev.pgfleet.shared.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keys left out take PgCat's effective defaults: the serde defaults of PgCat's src/config.rs
 * (General::default_*, Pool::default_*), not the "default:" lines of CONFIG.md, which are the
 * example file's values. PgFleet's own departures are asserted separately.
 */
class DefaultsTest {

    static final String MINIMAL = """
            [general]
            admin_username = "admin"
            admin_password = "secret"

            [pools.db.users.0]
            username = "u"
            password = "p"
            pool_size = 5

            [pools.db.shards.0]
            database = "db"
            servers = [["127.0.0.1", 5432, "primary"]]
            """;

    @Test
    void generalDefaultsArePgCats() {
        General g = ConfigLoader.parse(MINIMAL, "minimal.toml").general();
        assertEquals("0.0.0.0", g.host());
        assertEquals(Duration.ofMillis(1_000), g.connectTimeout());
        assertEquals(Duration.ofMillis(600_000), g.idleTimeout());
        assertEquals(Duration.ofMillis(3_600_000), g.serverLifetime());
        assertEquals(Duration.ZERO, g.idleClientInTransactionTimeout());
        assertEquals(Duration.ofMillis(1_000), g.healthcheckTimeout());
        assertEquals(Duration.ofMillis(30_000), g.healthcheckDelay());
        assertEquals(Duration.ofMillis(60_000), g.shutdownTimeout());
        assertEquals(Duration.ofSeconds(60), g.banTime());
        assertEquals(0, g.workerThreads(), "unset: by the cores (dist)");
        assertEquals(Duration.ofSeconds(5), g.tcpKeepalivesIdle());
        assertEquals(5, g.tcpKeepalivesCount());
        assertEquals(Duration.ofSeconds(5), g.tcpKeepalivesInterval());
        assertEquals(Duration.ofMillis(10_000), g.tcpUserTimeout());
        assertEquals(Optional.empty(), g.tlsCertificate());
        assertEquals(Optional.empty(), g.tlsPrivateKey());
        assertFalse(g.clientTlsEnabled());
        assertEquals(ServerTlsMode.DISABLE, g.serverTlsMode(), "server_tls = false");
        assertFalse(g.enablePrometheusExporter());
        assertEquals(9930, g.prometheusExporterPort());
        assertFalse(g.logClientConnections());
        assertFalse(g.logClientDisconnections());
        assertEquals(Optional.empty(), g.autoreload());
        assertEquals(0, g.preparedStatementsCacheSize());
    }

    @Test
    void pgFleetDefaults() {
        General g = ConfigLoader.parse(MINIMAL, "minimal.toml").general();
        assertEquals(6432, g.port(), "PgCat's documented port; its code falls back to 5432");
        assertEquals(AuthType.SCRAM_SHA_256, g.authType());
        assertEquals(64 * 1024 * 1024, g.maxMessageSize());
        assertEquals(1_000, g.maxClientConn());
        assertEquals("DISCARD ALL", g.serverResetQuery());
        assertEquals(false, g.serverResetQueryAlways());
    }

    @Test
    void poolAndUserDefaultsArePgCats() {
        PgFleetConfig c = ConfigLoader.parse(MINIMAL, "minimal.toml");
        PoolConfig p = c.pool("db").orElseThrow();
        assertEquals(PoolMode.TRANSACTION, p.poolMode());
        assertEquals(DefaultRole.ANY, p.defaultRole());
        assertEquals(LoadBalancingMode.RANDOM, p.loadBalancingMode());
        assertFalse(p.queryParserEnabled());
        assertFalse(p.queryParserReadWriteSplitting());
        assertFalse(p.primaryReadsEnabled());
        assertEquals(ShardingFunction.PG_BIGINT_HASH, p.shardingFunction());
        assertEquals(Optional.empty(), p.automaticShardingKey());
        assertEquals(Optional.empty(), p.shardingKeyRegex());
        assertEquals(Optional.empty(), p.shardIdRegex());
        assertTrue(p.cleanupServerConnections());
        assertEquals(0, p.preparedStatementsCacheSize());
        assertEquals(Map.of(), p.plugins());
        assertEquals(c.general().connectTimeout(), p.connectTimeout());
        assertEquals(c.general().idleTimeout(), p.idleTimeout());
        assertEquals(c.general().serverLifetime(), p.serverLifetime());

        UserConfig u = p.users().get(0);
        assertEquals(0, u.minPoolSize());
        assertEquals(Duration.ZERO, u.statementTimeout());
        assertEquals(PoolMode.TRANSACTION, u.poolMode());
        assertEquals("u", u.serverUsername());
        assertEquals("p", u.serverPassword());
        assertEquals(AuthType.SCRAM_SHA_256, u.authType());
        assertEquals(p.serverLifetime(), u.serverLifetime());
        assertEquals(p.idleTimeout(), u.idleTimeout());
        assertEquals(p.connectTimeout(), u.connectTimeout());
        assertEquals(c.pool("nope"), Optional.empty());
        assertEquals(p.user("nope"), Optional.empty());
    }

    @Test
    void serverTlsModeDerivedFromPgCatBooleans() {
        assertEquals(ServerTlsMode.REQUIRE, tls("server_tls = true"));
        assertEquals(ServerTlsMode.VERIFY_FULL, tls("server_tls = true\nverify_server_certificate = true"));
        assertEquals(ServerTlsMode.DISABLE, tls("server_tls = false\nverify_server_certificate = true"));
        assertEquals(ServerTlsMode.PREFER, tls("server_tls_mode = \"prefer\""));
        PgFleetConfig both = ConfigLoader.parse(MINIMAL.replace("[general]",
                "[general]\nserver_tls = true\nserver_tls_mode = \"verify-full\""), "t.toml");
        assertEquals(ServerTlsMode.VERIFY_FULL, both.general().serverTlsMode());
        assertTrue(both.warnings().stream().anyMatch(w -> w.startsWith("t.toml: general.server_tls_mode: ")));
    }

    @Test
    void legacyPgCatSpellings() {
        assertEquals(Optional.empty(), general("autoreload = false").autoreload());
        assertEquals(Optional.of(Duration.ofMillis(15_000)), general("autoreload = true").autoreload());
        assertEquals(500, general("prepared_statements = true").preparedStatementsCacheSize());
        assertEquals(0, general("prepared_statements = false\nprepared_statements_cache_size = 100")
                .preparedStatementsCacheSize());
        PgFleetConfig c = ConfigLoader.parse(MINIMAL.replace("[pools.db.users.0]",
                "[pools.db]\nload_balancing_mode = \"LOC\"\n\n[pools.db.users.0]"), "t.toml");
        assertEquals(LoadBalancingMode.LEAST_OUTSTANDING_CONNECTIONS, c.pool("db").orElseThrow().loadBalancingMode());
        PgFleetConfig roles = ConfigLoader.parse(MINIMAL.replace("\"primary\"]]",
                "\"Primary\"], [\"h2\", 5432, \"auto\"]]"), "t.toml");
        assertEquals(ServerRole.PRIMARY, roles.pool("db").orElseThrow().shards().get(0).servers().get(0).role());
        assertEquals(ServerRole.AUTO, roles.pool("db").orElseThrow().shards().get(0).servers().get(1).role());
    }

    private static ServerTlsMode tls(String lines) {
        return general(lines).serverTlsMode();
    }

    private static General general(String lines) {
        return ConfigLoader.parse(MINIMAL.replace("[general]", "[general]\n" + lines), "t.toml").general();
    }
}
