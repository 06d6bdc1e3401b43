package dev.pgfleet.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.ShardKeyText;
import dev.pgfleet.shared.config.ShardedTable;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link ShardingSchema} over configurations read from TOML: hash mapping agrees with
 * {@link ShardHash}, text and binary formats of one key agree, list and range mapping (and their
 * defaults) agree with where PostgreSQL's own {@code PARTITION BY LIST} and {@code RANGE} put the
 * row (testkit's first shard server), PgCat's sha1 gives PgCat's shards, and every refusal has
 * PostgreSQL's SQLSTATE.
 */
class ShardingSchemaTest {

    static final int SHARDS = 3;

    static Connection db;

    @BeforeAll
    static void connect() throws SQLException {
        db = TestPostgres.shards().get(0).connectSuperuser(TestUsers.DATABASE);
    }

    @AfterAll
    static void close() throws SQLException {
        if (db != null) {
            db.close();
        }
    }

    /** A pool {@code app} with {@code shards} shards, {@code poolLines} in [pools.app], then {@code tables}. */
    static PoolConfig pool(int shards, String poolLines, String tables) {
        StringBuilder toml = new StringBuilder("""
                [general]
                admin_username = "admin"
                admin_password = "secret"

                [pools.app]
                %s

                [pools.app.users.0]
                username = "app"
                password = "pw"
                pool_size = 5
                """.formatted(poolLines));
        for (int i = 0; i < shards; i++) {
            toml.append("\n[pools.app.shards.").append(i).append("]\ndatabase = \"app\"\nservers = [[\"127.0.0.1\", ")
                    .append(5432 + i).append(", \"primary\"]]\n");
        }
        toml.append('\n').append(tables);
        return ConfigLoader.parse(toml.toString(), "test.toml").pool("app").orElseThrow();
    }

    static final String TABLES = """
            [[pools.app.sharded_tables]]
            name = "users"
            column = "id"
            type = "bigint"

            [[pools.app.sharded_tables]]
            name = "accounts"
            column = "email"
            type = "text"

            [[pools.app.sharded_tables]]
            name = "devices"
            column = "device_id"
            type = "uuid"

            [[pools.app.sharded_tables]]
            name = "sales.regions"
            column = "code"
            type = "text"
            mapping = "list"
            lists = [ { shard = 0, values = ["eu", "uk"] }, { shard = 1, values = ["us"] } ]

            [[pools.app.sharded_tables]]
            name = "public.events"
            column = "id"
            mapping = "range"
            ranges = [ { shard = 0, end = 0 }, { shard = 1, start = 0, end = 1000 }, { shard = 2, start = 5000 } ]

            [[pools.app.sharded_tables]]
            name = "tenants"
            column = "tenant_id"
            type = "integer"
            mapping = "list"
            lists = [ { shard = 2, values = [1, 2, 3] }, { shard = 1, values = [-5] } ]
            default_shard = 0

            [[pools.app.sharded_tables]]
            name = "logs"
            column = "day"
            mapping = "range"
            ranges = [ { shard = 1, start = 100, end = 200 } ]
            default_shard = "shard_2"

            [[pools.app.sharded_tables]]
            name = "gadgets"
            column = "id"
            type = "uuid"
            mapping = "list"
            lists = [ { shard = 2, values = ["A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"] } ]
            """;

    static final ShardingSchema SCHEMA = ShardingSchema.of(pool(SHARDS, "", TABLES));

    static ShardedTable table(String name) {
        return SCHEMA.table(null, name);
    }

    // ---------------------------------------------------------------- tables

    @Test
    void shardsAndTables() {
        assertEquals(SHARDS, SCHEMA.shards());
        assertTrue(SCHEMA.sharded());
        ShardingSchema one = ShardingSchema.of(pool(1, "", "[[pools.app.sharded_tables]]\nname = \"users\"\ncolumn = \"id\"\n"));
        assertFalse(one.sharded());
        assertEquals(0, one.shardOfKey("12345"));
        assertEquals(8, SCHEMA.tables().size());
    }

    @Test
    void tableNamesMatchAsPostgresResolvesThem() {
        ShardedTable users = SCHEMA.table(null, "users");
        assertNotNull(users);
        assertSame(users, SCHEMA.table("app", "users"), "a bare config name matches any schema");
        assertSame(users, SCHEMA.table("PUBLIC", "Users"), "compared in lower case");

        ShardedTable regions = SCHEMA.table("sales", "regions");
        assertNotNull(regions);
        assertNull(SCHEMA.table(null, "regions"), "sales.regions is not on the search_path's public");
        assertNull(SCHEMA.table("public", "regions"));

        ShardedTable events = SCHEMA.table("public", "events");
        assertNotNull(events);
        assertSame(events, SCHEMA.table(null, "events"), "a query's bare name matches a config public.t");
        assertNull(SCHEMA.table("other", "events"));

        assertNull(SCHEMA.table(null, "unsharded"));
        assertEquals("id", SCHEMA.keyColumn(null, "USERS"));
        assertEquals("code", SCHEMA.keyColumn("sales", "regions"));
        assertNull(SCHEMA.keyColumn(null, "unsharded"));
    }

    @Test
    void exactSchemaWinsOverABareName() {
        ShardingSchema s = ShardingSchema.of(pool(SHARDS, "", """
                [[pools.app.sharded_tables]]
                name = "t"
                column = "a"

                [[pools.app.sharded_tables]]
                name = "audit.t"
                column = "b"
                """));
        assertEquals("b", s.keyColumn("audit", "t"));
        assertEquals("a", s.keyColumn("public", "t"));
        assertEquals("a", s.keyColumn(null, "t"));
    }

    // ---------------------------------------------------------------- hash

    @Test
    void bigintHashAgreesWithShardHashInTextAndBinary() {
        ShardedTable users = table("users");
        SplittableRandom r = new SplittableRandom(13);
        List<Long> keys = new ArrayList<>(List.of(0L, 1L, -1L, 42L, Long.MAX_VALUE, Long.MIN_VALUE,
                (long) Integer.MAX_VALUE, (long) Integer.MIN_VALUE, (long) Short.MAX_VALUE, (long) Short.MIN_VALUE));
        for (int i = 0; i < 2_000; i++) {
            keys.add(i % 2 == 0 ? r.nextLong() : r.nextLong(-100_000, 100_000));
        }
        for (long k : keys) {
            int expected = ShardHash.bigintRemainder(k, SHARDS);
            assertEquals(expected, SCHEMA.shardOfText(users, Long.toString(k)), "text " + k);
            assertEquals(expected, SCHEMA.shardOfText(users, " " + k + "\n"), "blanks around " + k);
            ByteBuf buf = Unpooled.buffer().writeByte(0x7F).writeLong(k);
            assertEquals(expected, SCHEMA.shardOfBinary(users, buf, 1, 8), "int8 " + k);
            if (k == (int) k) {
                buf = Unpooled.buffer().writeInt(0).writeInt((int) k);
                assertEquals(expected, SCHEMA.shardOfBinary(users, buf, 4, 4), "int4 " + k);
            }
            if (k == (short) k) {
                buf = Unpooled.directBuffer().writeShort((short) k);
                assertEquals(expected, SCHEMA.shardOfBinary(users, buf, 0, 2), "int2 " + k);
                buf.release();
            }
        }
    }

    @Test
    void textHashAgreesWithShardHashInTextAndBinary() {
        ShardedTable accounts = table("accounts");
        List<String> keys = List.of("", "a", "abc", "alice@example.com", "Zürich", "日本語のキー", "emoji 🐘",
                "a much longer key that spans more than one twelve-byte block of lookup3");
        for (String k : keys) {
            int expected = ShardHash.textRemainder(k, SHARDS);
            assertEquals(expected, SCHEMA.shardOfText(accounts, k), k);
            assertEquals(expected, SCHEMA.shardOfText(accounts, new StringBuilder(k)), "CharSequence " + k);
            byte[] utf8 = k.getBytes(StandardCharsets.UTF_8);
            ByteBuf heap = Unpooled.buffer().writeInt(utf8.length).writeBytes(utf8);
            assertEquals(expected, SCHEMA.shardOfBinary(accounts, heap, 4, utf8.length), "heap buffer " + k);
            ByteBuf direct = Unpooled.directBuffer().writeInt(utf8.length).writeBytes(utf8);
            assertEquals(expected, SCHEMA.shardOfBinary(accounts, direct, 4, utf8.length), "direct buffer " + k);
            direct.release();
            ByteBuf sliced = Unpooled.wrappedBuffer(new byte[7], utf8).slice(3, 4 + utf8.length);
            assertEquals(expected, SCHEMA.shardOfBinary(accounts, sliced, 4, utf8.length), "composite slice " + k);
        }
    }

    @Test
    void uuidHashAgreesWithShardHashInTextAndBinary() {
        ShardedTable devices = table("devices");
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 500; i++) {
            UUID u = i == 0 ? new UUID(0, 0) : new UUID(r.nextLong(), r.nextLong());
            byte[] bytes = ByteBuffer.allocate(16).putLong(u.getMostSignificantBits())
                    .putLong(u.getLeastSignificantBits()).array();
            int expected = ShardHash.uuidRemainder(bytes, 0, SHARDS);
            assertEquals(expected, SCHEMA.shardOfText(devices, u.toString()), u.toString());
            assertEquals(expected, SCHEMA.shardOfText(devices, u.toString().toUpperCase()), "upper case " + u);
            assertEquals(expected, SCHEMA.shardOfText(devices, "{" + u.toString().replace("-", "") + "}"), "braces " + u);
            ByteBuf buf = Unpooled.buffer().writeByte(1).writeBytes(bytes);
            assertEquals(expected, SCHEMA.shardOfBinary(devices, buf, 1, 16), "binary " + u);
        }
    }

    // ---------------------------------------------------------------- list and range

    @Test
    void listMapping() {
        ShardedTable regions = SCHEMA.table("sales", "regions");
        assertEquals(0, SCHEMA.shardOfText(regions, "eu"));
        assertEquals(0, SCHEMA.shardOfText(regions, "uk"));
        assertEquals(1, SCHEMA.shardOfText(regions, "us"));
        byte[] us = "us".getBytes(StandardCharsets.UTF_8);
        assertEquals(1, SCHEMA.shardOfBinary(regions, Unpooled.wrappedBuffer(us), 0, 2));
        PgException e = assertThrows(PgException.class, () -> SCHEMA.shardOfText(regions, "EU"), "text is exact");
        assertEquals("22023", e.sqlState());
        assertFalse(e.fatal());
        assertEquals("no shard holds value \"EU\" of sharding key sales.regions.code", e.getMessage());
        assertTrue(e.detail().contains("in no list of sharded table sales.regions"), e.detail());

        ShardedTable tenants = table("tenants");
        assertEquals(2, SCHEMA.shardOfText(tenants, "3"));
        assertEquals(2, SCHEMA.shardOfText(tenants, "+0003"), "as a number, not as text");
        assertEquals(1, SCHEMA.shardOfText(tenants, "-5"));
        assertEquals(1, SCHEMA.shardOfBinary(tenants, Unpooled.buffer().writeInt(-5), 0, 4));
        assertEquals(0, SCHEMA.shardOfText(tenants, "4"), "unlisted: the table's default_shard");

        ShardedTable gadgets = table("gadgets");
        assertEquals(2, SCHEMA.shardOfText(gadgets, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
        assertEquals(2, SCHEMA.shardOfText(gadgets, "{a0eebc999c0b4ef8bb6d6bb9bd380a11}"));
        assertEquals("22023", assertThrows(PgException.class,
                () -> SCHEMA.shardOfText(gadgets, "00000000-0000-0000-0000-000000000000")).sqlState());
    }

    @Test
    void rangeMapping() {
        ShardedTable events = table("events");
        assertEquals(0, SCHEMA.shardOfText(events, Long.toString(Long.MIN_VALUE)), "open start");
        assertEquals(0, SCHEMA.shardOfText(events, "-1"));
        assertEquals(1, SCHEMA.shardOfText(events, "0"), "start is inclusive");
        assertEquals(1, SCHEMA.shardOfText(events, "999"));
        assertEquals(2, SCHEMA.shardOfText(events, "5000"));
        assertEquals(2, SCHEMA.shardOfBinary(events, Unpooled.buffer().writeLong(Long.MAX_VALUE), 0, 8), "open end");
        PgException e = assertThrows(PgException.class, () -> SCHEMA.shardOfText(events, "1000"), "end is exclusive");
        assertEquals("22023", e.sqlState());
        assertEquals("no shard holds value \"1000\" of sharding key public.events.id", e.getMessage());
        assertTrue(e.detail().contains("in no range"), e.detail());

        ShardedTable logs = table("logs");
        assertEquals(1, SCHEMA.shardOfText(logs, "100"));
        assertEquals(2, SCHEMA.shardOfText(logs, "200"), "outside every range: the table's default_shard");
        assertEquals(2, SCHEMA.shardOfText(logs, "-1"));
    }

    /**
     * The same bounds in PostgreSQL: a table partitioned by RANGE (and one by LIST) with one
     * partition per shard and a DEFAULT partition for the table's default shard; each key is
     * inserted and the partition PostgreSQL picks must be the shard ShardingSchema picks.
     */
    @Test
    void rangeAndListAgreeWithPostgresPartitions() throws SQLException {
        try (Statement st = db.createStatement()) {
            st.execute("DROP TABLE IF EXISTS ss_events, ss_tenants");
            st.execute("CREATE TABLE ss_events (id bigint) PARTITION BY RANGE (id)");
            st.execute("CREATE TABLE ss_events_0 PARTITION OF ss_events FOR VALUES FROM (MINVALUE) TO (0)");
            st.execute("CREATE TABLE ss_events_1 PARTITION OF ss_events FOR VALUES FROM (0) TO (1000)");
            st.execute("CREATE TABLE ss_events_2 PARTITION OF ss_events FOR VALUES FROM (5000) TO (MAXVALUE)");
            st.execute("CREATE TABLE ss_tenants (id int) PARTITION BY LIST (id)");
            st.execute("CREATE TABLE ss_tenants_2 PARTITION OF ss_tenants FOR VALUES IN (1, 2, 3)");
            st.execute("CREATE TABLE ss_tenants_1 PARTITION OF ss_tenants FOR VALUES IN (-5)");
            st.execute("CREATE TABLE ss_tenants_0 PARTITION OF ss_tenants DEFAULT");
        }
        long[] eventKeys = {Long.MIN_VALUE, -1_000_000, -1, 0, 1, 500, 999, 5000, 5001, Long.MAX_VALUE - 1};
        for (long k : eventKeys) {
            assertEquals(partition("ss_events", k), SCHEMA.shardOfText(table("events"), Long.toString(k)), "events " + k);
        }
        // PostgreSQL's RANGE with MAXVALUE excludes MAXVALUE itself; only a key in no partition differs.
        try (PreparedStatement ps = db.prepareStatement("INSERT INTO ss_events VALUES (?)")) {
            ps.setLong(1, 1000);
            SQLException noPartition = assertThrows(SQLException.class, ps::executeUpdate);
            assertEquals("23514", noPartition.getSQLState(), "PostgreSQL has no partition for 1000 either");
        }
        for (long k = -6; k <= 6; k++) {
            assertEquals(partition("ss_tenants", k), SCHEMA.shardOfText(table("tenants"), Long.toString(k)), "tenants " + k);
        }
        try (Statement st = db.createStatement()) {
            st.execute("DROP TABLE ss_events, ss_tenants");
        }
    }

    /** The shard number of the partition (named {@code <table>_<shard>}) PostgreSQL puts key {@code k} in. */
    static int partition(String table, long k) throws SQLException {
        try (PreparedStatement ps = db.prepareStatement(
                "WITH i AS (INSERT INTO " + table + " VALUES (?) RETURNING tableoid) SELECT tableoid::regclass::text FROM i")) {
            ps.setLong(1, k);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                String name = rs.getString(1);
                return Integer.parseInt(name.substring(name.lastIndexOf('_') + 1));
            }
        }
    }

    // ---------------------------------------------------------------- errors

    @Test
    void valuesNotOfTheKeyTypeGetPostgresErrors() {
        PgException e = assertThrows(PgException.class, () -> SCHEMA.shardOfText(table("users"), "abc"));
        assertEquals("22P02", e.sqlState());
        assertEquals("invalid input syntax for type bigint: \"abc\"", e.getMessage());
        assertFalse(e.fatal());
        e = assertThrows(PgException.class, () -> SCHEMA.shardOfText(table("users"), "9223372036854775808"));
        assertEquals("22003", e.sqlState());
        assertEquals("value \"9223372036854775808\" is out of range for type bigint", e.getMessage());
        e = assertThrows(PgException.class, () -> SCHEMA.shardOfText(table("devices"), "not-a-uuid"));
        assertEquals("22P02", e.sqlState());
        assertEquals("invalid input syntax for type uuid: \"not-a-uuid\"", e.getMessage());
        e = assertThrows(PgException.class, () -> SCHEMA.shardOfText(table("events"), "1.5"));
        assertEquals("22P02", e.sqlState());

        e = assertThrows(PgException.class,
                () -> SCHEMA.shardOfBinary(table("users"), Unpooled.buffer().writeMedium(1), 0, 3));
        assertEquals("22P03", e.sqlState());
        assertTrue(e.detail().contains("takes 2, 4 or 8 bytes, got 3"), e.detail());
        e = assertThrows(PgException.class,
                () -> SCHEMA.shardOfBinary(table("devices"), Unpooled.buffer().writeLong(1), 0, 8));
        assertEquals("22P03", e.sqlState());
    }

    /**
     * ShardKeyText reads what PostgreSQL's int8in and uuid_in read, and refuses what they refuse
     * with the same SQLSTATE: each input is cast by the server too. (The PostgreSQL 16 integer
     * forms, 0x.. and 1_000, are accepted by ShardKeyText; they are checked against the server
     * only when it is 16 or later.)
     */
    @Test
    void keyTextAgreesWithPostgresInputFunctions() throws SQLException {
        List<String> bigints = new ArrayList<>(List.of("0", "42", "-7", "+8", "  12  ", "\t-3\n", "007",
                "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
                "99999999999999999999", "", " ", "-", "+", "1.5", "1e3", "abc", "12abc", "1 2", "--1", "0x"));
        if (db.getMetaData().getDatabaseMajorVersion() >= 16) {
            bigints.addAll(List.of("0x1F", "-0X10", "0o17", "0b101", "1_000", "_1", "1_", "1__0", "0x_1F",
                    "0x7FFFFFFFFFFFFFFF", "0x8000000000000000", "-0x8000000000000000"));
        } else {
            assertEquals(31, ShardKeyText.parseBigint("0x1F"));
            assertEquals(-16, ShardKeyText.parseBigint("-0X10"));
            assertEquals(15, ShardKeyText.parseBigint("0o17"));
            assertEquals(5, ShardKeyText.parseBigint("0b101"));
            assertEquals(1000, ShardKeyText.parseBigint("1_000"));
            assertEquals(Long.MIN_VALUE, ShardKeyText.parseBigint("-0x8000000000000000"));
            assertEquals("22P02", assertThrows(PgException.class, () -> ShardKeyText.parseBigint("1_")).sqlState());
            assertEquals("22003", assertThrows(PgException.class,
                    () -> ShardKeyText.parseBigint("0x8000000000000000")).sqlState());
        }
        for (String s : bigints) {
            String[] pg = cast(s, "int8");
            try {
                long v = ShardKeyText.parseBigint(s);
                assertEquals(null, pg[1], "PostgreSQL refuses \"" + s + "\", ShardKeyText read " + v);
                assertEquals(pg[0], Long.toString(v), "\"" + s + "\"");
            } catch (PgException e) {
                assertEquals(pg[1], e.sqlState(), "\"" + s + "\": " + e.getMessage());
            }
        }
        List<String> uuids = List.of("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
                "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "a0eebc999c0b4ef8bb6d6bb9bd380a11",
                "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11", "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}",
                "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111", "",
                " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",
                "-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
                "a0eebc9-99c0b-4ef8-bb6d-6bb9bd380a11", "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        for (String s : uuids) {
            String[] pg = cast(s, "uuid");
            try {
                byte[] v = ShardKeyText.parseUuid(s);
                assertEquals(null, pg[1], "PostgreSQL refuses \"" + s + "\"");
                assertEquals(pg[0], ShardKeyText.uuidText(v, 0), "\"" + s + "\"");
            } catch (PgException e) {
                assertEquals(pg[1], e.sqlState(), "\"" + s + "\": " + e.getMessage());
            }
        }
    }

    /** {@code s::type} in PostgreSQL: {value as text, null} or {null, SQLSTATE}. */
    static String[] cast(String s, String type) throws SQLException {
        try (PreparedStatement ps = db.prepareStatement("SELECT CAST(? AS text)::" + type + "::text")) {
            ps.setString(1, s);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new String[] {rs.getString(1), null};
            }
        } catch (SQLException e) {
            return new String[] {null, e.getSQLState()};
        }
    }

    // ---------------------------------------------------------------- sha1

    /**
     * PgCat's sha1 for 12 shards and keys 0 to 19, the shards its {@code test_sha1_hash} expects;
     * and vectors derived from the definition (SHA-1 of the decimal text, the digest's last 4
     * bytes as a big-endian unsigned int, modulo the shards), computed with Python's hashlib:
     * sha1("42") ends 0797ae56 = 127381078, sha1("-1") ends 34d23819 = 886192153, sha1("abc")
     * ends 9cd0d89d = 2630932637.
     */
    @Test
    void sha1IsPgCats() {
        int[] pgcat = {4, 7, 8, 3, 6, 0, 0, 10, 3, 11, 1, 7, 4, 4, 11, 2, 5, 0, 8, 3};
        for (int k = 0; k < pgcat.length; k++) {
            assertEquals(pgcat[k], PgCatSha1.shardOf(k, 12), "key " + k);
        }
        assertEquals(127381078L % 5, PgCatSha1.shardOf(42, 5));
        assertEquals(886192153L % 7, PgCatSha1.shardOf(-1, 7));
        assertEquals(2630932637L % 8, PgCatSha1.shardOf("abc".getBytes(StandardCharsets.UTF_8), 8),
                "the last 4 bytes are unsigned: 2630932637 > Integer.MAX_VALUE");

        ShardingSchema sha1 = ShardingSchema.of(pool(12, "sharding_function = \"sha1\"", TABLES));
        ShardedTable users = sha1.table(null, "users");
        for (int k = 0; k < pgcat.length; k++) {
            assertEquals(pgcat[k], sha1.shardOfText(users, Integer.toString(k)), "text key " + k);
            assertEquals(pgcat[k], sha1.shardOfText(users, "+0" + k), "the number's decimal text is hashed");
            assertEquals(pgcat[k], sha1.shardOfBinary(users, Unpooled.buffer().writeInt(k), 0, 4), "int4 " + k);
            assertEquals(pgcat[k], sha1.shardOfKey(Integer.toString(k)), "SET SHARDING KEY " + k);
        }
        ShardedTable accounts = sha1.table(null, "accounts");
        assertEquals((int) (2630932637L % 12), sha1.shardOfText(accounts, "abc"));
        assertEquals((int) (2630932637L % 12), sha1.shardOfBinary(accounts,
                Unpooled.wrappedBuffer("abc".getBytes(StandardCharsets.UTF_8)), 0, 3));
        ShardedTable devices = sha1.table(null, "devices");
        String u = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
        int expected = PgCatSha1.shardOf(u.getBytes(StandardCharsets.US_ASCII), 12);
        assertEquals(expected, sha1.shardOfText(devices, u.toUpperCase()), "uuid: the canonical text is hashed");
        assertEquals(expected, sha1.shardOfBinary(devices, Unpooled.wrappedBuffer(ShardKeyText.parseUuid(u)), 0, 16));
    }

    // ---------------------------------------------------------------- SET SHARDING KEY

    @Test
    void shardingKeyIsReadAsThePoolsKeyType() {
        // First sharded table: users, bigint hash.
        assertEquals(ShardHash.bigintRemainder(42, SHARDS), SCHEMA.shardOfKey("42"));
        assertEquals("22P02", assertThrows(PgException.class, () -> SCHEMA.shardOfKey("abc")).sqlState());

        // automatic_sharding_key names the table whose type and mapping count.
        ShardingSchema auto = ShardingSchema.of(pool(SHARDS, "automatic_sharding_key = \"tenants.tenant_id\"", TABLES));
        assertEquals(2, auto.shardOfKey("1"), "list-mapped: tenants lists 1 on shard 2");
        assertEquals(0, auto.shardOfKey("77"), "tenants' default_shard");

        ShardingSchema inSchema = ShardingSchema.of(pool(SHARDS, "automatic_sharding_key = \"regions.code\"", TABLES));
        assertEquals(1, inSchema.shardOfKey("us"), "sales.regions, listed in its schema, is the key table");

        ShardingSchema implicit = ShardingSchema.of(pool(SHARDS, "automatic_sharding_key = \"orders.id\"", TABLES));
        assertEquals("id", implicit.keyColumn(null, "orders"));
        assertEquals(ShardHash.bigintRemainder(-9, SHARDS), implicit.shardOfKey("-9"));

        ShardingSchema text = ShardingSchema.of(pool(SHARDS, "", """
                [[pools.app.sharded_tables]]
                name = "accounts"
                column = "email"
                type = "text"
                """));
        assertEquals(ShardHash.textRemainder("42", SHARDS), text.shardOfKey("42"), "a text key is hashed as text");

        // No sharded table: an integer is a bigint, anything else text (as before sharded_tables).
        ShardingSchema none = ShardingSchema.of(pool(SHARDS, "", ""));
        assertEquals(List.of(), none.tables());
        assertNull(none.table(null, "users"));
        assertEquals(ShardHash.bigintRemainder(42, SHARDS), none.shardOfKey("42"));
        assertEquals(ShardHash.bigintRemainder(42, SHARDS), none.shardOfKey(" 42 "));
        assertEquals(ShardHash.textRemainder("abc", SHARDS), none.shardOfKey("abc"));
        assertEquals(ShardHash.textRemainder("99999999999999999999", SHARDS), none.shardOfKey("99999999999999999999"));
        ShardingSchema noneSha1 = ShardingSchema.of(pool(12, "sharding_function = \"sha1\"", ""));
        assertEquals(7, noneSha1.shardOfKey("1"));
        assertEquals((int) (2630932637L % 12), noneSha1.shardOfKey("abc"));
    }
}
