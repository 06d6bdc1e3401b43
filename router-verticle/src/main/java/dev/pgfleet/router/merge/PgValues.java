package dev.pgfleet.router.merge;

import io.netty.buffer.ByteBuf;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.UUID;

/**
 * The column values a cross-shard merge reads from the shards' DataRows and writes back to the
 * client, in the Java representation of design 14 (NULL is {@code null}; int2/int4/int8/oid
 * {@code Long}; numeric {@code BigDecimal} with PostgreSQL's display scale, its NaN and
 * infinities as {@code Double}; float4/float8 {@code Double}; text types {@code String}; bool
 * {@code Boolean}; date {@code LocalDate}; timestamp {@code LocalDateTime}; timestamptz
 * {@code Instant}; uuid {@code UUID}).
 *
 * <p>Text format is what PostgreSQL's output functions write with the default DateStyle
 * {@code ISO, MDY} (any TimeZone; any extra_float_digits); binary format is each type's
 * {@code send} function (protocol section 53.2.3, "Formats and Format Codes"). Comparison is
 * PostgreSQL's btree order for the type; encoding is byte-identical to PostgreSQL's output and
 * send functions for the types merged aggregates produce.
 */
public final class PgValues {
    public static final int BOOL = 16;
    public static final int NAME = 19;
    public static final int INT8 = 20;
    public static final int INT2 = 21;
    public static final int INT4 = 23;
    public static final int TEXT = 25;
    public static final int OID = 26;
    public static final int FLOAT4 = 700;
    public static final int FLOAT8 = 701;
    public static final int BPCHAR = 1042;
    public static final int VARCHAR = 1043;
    public static final int DATE = 1082;
    public static final int TIMESTAMP = 1114;
    public static final int TIMESTAMPTZ = 1184;
    public static final int NUMERIC = 1700;
    public static final int UUID_OID = 2950;

    /** PostgreSQL's epoch (2000-01-01) in days and seconds of the Unix epoch. */
    private static final long PG_EPOCH_DAY = 10957;
    private static final long PG_EPOCH_SECOND = PG_EPOCH_DAY * 86400;

    /** The sign words of numeric's send format (src/include/utils/numeric.h's NUMERIC_POS...). */
    private static final int NUMERIC_POS = 0x0000;
    private static final int NUMERIC_NEG = 0x4000;
    private static final int NUMERIC_NAN = 0xC000;
    private static final int NUMERIC_PINF = 0xD000;
    private static final int NUMERIC_NINF = 0xF000;
    private static final BigInteger NBASE = BigInteger.valueOf(10000);

    /** float8out/float4out use %g below extra_float_digits 1 with DBL_DIG / FLT_DIG digits. */
    private static final int DBL_DIG = 15;
    private static final int FLT_DIG = 6;
    private static final MathContext[] FLOOR = new MathContext[18];
    private static final MathContext[] CEILING = new MathContext[18];

    static {
        for (int digits = 1; digits < FLOOR.length; digits++) {
            FLOOR[digits] = new MathContext(digits, RoundingMode.FLOOR);
            CEILING[digits] = new MathContext(digits, RoundingMode.CEILING);
        }
    }

    private PgValues() {
    }

    /** Whether the merge can decode, compare and group values of this type. */
    public static boolean known(int oid) {
        switch (oid) {
            case BOOL, NAME, INT8, INT2, INT4, TEXT, OID, FLOAT4, FLOAT8, BPCHAR, VARCHAR, DATE, TIMESTAMP,
                    TIMESTAMPTZ, NUMERIC, UUID_OID:
                return true;
            default:
                return false;
        }
    }

    /** The type's SQL name, for messages. */
    public static String typeName(int oid) {
        switch (oid) {
            case BOOL: return "boolean";
            case NAME: return "name";
            case INT8: return "bigint";
            case INT2: return "smallint";
            case INT4: return "integer";
            case TEXT: return "text";
            case OID: return "oid";
            case FLOAT4: return "real";
            case FLOAT8: return "double precision";
            case BPCHAR: return "character";
            case VARCHAR: return "character varying";
            case DATE: return "date";
            case TIMESTAMP: return "timestamp without time zone";
            case TIMESTAMPTZ: return "timestamp with time zone";
            case NUMERIC: return "numeric";
            case UUID_OID: return "uuid";
            default: return "type with oid " + (oid & 0xFFFFFFFFL);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Decoding

    /**
     * One column value of a DataRow: the {@code length} bytes at {@code index} of {@code buf}
     * (not a NULL: the caller maps length -1 to null). Does not move the buffer's indexes.
     *
     * @throws MergeException 0A000 for a type the merge does not know, 22P02 / 22P03 for bytes
     *     that are not a value of the type
     */
    public static Object decode(int oid, boolean binary, ByteBuf buf, int index, int length) {
        return binary ? decodeBinary(oid, buf, index, length) : decodeText(oid, buf, index, length);
    }

    private static Object decodeText(int oid, ByteBuf buf, int index, int length) {
        switch (oid) {
            case INT8, INT4, INT2, OID:
                return parseLong(oid, buf, index, length);
            case TEXT, VARCHAR, BPCHAR, NAME:
                return buf.toString(index, length, StandardCharsets.UTF_8);
            case NUMERIC:
                return parseNumeric(buf, index, length);
            case FLOAT8, FLOAT4:
                return parseFloat(oid, buf, index, length);
            case BOOL:
                if (length == 1) {
                    byte b = buf.getByte(index);
                    if (b == 't') {
                        return Boolean.TRUE;
                    }
                    if (b == 'f') {
                        return Boolean.FALSE;
                    }
                }
                throw badText(oid);
            case DATE:
                return new DateTimeText(oid, buf, index, length).date();
            case TIMESTAMP:
                return new DateTimeText(oid, buf, index, length).timestamp();
            case TIMESTAMPTZ:
                return new DateTimeText(oid, buf, index, length).timestamptz();
            case UUID_OID:
                return parseUuid(buf, index, length);
            default:
                throw unknownType(oid);
        }
    }

    private static Object decodeBinary(int oid, ByteBuf buf, int index, int length) {
        switch (oid) {
            case INT8:
                checkLength(oid, length, 8);
                return buf.getLong(index);
            case INT4:
                checkLength(oid, length, 4);
                return (long) buf.getInt(index);
            case INT2:
                checkLength(oid, length, 2);
                return (long) buf.getShort(index);
            case OID:
                checkLength(oid, length, 4);
                return buf.getUnsignedInt(index);
            case TEXT, VARCHAR, BPCHAR, NAME:
                return buf.toString(index, length, StandardCharsets.UTF_8);
            case NUMERIC:
                return readNumericBinary(buf, index, length);
            case FLOAT8:
                checkLength(oid, length, 8);
                return buf.getDouble(index);
            case FLOAT4:
                checkLength(oid, length, 4);
                return (double) buf.getFloat(index);
            case BOOL:
                checkLength(oid, length, 1);
                return buf.getByte(index) != 0;
            case DATE: {
                checkLength(oid, length, 4);
                int days = buf.getInt(index);
                if (days == Integer.MAX_VALUE) {
                    return LocalDate.MAX;
                }
                if (days == Integer.MIN_VALUE) {
                    return LocalDate.MIN;
                }
                return LocalDate.ofEpochDay(PG_EPOCH_DAY + days);
            }
            case TIMESTAMP: {
                checkLength(oid, length, 8);
                long micros = buf.getLong(index);
                if (micros == Long.MAX_VALUE) {
                    return LocalDateTime.MAX;
                }
                if (micros == Long.MIN_VALUE) {
                    return LocalDateTime.MIN;
                }
                return LocalDateTime.ofEpochSecond(PG_EPOCH_SECOND + Math.floorDiv(micros, 1_000_000L),
                        (int) Math.floorMod(micros, 1_000_000L) * 1000, ZoneOffset.UTC);
            }
            case TIMESTAMPTZ: {
                checkLength(oid, length, 8);
                long micros = buf.getLong(index);
                if (micros == Long.MAX_VALUE) {
                    return Instant.MAX;
                }
                if (micros == Long.MIN_VALUE) {
                    return Instant.MIN;
                }
                return Instant.ofEpochSecond(PG_EPOCH_SECOND + Math.floorDiv(micros, 1_000_000L),
                        Math.floorMod(micros, 1_000_000L) * 1000);
            }
            case UUID_OID:
                checkLength(oid, length, 16);
                return new UUID(buf.getLong(index), buf.getLong(index + 8));
            default:
                throw unknownType(oid);
        }
    }

    private static void checkLength(int oid, int length, int expected) {
        if (length != expected) {
            throw badBinary(oid);
        }
    }

    private static Long parseLong(int oid, ByteBuf buf, int index, int length) {
        int i = index;
        int end = index + length;
        boolean negative = false;
        if (i < end && (buf.getByte(i) == '-' || buf.getByte(i) == '+')) {
            negative = buf.getByte(i) == '-';
            i++;
        }
        if (i == end || end - i > 19) {
            throw badText(oid);
        }
        // Accumulated negative so Long.MIN_VALUE fits (int8out writes "-9223372036854775808").
        long value = 0;
        for (; i < end; i++) {
            int d = buf.getByte(i) - '0';
            if (d < 0 || d > 9) {
                throw badText(oid);
            }
            if (value < (Long.MIN_VALUE + d) / 10) {
                throw badText(oid);
            }
            value = value * 10 - d;
        }
        if (!negative) {
            if (value == Long.MIN_VALUE) {
                throw badText(oid);
            }
            value = -value;
        }
        return value;
    }

    private static Object parseNumeric(ByteBuf buf, int index, int length) {
        if (length == 3 && buf.getByte(index) == 'N') {
            if (ascii(buf, index, length).equals("NaN")) {
                return Double.NaN;
            }
        } else if (length == 8 || length == 9) {
            String s = ascii(buf, index, length);
            if (s.equals("Infinity")) {
                return Double.POSITIVE_INFINITY;
            }
            if (s.equals("-Infinity")) {
                return Double.NEGATIVE_INFINITY;
            }
        }
        char[] chars = new char[length];
        for (int i = 0; i < length; i++) {
            chars[i] = (char) (buf.getByte(index + i) & 0xFF);
        }
        try {
            BigDecimal value = new BigDecimal(chars);
            return value.scale() < 0 ? value.setScale(0) : value;
        } catch (NumberFormatException e) {
            throw badText(NUMERIC);
        }
    }

    private static Double parseFloat(int oid, ByteBuf buf, int index, int length) {
        String s = ascii(buf, index, length);
        try {
            // Java reads all of float8out's spellings: "NaN", "Infinity", "-Infinity", "-0", "1e+20".
            return oid == FLOAT4 ? (double) Float.parseFloat(s) : Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw badText(oid);
        }
    }

    private static UUID parseUuid(ByteBuf buf, int index, int length) {
        // uuid_out: 8-4-4-4-12 lower-case hex digits.
        if (length != 36) {
            throw badText(UUID_OID);
        }
        long high = 0;
        long low = 0;
        int digits = 0;
        for (int i = 0; i < 36; i++) {
            byte b = buf.getByte(index + i);
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                if (b != '-') {
                    throw badText(UUID_OID);
                }
                continue;
            }
            int d = Character.digit(b, 16);
            if (d < 0) {
                throw badText(UUID_OID);
            }
            if (digits < 16) {
                high = high << 4 | d;
            } else {
                low = low << 4 | d;
            }
            digits++;
        }
        return new UUID(high, low);
    }

    private static String ascii(ByteBuf buf, int index, int length) {
        return buf.toString(index, length, StandardCharsets.ISO_8859_1);
    }

    /** numeric_send: int16 ndigits, int16 weight, uint16 sign, int16 dscale, ndigits int16 base-10000 digits. */
    private static Object readNumericBinary(ByteBuf buf, int index, int length) {
        if (length < 8) {
            throw badBinary(NUMERIC);
        }
        int ndigits = buf.getUnsignedShort(index);
        int weight = buf.getShort(index + 2);
        int sign = buf.getUnsignedShort(index + 4);
        int dscale = buf.getUnsignedShort(index + 6);
        if (length != 8 + 2 * ndigits || (dscale & 0xC000) != 0) {
            throw badBinary(NUMERIC);
        }
        switch (sign) {
            case NUMERIC_NAN:
                return Double.NaN;
            case NUMERIC_PINF:
                return Double.POSITIVE_INFINITY;
            case NUMERIC_NINF:
                return Double.NEGATIVE_INFINITY;
            case NUMERIC_POS, NUMERIC_NEG:
                break;
            default:
                throw badBinary(NUMERIC);
        }
        // The digits as one integer, times 10000^(weight - ndigits + 1).
        BigInteger unscaled;
        if (ndigits <= 4) {
            long v = 0;
            for (int i = 0; i < ndigits; i++) {
                v = v * 10000 + digit(buf, index + 8 + 2 * i);
            }
            unscaled = BigInteger.valueOf(v);
        } else {
            unscaled = BigInteger.ZERO;
            for (int i = 0; i < ndigits; i++) {
                unscaled = unscaled.multiply(NBASE).add(BigInteger.valueOf(digit(buf, index + 8 + 2 * i)));
            }
        }
        if (sign == NUMERIC_NEG) {
            unscaled = unscaled.negate();
        }
        int scale = 4 * (ndigits - 1 - weight);
        BigDecimal value = new BigDecimal(unscaled, scale);
        try {
            return value.setScale(dscale, RoundingMode.UNNECESSARY);
        } catch (ArithmeticException e) {
            // More digits than the display scale: numeric_recv rounds them away (round_var).
            return value.setScale(dscale, RoundingMode.HALF_UP);
        }
    }

    private static int digit(ByteBuf buf, int index) {
        int d = buf.getShort(index);
        if (d < 0 || d >= 10000) {
            throw badBinary(NUMERIC);
        }
        return d;
    }

    // ---------------------------------------------------------------------------------------
    // Comparison

    /**
     * PostgreSQL's btree order of two non-null values of one type family (ints, numeric and
     * floats mix as the numeric family): numeric NaN above +Infinity and equal to itself, float
     * NaN greatest and -0 = 0, text in the C collation (code point order), uuid as unsigned
     * bytes, false before true, infinite dates and timestamps at the ends.
     *
     * @throws MergeException 0A000 for values of no known or of different families
     */
    public static int compare(Object a, Object b) {
        if (a instanceof Long && b instanceof Long) {
            return Long.compare((Long) a, (Long) b);
        }
        if (a instanceof String && b instanceof String) {
            return compareText((String) a, (String) b);
        }
        if (a instanceof Number && b instanceof Number) {
            return compareNumbers((Number) a, (Number) b);
        }
        if (a instanceof Boolean && b instanceof Boolean) {
            return Boolean.compare((Boolean) a, (Boolean) b);
        }
        if (a instanceof LocalDate && b instanceof LocalDate) {
            return ((LocalDate) a).compareTo((LocalDate) b);
        }
        if (a instanceof LocalDateTime && b instanceof LocalDateTime) {
            return ((LocalDateTime) a).compareTo((LocalDateTime) b);
        }
        if (a instanceof Instant && b instanceof Instant) {
            return ((Instant) a).compareTo((Instant) b);
        }
        if (a instanceof UUID && b instanceof UUID) {
            UUID x = (UUID) a;
            UUID y = (UUID) b;
            int c = Long.compareUnsigned(x.getMostSignificantBits(), y.getMostSignificantBits());
            return c != 0 ? c : Long.compareUnsigned(x.getLeastSignificantBits(), y.getLeastSignificantBits());
        }
        throw new MergeException("0A000", "cross-shard merge cannot compare values of "
                + className(a) + " and " + className(b));
    }

    /**
     * {@link #compare(Object, Object)} for a column of type {@code oid}: for character (bpchar)
     * trailing spaces do not count, as in bpcharcmp; every other type as the two-argument form.
     */
    public static int compare(int oid, Object a, Object b) {
        if (oid == BPCHAR && a instanceof String && b instanceof String) {
            String x = (String) a;
            String y = (String) b;
            return compareText(x, 0, unpaddedLength(x), y, 0, unpaddedLength(y));
        }
        return compare(a, b);
    }

    private static int unpaddedLength(String s) {
        int n = s.length();
        while (n > 0 && s.charAt(n - 1) == ' ') {
            n--;
        }
        return n;
    }

    private static String className(Object o) {
        return o == null ? "null" : o.getClass().getSimpleName();
    }

    /**
     * The C collation: strcmp of UTF-8, which is code point order. String.compareTo compares
     * UTF-16 units and puts U+E000..U+FFFF after the supplementary planes; so at the first
     * difference surrogates are moved above that range (the "code point order" fix-up).
     */
    static int compareText(String a, String b) {
        return compareText(a, 0, a.length(), b, 0, b.length());
    }

    private static int compareText(String a, int aFrom, int aTo, String b, int bFrom, int bTo) {
        int n = Math.min(aTo - aFrom, bTo - bFrom);
        for (int i = 0; i < n; i++) {
            char x = a.charAt(aFrom + i);
            char y = b.charAt(bFrom + i);
            if (x != y) {
                if (x >= 0xD800 && y >= 0xD800) {
                    x = codePointOrder(x);
                    y = codePointOrder(y);
                }
                return x < y ? -1 : 1;
            }
        }
        return Integer.compare(aTo - aFrom, bTo - bFrom);
    }

    private static char codePointOrder(char c) {
        if (c >= 0xE000) {
            return (char) (c - 0x800);
        }
        return (char) (c + 0x2000);
    }

    private static int compareNumbers(Number a, Number b) {
        if (a instanceof Double && b instanceof Double) {
            double x = (Double) a;
            double y = (Double) b;
            // float8_cmp_internal: NaN is greater than everything and equal to NaN; -0 == 0.
            if (Double.isNaN(x)) {
                return Double.isNaN(y) ? 0 : 1;
            }
            if (Double.isNaN(y)) {
                return -1;
            }
            return x < y ? -1 : x > y ? 1 : 0;
        }
        int ra = rank(a);
        int rb = rank(b);
        if (ra != 0 || rb != 0) {
            return Integer.compare(ra, rb);
        }
        if (a instanceof Long && b instanceof Long) {
            return Long.compare((Long) a, (Long) b);
        }
        return toBigDecimal(a).compareTo(toBigDecimal(b));
    }

    /** -1 for -Infinity, 1 for +Infinity, 2 for NaN, 0 for finite values. */
    private static int rank(Number n) {
        if (n instanceof Double || n instanceof Float) {
            double d = n.doubleValue();
            if (Double.isNaN(d)) {
                return 2;
            }
            if (Double.isInfinite(d)) {
                return d > 0 ? 1 : -1;
            }
        }
        return 0;
    }

    static BigDecimal toBigDecimal(Number n) {
        if (n instanceof BigDecimal) {
            return (BigDecimal) n;
        }
        if (n instanceof Long || n instanceof Integer || n instanceof Short || n instanceof Byte) {
            return BigDecimal.valueOf(n.longValue());
        }
        if (n instanceof BigInteger) {
            return new BigDecimal((BigInteger) n);
        }
        return new BigDecimal(n.doubleValue());
    }

    // ---------------------------------------------------------------------------------------
    // Sums of partial sums

    /**
     * The sum of two partial results, typed by the aggregate's output type: int8 exact
     * (22003 "bigint out of range" on overflow, as int8pl), numeric exact with the larger display
     * scale (numeric_add; NaN absorbs, +Infinity + -Infinity is NaN), float4/float8 in their own
     * precision (22003 on overflow of finite inputs, as float4pl/float8pl). A null operand is a
     * shard with no rows: the other operand is the sum.
     */
    public static Object add(int oid, Object a, Object b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        switch (oid) {
            case INT8, INT4, INT2: {
                long x = exactLong(oid, (Number) a);
                long y = exactLong(oid, (Number) b);
                long sum;
                try {
                    sum = Math.addExact(x, y);
                } catch (ArithmeticException e) {
                    throw outOfRange(oid);
                }
                if ((oid == INT4 && sum != (int) sum) || (oid == INT2 && sum != (short) sum)) {
                    throw outOfRange(oid);
                }
                return sum;
            }
            case NUMERIC:
                return addNumeric((Number) a, (Number) b);
            case FLOAT8: {
                double x = ((Number) a).doubleValue();
                double y = ((Number) b).doubleValue();
                double sum = x + y;
                if (Double.isInfinite(sum) && !Double.isInfinite(x) && !Double.isInfinite(y)) {
                    throw new MergeException("22003", "value out of range: overflow");
                }
                return sum;
            }
            case FLOAT4: {
                float x = ((Number) a).floatValue();
                float y = ((Number) b).floatValue();
                float sum = x + y;
                if (Float.isInfinite(sum) && !Float.isInfinite(x) && !Float.isInfinite(y)) {
                    throw new MergeException("22003", "value out of range: overflow");
                }
                return (double) sum;
            }
            default:
                throw new MergeException("0A000", "cross-shard merge cannot add values of type " + typeName(oid));
        }
    }

    private static Object addNumeric(Number a, Number b) {
        int ra = rank(a);
        int rb = rank(b);
        if (ra == 2 || rb == 2 || ra * rb == -1) {
            return Double.NaN;
        }
        if (ra != 0) {
            return a.doubleValue();
        }
        if (rb != 0) {
            return b.doubleValue();
        }
        // BigDecimal.add keeps the larger scale, as numeric_add's add_var keeps max(dscale).
        return toBigDecimal(a).add(toBigDecimal(b));
    }

    /** A Long as it is; another number only when it is an integer within bigint. */
    private static long exactLong(int oid, Number n) {
        if (n instanceof Long) {
            return (Long) n;
        }
        try {
            return toBigDecimal(n).longValueExact();
        } catch (ArithmeticException | NumberFormatException e) {
            throw outOfRange(oid);
        }
    }

    static MergeException outOfRange(int oid) {
        return new MergeException("22003", typeName(oid) + " out of range");
    }

    // ---------------------------------------------------------------------------------------
    // Encoding

    /**
     * Writes a value's bytes (not its length word) as PostgreSQL's output function
     * ({@code binary} false) or send function writes them, for the types of merged aggregates:
     * int2/int4/int8, numeric, float4, float8, bool. Floats follow float8out/float4out under
     * {@code extraFloatDigits}: the shortest exact text above 0, else {@code %.{15+efd}g}
     * ({@code %.{6+efd}g} for float4).
     *
     * @throws MergeException 22003 for an int outside its type, 0A000 for other types
     */
    public static void encode(int oid, boolean binary, Object value, ByteBuf out, int extraFloatDigits) {
        switch (oid) {
            case INT8, INT4, INT2: {
                long v = exactLong(oid, (Number) value);
                if ((oid == INT4 && v != (int) v) || (oid == INT2 && v != (short) v)) {
                    throw outOfRange(oid);
                }
                if (binary) {
                    if (oid == INT8) {
                        out.writeLong(v);
                    } else if (oid == INT4) {
                        out.writeInt((int) v);
                    } else {
                        out.writeShort((int) v);
                    }
                } else {
                    writeAscii(out, Long.toString(v));
                }
                return;
            }
            case NUMERIC:
                if (binary) {
                    writeNumericBinary((Number) value, out);
                } else {
                    writeAscii(out, numericText((Number) value));
                }
                return;
            case FLOAT8: {
                double v = ((Number) value).doubleValue();
                if (binary) {
                    out.writeDouble(v);
                } else {
                    writeAscii(out, floatText(v, false, extraFloatDigits));
                }
                return;
            }
            case FLOAT4: {
                float v = ((Number) value).floatValue();
                if (binary) {
                    out.writeFloat(v);
                } else {
                    writeAscii(out, floatText(v, true, extraFloatDigits));
                }
                return;
            }
            case BOOL: {
                boolean v = (Boolean) value;
                out.writeByte(binary ? (v ? 1 : 0) : (v ? 't' : 'f'));
                return;
            }
            default:
                throw new MergeException("0A000", "cross-shard merge cannot write values of type " + typeName(oid));
        }
    }

    private static void writeAscii(ByteBuf out, String s) {
        out.writeCharSequence(s, StandardCharsets.US_ASCII);
    }

    /** numeric_out: plain digits with the display scale, "NaN", "Infinity", "-Infinity". */
    static String numericText(Number value) {
        int rank = rank(value);
        if (rank == 2) {
            return "NaN";
        }
        if (rank != 0) {
            return rank > 0 ? "Infinity" : "-Infinity";
        }
        BigDecimal v = toBigDecimal(value);
        if (v.scale() < 0) {
            v = v.setScale(0);
        }
        return v.toPlainString();
    }

    private static void writeNumericBinary(Number value, ByteBuf out) {
        int rank = rank(value);
        if (rank != 0) {
            out.writeShort(0);
            out.writeShort(0);
            out.writeShort(rank == 2 ? NUMERIC_NAN : rank > 0 ? NUMERIC_PINF : NUMERIC_NINF);
            // numeric_send writes the dscale its header gives: bits 7..12 of the special header
            // word, which are 0x20 in 0xD000 and 0xF000 (the infinities) and 0 in 0xC000 (NaN).
            out.writeShort(rank == 2 ? 0 : 0x20);
            return;
        }
        BigDecimal v = toBigDecimal(value);
        if (v.scale() < 0) {
            v = v.setScale(0);
        }
        int dscale = v.scale();
        if (dscale > 0x3FFF) {
            throw new MergeException("22003", "value overflows numeric format");
        }
        // Align the digits on base-10000 groups around the decimal point.
        int pad = (4 - dscale % 4) % 4;
        BigInteger magnitude = v.unscaledValue().abs();
        if (pad > 0) {
            magnitude = magnitude.multiply(BigInteger.TEN.pow(pad));
        }
        int fractionGroups = (dscale + pad) / 4;
        // Base-10000 digits, least significant first.
        short[] groups = new short[magnitude.bitLength() / 13 + 2];
        int count = 0;
        if (magnitude.bitLength() < 63) {
            long m = magnitude.longValue();
            while (m != 0) {
                groups[count++] = (short) (m % 10000);
                m /= 10000;
            }
        } else {
            while (magnitude.signum() != 0) {
                BigInteger[] qr = magnitude.divideAndRemainder(NBASE);
                groups[count++] = (short) qr[1].intValue();
                magnitude = qr[0];
            }
        }
        int low = 0;
        while (low < count && groups[low] == 0) {
            low++;
        }
        if (low == count) {
            // Zero: no digits, weight 0, positive (make_result of a zero).
            out.writeShort(0);
            out.writeShort(0);
            out.writeShort(NUMERIC_POS);
            out.writeShort(dscale);
            return;
        }
        int weight = count - 1 - fractionGroups;
        out.writeShort(count - low);
        out.writeShort(weight);
        out.writeShort(v.signum() < 0 ? NUMERIC_NEG : NUMERIC_POS);
        out.writeShort(dscale);
        for (int i = count - 1; i >= low; i--) {
            out.writeShort(groups[i]);
        }
    }

    /**
     * float8out / float4out. With extra_float_digits above 0 the shortest decimal that reads
     * back as the same value (PostgreSQL uses Ryu: fixed notation for decimal exponents -4 up to
     * 14, or 5 for float4, else d.ddde+XX); otherwise C's {@code %.{n}g} with n = DBL_DIG (or
     * FLT_DIG) + extra_float_digits, at least 1.
     */
    static String floatText(double v, boolean float4, int extraFloatDigits) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "Infinity" : "-Infinity";
        }
        String sign = (Double.doubleToRawLongBits(v) < 0) ? "-" : "";
        if (v == 0) {
            return sign + "0";
        }
        BigDecimal exact = new BigDecimal(Math.abs(v));
        if (extraFloatDigits > 0) {
            BigDecimal shortest = shortest(exact, Math.abs(v), float4);
            return sign + format(shortest, -4, float4 ? FLT_DIG : DBL_DIG);
        }
        int precision = Math.max(1, (float4 ? FLT_DIG : DBL_DIG) + extraFloatDigits);
        BigDecimal rounded = exact.round(new MathContext(precision, RoundingMode.HALF_EVEN));
        return sign + format(rounded, -4, precision);
    }

    /**
     * The shortest decimal strictly inside the rounding interval of {@code v} (the open interval
     * between the midpoints to its neighbours), the nearest to {@code v} among those, an exact tie
     * to the even last digit. A midpoint reads back as {@code v} when its mantissa is even, but
     * PostgreSQL's float8out and float4out never print one (checked against PostgreSQL: 1e23,
     * a midpoint, prints as 9.999999999999999e+22; float4 -107778336 as -1.07778336e+08).
     */
    private static BigDecimal shortest(BigDecimal exact, double v, boolean float4) {
        BigDecimal half = BigDecimal.valueOf(5, 1);
        BigDecimal lowBound;
        BigDecimal highBound;
        if (float4) {
            float f = (float) v;
            lowBound = exact.subtract(exact.subtract(new BigDecimal(Math.nextDown(f))).multiply(half));
            highBound = exact.add(new BigDecimal(Math.ulp(f)).multiply(half));
        } else {
            lowBound = exact.subtract(exact.subtract(new BigDecimal(Math.nextDown(v))).multiply(half));
            highBound = exact.add(new BigDecimal(Math.ulp(v)).multiply(half));
        }
        // Whether some decimal of n digits lies inside is monotonic in n (n + 1 digits can write
        // the same decimal), so a binary search finds the shortest length: 17 digits (9 for
        // float4) always suffice.
        int low = 1;
        int high = float4 ? 9 : 17;
        while (low < high) {
            int digits = (low + high) >>> 1;
            if (exact.round(FLOOR[digits]).compareTo(lowBound) > 0
                    || exact.round(CEILING[digits]).compareTo(highBound) < 0) {
                high = digits;
            } else {
                low = digits + 1;
            }
        }
        BigDecimal down = exact.round(FLOOR[low]);
        BigDecimal up = exact.round(CEILING[low]);
        boolean downOk = down.compareTo(lowBound) > 0;
        boolean upOk = up.compareTo(highBound) < 0;
        if (downOk && upOk) {
            int c = exact.subtract(down).compareTo(up.subtract(exact));
            if (c == 0) {
                return down.unscaledValue().testBit(0) ? up : down;
            }
            return c < 0 ? down : up;
        }
        if (downOk) {
            return down;
        }
        if (upOk) {
            return up;
        }
        return exact.round(new MathContext(17, RoundingMode.HALF_EVEN));
    }

    /**
     * A positive decimal as %g writes it after rounding (no trailing zeros): fixed notation when
     * its exponent is in [minFixed, maxFixed), else one digit, the rest after a point, then e,
     * a sign and at least two exponent digits.
     */
    private static String format(BigDecimal d, int minFixed, int maxFixed) {
        BigDecimal stripped = d.stripTrailingZeros();
        int exponent = stripped.precision() - stripped.scale() - 1;
        if (exponent >= minFixed && exponent < maxFixed) {
            return stripped.toPlainString();
        }
        String digits = stripped.unscaledValue().toString();
        StringBuilder sb = new StringBuilder(digits.length() + 6);
        sb.append(digits.charAt(0));
        if (digits.length() > 1) {
            sb.append('.').append(digits, 1, digits.length());
        }
        sb.append('e').append(exponent < 0 ? '-' : '+');
        int abs = Math.abs(exponent);
        if (abs < 10) {
            sb.append('0');
        }
        sb.append(abs);
        return sb.toString();
    }

    // ---------------------------------------------------------------------------------------
    // Errors

    private static MergeException unknownType(int oid) {
        return new MergeException("0A000", "cross-shard merge cannot read values of " + typeName(oid));
    }

    static MergeException badText(int oid) {
        return new MergeException("22P02", "cross-shard merge cannot read a text value of type " + typeName(oid));
    }

    private static MergeException badBinary(int oid) {
        return new MergeException("22P03", "cross-shard merge cannot read a binary value of type " + typeName(oid));
    }

    /**
     * Reads date, timestamp and timestamptz as their output functions write them under DateStyle
     * ISO: {@code YYYY-MM-DD[ HH:MM:SS[.ffffff][±HH[:MM[:SS]]]][ BC]}, years of four digits or
     * more, or "infinity" / "-infinity".
     */
    private static final class DateTimeText {
        private final int oid;
        private final ByteBuf buf;
        private final int end;
        private int pos;

        DateTimeText(int oid, ByteBuf buf, int index, int length) {
            this.oid = oid;
            this.buf = buf;
            this.pos = index;
            this.end = index + length;
        }

        /** +1 for "infinity", -1 for "-infinity", 0 otherwise. */
        private int infinity() {
            int length = end - pos;
            if (length == 8 || length == 9) {
                String s = ascii(buf, pos, length);
                if (s.equals("infinity")) {
                    return 1;
                }
                if (s.equals("-infinity")) {
                    return -1;
                }
            }
            return 0;
        }

        LocalDate date() {
            int inf = infinity();
            if (inf != 0) {
                return inf > 0 ? LocalDate.MAX : LocalDate.MIN;
            }
            LocalDate date = readDate();
            return finish(date);
        }

        LocalDateTime timestamp() {
            int inf = infinity();
            if (inf != 0) {
                return inf > 0 ? LocalDateTime.MAX : LocalDateTime.MIN;
            }
            LocalDate date = readDate();
            expect(' ');
            long nanoOfDay = readTime();
            date = finish(date);
            return LocalDateTime.of(date, LocalTime.ofNanoOfDay(nanoOfDay));
        }

        Instant timestamptz() {
            int inf = infinity();
            if (inf != 0) {
                return inf > 0 ? Instant.MAX : Instant.MIN;
            }
            LocalDate date = readDate();
            expect(' ');
            long nanoOfDay = readTime();
            byte s = peek();
            if (s != '+' && s != '-') {
                throw badText(oid);
            }
            pos++;
            int offset = digits(2) * 3600;
            if (pos < end && peek() == ':') {
                pos++;
                offset += digits(2) * 60;
                if (pos < end && peek() == ':') {
                    pos++;
                    offset += digits(2);
                }
            }
            if (s == '-') {
                offset = -offset;
            }
            date = finish(date);
            long seconds = date.toEpochDay() * 86400 + nanoOfDay / 1_000_000_000L - offset;
            return Instant.ofEpochSecond(seconds, nanoOfDay % 1_000_000_000L);
        }

        private LocalDate readDate() {
            int start = pos;
            long year = 0;
            while (pos < end && peek() >= '0' && peek() <= '9') {
                year = year * 10 + (peek() - '0');
                pos++;
                if (year > 100_000_000) {
                    throw badText(oid);
                }
            }
            if (pos - start < 4) {
                throw badText(oid);
            }
            expect('-');
            int month = digits(2);
            expect('-');
            int day = digits(2);
            try {
                return LocalDate.of((int) year, month, day);
            } catch (DateTimeException e) {
                throw badText(oid);
            }
        }

        /** " BC" at the end: year N BC is proleptic year 1 - N (there is no year 0 in PostgreSQL). */
        private LocalDate finish(LocalDate date) {
            if (pos == end) {
                return date;
            }
            if (end - pos == 3 && buf.getByte(pos) == ' ' && buf.getByte(pos + 1) == 'B'
                    && buf.getByte(pos + 2) == 'C') {
                pos = end;
                return date.withYear(1 - date.getYear());
            }
            throw badText(oid);
        }

        private long readTime() {
            int hour = digits(2);
            expect(':');
            int minute = digits(2);
            expect(':');
            int second = digits(2);
            long nanos = 0;
            if (pos < end && peek() == '.') {
                pos++;
                int n = 0;
                while (pos < end && peek() >= '0' && peek() <= '9') {
                    if (n == 9) {
                        throw badText(oid);
                    }
                    nanos = nanos * 10 + (peek() - '0');
                    pos++;
                    n++;
                }
                if (n == 0) {
                    throw badText(oid);
                }
                for (; n < 9; n++) {
                    nanos *= 10;
                }
            }
            // 24:00:00 is a valid PostgreSQL time of day only as input; output never writes it.
            if (hour > 23 || minute > 59 || second > 59) {
                throw badText(oid);
            }
            return ((hour * 60L + minute) * 60 + second) * 1_000_000_000L + nanos;
        }

        private int digits(int n) {
            int v = 0;
            for (int i = 0; i < n; i++) {
                if (pos >= end) {
                    throw badText(oid);
                }
                int d = buf.getByte(pos) - '0';
                if (d < 0 || d > 9) {
                    throw badText(oid);
                }
                v = v * 10 + d;
                pos++;
            }
            return v;
        }

        private byte peek() {
            if (pos >= end) {
                throw badText(oid);
            }
            return buf.getByte(pos);
        }

        private void expect(char c) {
            if (peek() != c) {
                throw badText(oid);
            }
            pos++;
        }
    }
}
