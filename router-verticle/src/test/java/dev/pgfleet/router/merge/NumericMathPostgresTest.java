package dev.pgfleet.router.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * NumericMath against PostgreSQL (testkit's first shard server): hundreds of random datasets
 * (ints, bigints, numerics of various scales, negative, large, tiny, constant, one row) spread
 * over three "shards"; each shard's count(x), sum(x::numeric), sum(x::numeric * x::numeric) as
 * PostgreSQL computes them are added with PgValues.add, and avg, var_samp, var_pop,
 * stddev_samp, stddev_pop, variance and stddev from those must equal PostgreSQL's own over all
 * rows, digit for digit and scale for scale. Division against numeric's {@code /}.
 */
class NumericMathPostgresTest {

    private static final int SHARDS = 3;

    static Connection db;

    @BeforeAll
    static void connect() throws SQLException {
        db = TestPostgres.shards().get(0).connectSuperuser(TestUsers.DATABASE);
        db.setAutoCommit(false);
    }

    @AfterAll
    static void close() throws SQLException {
        if (db != null) {
            db.rollback();
            db.close();
        }
    }

    /** Partial aggregates of one dataset, merged as the proxy merges the shards' rows. */
    static final class Partials {
        Object count;
        Object sumX;
        Object sumX2;
    }

    @Test
    void aggregatesOfRandomDatasets() throws SQLException {
        Random random = new Random(14);
        List<Integer> ds = new ArrayList<>();
        List<Integer> part = new ArrayList<>();
        List<String> xi = new ArrayList<>();
        List<String> xb = new ArrayList<>();
        List<String> xn = new ArrayList<>();
        int datasets = 400;
        for (int d = 0; d < datasets; d++) {
            int kind = d % 8;
            int n = d % 23 == 0 ? 1 : 1 + random.nextInt(kind == 7 ? 6 : 40);
            BigDecimal constant = value(random, 3);
            for (int i = 0; i < n; i++) {
                BigDecimal x = kind == 7 ? constant : value(random, kind);
                ds.add(d);
                part.add(random.nextInt(SHARDS));
                boolean integral = x.scale() == 0;
                xb.add(integral && x.unscaledValue().bitLength() < 64 ? x.toPlainString() : null);
                xi.add(integral && x.unscaledValue().bitLength() < 32 ? x.toPlainString() : null);
                xn.add(x.toPlainString());
            }
        }
        try (Statement s = db.createStatement()) {
            s.execute("CREATE TEMP TABLE nm (ds int, part int, xi int4, xb int8, xn numeric)");
        }
        try (PreparedStatement ps = db.prepareStatement("INSERT INTO nm SELECT * FROM unnest(?::int[], ?::int[], "
                + "?::int4[], ?::int8[], ?::numeric[])")) {
            ps.setArray(1, db.createArrayOf("int4", ds.toArray()));
            ps.setArray(2, db.createArrayOf("int4", part.toArray()));
            ps.setArray(3, db.createArrayOf("text", xi.toArray()));
            ps.setArray(4, db.createArrayOf("text", xb.toArray()));
            ps.setArray(5, db.createArrayOf("text", xn.toArray()));
            ps.executeUpdate();
        }
        int checked = 0;
        for (String column : List.of("xi", "xb", "xn")) {
            checked += checkColumn(column);
        }
        assertTrue(checked > 2 * datasets - 100, "datasets checked: " + checked);
    }

    /** A random numeric of a kind: small ints, bigints, scales 0..10, tiny, huge, mixed. */
    static BigDecimal value(Random random, int kind) {
        switch (kind) {
            case 0:
                return BigDecimal.valueOf(random.nextInt(2001) - 1000);
            case 1:
                return BigDecimal.valueOf(random.nextLong() >> random.nextInt(40));
            case 2:
                return BigDecimal.valueOf(random.nextInt(), random.nextInt(11));
            case 3:
                return new BigDecimal(new BigInteger(60, random).subtract(BigInteger.ONE.shiftLeft(59)),
                        random.nextInt(8));
            case 4:
                return BigDecimal.valueOf(random.nextInt(100000), 10 + random.nextInt(15));
            case 5:
                return new BigDecimal(new BigInteger(130, random), 2).negate();
            case 6:
                return BigDecimal.valueOf(random.nextInt(1000) - 500, random.nextInt(4))
                        .add(BigDecimal.valueOf(1_000_000_000));
            default:
                return BigDecimal.valueOf(random.nextInt(100000) - 50000, 3);
        }
    }

    private static int checkColumn(String c) throws SQLException {
        Map<Integer, Partials> merged = new HashMap<>();
        try (Statement s = db.createStatement();
                ResultSet rs = s.executeQuery("SELECT ds, count(" + c + "), sum(" + c + "::numeric)::text, sum(" + c
                        + "::numeric * " + c + "::numeric)::text FROM nm WHERE " + c + " IS NOT NULL GROUP BY ds, part")) {
            while (rs.next()) {
                Partials p = merged.computeIfAbsent(rs.getInt(1), k -> new Partials());
                p.count = PgValues.add(PgValues.INT8, p.count, rs.getLong(2));
                p.sumX = PgValues.add(PgValues.NUMERIC, p.sumX, new BigDecimal(rs.getString(3)));
                p.sumX2 = PgValues.add(PgValues.NUMERIC, p.sumX2, new BigDecimal(rs.getString(4)));
            }
        }
        int checked = 0;
        try (Statement s = db.createStatement();
                ResultSet rs = s.executeQuery("SELECT ds, avg(" + c + ")::text, var_samp(" + c + ")::text, var_pop(" + c
                        + ")::text, stddev_samp(" + c + ")::text, stddev_pop(" + c + ")::text, variance(" + c
                        + ")::text, stddev(" + c + ")::text FROM nm WHERE " + c + " IS NOT NULL GROUP BY ds")) {
            while (rs.next()) {
                int ds = rs.getInt(1);
                Partials p = merged.get(ds);
                long n = (Long) p.count;
                BigDecimal sumX = (BigDecimal) p.sumX;
                BigDecimal sumX2 = (BigDecimal) p.sumX2;
                String where = c + " dataset " + ds + " n=" + n;
                assertEquals(rs.getString(2), text(NumericMath.avg(sumX, n)), "avg " + where);
                assertEquals(rs.getString(3), text(NumericMath.variance(n, sumX, sumX2, true)), "var_samp " + where);
                assertEquals(rs.getString(4), text(NumericMath.variance(n, sumX, sumX2, false)), "var_pop " + where);
                assertEquals(rs.getString(5), text(NumericMath.stddev(n, sumX, sumX2, true)), "stddev_samp " + where);
                assertEquals(rs.getString(6), text(NumericMath.stddev(n, sumX, sumX2, false)), "stddev_pop " + where);
                assertEquals(rs.getString(7), text(NumericMath.variance(n, sumX, sumX2, true)), "variance " + where);
                assertEquals(rs.getString(8), text(NumericMath.stddev(n, sumX, sumX2, true)), "stddev " + where);
                checked++;
            }
        }
        assertEquals(merged.size(), checked);
        return checked;
    }

    private static String text(Object value) {
        return value == null ? null : PgValues.numericText((Number) value);
    }

    @Test
    void specialValues() throws SQLException {
        // numeric's NaN and infinities among the rows: PostgreSQL's avg and variance of them.
        List<List<String>> datasets = List.of(List.of("NaN", "1"), List.of("Infinity", "1.5"),
                List.of("-Infinity", "2", "3"), List.of("Infinity", "-Infinity"), List.of("Infinity"),
                List.of("Infinity", "Infinity"), List.of("NaN"), List.of("NaN", "NaN"), List.of("-Infinity"), List.of("1", "NaN", "Infinity"));
        int checked = 0;
        for (List<String> rows : datasets) {
            String values = "(VALUES ('" + String.join("'::numeric), ('", rows) + "'::numeric)) v(x)";
            String[] partial = new String[3];
            String[] whole = new String[7];
            try (Statement s = db.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT count(x)::text, sum(x)::text, sum(x * x)::text FROM " + values)) {
                    rs.next();
                    for (int i = 0; i < 3; i++) {
                        partial[i] = rs.getString(i + 1);
                    }
                }
                try (ResultSet rs = s.executeQuery("SELECT avg(x)::text, var_samp(x)::text, var_pop(x)::text, "
                        + "stddev_samp(x)::text, stddev_pop(x)::text FROM " + values)) {
                    rs.next();
                    for (int i = 0; i < 5; i++) {
                        whole[i] = rs.getString(i + 1);
                    }
                }
            }
            long n = Long.parseLong(partial[0]);
            Number sumX = numeric(partial[1]);
            Number sumX2 = numeric(partial[2]);
            String where = String.join(",", rows);
            assertEquals(whole[0], text(NumericMath.avg(sumX, n)), "avg " + where);
            assertEquals(whole[1], text(NumericMath.variance(n, sumX, sumX2, true)), "var_samp " + where);
            assertEquals(whole[2], text(NumericMath.variance(n, sumX, sumX2, false)), "var_pop " + where);
            assertEquals(whole[3], text(NumericMath.stddev(n, sumX, sumX2, true)), "stddev_samp " + where);
            assertEquals(whole[4], text(NumericMath.stddev(n, sumX, sumX2, false)), "stddev_pop " + where);
            checked++;
        }
        assertEquals(datasets.size(), checked);
        assertNull(NumericMath.avg(BigDecimal.ZERO, 0));
        assertNull(NumericMath.variance(0, BigDecimal.ZERO, BigDecimal.ZERO, false));
    }

    private static Number numeric(String text) {
        switch (text) {
            case "NaN": return Double.NaN;
            case "Infinity": return Double.POSITIVE_INFINITY;
            case "-Infinity": return Double.NEGATIVE_INFINITY;
            default: return new BigDecimal(text);
        }
    }

    @Test
    void divisionAsNumericDiv() throws SQLException {
        Random random = new Random(1701);
        List<String> a = new ArrayList<>();
        List<String> b = new ArrayList<>();
        String[][] fixed = {{"1", "3"}, {"2", "3"}, {"-2", "3"}, {"0", "7"}, {"0.000", "3"}, {"1", "0.0003"},
            {"10000", "1"}, {"9999", "10000"}, {"10000", "9999"}, {"1e-50", "3"}, {"1e50", "3"}, {"1", "1e50"},
            {"123456789012345678901234567890", "0.000001"}, {"5", "2"}, {"-5", "2"}, {"0.5", "0.25"},
            {"1.00", "3.0"}, {"22", "7"}, {"1", "1e-999"}, {"1e-990", "7"}};
        for (String[] pair : fixed) {
            a.add(pair[0]);
            b.add(pair[1]);
        }
        for (int i = 0; i < 500; i++) {
            a.add(PgValuesPostgresTest.randomNumeric(random));
            String divisor;
            do {
                divisor = PgValuesPostgresTest.randomNumeric(random);
            } while (new BigDecimal(divisor).signum() == 0);
            b.add(divisor);
        }
        int checked = 0;
        try (PreparedStatement ps = db.prepareStatement("SELECT a, b, (a::numeric / b::numeric)::text "
                + "FROM unnest(?::text[], ?::text[]) WITH ORDINALITY AS u(a, b, i) ORDER BY i")) {
            ps.setArray(1, db.createArrayOf("text", a.toArray()));
            ps.setArray(2, db.createArrayOf("text", b.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    BigDecimal x = normalized(rs.getString(1));
                    BigDecimal y = normalized(rs.getString(2));
                    assertEquals(rs.getString(3), NumericMath.divide(x, y).toPlainString(), x + " / " + y);
                    checked++;
                }
            }
        }
        assertEquals(a.size(), checked);
        String state = null;
        try (Statement s = db.createStatement()) {
            s.execute("SAVEPOINT z");
            s.executeQuery("SELECT 1.5::numeric / 0");
        } catch (SQLException e) {
            state = e.getSQLState();
            try (Statement s = db.createStatement()) {
                s.execute("ROLLBACK TO SAVEPOINT z");
            }
        }
        assertNotNull(state);
        String expected = state;
        MergeException e = assertThrows(MergeException.class,
                () -> NumericMath.divide(new BigDecimal("1.5"), BigDecimal.ZERO));
        assertEquals(expected, e.sqlState());
        assertEquals("division by zero", e.getMessage());
    }

    /** A literal as numeric reads it: "1e-50" has scale 50, "1e50" scale 0. */
    private static BigDecimal normalized(String literal) {
        BigDecimal v = new BigDecimal(literal);
        return v.scale() < 0 ? v.setScale(0) : v;
    }

    @Test
    void floatVarianceCloseToPostgres() throws SQLException {
        // PostgreSQL's float8 aggregates use the Youngs-Cramer algorithm over the rows; the merge
        // has only sums, so only the leading digits are compared, on well-conditioned data.
        Random random = new Random(7);
        int checked = 0;
        for (int d = 0; d < 50; d++) {
            int n = 2 + random.nextInt(30);
            List<String> xs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                xs.add(Double.toString(random.nextGaussian() * 100 + (d % 2 == 0 ? 0 : 10)));
            }
            try (PreparedStatement ps = db.prepareStatement("SELECT count(x), sum(x), sum(x * x), var_samp(x), "
                    + "var_pop(x), stddev_samp(x), stddev_pop(x) FROM unnest(?::float8[]) x")) {
                ps.setArray(1, db.createArrayOf("text", xs.toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    long count = rs.getLong(1);
                    double sumX = rs.getDouble(2);
                    double sumX2 = rs.getDouble(3);
                    assertClose(rs.getDouble(4), NumericMath.varianceFloat(count, sumX, sumX2, true));
                    assertClose(rs.getDouble(5), NumericMath.varianceFloat(count, sumX, sumX2, false));
                    assertClose(rs.getDouble(6), NumericMath.stddevFloat(count, sumX, sumX2, true));
                    assertClose(rs.getDouble(7), NumericMath.stddevFloat(count, sumX, sumX2, false));
                    checked++;
                }
            }
        }
        assertEquals(50, checked);
        assertNull(NumericMath.varianceFloat(1, 1, 1, true));
        assertEquals(0.0, NumericMath.varianceFloat(1, 1, 1, false));
    }

    private static void assertClose(double expected, Double actual) {
        assertNotNull(actual);
        assertEquals(expected, actual, Math.abs(expected) * 1e-9, "PostgreSQL " + expected + ", merged " + actual);
    }
}
