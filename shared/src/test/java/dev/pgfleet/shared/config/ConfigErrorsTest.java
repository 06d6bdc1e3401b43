package dev.pgfleet.shared.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every error names the file and the full key, and all errors come out together. */
class ConfigErrorsTest {

    static final String FILE = "conf/pgfleet.toml";

    static String valid(String general, String pool, String user, String shard) {
        return """
                [general]
                admin_username = "admin"
                admin_password = "secret"
                %s

                [pools.app]
                %s

                [pools.app.users.0]
                username = "app"
                password = "pw"
                %s

                [pools.app.shards.0]
                database = "app"
                %s
                """.formatted(general, pool, user, shard);
    }

    static String withUser(String userLines) {
        return valid("", "", userLines, "servers = [[\"127.0.0.1\", 5432, \"primary\"]]");
    }

    static String withGeneral(String lines) {
        return valid(lines, "", "pool_size = 5", "servers = [[\"127.0.0.1\", 5432, \"primary\"]]");
    }

    static String withPool(String lines) {
        return valid("", lines, "pool_size = 5", "servers = [[\"127.0.0.1\", 5432, \"primary\"]]");
    }

    static String withServers(String servers) {
        return valid("", "", "pool_size = 5", servers);
    }

    static Stream<Arguments> badConfigs() {
        return Stream.of(
                Arguments.of(withUser("pool_size = 0"),
                        FILE + ": pools.app.users.0.pool_size: must be at least 1, got 0"),
                Arguments.of(withUser(""),
                        FILE + ": pools.app.users.0.pool_size: required key is missing"),
                Arguments.of(withUser("pool_size = \"ten\""),
                        FILE + ": pools.app.users.0.pool_size: expected an integer, got a string \"ten\""),
                Arguments.of(withUser("pool_size = 2.5"),
                        FILE + ": pools.app.users.0.pool_size: expected an integer, got a float"),
                Arguments.of(withUser("pool_size = 5\nmin_pool_size = 6"),
                        FILE + ": pools.app.users.0.min_pool_size: must not exceed pool_size (5), got 6"),
                Arguments.of(withUser("pool_size = 5\npool_mode = \"sesion\""),
                        FILE + ": pools.app.users.0.pool_mode: unknown value \"sesion\"; accepted: \"session\", "
                                + "\"transaction\", \"statement\""),
                Arguments.of(withUser("pool_size = 5\nauth_type = \"trust\""),
                        FILE + ": pools.app.users.0.auth_type: unknown value \"trust\"; accepted: \"scram-sha-256\", \"md5\""),
                Arguments.of(withGeneral("port = 70000"),
                        FILE + ": general.port: must be at most 65535, got 70000"),
                Arguments.of(withGeneral("port = 0"),
                        FILE + ": general.port: must be at least 1, got 0"),
                Arguments.of(withGeneral("connect_timeout = -1"),
                        FILE + ": general.connect_timeout: must be at least 0, got -1"),
                Arguments.of(withGeneral("log_client_connections = \"yes\""),
                        FILE + ": general.log_client_connections: expected a boolean (true or false), got a string \"yes\""),
                Arguments.of(withGeneral("auth_type = \"password\""),
                        FILE + ": general.auth_type: unknown value \"password\"; accepted: \"scram-sha-256\", \"md5\""),
                Arguments.of(withGeneral("server_tls_mode = \"verify-ca\""),
                        FILE + ": general.server_tls_mode: unknown value \"verify-ca\"; accepted: \"disable\", "
                                + "\"prefer\", \"require\", \"verify-full\""),
                Arguments.of(withGeneral("max_message_size = 100"),
                        FILE + ": general.max_message_size: must be at least 10000, got 100"),
                Arguments.of(withGeneral("tls_certificate = \"server.cert\""),
                        FILE + ": general.tls_private_key: required when tls_certificate is set"),
                Arguments.of(withGeneral("autoreload = \"often\""),
                        FILE + ": general.autoreload: expected a boolean or an integer (milliseconds), got a string"),
                Arguments.of(withPool("default_role = \"master\""),
                        FILE + ": pools.app.default_role: unknown value \"master\"; accepted: \"any\", \"replica\", \"primary\""),
                Arguments.of(withPool("load_balancing_mode = \"least_conn\""),
                        FILE + ": pools.app.load_balancing_mode: unknown value \"least_conn\"; accepted: \"random\", "
                                + "\"loc\", \"round_robin\""),
                Arguments.of(withPool("sharding_function = \"md5\""),
                        FILE + ": pools.app.sharding_function: unknown value \"md5\"; accepted: \"pg_bigint_hash\", \"sha1\""),
                Arguments.of(withPool("query_parser_read_write_splitting = true"),
                        FILE + ": pools.app.query_parser_read_write_splitting: requires query_parser_enabled = true"),
                Arguments.of(withPool("sharding_key_regex = \"(unclosed\""),
                        FILE + ": pools.app.sharding_key_regex: not a valid regular expression"),
                Arguments.of(withPool("automatic_sharding_key = \"id\""),
                        FILE + ": pools.app.automatic_sharding_key: must be fully qualified as table.column, got \"id\""),
                Arguments.of(withServers("servers = []"),
                        FILE + ": pools.app.shards.0.servers: a shard needs at least one server, got an empty array"),
                Arguments.of(withServers(""),
                        FILE + ": pools.app.shards.0.servers: required key is missing"),
                Arguments.of(withServers("servers = [[\"127.0.0.1\", 5432, \"leader\"]]"),
                        FILE + ": pools.app.shards.0.servers[0]: unknown role \"leader\"; accepted: \"primary\", "
                                + "\"replica\", \"auto\""),
                Arguments.of(withServers("servers = [[\"127.0.0.1\", 99999, \"primary\"]]"),
                        FILE + ": pools.app.shards.0.servers[0]: port must be between 1 and 65535, got 99999"),
                Arguments.of(withServers("servers = [[\"127.0.0.1\", \"5432\", \"primary\"]]"),
                        FILE + ": pools.app.shards.0.servers[0]: port (second element) must be an integer, got a string"),
                Arguments.of(withServers("servers = [[\"127.0.0.1\", 5432]]"),
                        FILE + ": pools.app.shards.0.servers[0]: expected [host, port, role]"),
                Arguments.of(withServers("servers = [[\"127.0.0.1\", 5432, \"replica\", -1]]"),
                        FILE + ": pools.app.shards.0.servers[0]: weight (fourth element) must be a whole number from 0 to 1000, got -1"),
                Arguments.of(withServers("servers = [[\"127.0.0.1\", 5432, \"replica\", 1, 2]]"),
                        FILE + ": pools.app.shards.0.servers[0]: expected [host, port, role] or [host, port, role, weight]"),
                Arguments.of(withServers("servers = [[\"a\", 5432, \"primary\"], [\"b\", 5432, \"primary\"]]"),
                        FILE + ": pools.app.shards.0.servers[1]: a shard has at most one primary, this is the second"),
                Arguments.of(withServers("servers = [[\"a\", 5432, \"primary\"], [\"a\", 5432, \"replica\"]]"),
                        FILE + ": pools.app.shards.0.servers[1]: duplicate server a:5432 in this shard"),
                Arguments.of(withServers("servers = [[\"a\", 5432, \"primary\"]]\nmirrors = [[\"m\", 5432, 3]]"),
                        FILE + ": pools.app.shards.0.mirrors[0]: server_index (third element) must be an index into servers"),
                Arguments.of(withUser("pool_size = 5\n\n[pools.app.users.1]\nusername = \"app\"\npassword = \"x\"\npool_size = 1"),
                        FILE + ": pools.app.users.1.username: duplicate username \"app\", already used by pools.app.users.0"),
                Arguments.of(withServers("servers = [[\"a\", 5432, \"primary\"]]\n\n[pools.app.shards.2]\n"
                                + "database = \"x\"\nservers = [[\"b\", 5432, \"primary\"]]"),
                        FILE + ": pools.app.shards.1: missing: shard indexes must run 0..1 without gaps"),
                Arguments.of(withServers("servers = [[\"a\", 5432, \"primary\"]]\n\n[pools.app.shards.first]\n"
                                + "database = \"x\"\nservers = [[\"b\", 5432, \"primary\"]]"),
                        FILE + ": pools.app.shards.first: shard index must be a number"),
                Arguments.of("[general]\nadmin_username = \"a\"\nadmin_password = \"b\"\n",
                        FILE + ": pools: at least one pool is required"),
                Arguments.of("[general]\nadmin_username = \"a\"\nadmin_password = \"b\"\n[pools.app]\npool_mode = \"session\"\n",
                        FILE + ": pools.app.users: a pool needs at least one user"),
                Arguments.of("[general]\nadmin_username = \"a\"\nadmin_password = \"b\"\n[pools.app]\npool_mode = \"session\"\n",
                        FILE + ": pools.app.shards: a pool needs at least one shard"),
                Arguments.of(withGeneral("").replace("admin_password = \"secret\"", ""),
                        FILE + ": general.admin_password: required key is missing"),
                Arguments.of("general = 5\n[pools.app]\n",
                        FILE + ": general: expected a table, got an integer 5"),
                Arguments.of("[general\nport = 1",
                        FILE + ": line 1, column"));
    }

    @ParameterizedTest
    @MethodSource("badConfigs")
    void errorNamesFileAndKey(String toml, String expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(toml, FILE));
        assertTrue(e.errors().stream().anyMatch(line -> line.startsWith(expected)),
                () -> "expected a line starting with\n  " + expected + "\ngot\n  " + String.join("\n  ", e.errors()));
        assertTrue(e.getMessage().contains(expected), e::getMessage);
    }

    @Test
    void serverWeightIsOptional() {
        PgFleetConfig c = ConfigLoader.parse(withServers(
                "servers = [[\"a\", 5432, \"primary\"], [\"b\", 5432, \"replica\", 3], [\"c\", 5432, \"replica\", 0]]"), FILE);
        List<ServerConfig> servers = c.pool("app").orElseThrow().shards().get(0).servers();
        assertEquals(List.of(1, 3, 0), servers.stream().map(ServerConfig::weight).toList());
    }

    @Test
    void allErrorsAreReportedAtOnce() {
        String toml = valid("port = 0\nworker_threads = 0", "pool_mode = \"x\"", "pool_size = 0",
                "servers = [[\"h\", 0, \"primary\"]]");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(toml, FILE));
        assertEquals(5, e.errors().size(), e::getMessage);
        assertTrue(e.getMessage().startsWith("invalid configuration " + FILE + " (5 errors)"), e::getMessage);
    }

    @Test
    void passwordsAreNotEchoed() {
        String toml = withGeneral("").replace("admin_password = \"secret\"", "admin_password = 123456");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(toml, FILE));
        assertEquals(List.of(FILE + ": general.admin_password: expected a string, got an integer"), e.errors());
        assertFalse(e.getMessage().contains("123456"));
    }

    @Test
    void unknownKeysWarnButDoNotFail() {
        String toml = withGeneral("prot = 7000\nserver_round_robin = true")
                + "\n[pools.app.users.0.extra]\nx = 1\n";
        PgFleetConfig c = ConfigLoader.parse(toml, FILE);
        assertEquals(6432, c.general().port());
        assertTrue(c.warnings().contains(FILE + ": general.prot: unknown key, ignored (did you mean 'general.port'?)"),
                c.warnings()::toString);
        assertTrue(c.warnings().contains(FILE + ": general.server_round_robin: PgCat setting not supported by PgFleet, ignored"),
                c.warnings()::toString);
        assertTrue(c.warnings().contains(FILE + ": pools.app.users.0.extra: unknown key, ignored"), c.warnings()::toString);
    }
}
