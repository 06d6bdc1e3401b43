package dev.pgfleet.router;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * PostgreSQL's hash partitioning, computed in the proxy: for a key, the remainder that
 * {@code CREATE TABLE ... PARTITION BY HASH (key)} with {@code FOR VALUES WITH (MODULUS n, REMAINDER r)}
 * partitions route it to. A shard map built the same way (shard {@code r} holds remainder {@code r}
 * of modulus {@code n}) agrees with PostgreSQL, so the same data can be partitioned inside one
 * server or spread over shards and a key lands at the same index either way. This is what PgCat
 * calls the {@code pg_bigint_hash} sharding function.
 *
 * <p>The algorithm, as PostgreSQL 11+ has it:
 * <ol>
 *   <li>hash each key column with its type's extended hash function and the seed
 *       {@link #HASH_PARTITION_SEED} ({@code src/include/catalog/partition.h}):
 *       {@code hashint8extended} for bigint (int and smallint give the same value for the same
 *       number: {@code hashint8} is built to agree with {@code hashint4} for cross-type hash joins),
 *       {@code hashtextextended} for text;</li>
 *   <li>fold the column hashes into one with {@code hash_combine64}, starting from 0
 *       ({@code compute_partition_hash_value} in {@code src/backend/partitioning/partbounds.c});</li>
 *   <li>the partition is the one whose remainder is that 64-bit value, unsigned, modulo the
 *       greatest modulus ({@code get_partition_for_tuple}).</li>
 * </ol>
 * The column hashes are Bob Jenkins' lookup3 as in {@code src/common/hashfn.c}
 * ({@code hash_bytes_uint32_extended}, {@code hash_bytes_extended}).
 *
 * <p>Text keys hash their bytes in the database encoding (UTF-8 here) under a deterministic
 * collation (all libc collations and the default ones); a nondeterministic ICU collation hashes a
 * sort key instead, which this class does not do. PostgreSQL reads text four bytes at a time in
 * the server's byte order: the values here are those of a little-endian server (x86-64, ARM64).
 * Bigint hashes do not depend on byte order.
 *
 * <p>Pure and allocation-free (except {@link #textHash(String)}, which encodes the string);
 * thread safe.
 */
public final class ShardHash {

    /** {@code HASH_PARTITION_SEED} of {@code src/include/catalog/partition.h}. */
    public static final long HASH_PARTITION_SEED = 0x7A5B22367996DCFDL;

    /** {@code hash_combine64}'s constant ("64bit random data", {@code src/include/common/hashfn.h}). */
    private static final long HASH_COMBINE64_CONSTANT = 0x49a0f4dd15e5a8e3L;

    /** lookup3's initial state: golden ratio plus PostgreSQL's arbitrary 3923095, plus the key length. */
    private static final int INITIAL = 0x9e3779b9 + 3923095;

    private ShardHash() {
    }

    /** The remainder (0 to {@code modulus - 1}) PostgreSQL's hash partitioning gives a bigint, int or smallint key. */
    public static int bigintRemainder(long key, int modulus) {
        return remainder(bigintHash(key), modulus);
    }

    /** The remainder PostgreSQL's hash partitioning gives a text key (UTF-8, deterministic collation). */
    public static int textRemainder(String key, int modulus) {
        return remainder(textHash(key), modulus);
    }

    /** As {@link #textRemainder(String, int)}, for the key's UTF-8 bytes: allocates nothing. */
    public static int textRemainder(byte[] utf8, int offset, int length, int modulus) {
        return remainder(textHash(utf8, offset, length), modulus);
    }

    /** The 64-bit partition hash of a one-column bigint (or int, smallint) key. */
    public static long bigintHash(long key) {
        return hashCombine64(0, hashInt8Extended(key, HASH_PARTITION_SEED));
    }

    /** The 64-bit partition hash of a one-column text key. Encodes the string (allocates). */
    public static long textHash(String key) {
        byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
        return textHash(utf8, 0, utf8.length);
    }

    /** The 64-bit partition hash of a one-column text key given as UTF-8 bytes. */
    public static long textHash(byte[] utf8, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, utf8.length);
        return hashCombine64(0, hashBytesExtended(utf8, offset, length, HASH_PARTITION_SEED));
    }

    /** The remainder PostgreSQL's hash partitioning gives a uuid key, given as its 16 bytes in network order. */
    public static int uuidRemainder(byte[] uuid, int offset, int modulus) {
        return remainder(uuidHash(uuid, offset), modulus);
    }

    /**
     * The 64-bit partition hash of a one-column uuid key: {@code uuid_hash_extended} is
     * {@code hash_any_extended} over the 16 bytes as stored (network order) with the seed.
     */
    public static long uuidHash(byte[] uuid, int offset) {
        Objects.checkFromIndexSize(offset, 16, uuid.length);
        return hashCombine64(0, hashBytesExtended(uuid, offset, 16, HASH_PARTITION_SEED));
    }

    /**
     * The remainder of a partition hash for a modulus: C's {@code uint64 % int}, so the hash is
     * unsigned.
     */
    public static int remainder(long hash, int modulus) {
        if (modulus < 1) {
            throw new IllegalArgumentException("modulus must be at least 1, got " + modulus);
        }
        return (int) Long.remainderUnsigned(hash, modulus);
    }

    /**
     * {@code hash_combine64(a, b)}: {@code a ^= b + 0x49a0f4dd15e5a8e3 + (a << 54) + (a >> 7)},
     * shifts of an unsigned value.
     */
    static long hashCombine64(long a, long b) {
        return a ^ (b + HASH_COMBINE64_CONSTANT + (a << 54) + (a >>> 7));
    }

    /**
     * {@code hashint8extended(value, seed)}: fold the high half into the low half (its complement
     * for a negative value, so that -1 folds to the same 32 bits as int4 -1), then
     * {@code hash_bytes_uint32_extended}.
     */
    static long hashInt8Extended(long value, long seed) {
        int lo = (int) value;
        int hi = (int) (value >>> 32);
        lo ^= value >= 0 ? hi : ~hi;
        return hashUint32Extended(lo, seed);
    }

    /**
     * {@code hash_bytes_uint32_extended(k, seed)}: lookup3 of one 4-byte word, the seed mixed in
     * first as a 12-byte chunk; the result is {@code b << 32 | c}. Java's int arithmetic wraps as
     * C's uint32 does; only the final widening needs care.
     */
    static long hashUint32Extended(int k, long seed) {
        int a = INITIAL + 4;
        int b = a;
        int c = a;
        if (seed != 0) {
            a += (int) (seed >>> 32);
            b += (int) seed;
            // mix(a, b, c)
            a -= c; a ^= Integer.rotateLeft(c, 4); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 6); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 8); b += a;
            a -= c; a ^= Integer.rotateLeft(c, 16); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 19); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 4); b += a;
        }
        a += k;
        return finalMix(a, b, c);
    }

    /**
     * {@code hash_bytes_extended(k, len, seed)} on a little-endian server: 12-byte chunks read as
     * three little-endian words and mixed, then the last 0 to 11 bytes added (the lowest byte of
     * {@code c} stays free: PostgreSQL's aligned and unaligned paths agree on this), then final.
     */
    static long hashBytesExtended(byte[] k, int offset, int length, long seed) {
        int a = INITIAL + length;
        int b = a;
        int c = a;
        if (seed != 0) {
            a += (int) (seed >>> 32);
            b += (int) seed;
            a -= c; a ^= Integer.rotateLeft(c, 4); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 6); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 8); b += a;
            a -= c; a ^= Integer.rotateLeft(c, 16); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 19); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 4); b += a;
        }
        int i = offset;
        int left = length;
        while (left >= 12) {
            a += littleEndianInt(k, i);
            b += littleEndianInt(k, i + 4);
            c += littleEndianInt(k, i + 8);
            a -= c; a ^= Integer.rotateLeft(c, 4); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 6); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 8); b += a;
            a -= c; a ^= Integer.rotateLeft(c, 16); c += b;
            b -= a; b ^= Integer.rotateLeft(a, 19); a += c;
            c -= b; c ^= Integer.rotateLeft(b, 4); b += a;
            i += 12;
            left -= 12;
        }
        // The tail, as C's switch with fall-through from case 11 down to case 1.
        if (left >= 11) {
            c += (k[i + 10] & 0xFF) << 24;
        }
        if (left >= 10) {
            c += (k[i + 9] & 0xFF) << 16;
        }
        if (left >= 9) {
            c += (k[i + 8] & 0xFF) << 8;
        }
        if (left >= 8) {
            b += (k[i + 7] & 0xFF) << 24;
        }
        if (left >= 7) {
            b += (k[i + 6] & 0xFF) << 16;
        }
        if (left >= 6) {
            b += (k[i + 5] & 0xFF) << 8;
        }
        if (left >= 5) {
            b += k[i + 4] & 0xFF;
        }
        if (left >= 4) {
            a += (k[i + 3] & 0xFF) << 24;
        }
        if (left >= 3) {
            a += (k[i + 2] & 0xFF) << 16;
        }
        if (left >= 2) {
            a += (k[i + 1] & 0xFF) << 8;
        }
        if (left >= 1) {
            a += k[i] & 0xFF;
        }
        return finalMix(a, b, c);
    }

    /** lookup3's {@code final(a, b, c)}; the result is {@code b << 32 | c}, as the extended hashes report it. */
    private static long finalMix(int a, int b, int c) {
        c ^= b; c -= Integer.rotateLeft(b, 14);
        a ^= c; a -= Integer.rotateLeft(c, 11);
        b ^= a; b -= Integer.rotateLeft(a, 25);
        c ^= b; c -= Integer.rotateLeft(b, 16);
        a ^= c; a -= Integer.rotateLeft(c, 4);
        b ^= a; b -= Integer.rotateLeft(a, 14);
        c ^= b; c -= Integer.rotateLeft(b, 24);
        return ((long) b << 32) | (c & 0xFFFFFFFFL);
    }

    private static int littleEndianInt(byte[] k, int i) {
        return (k[i] & 0xFF) | (k[i + 1] & 0xFF) << 8 | (k[i + 2] & 0xFF) << 16 | (k[i + 3] & 0xFF) << 24;
    }
}
