package dev.pgfleet.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link ShardHash} against a real PostgreSQL (testkit's first shard server, UTF-8, locale C):
 * the raw hash functions against PostgreSQL's SQL-callable {@code hashint8extended} and
 * {@code hashtextextended}, and the remainders against where PostgreSQL itself routes each key
 * when it is inserted into a table {@code PARTITION BY HASH} with modulus 2, 3, 5 and 8; bigint,
 * text and uuid keys, 10,000 random ones of each beside the edge cases.
 */
class ShardHashTest {

    /** Keys per comparison: edge values first, then random ones over the whole range and near 0. */
    static final int RANDOM_BIGINTS = 10_000;
    static final int RANDOM_TEXTS = 10_000;
    static final int RANDOM_UUIDS = 10_000;

    static Connection db;
    static List<Long> bigints;
    static List<String> texts;

    @BeforeAll
    static void connect() throws SQLException {
        db = TestPostgres.shards().get(0).connectSuperuser(TestUsers.DATABASE);
        bigints = bigintKeys();
        texts = textKeys();
    }

    @AfterAll
    static void close() throws SQLException {
        if (db != null) {
            db.close();
        }
    }

    @Test
    void int8HashEqualsPostgresHashint8extended() throws SQLException {
        Map<Long, long[]> pg = new HashMap<>();
        try (PreparedStatement ps = db.prepareStatement(
                "SELECT k, hashint8extended(k, ?), hashint8extended(k, 0) FROM unnest(?::int8[]) AS k")) {
            ps.setLong(1, ShardHash.HASH_PARTITION_SEED);
            ps.setArray(2, bigintArray());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    pg.put(rs.getLong(1), new long[] {rs.getLong(2), rs.getLong(3)});
                }
            }
        }
        assertEquals(bigints.size(), pg.size());
        for (long k : bigints) {
            long[] expected = pg.get(k);
            assertEquals(expected[0], ShardHash.hashInt8Extended(k, ShardHash.HASH_PARTITION_SEED), "seeded, key " + k);
            assertEquals(expected[1], ShardHash.hashInt8Extended(k, 0), "seed 0, key " + k);
        }
    }

    @Test
    void textHashEqualsPostgresHashtextextended() throws SQLException {
        Map<String, long[]> pg = new HashMap<>();
        try (PreparedStatement ps = db.prepareStatement(
                "SELECT k, hashtextextended(k, ?), hashtextextended(k, 0) FROM unnest(?::text[]) AS k")) {
            ps.setLong(1, ShardHash.HASH_PARTITION_SEED);
            ps.setArray(2, db.createArrayOf("text", texts.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    pg.put(rs.getString(1), new long[] {rs.getLong(2), rs.getLong(3)});
                }
            }
        }
        assertEquals(texts.size(), pg.size());
        for (String k : texts) {
            byte[] utf8 = k.getBytes(StandardCharsets.UTF_8);
            long[] expected = pg.get(k);
            assertEquals(expected[0], ShardHash.hashBytesExtended(utf8, 0, utf8.length, ShardHash.HASH_PARTITION_SEED),
                    "seeded, key \"" + k + "\"");
            assertEquals(expected[1], ShardHash.hashBytesExtended(utf8, 0, utf8.length, 0), "seed 0, key \"" + k + "\"");
        }
    }

    @ParameterizedTest(name = "modulus {0}")
    @ValueSource(ints = {2, 3, 5, 8})
    void bigintRemaindersAreWherePostgresRoutesTheRow(int modulus) throws SQLException {
        Map<String, Integer> pg = routeInPostgres("int8", modulus, bigintArray());
        assertEquals(bigints.size(), pg.size());
        int[] perPartition = new int[modulus];
        for (long k : bigints) {
            int expected = pg.get(Long.toString(k));
            assertEquals(expected, ShardHash.bigintRemainder(k, modulus), "key " + k + ", modulus " + modulus);
            perPartition[expected]++;
        }
        assertEveryPartitionUsed(perPartition);
    }

    @Test
    void intColumnsRouteAsTheSameNumberAsBigint() throws SQLException {
        List<Integer> ints = new ArrayList<>();
        for (long k : bigints) {
            if (k == (int) k) {
                ints.add((int) k);
            }
        }
        assertTrue(ints.size() > 500, "enough keys in int range: " + ints.size());
        Map<String, Integer> pg = routeInPostgres("int4", 3, db.createArrayOf("int4", ints.toArray()));
        for (int k : ints) {
            assertEquals(pg.get(Integer.toString(k)), ShardHash.bigintRemainder(k, 3), "int key " + k);
        }
    }

    @ParameterizedTest(name = "modulus {0}")
    @ValueSource(ints = {2, 3, 5, 8})
    void textRemaindersAreWherePostgresRoutesTheRow(int modulus) throws SQLException {
        Map<String, Integer> pg = routeInPostgres("text", modulus, db.createArrayOf("text", texts.toArray()));
        assertEquals(texts.size(), pg.size());
        int[] perPartition = new int[modulus];
        byte[] buf = new byte[256];
        for (String k : texts) {
            int expected = pg.get(k);
            assertEquals(expected, ShardHash.textRemainder(k, modulus), "key \"" + k + "\", modulus " + modulus);
            // The allocation-free form, on bytes at an offset inside a larger array.
            byte[] utf8 = k.getBytes(StandardCharsets.UTF_8);
            System.arraycopy(utf8, 0, buf, 7, utf8.length);
            assertEquals(expected, ShardHash.textRemainder(buf, 7, utf8.length, modulus), "key \"" + k + "\" at offset 7");
            perPartition[expected]++;
        }
        assertEveryPartitionUsed(perPartition);
    }

    @ParameterizedTest(name = "modulus {0}")
    @ValueSource(ints = {2, 3, 5, 8})
    void uuidRemaindersAreWherePostgresRoutesTheRow(int modulus) throws SQLException {
        List<java.util.UUID> uuids = uuidKeys();
        Map<String, Integer> pg = routeInPostgres("uuid", modulus, db.createArrayOf("uuid", uuids.toArray()));
        assertEquals(uuids.size(), pg.size());
        int[] perPartition = new int[modulus];
        byte[] buf = new byte[20];
        for (java.util.UUID k : uuids) {
            int expected = pg.get(k.toString());
            java.nio.ByteBuffer.wrap(buf, 3, 16).putLong(k.getMostSignificantBits()).putLong(k.getLeastSignificantBits());
            assertEquals(expected, ShardHash.uuidRemainder(buf, 3, modulus), "key " + k + ", modulus " + modulus);
            perPartition[expected]++;
        }
        assertEveryPartitionUsed(perPartition);
    }

    /** The nil and max uuids, then random ones (version 4 and fully random bits). */
    static List<java.util.UUID> uuidKeys() {
        Set<java.util.UUID> keys = new LinkedHashSet<>();
        keys.add(new java.util.UUID(0, 0));
        keys.add(new java.util.UUID(-1, -1));
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < RANDOM_UUIDS; i++) {
            keys.add(i % 2 == 0 ? new java.util.UUID(random.nextLong(), random.nextLong())
                : new java.util.UUID((random.nextLong() & ~0xF000L) | 0x4000L,
                    (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L));
        }
        return new ArrayList<>(keys);
    }

    @Test
    void badArguments() {
        assertThrows(IllegalArgumentException.class, () -> ShardHash.bigintRemainder(1, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> ShardHash.textRemainder(new byte[4], 2, 3, 2));
        assertEquals(0, ShardHash.bigintRemainder(42, 1));
    }

    /**
     * Inserts the keys into a temporary table {@code PARTITION BY HASH (k)} with one partition per
     * remainder of {@code modulus} and returns, per key (as text), the remainder of the partition
     * PostgreSQL put its row in.
     */
    private static Map<String, Integer> routeInPostgres(String type, int modulus, Array keys) throws SQLException {
        String table = "hashed_" + type + "_" + modulus;
        try (Statement st = db.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + table);
            st.execute("CREATE TEMP TABLE " + table + " (k " + type + ") PARTITION BY HASH (k)");
            for (int r = 0; r < modulus; r++) {
                st.execute("CREATE TEMP TABLE " + table + "_r" + r + " PARTITION OF " + table
                        + " FOR VALUES WITH (MODULUS " + modulus + ", REMAINDER " + r + ")");
            }
        }
        try (PreparedStatement ps = db.prepareStatement("INSERT INTO " + table + " SELECT unnest(?)")) {
            ps.setArray(1, keys);
            ps.executeUpdate();
        }
        Map<String, Integer> where = new HashMap<>();
        try (Statement st = db.createStatement();
             ResultSet rs = st.executeQuery("SELECT t.k::text, p.relname FROM " + table + " t"
                     + " JOIN pg_class p ON p.oid = t.tableoid")) {
            while (rs.next()) {
                String partition = rs.getString(2);
                where.put(rs.getString(1), Integer.parseInt(partition.substring(partition.lastIndexOf("_r") + 2)));
            }
        }
        try (Statement st = db.createStatement()) {
            st.execute("DROP TABLE " + table);
        }
        return where;
    }

    private static void assertEveryPartitionUsed(int[] perPartition) {
        for (int r = 0; r < perPartition.length; r++) {
            assertTrue(perPartition[r] > 0, "no key in remainder " + r);
        }
    }

    private static Array bigintArray() throws SQLException {
        return db.createArrayOf("int8", bigints.toArray());
    }

    /** 0, +-1, the int and long limits, powers of two and their neighbours, then random keys. */
    static List<Long> bigintKeys() {
        Set<Long> keys = new LinkedHashSet<>();
        long[] edges = {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE + 1L, Integer.MIN_VALUE - 1L,
            0xFFFFFFFFL, 0x100000000L, -0x100000000L, Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - 1, Long.MIN_VALUE + 1};
        for (long e : edges) {
            keys.add(e);
        }
        for (int bit = 0; bit < 63; bit++) {
            long p = 1L << bit;
            keys.add(p);
            keys.add(p - 1);
            keys.add(p + 1);
            keys.add(-p);
            keys.add(-p - 1);
        }
        SplittableRandom random = new SplittableRandom(20261122);
        for (int i = 0; i < RANDOM_BIGINTS; i++) {
            switch (i % 3) {
                case 0 -> keys.add(random.nextLong());
                case 1 -> keys.add(random.nextLong(-1_000_000, 1_000_000));
                default -> keys.add((long) random.nextInt());
            }
        }
        return new ArrayList<>(keys);
    }

    /**
     * Every length from 0 to 40 bytes (each tail case of the 12-byte chunks, several chunks),
     * multi-byte UTF-8 (2, 3 and 4 bytes), then random strings. No NUL: text cannot hold one.
     */
    static List<String> textKeys() {
        Set<String> keys = new LinkedHashSet<>();
        StringBuilder sb = new StringBuilder();
        for (int len = 0; len <= 40; len++) {
            keys.add(sb.toString());
            sb.append((char) ('a' + len % 26));
        }
        keys.addAll(List.of("é", "ü-key", "日本語のキー", "\uD83D\uDE00", "key-\uD83D\uDE80-42", "user:42", "tenant_00000017",
            "550e8400-e29b-41d4-a716-446655440000", "\u007f\u0080\u07ff\u0800\uffff"));
        SplittableRandom random = new SplittableRandom(42);
        String[] alphabet = {"a", "Z", "0", "_", "-", " ", "é", "ß", "€", "日", "\uD83D\uDE00", "\u00ff"};
        for (int i = 0; i < RANDOM_TEXTS; i++) {
            sb.setLength(0);
            int len = random.nextInt(0, 60);
            for (int c = 0; c < len; c++) {
                if (random.nextInt(4) == 0) {
                    sb.append(alphabet[random.nextInt(alphabet.length)]);
                } else {
                    sb.append((char) random.nextInt(0x21, 0x7f));
                }
            }
            keys.add(sb.toString());
        }
        return new ArrayList<>(keys);
    }
}
