package dev.pgfleet.router.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * PgValues against PostgreSQL (testkit's first shard server). For every type, values (edge cases
 * and random ones) are cast by the server from text; the server's output function (the text
 * format of a DataRow under the session's TimeZone and extra_float_digits) and send function
 * (the binary format) give the bytes to decode; its ORDER BY and its {@code =} with the next
 * value give the order to match; its epoch (dates and timestamps) checks the decoded instant;
 * and for the types of merged aggregates the encoded bytes must equal the server's.
 */
class PgValuesPostgresTest {

    private static final int[] EXTRA_FLOAT_DIGITS = {3, 1, 0, -1, -4, -15};
    private static final String[] TIME_ZONES = {"UTC", "Asia/Kolkata", "America/St_Johns", "Asia/Kathmandu",
        "Europe/Amsterdam", "Pacific/Chatham", "America/Los_Angeles", "Africa/Monrovia", "PST8PDT", "<-03>+3"};

    static Connection db;

    /** One type: its oid, SQL name, output and send functions, whether PgValues.encode writes it. */
    record Type(int oid, String sql, String out, String send, boolean encodable) {
    }

    @BeforeAll
    static void connect() throws SQLException {
        db = TestPostgres.shards().get(0).connectSuperuser(TestUsers.DATABASE);
        try (Statement s = db.createStatement()) {
            s.execute("SET DateStyle = 'ISO, MDY'");
            s.execute("SET TimeZone = 'UTC'");
            s.execute("SET extra_float_digits = 1");
        }
    }

    @AfterAll
    static void close() throws SQLException {
        if (db != null) {
            db.close();
        }
    }

    // ------------------------------------------------------------------------------------------

    @Test
    void integers() throws SQLException {
        Random random = new Random(21);
        List<String> int2 = new ArrayList<>(List.of("-32768", "32767", "0", "-1", "1", "10", "-10", "255", "256"));
        List<String> int4 = new ArrayList<>(List.of("-2147483648", "2147483647", "0", "-1", "1", "65536"));
        List<String> int8 = new ArrayList<>(List.of("-9223372036854775808", "9223372036854775807", "0", "-1",
                "1", "4294967296", "-4294967297"));
        List<String> oid = new ArrayList<>(List.of("0", "1", "4294967295", "2147483647", "2147483648", "65535"));
        for (int i = 0; i < 200; i++) {
            int2.add(Short.toString((short) random.nextInt()));
            int4.add(Integer.toString(random.nextInt() >> random.nextInt(31)));
            int8.add(Long.toString(random.nextLong() >> random.nextInt(63)));
            oid.add(Long.toString(random.nextInt() & 0xFFFFFFFFL));
        }
        check(new Type(PgValues.INT2, "int2", "int2out", "int2send", true), int2);
        check(new Type(PgValues.INT4, "int4", "int4out", "int4send", true), int4);
        check(new Type(PgValues.INT8, "int8", "int8out", "int8send", true), int8);
        check(new Type(PgValues.OID, "oid", "oidout", "oidsend", false), oid);
    }

    @Test
    void numerics() throws SQLException {
        Random random = new Random(1700);
        List<String> values = new ArrayList<>(List.of("NaN", "Infinity", "-Infinity", "0", "0.00", "-0.0", "1",
                "1.0", "1.00", "-1", "-1.50", "1e-20", "-1e-20", "1e100", "9999", "10000", "9999.9999", "0.0001",
                "0.00009999", "12345678901234567890.123456789", "-12345678901234567890.123456789",
                "0.1", "0.10000", "1e1000", "1e-300", "99999999999999999999999999999999999.99999999999999999",
                "1234.5678", "123.45678", "12.345678", "1.2345678", "0.12345678", "100000000", "100000001"));
        for (int i = 0; i < 300; i++) {
            values.add(randomNumeric(random));
        }
        check(new Type(PgValues.NUMERIC, "numeric", "numeric_out", "numeric_send", true), values);
    }

    static String randomNumeric(Random random) {
        int digits = 1 + random.nextInt(random.nextBoolean() ? 8 : 40);
        BigInteger unscaled = new BigInteger(digits * 4, random);
        if (random.nextBoolean()) {
            unscaled = unscaled.negate();
        }
        int scale = random.nextInt(30) - 5;
        BigDecimal value = new BigDecimal(unscaled, scale);
        return value.scale() < 0 ? value.setScale(0).toPlainString() : value.toPlainString();
    }

    @Test
    void doubles() throws SQLException {
        Random random = new Random(701);
        List<String> values = new ArrayList<>(List.of("NaN", "Infinity", "-Infinity", "0", "-0", "1e-320",
                "4.9e-324", "-4.9e-324", "2.2250738585072014e-308", "2.2250738585072009e-308",
                "1.7976931348623157e308", "-1.7976931348623157e308", "1e15", "1e14", "999999999999999",
                "123456789012345", "1234567890123456", "0.0001", "0.00001", "0.000123456789", "1e20", "1e21",
                "1e22", "1e23", "0.1", "0.2", "0.3", "0.30000000000000004", "100", "1.5", "-1.5",
                "9007199254740993", "9007199254740992", "5e-324", "1e-5", "1e-4", "123.456", "2", "8",
                "1e16", "0.5", "0.25", "299792458", "6.02214076e23", "1.602176634e-19"));
        for (int i = 0; i < 300; i++) {
            double d;
            do {
                d = Double.longBitsToDouble(random.nextLong());
            } while (Double.isNaN(d) || Double.isInfinite(d));
            values.add(Double.toString(d));
            values.add(Double.toString(Math.round(random.nextGaussian() * 1e6) / Math.pow(10, random.nextInt(12))));
        }
        // Powers of ten and large integers: where a decimal often lies on a rounding-interval bound.
        for (int k = -323; k <= 308; k++) {
            values.add("1e" + k);
        }
        for (int i = 0; i < 200; i++) {
            values.add(Double.toString((double) (random.nextLong() >> random.nextInt(20))));
            values.add(Long.toString(random.nextLong() >> random.nextInt(20)));
        }
        check(new Type(PgValues.FLOAT8, "float8", "float8out", "float8send", true), values);
    }

    @Test
    void floats() throws SQLException {
        Random random = new Random(700);
        List<String> values = new ArrayList<>(List.of("NaN", "Infinity", "-Infinity", "0", "-0", "1e-45",
                "1.4e-45", "-1.4e-45", "1.17549435e-38", "1.1754942e-38", "3.4028235e38", "-3.4028235e38",
                "1e6", "100000", "999999", "1234567", "0.0001", "0.00001", "0.1", "0.2", "1.1", "16777217",
                "16777216", "1e10", "3.14159", "2.7182817", "100", "0.5", "1e-10", "7", "8388608"));
        for (int i = 0; i < 300; i++) {
            float f;
            do {
                f = Float.intBitsToFloat(random.nextInt());
            } while (Float.isNaN(f) || Float.isInfinite(f));
            values.add(Float.toString(f));
            values.add(Float.toString((float) (Math.round(random.nextGaussian() * 1e4) / Math.pow(10, random.nextInt(8)))));
        }
        for (int k = -45; k <= 38; k++) {
            values.add("1e" + k);
        }
        for (int i = 0; i < 200; i++) {
            values.add(Integer.toString(random.nextInt() >> random.nextInt(8)));
        }
        check(new Type(PgValues.FLOAT4, "float4", "float4out", "float4send", true), values);
    }

    @Test
    void booleans() throws SQLException {
        check(new Type(PgValues.BOOL, "bool", "boolout", "boolsend", true), List.of("t", "f", "true", "false"));
    }

    @Test
    void texts() throws SQLException {
        Random random = new Random(25);
        List<String> values = new ArrayList<>(List.of("", "a", "A", "b", "ab", "abc", "a b", "a\tb", "a\u0001",
                "Z", "z", "~", "\u007f", "\u0080", "é", "e", "E", "ä", "日本語", "日本", "\uFFFD", "\uE000",
                "\uFFFF".replace('\uFFFF', '\uFFEE'), "😀", "😀a", "a😀", "\uD800\uDC00", "\uDBFF\uDFFF", "ß", "ss",
                " ", "  ", "a ", "a  "));
        int[] pool = {'a', 'b', 'Z', ' ', 0xE9, 0x3B1, 0x65E5, 0xE000, 0xFFEE, 0xFFFD, 0x1F600, 0x10000, 0x10FFFD,
            0x20000, 0x7F, 0x1};
        for (int i = 0; i < 300; i++) {
            StringBuilder sb = new StringBuilder();
            int n = random.nextInt(12);
            for (int j = 0; j < n; j++) {
                sb.appendCodePoint(pool[random.nextInt(pool.length)]);
            }
            values.add(sb.toString());
        }
        StringBuilder longText = new StringBuilder();
        for (int i = 0; i < 5000; i++) {
            longText.appendCodePoint(pool[random.nextInt(pool.length)]);
        }
        values.add(longText.toString());
        values.add(longText + "a");
        check(new Type(PgValues.TEXT, "text", "textout", "textsend", false), values);
        check(new Type(PgValues.VARCHAR, "varchar", "varcharout", "varcharsend", false), values);
        check(new Type(PgValues.BPCHAR, "char(12)", "bpcharout", "bpcharsend", false), values);
        check(new Type(PgValues.BPCHAR, "bpchar", "bpcharout", "bpcharsend", false), values);
        List<String> names = new ArrayList<>();
        for (String v : values) {
            if (v.getBytes(StandardCharsets.UTF_8).length < 64) {
                names.add(v);
            }
        }
        check(new Type(PgValues.NAME, "name", "nameout", "namesend", false), names);
    }

    @Test
    void uuids() throws SQLException {
        Random random = new Random(2950);
        List<String> values = new ArrayList<>(List.of("00000000-0000-0000-0000-000000000000",
                "ffffffff-ffff-ffff-ffff-ffffffffffff", "80000000-0000-0000-0000-000000000000",
                "7fffffff-ffff-ffff-ffff-ffffffffffff", "00000000-0000-0000-8000-000000000000",
                "00000000-0000-0000-7fff-ffffffffffff", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"));
        for (int i = 0; i < 200; i++) {
            values.add(new UUID(random.nextLong(), random.nextLong()).toString());
        }
        check(new Type(PgValues.UUID_OID, "uuid", "uuid_out", "uuid_send", false), values);
    }

    @Test
    void dates() throws SQLException {
        Random random = new Random(1082);
        List<String> values = new ArrayList<>(List.of("infinity", "-infinity", "2000-01-01", "1970-01-01",
                "1999-12-31", "0044-03-15 BC", "4713-01-01 BC", "5874897-12-31", "10000-01-01", "9999-12-31",
                "0001-01-01", "0001-12-31 BC", "0002-01-01 BC", "2024-02-29", "1900-02-28"));
        for (int i = 0; i < 200; i++) {
            values.add(LocalDate.ofEpochDay(random.nextInt(4_000_000) - 2_000_000).toString()
                    .replace("+", ""));
        }
        check(new Type(PgValues.DATE, "date", "date_out", "date_send", false), fixYears(values));
    }

    @Test
    void timestamps() throws SQLException {
        List<String> values = timestampLiterals(new Random(1114), false);
        check(new Type(PgValues.TIMESTAMP, "timestamp", "timestamp_out", "timestamp_send", false), values);
    }

    @Test
    void timestampsWithTimeZone() throws SQLException {
        List<String> values = timestampLiterals(new Random(1184), true);
        try {
            for (String zone : TIME_ZONES) {
                try (Statement s = db.createStatement()) {
                    s.execute("SET TimeZone = '" + zone + "'");
                }
                check(new Type(PgValues.TIMESTAMPTZ, "timestamptz", "timestamptz_out", "timestamptz_send", false),
                        values);
            }
        } finally {
            try (Statement s = db.createStatement()) {
                s.execute("SET TimeZone = 'UTC'");
            }
        }
    }

    static List<String> timestampLiterals(Random random, boolean zoned) {
        List<String> values = new ArrayList<>(List.of("infinity", "-infinity", "2024-03-01 10:00:00.123456",
                "2000-01-01 00:00:00", "1999-12-31 23:59:59.999999", "1970-01-01 00:00:00", "4713-01-01 00:00:00 BC",
                zoned ? "294276-12-31 23:59:59.999999+00" : "294276-12-31 23:59:59.999999", "0044-03-15 12:34:56.5 BC", "0001-01-01 00:00:00",
                "0001-12-31 23:59:59.999999 BC", "1900-01-01 12:00:00", "1800-06-01 00:00:00.000001",
                "2024-03-31 02:30:00", "2024-10-27 02:30:00", "10000-01-01 00:00:00"));
        if (zoned) {
            values.addAll(List.of("2024-03-01 10:00:00.123456+05:30", "2024-03-01 10:00:00-03:30",
                    "1900-01-01 00:00:00+00:19:32", "2024-06-01 00:00:00+13"));
        }
        long min = LocalDateTime.of(-4000, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC);
        long max = LocalDateTime.of(200000, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC);
        long recent = LocalDateTime.of(1900, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC);
        long later = LocalDateTime.of(2100, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC);
        for (int i = 0; i < 200; i++) {
            long second = i % 2 == 0 ? min + (long) (random.nextDouble() * (max - min))
                    : recent + (long) (random.nextDouble() * (later - recent));
            int micros = random.nextInt(4) == 0 ? 0 : random.nextInt(1_000_000);
            LocalDateTime t = LocalDateTime.ofEpochSecond(second, micros * 1000, ZoneOffset.UTC);
            String text = isoYear(t.getYear()) + t.toString().substring(t.toString().indexOf('-', 1))
                    .replace('T', ' ');
            values.add(text + (zoned && random.nextBoolean() ? "+00" : ""));
        }
        return fixYears(values);
    }

    private static String isoYear(int year) {
        return String.format("%04d", year);
    }

    /** Proleptic years 0 and below written as PostgreSQL reads them: year 1 - y BC. */
    static List<String> fixYears(List<String> values) {
        List<String> out = new ArrayList<>();
        for (String v : values) {
            if (v.startsWith("-") && Character.isDigit(v.charAt(1)) || v.startsWith("0000-")) {
                int dash = v.indexOf('-', 1);
                int year = Integer.parseInt(v.substring(0, dash));
                String rest = v.substring(dash);
                int zone = rest.indexOf('+');
                String suffix = zone >= 0 ? rest.substring(zone) : "";
                rest = zone >= 0 ? rest.substring(0, zone) : rest;
                out.add(String.format("%04d", 1 - year) + rest + suffix + " BC");
            } else {
                out.add(v);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------

    /** A value as the server writes it: its text bytes, its send bytes, whether it equals the next. */
    record Row(byte[] text, byte[] binary, Boolean equalsNext, String epoch) {
    }

    private static void check(Type type, List<String> literals) throws SQLException {
        boolean floating = type.oid() == PgValues.FLOAT4 || type.oid() == PgValues.FLOAT8;
        int[] efds = floating ? EXTRA_FLOAT_DIGITS : new int[] {1};
        List<Row> reference = null;
        for (int efd : efds) {
            try (Statement s = db.createStatement()) {
                s.execute("SET extra_float_digits = " + efd);
            }
            List<Row> rows = query(type, literals);
            if (efd > 0) {
                checkDecodeAndOrder(type, rows);
                reference = rows;
            }
            if (type.encodable()) {
                checkEncode(type, rows, efd);
            }
        }
        try (Statement s = db.createStatement()) {
            s.execute("SET extra_float_digits = 1");
        }
        assertTrue(reference.size() >= Math.min(4, literals.size() / 2), type.sql() + ": rows " + reference.size());
    }

    private static List<Row> query(Type type, List<String> literals) throws SQLException {
        String collate = type.oid() == PgValues.TEXT || type.oid() == PgValues.VARCHAR
                || type.oid() == PgValues.BPCHAR || type.oid() == PgValues.NAME ? " COLLATE \"C\"" : "";
        String epoch;
        switch (type.oid()) {
            case PgValues.DATE:
                epoch = "CASE WHEN isfinite(v) THEN (v - date '2000-01-01')::text END";
                break;
            case PgValues.TIMESTAMP, PgValues.TIMESTAMPTZ:
                epoch = "CASE WHEN isfinite(v) THEN extract(epoch FROM v)::text END";
                break;
            default:
                epoch = "NULL::text";
        }
        String sql = "SELECT convert_to(textin(" + type.out() + "(v)), 'UTF8'), " + type.send() + "(v), "
                + "v = lead(v) OVER (ORDER BY v" + collate + "), " + epoch
                + " FROM (SELECT s::" + type.sql() + " AS v FROM unnest(?::text[]) AS u(s)) x ORDER BY v" + collate;
        List<Row> rows = new ArrayList<>();
        try (PreparedStatement ps = db.prepareStatement(sql)) {
            Array array = db.createArrayOf("text", literals.toArray());
            ps.setArray(1, array);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    boolean eq = rs.getBoolean(3);
                    rows.add(new Row(rs.getBytes(1), rs.getBytes(2), rs.wasNull() ? null : eq, rs.getString(4)));
                }
            }
        }
        return rows;
    }

    private static Object decode(int oid, boolean binary, byte[] bytes) {
        // Behind a few other bytes, to check decode reads at the index given, not the reader index.
        ByteBuf buf = Unpooled.buffer(bytes.length + 3);
        try {
            buf.writeBytes(new byte[] {9, 9, 9});
            buf.writeBytes(bytes);
            int before = buf.readerIndex();
            Object value = PgValues.decode(oid, binary, buf, 3, bytes.length);
            assertEquals(before, buf.readerIndex());
            return value;
        } finally {
            buf.release();
        }
    }

    private static void checkDecodeAndOrder(Type type, List<Row> rows) {
        int oid = type.oid();
        List<Object> values = new ArrayList<>();
        for (Row row : rows) {
            String text = new String(row.text(), StandardCharsets.UTF_8);
            Object fromText = decode(oid, false, row.text());
            Object fromBinary = decode(oid, true, row.binary());
            assertEquals(fromBinary, fromText, () -> type.sql() + " " + text);
            assertTrue(fromText != null && expectedClass(oid).isInstance(fromText), type.sql() + " " + text);
            // PostgreSQL's extract(epoch) loses the last microsecond near the end of the timestamp
            // range (294276-12-31 23:59:59.999999 gives 9224318016000.000000): not compared there.
            if (row.epoch() != null && epoch(fromText).abs().compareTo(BigDecimal.valueOf(9_000_000_000_000L)) < 0) {
                assertEquals(new BigDecimal(row.epoch()).stripTrailingZeros(), epoch(fromText).stripTrailingZeros(),
                        () -> type.sql() + " " + text);
            }
            values.add(fromText);
        }
        // The order: a shuffled copy sorted with compare lines up with ORDER BY, ties included.
        List<Object> sorted = new ArrayList<>(values);
        Collections.shuffle(sorted, new Random(oid));
        sorted.sort((a, b) -> PgValues.compare(oid, a, b));
        for (int i = 0; i < values.size(); i++) {
            Object mine = sorted.get(i);
            Object server = values.get(i);
            assertEquals(0, PgValues.compare(oid, mine, server),
                    () -> type.sql() + ": sorted " + mine + " where PostgreSQL has " + server);
            if (i + 1 < values.size()) {
                int c = PgValues.compare(oid, server, values.get(i + 1));
                Object next = values.get(i + 1);
                assertTrue(c <= 0, () -> type.sql() + ": " + server + " after " + next);
                assertEquals(rows.get(i).equalsNext(), c == 0, () -> type.sql() + ": " + server + " = " + next);
            }
        }
        if (oid != PgValues.BPCHAR) {
            for (int i = 0; i + 1 < values.size(); i++) {
                assertEquals(PgValues.compare(values.get(i), values.get(i + 1)),
                        -PgValues.compare(values.get(i + 1), values.get(i)));
            }
        }
    }

    private static Class<?> expectedClass(int oid) {
        switch (oid) {
            case PgValues.INT2, PgValues.INT4, PgValues.INT8, PgValues.OID: return Long.class;
            case PgValues.NUMERIC: return Number.class;
            case PgValues.FLOAT4, PgValues.FLOAT8: return Double.class;
            case PgValues.BOOL: return Boolean.class;
            case PgValues.DATE: return LocalDate.class;
            case PgValues.TIMESTAMP: return LocalDateTime.class;
            case PgValues.TIMESTAMPTZ: return Instant.class;
            case PgValues.UUID_OID: return UUID.class;
            default: return String.class;
        }
    }

    /** Days since 2000-01-01 for a date, seconds since 1970 for timestamps, as PostgreSQL gives them. */
    private static BigDecimal epoch(Object value) {
        if (value instanceof LocalDate) {
            return BigDecimal.valueOf(((LocalDate) value).toEpochDay() - 10957);
        }
        Instant instant = value instanceof LocalDateTime ? ((LocalDateTime) value).toInstant(ZoneOffset.UTC)
                : (Instant) value;
        return BigDecimal.valueOf(instant.getEpochSecond()).add(BigDecimal.valueOf(instant.getNano(), 9));
    }

    private static void checkEncode(Type type, List<Row> rows, int efd) {
        for (Row row : rows) {
            Object value = decode(type.oid(), true, row.binary());
            String text = new String(row.text(), StandardCharsets.UTF_8);
            assertArrayEquals(row.text(), encode(type.oid(), false, value, efd),
                    () -> type.sql() + " text, extra_float_digits " + efd + ": PostgreSQL " + text + ", PgValues "
                            + new String(encode(type.oid(), false, value, efd), StandardCharsets.UTF_8));
            assertArrayEquals(row.binary(), encode(type.oid(), true, value, efd),
                    () -> type.sql() + " binary " + text + ": PostgreSQL " + ByteBufUtil.hexDump(row.binary())
                            + ", PgValues " + ByteBufUtil.hexDump(encode(type.oid(), true, value, efd)));
        }
    }

    static byte[] encode(int oid, boolean binary, Object value, int efd) {
        ByteBuf out = Unpooled.buffer();
        try {
            PgValues.encode(oid, binary, value, out, efd);
            return ByteBufUtil.getBytes(out);
        } finally {
            out.release();
        }
    }

    // ------------------------------------------------------------------------------------------

    @Test
    void sumsAsPostgres() throws SQLException {
        // Partial sums added as the server adds them: int8 (its overflow error), numeric (its
        // scale and special values), float4 and float8 (in their own precision).
        Random random = new Random(14);
        List<String[]> pairs = new ArrayList<>();
        pairs.add(new String[] {"9223372036854775807", "1", "int8"});
        pairs.add(new String[] {"-9223372036854775808", "-1", "int8"});
        pairs.add(new String[] {"9223372036854775807", "-9223372036854775808", "int8"});
        pairs.add(new String[] {"NaN", "1.5", "numeric"});
        pairs.add(new String[] {"Infinity", "-Infinity", "numeric"});
        pairs.add(new String[] {"Infinity", "1e100", "numeric"});
        pairs.add(new String[] {"-Infinity", "-Infinity", "numeric"});
        pairs.add(new String[] {"1.50", "-1.5", "numeric"});
        pairs.add(new String[] {"3.4028235e38", "3.4028235e38", "float4"});
        pairs.add(new String[] {"1.7976931348623157e308", "1e308", "float8"});
        pairs.add(new String[] {"Infinity", "1", "float8"});
        pairs.add(new String[] {"0.1", "0.2", "float4"});
        for (int i = 0; i < 100; i++) {
            pairs.add(new String[] {Long.toString(random.nextLong() >> random.nextInt(64)),
                Long.toString(random.nextLong() >> random.nextInt(64)), "int8"});
            pairs.add(new String[] {randomNumeric(random), randomNumeric(random), "numeric"});
            pairs.add(new String[] {Float.toString((float) random.nextGaussian() * 1000),
                Float.toString((float) random.nextGaussian()), "float4"});
            pairs.add(new String[] {Double.toString(random.nextGaussian() * 1e10),
                Double.toString(random.nextGaussian()), "float8"});
        }
        try (Statement s = db.createStatement()) {
            s.execute("SET extra_float_digits = 1");
        }
        int checked = 0;
        for (String[] pair : pairs) {
            Type type = switch (pair[2]) {
                case "int8" -> new Type(PgValues.INT8, "int8", "int8out", "int8send", true);
                case "numeric" -> new Type(PgValues.NUMERIC, "numeric", "numeric_out", "numeric_send", true);
                case "float4" -> new Type(PgValues.FLOAT4, "float4", "float4out", "float4send", true);
                default -> new Type(PgValues.FLOAT8, "float8", "float8out", "float8send", true);
            };
            Object a = decode(type.oid(), true, sendOf(type, pair[0]));
            Object b = decode(type.oid(), true, sendOf(type, pair[1]));
            byte[] expected;
            String state = null;
            try (PreparedStatement ps = db.prepareStatement("SELECT " + type.send() + "(?::" + type.sql() + " + ?::"
                    + type.sql() + ")")) {
                ps.setString(1, pair[0]);
                ps.setString(2, pair[1]);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    expected = rs.getBytes(1);
                }
            } catch (SQLException e) {
                expected = null;
                state = e.getSQLState();
            }
            if (expected == null) {
                MergeException e = assertThrows(MergeException.class, () -> PgValues.add(type.oid(), a, b),
                        () -> String.join(" + ", pair));
                assertEquals(state, e.sqlState(), e.getMessage());
            } else {
                Object sum = PgValues.add(type.oid(), a, b);
                assertArrayEquals(expected, encode(type.oid(), true, sum, 1), () -> String.join(" + ", pair));
                assertEquals(sum, PgValues.add(type.oid(), b, a));
            }
            checked++;
        }
        assertEquals(pairs.size(), checked);
        assertEquals(5L, PgValues.add(PgValues.INT8, null, 5L));
        assertEquals(5L, PgValues.add(PgValues.INT8, 5L, null));
    }

    private static byte[] sendOf(Type type, String literal) throws SQLException {
        try (PreparedStatement ps = db.prepareStatement("SELECT " + type.send() + "(?::" + type.sql() + ")")) {
            ps.setString(1, literal);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBytes(1);
            }
        }
    }

    @Test
    void unreadableValuesFailWithTheirType() {
        MergeException e = assertThrows(MergeException.class,
                () -> decode(PgValues.INT4, false, "12x".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("22P02", e.sqlState());
        assertTrue(e.getMessage().contains("integer"), e.getMessage());
        e = assertThrows(MergeException.class, () -> decode(PgValues.NUMERIC, true, new byte[] {0, 1}));
        assertEquals("22P03", e.sqlState());
        assertTrue(e.getMessage().contains("numeric"), e.getMessage());
        e = assertThrows(MergeException.class, () -> decode(17, true, new byte[] {0, 1}));
        assertEquals("0A000", e.sqlState());
        e = assertThrows(MergeException.class,
                () -> decode(PgValues.TIMESTAMPTZ, false, "2024-03-01 10:00:00".getBytes(StandardCharsets.US_ASCII)));
        assertTrue(e.getMessage().contains("timestamp with time zone"), e.getMessage());
        assertFalse(PgValues.known(17));
        assertTrue(PgValues.known(PgValues.UUID_OID));
        assertTrue(Objects.equals(PgValues.typeName(PgValues.FLOAT8), "double precision"));
    }
}
