package dev.pgfleet.shared.config;

import dev.pgfleet.shared.protocol.PgException;

/**
 * Sharding key values in their text form, read as PostgreSQL's type input functions read them,
 * with PostgreSQL's errors: the config loader checks list values with these, the router parses
 * the keys of statements and parameters with them, so a key the server would refuse is refused
 * the same way before it picks a shard.
 */
public final class ShardKeyText {

    /** PostgreSQL's {@code ERRCODE_INVALID_TEXT_REPRESENTATION}. */
    public static final String INVALID_TEXT_REPRESENTATION = "22P02";
    /** PostgreSQL's {@code ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE}. */
    public static final String NUMERIC_VALUE_OUT_OF_RANGE = "22003";

    private ShardKeyText() {
    }

    /**
     * A bigint as {@code int8in} reads it ({@code pg_strtoint64_safe}, PostgreSQL 16): blanks
     * around it, an optional sign, decimal digits, or {@code 0x}, {@code 0o}, {@code 0b} and their
     * digits, a single {@code _} allowed between digits.
     *
     * @throws PgException 22P02 {@code invalid input syntax for type bigint: "..."}, or 22003
     *                     {@code value "..." is out of range for type bigint}; not fatal
     */
    public static long parseBigint(CharSequence s) {
        int n = s.length();
        int i = 0;
        while (i < n && isSpace(s.charAt(i))) {
            i++;
        }
        boolean negative = false;
        if (i < n && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
            negative = s.charAt(i) == '-';
            i++;
        }
        int radix = 10;
        if (i + 1 < n && s.charAt(i) == '0') {
            char p = s.charAt(i + 1);
            radix = p == 'x' || p == 'X' ? 16 : p == 'o' || p == 'O' ? 8 : p == 'b' || p == 'B' ? 2 : 10;
            if (radix != 10) {
                i += 2;
            }
        }
        // Accumulated as a negative number, which reaches Long.MIN_VALUE; -(MIN) overflows.
        long acc = 0;
        long limit = Long.MIN_VALUE / radix;
        int first = i;
        while (i < n) {
            char c = s.charAt(i);
            int d = Character.digit(c, radix);
            if (d >= 0 && c < 128) {
                if (acc < limit || acc * radix < Long.MIN_VALUE + d) {
                    throw outOfRange(s);
                }
                acc = acc * radix - d;
                i++;
            } else if (c == '_') {
                // In decimal an underscore may not come first; in every radix a digit must follow it.
                if (radix == 10 && i == first) {
                    throw syntax("bigint", s);
                }
                i++;
                if (i >= n || Character.digit(s.charAt(i), radix) < 0 || s.charAt(i) >= 128) {
                    throw syntax("bigint", s);
                }
            } else {
                break;
            }
        }
        if (i == first) {
            throw syntax("bigint", s);
        }
        while (i < n && isSpace(s.charAt(i))) {
            i++;
        }
        if (i != n) {
            throw syntax("bigint", s);
        }
        if (!negative && acc == Long.MIN_VALUE) {
            throw outOfRange(s);
        }
        return negative ? acc : -acc;
    }

    /**
     * A uuid as {@code uuid_in} reads it: 32 hex digits, optionally inside braces, with a hyphen
     * allowed after any group of four digits; no blanks.
     *
     * @return the 16 bytes in network order
     * @throws PgException 22P02 {@code invalid input syntax for type uuid: "..."}; not fatal
     */
    public static byte[] parseUuid(CharSequence s) {
        byte[] out = new byte[16];
        int n = s.length();
        int i = 0;
        boolean braces = n > 0 && s.charAt(0) == '{';
        if (braces) {
            i++;
        }
        for (int b = 0; b < 16; b++) {
            if (i + 1 >= n) {
                throw syntax("uuid", s);
            }
            int hi = hex(s.charAt(i));
            int lo = hex(s.charAt(i + 1));
            if (hi < 0 || lo < 0) {
                throw syntax("uuid", s);
            }
            out[b] = (byte) (hi << 4 | lo);
            i += 2;
            if (b % 2 == 1 && b < 15 && i < n && s.charAt(i) == '-') {
                i++;
            }
        }
        if (braces) {
            if (i >= n || s.charAt(i) != '}') {
                throw syntax("uuid", s);
            }
            i++;
        }
        if (i != n) {
            throw syntax("uuid", s);
        }
        return out;
    }

    /** A uuid's canonical text, as {@code uuid_out} writes it: lower case, hyphens at 8-4-4-4-12. */
    public static String uuidText(byte[] uuid, int offset) {
        StringBuilder sb = new StringBuilder(36);
        for (int b = 0; b < 16; b++) {
            if (b == 4 || b == 6 || b == 8 || b == 10) {
                sb.append('-');
            }
            sb.append(Character.forDigit((uuid[offset + b] >> 4) & 0xF, 16));
            sb.append(Character.forDigit(uuid[offset + b] & 0xF, 16));
        }
        return sb.toString();
    }

    /**
     * The canonical text of a key value of {@code type} (a bigint in decimal, a uuid as
     * {@link #uuidText}, text as given), for comparing list values.
     *
     * @throws PgException as the parse methods, when the value is not of the type
     */
    public static String canonical(ShardedTable.KeyType type, CharSequence value) {
        return switch (type) {
            case BIGINT -> Long.toString(parseBigint(value));
            case UUID -> uuidText(parseUuid(value), 0);
            case TEXT -> value.toString();
        };
    }

    private static PgException syntax(String type, CharSequence s) {
        return new PgException(INVALID_TEXT_REPRESENTATION,
                "invalid input syntax for type " + type + ": \"" + s + "\"", null, false);
    }

    private static PgException outOfRange(CharSequence s) {
        return new PgException(NUMERIC_VALUE_OUT_OF_RANGE,
                "value \"" + s + "\" is out of range for type bigint", null, false);
    }

    /** C's {@code isspace} in the C locale, which {@code int8in} uses. */
    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\u000B' || c == '\f' || c == '\r';
    }

    private static int hex(char c) {
        return c < 128 ? Character.digit(c, 16) : -1;
    }
}
