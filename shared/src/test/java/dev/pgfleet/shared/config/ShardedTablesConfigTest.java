package dev.pgfleet.shared.config;

import dev.pgfleet.shared.config.ShardedTable.KeyType;
import dev.pgfleet.shared.config.ShardedTable.ListShard;
import dev.pgfleet.shared.config.ShardedTable.Mapping;
import dev.pgfleet.shared.config.ShardedTable.RangeShard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code default_shard} and {@code [[pools.<db>.sharded_tables]]}: what they bind to, and each error. */
class ShardedTablesConfigTest {

    static final String FILE = "conf/pgfleet.toml";

    /** A pool {@code app} with three shards, {@code poolLines} in [pools.app], then {@code tables}. */
    static String pool(String poolLines, String tables) {
        return """
                [general]
                admin_username = "admin"
                admin_password = "secret"

                [pools.app]
                %s

                [pools.app.users.0]
                username = "app"
                password = "pw"
                pool_size = 5

                [pools.app.shards.0]
                database = "app0"
                servers = [["127.0.0.1", 5432, "primary"]]

                [pools.app.shards.1]
                database = "app1"
                servers = [["127.0.0.1", 5433, "primary"]]

                [pools.app.shards.2]
                database = "app2"
                servers = [["127.0.0.1", 5434, "primary"]]

                %s
                """.formatted(poolLines, tables);
    }

    static String tables(String tables) {
        return pool("", tables);
    }

    static PoolConfig bind(String toml) {
        return ConfigLoader.parse(toml, FILE).pool("app").orElseThrow();
    }

    @Test
    void noTablesNoDefault() {
        PgFleetConfig c = ConfigLoader.parse(pool("", ""), FILE);
        PoolConfig p = c.pool("app").orElseThrow();
        assertEquals(List.of(), p.shardedTables());
        assertEquals(Optional.empty(), p.defaultShard());
        assertEquals(List.of(), c.warnings());
    }

    @Test
    void hashListAndRangeTables() {
        PgFleetConfig c = ConfigLoader.parse(tables("""
                [[pools.app.sharded_tables]]
                name = "Users"
                column = "ID"
                type = "bigint"

                [[pools.app.sharded_tables]]
                name = "sales.regions"
                column = "code"
                type = "varchar"
                mapping = "list"
                lists = [ { shard = 0, values = ["eu", "uk"] }, { shard = 1, values = ["us"] } ]
                default_shard = 2

                [[pools.app.sharded_tables]]
                name = "events"
                column = "id"
                type = "int4"
                mapping = "range"
                ranges = [ { shard = 1, start = 1000 }, { shard = 0, start = 0, end = 1000 }, { shard = 2, end = 0 } ]

                [[pools.app.sharded_tables]]
                name = "devices"
                column = "device_id"
                type = "uuid"
                mapping = "list"
                lists = [ { shard = 2, values = ["{A0EEBC99-9C0B4EF8-BB6D6BB9-BD380A11}"] } ]
                default_shard = "shard_0"

                [[pools.app.sharded_tables]]
                name = "accounts"
                column = "n"
                mapping = "list"
                lists = [ { shard = 1, values = [7, "-8", " 0x10 "] } ]
                """), FILE);
        assertEquals(List.of(), c.warnings());
        List<ShardedTable> t = c.pool("app").orElseThrow().shardedTables();
        assertEquals(ShardedTable.hash(null, "users", "id", KeyType.BIGINT), t.get(0), "names are lower-cased");
        assertEquals(new ShardedTable("sales", "regions", "code", KeyType.TEXT, Mapping.LIST,
                List.of(new ListShard(0, List.of("eu", "uk")), new ListShard(1, List.of("us"))), List.of(),
                OptionalInt.of(2)), t.get(1));
        assertEquals("sales.regions", t.get(1).qualifiedName());
        assertEquals(List.of(new RangeShard(2, null, 0L), new RangeShard(0, 0L, 1000L), new RangeShard(1, 1000L, null)),
                t.get(2).ranges(), "ordered by start, open start first");
        assertEquals(KeyType.BIGINT, t.get(2).type(), "int4 is a bigint key");
        assertEquals(List.of(new ListShard(2, List.of("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))), t.get(3).lists(),
                "uuid values in canonical form");
        assertEquals(OptionalInt.of(0), t.get(3).defaultShard());
        assertEquals(List.of(new ListShard(1, List.of("7", "-8", "16"))), t.get(4).lists(),
                "bigint values as integers or strings, canonical decimal");
        assertEquals(KeyType.BIGINT, t.get(4).type(), "type defaults to bigint");
        assertTrue(t.get(2).ranges().get(1).contains(0) && !t.get(2).ranges().get(1).contains(1000));
    }

    @Test
    void defaultShardForms() {
        assertEquals(Optional.of(DefaultShard.of(1)), bind(pool("default_shard = 1", "")).defaultShard());
        assertEquals(Optional.of(DefaultShard.of(2)), bind(pool("default_shard = \"shard_2\"", "")).defaultShard());
        assertEquals(Optional.of(DefaultShard.RANDOM), bind(pool("default_shard = \"random\"", "")).defaultShard());
        assertEquals(Optional.of(DefaultShard.RANDOM_HEALTHY),
                bind(pool("default_shard = \"random_healthy\"", "")).defaultShard());
        assertEquals("shard_2", DefaultShard.of(2).toString());
        PgFleetConfig c = ConfigLoader.parse(pool("default_shard = 0", ""), FILE);
        assertEquals(List.of(), c.warnings(), "default_shard is no longer an unsupported PgCat key");
    }

    @Test
    void automaticShardingKeyIsABigintHashTable() {
        PoolConfig p = bind(pool("automatic_sharding_key = \"Orders.Customer_ID\"", """
                [[pools.app.sharded_tables]]
                name = "users"
                column = "id"
                """));
        assertEquals(List.of(ShardedTable.hash(null, "orders", "customer_id", KeyType.BIGINT),
                ShardedTable.hash(null, "users", "id", KeyType.BIGINT)), p.shardedTables(), "the implicit table first");
    }

    @Test
    void listedTableWinsOverAutomaticShardingKey() {
        PgFleetConfig c = ConfigLoader.parse(pool("automatic_sharding_key = \"users.id\"", """
                [[pools.app.sharded_tables]]
                name = "users"
                column = "email"
                type = "text"
                """), FILE);
        assertEquals(List.of(ShardedTable.hash(null, "users", "email", KeyType.TEXT)),
                c.pool("app").orElseThrow().shardedTables());
        assertTrue(c.warnings().stream().anyMatch(w -> w.startsWith(FILE + ": pools.app.automatic_sharding_key: "
                + "names column id of users, but sharded_tables lists users keyed on email")), c.warnings()::toString);

        PgFleetConfig same = ConfigLoader.parse(pool("automatic_sharding_key = \"users.id\"", """
                [[pools.app.sharded_tables]]
                name = "users"
                column = "id"
                type = "bigint"
                """), FILE);
        assertEquals(1, same.pool("app").orElseThrow().shardedTables().size());
        assertEquals(List.of(), same.warnings());
    }

    @Test
    void unknownKeysInATableWarn() {
        PgFleetConfig c = ConfigLoader.parse(tables("""
                [[pools.app.sharded_tables]]
                name = "users"
                colum = "x"
                column = "id"
                """), FILE);
        assertTrue(c.warnings().contains(FILE + ": pools.app.sharded_tables[0].colum: unknown key, ignored "
                + "(did you mean 'pools.app.sharded_tables[0].column'?)"), c.warnings()::toString);
    }

    static final String T = FILE + ": pools.app.sharded_tables[0].";

    static Stream<Arguments> badConfigs() {
        return Stream.of(
                Arguments.of(pool("default_shard = 3", ""),
                        FILE + ": pools.app.default_shard: shard 3 does not exist; this pool has shards 0..2"),
                Arguments.of(pool("default_shard = \"shard_9\"", ""),
                        FILE + ": pools.app.default_shard: shard 9 does not exist"),
                Arguments.of(pool("default_shard = \"first\"", ""),
                        FILE + ": pools.app.default_shard: expected a shard number, \"shard_<n>\", \"random\" or "
                                + "\"random_healthy\", got a string \"first\""),
                Arguments.of(pool("default_shard = -1", ""),
                        FILE + ": pools.app.default_shard: expected a shard number"),
                Arguments.of(pool("default_shard = true", ""),
                        FILE + ": pools.app.default_shard: expected a shard number, \"shard_<n>\", \"random\" or "
                                + "\"random_healthy\", got a boolean"),
                Arguments.of(tables("[[pools.app.sharded_tables]]\nname = \"users\"\n"),
                        T + "column: required key is missing"),
                Arguments.of(tables("[[pools.app.sharded_tables]]\ncolumn = \"id\"\n"),
                        T + "name: required key is missing"),
                Arguments.of(tables("[[pools.app.sharded_tables]]\nname = \"users\"\ncolumn = \"\"\n"),
                        T + "column: must not be empty"),
                Arguments.of(tables("[[pools.app.sharded_tables]]\nname = \"a.b.c\"\ncolumn = \"id\"\n"),
                        T + "name: expected table or schema.table, got \"a.b.c\""),
                Arguments.of(tables("[[pools.app.sharded_tables]]\nname = \"t\"\ncolumn = \"id\"\ntype = \"numeric\"\n"),
                        T + "type: unknown value \"numeric\"; accepted: \"bigint\", \"text\", \"uuid\""),
                Arguments.of(tables("[[pools.app.sharded_tables]]\nname = \"t\"\ncolumn = \"id\"\nmapping = \"modulo\"\n"),
                        T + "mapping: unknown value \"modulo\"; accepted: \"hash\", \"list\", \"range\""),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "users"
                        column = "id"

                        [[pools.app.sharded_tables]]
                        name = "USERS"
                        column = "other"
                        """),
                        FILE + ": pools.app.sharded_tables[1].name: table \"users\" is already listed at "
                                + "pools.app.sharded_tables[0]"),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        mapping = "list"
                        """),
                        T + "lists: required with mapping = \"list\""),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        mapping = "list"
                        lists = []
                        """),
                        T + "lists: at least one { shard, values } is required"),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        lists = [ { shard = 0, values = [1] } ]
                        """),
                        T + "lists: lists are read only with mapping = \"list\""),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        mapping = "list"
                        lists = [ { shard = 3, values = [1] } ]
                        """),
                        T + "lists[0].shard: shard 3 does not exist; this pool has shards 0..2"),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        mapping = "list"
                        lists = [ { values = [1] } ]
                        """),
                        T + "lists[0].shard: required key is missing"),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        mapping = "list"
                        lists = [ { shard = 0, values = [] } ]
                        """),
                        T + "lists[0].values: at least one value is required"),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        type = "bigint"
                        mapping = "list"
                        lists = [ { shard = 0, values = [1, "x1"] } ]
                        """),
                        T + "lists[0].values[1]: invalid input syntax for type bigint: \"x1\""),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        mapping = "list"
                        lists = [ { shard = 0, values = ["9223372036854775808"] } ]
                        """),
                        T + "lists[0].values[0]: value \"9223372036854775808\" is out of range for type bigint"),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        type = "uuid"
                        mapping = "list"
                        lists = [ { shard = 0, values = ["a0eebc99-9c0b"] } ]
                        """),
                        T + "lists[0].values[0]: invalid input syntax for type uuid: \"a0eebc99-9c0b\""),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        type = "text"
                        mapping = "list"
                        lists = [ { shard = 0, values = [5] } ]
                        """),
                        T + "lists[0].values[0]: expected a string, got an integer 5"),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        mapping = "list"
                        lists = [ { shard = 0, values = [1, 2] }, { shard = 1, values = ["+2"] } ]
                        """),
                        T + "lists[1].values[0]: value \"2\" is already listed at pools.app.sharded_tables[0].lists[0].values[1]"),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        type = "text"
                        mapping = "range"
                        ranges = [ { shard = 0, start = 0 } ]
                        """),
                        T + "mapping: range mapping needs a bigint key (also smallint, integer), got type text"),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        type = "uuid"
                        mapping = "range"
                        """),
                        T + "mapping: range mapping needs a bigint key"),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        mapping = "range"
                        """),
                        T + "ranges: required with mapping = \"range\""),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        ranges = [ { shard = 0, start = 0 } ]
                        """),
                        T + "ranges: ranges are read only with mapping = \"range\""),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        mapping = "range"
                        ranges = [ { shard = 0, start = 0, end = 100 }, { shard = 1, start = 50, end = 200 } ]
                        """),
                        T + "ranges[1]: overlaps pools.app.sharded_tables[0].ranges[0]: [0, 100) and [50, 200)"),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        mapping = "range"
                        ranges = [ { shard = 0, end = 100 }, { shard = 1, end = 5 } ]
                        """),
                        T + "ranges[1]: overlaps pools.app.sharded_tables[0].ranges[0]: [MINVALUE, 100) and [MINVALUE, 5)"),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        mapping = "range"
                        ranges = [ { shard = 0, start = 10 }, { shard = 1, start = 500, end = 600 } ]
                        """),
                        T + "ranges[1]: overlaps pools.app.sharded_tables[0].ranges[0]: [10, MAXVALUE) and [500, 600)"),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        mapping = "range"
                        ranges = [ { shard = 0, start = 10, end = 10 } ]
                        """),
                        T + "ranges[0].end: must be greater than start (10), got 10; a range is [start, end)"),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        mapping = "range"
                        ranges = [ { shard = 0, start = "low" } ]
                        """),
                        T + "ranges[0].start: expected an integer, got a string \"low\""),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        mapping = "range"
                        ranges = [ { shard = 5, start = 0 } ]
                        """),
                        T + "ranges[0].shard: shard 5 does not exist; this pool has shards 0..2"),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        mapping = "list"
                        lists = [ { shard = 0, values = [1] } ]
                        default_shard = 3
                        """),
                        T + "default_shard: shard 3 does not exist; this pool has shards 0..2"),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        mapping = "list"
                        lists = [ { shard = 0, values = [1] } ]
                        default_shard = "random"
                        """),
                        T + "default_shard: expected a shard number or \"shard_<n>\", got a string \"random\""),
                Arguments.of(tables("""
                        [[pools.app.sharded_tables]]
                        name = "t"
                        column = "c"
                        default_shard = 1
                        """),
                        T + "default_shard: a hash-mapped table maps every key; default_shard is for list and range mapping"),
                Arguments.of(pool("sharded_tables = [1]", ""),
                        FILE + ": pools.app.sharded_tables[0]: expected a table with name and column"),
                Arguments.of(pool("sharded_tables = \"users\"", ""),
                        FILE + ": pools.app.sharded_tables: expected an array, got a string \"users\""));
    }

    @ParameterizedTest
    @MethodSource("badConfigs")
    void errorNamesFileAndKey(String toml, String expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(toml, FILE));
        assertTrue(e.errors().stream().anyMatch(line -> line.startsWith(expected)),
                () -> "expected a line starting with\n  " + expected + "\ngot\n  " + String.join("\n  ", e.errors()));
    }

    @Test
    void allTableErrorsAreReportedAtOnce() {
        String toml = tables("""
                [[pools.app.sharded_tables]]
                name = "a"

                [[pools.app.sharded_tables]]
                name = "b"
                column = "c"
                mapping = "list"
                lists = [ { shard = 7, values = ["x"] } ]
                """);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(toml, FILE));
        assertEquals(3, e.errors().size(), e::getMessage);
    }
}
