package dev.pgfleet.router;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * PgCat's {@code sharding_function = "sha1"}: a key's shard is the SHA-1 digest of the key's text,
 * its last four bytes read as a big-endian unsigned 32-bit integer, modulo the number of shards.
 *
 * <p>What PgCat does, read in postgresml/pgcat {@code src/sharding.rs} ({@code Sharder::sha1},
 * the version with the {@code ShardingFunction} enum): it takes the key as an {@code i64},
 * writes it in decimal ({@code key.to_string()}), hashes those bytes with SHA-1, formats the
 * digest as lower-case hex, parses the last 8 hex digits in base 16 and takes the result modulo
 * the shard count. The last 8 hex digits are the last 4 bytes, most significant first, so the
 * value is the big-endian unsigned integer of digest bytes 16 to 19. The test beside it
 * ({@code test_sha1_hash}) has 12 shards and keys 0 to 19, and this class gives the same shards
 * for them (ShardingSchemaTest). An earlier PgCat (the {@code Sharder} without a
 * {@code ShardingFunction}) read the same four bytes little-endian ({@code u32::from_le_bytes});
 * current PgCat and this class do not.
 *
 * <p>PgCat shards on bigints only. For text keys PgFleet hashes the UTF-8 bytes of the text and
 * for uuid keys the canonical text ({@code uuid_out}: lower case, 8-4-4-4-12), the same rule
 * applied to the key's text form.
 */
final class PgCatSha1 {

    private static final ThreadLocal<MessageDigest> SHA1 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-1");
        } catch (NoSuchAlgorithmException e) {
            // Every Java platform must provide SHA-1 (MessageDigest's Javadoc).
            throw new IllegalStateException(e);
        }
    });

    private PgCatSha1() {
    }

    /** The shard of a bigint key: SHA-1 of its decimal text. */
    static int shardOf(long key, int shards) {
        return shardOf(Long.toString(key).getBytes(java.nio.charset.StandardCharsets.US_ASCII), shards);
    }

    /** The shard of a key given as the bytes of its text. */
    static int shardOf(byte[] text, int shards) {
        return shardOf(text, 0, text.length, shards);
    }

    static int shardOf(byte[] text, int offset, int length, int shards) {
        if (shards < 1) {
            throw new IllegalArgumentException("shards must be at least 1, got " + shards);
        }
        MessageDigest md = SHA1.get();
        md.update(text, offset, length);
        byte[] d = md.digest();
        long last4 = (d[16] & 0xFFL) << 24 | (d[17] & 0xFFL) << 16 | (d[18] & 0xFFL) << 8 | (d[19] & 0xFFL);
        return (int) (last4 % shards);
    }
}
