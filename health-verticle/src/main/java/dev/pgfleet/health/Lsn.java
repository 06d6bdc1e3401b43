package dev.pgfleet.health;

/**
 * PostgreSQL WAL positions ({@code pg_lsn}). The text form is two hexadecimal numbers,
 * {@code X/Y}: the high and low 32 bits of a 64-bit byte position in the WAL stream
 * (PostgreSQL's {@code LSN_FORMAT_ARGS}). Differences are plain subtraction, as
 * {@code pg_wal_lsn_diff()} computes them, done here so no query has to join two servers.
 */
final class Lsn {

    /** A position that cannot occur ({@code InvalidXLogRecPtr} is 0/0; we use it as "unknown" too). */
    static final long UNKNOWN = -1;

    private Lsn() {
    }

    /** {@code "16/B374D848"} to its byte position; {@link #UNKNOWN} for null (SQL NULL). */
    static long parse(String text) {
        if (text == null) {
            return UNKNOWN;
        }
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1 || slash > 8 || text.length() - slash - 1 > 8) {
            throw new IllegalArgumentException("not a pg_lsn: \"" + text + "\"");
        }
        long high = Long.parseLong(text, 0, slash, 16);
        long low = Long.parseLong(text, slash + 1, text.length(), 16);
        return high << 32 | low;
    }

    static String format(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase() + "/" + Long.toHexString(lsn & 0xFFFF_FFFFL).toUpperCase();
    }

    /** Bytes {@code behind} is behind {@code ahead}; 0 when it is not behind; UNKNOWN if either is. */
    static long bytesBehind(long ahead, long behind) {
        if (ahead == UNKNOWN || behind == UNKNOWN) {
            return UNKNOWN;
        }
        return Long.compareUnsigned(ahead, behind) > 0 ? ahead - behind : 0;
    }
}
