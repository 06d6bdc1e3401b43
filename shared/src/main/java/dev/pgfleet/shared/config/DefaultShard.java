package dev.pgfleet.shared.config;

import java.util.Optional;

/**
 * {@code default_shard} of a pool: the shard of a statement that names no shard, no sharding key
 * and no sharded table. Written as a number, as PgCat's {@code "shard_<n>"}, or as PgCat's
 * {@code "random"} (any shard) and {@code "random_healthy"} (any shard not banned by the health
 * checks).
 *
 * @param kind  which of the three
 * @param shard the shard index for {@link Kind#SHARD}; -1 otherwise
 */
public record DefaultShard(Kind kind, int shard) {

    public static final DefaultShard RANDOM = new DefaultShard(Kind.RANDOM, -1);
    public static final DefaultShard RANDOM_HEALTHY = new DefaultShard(Kind.RANDOM_HEALTHY, -1);

    public DefaultShard {
        if (kind == Kind.SHARD ? shard < 0 : shard != -1) {
            throw new IllegalArgumentException(kind + " with shard " + shard);
        }
    }

    /** A fixed shard. */
    public static DefaultShard of(int shard) {
        return new DefaultShard(Kind.SHARD, shard);
    }

    /**
     * Reads the text form: {@code "3"}, {@code "shard_3"}, {@code "random"}, {@code "random_healthy"}
     * (case-insensitive); empty when it is none of them. Whether the shard exists is not checked.
     */
    public static Optional<DefaultShard> parse(String text) {
        String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("random")) {
            return Optional.of(RANDOM);
        }
        if (t.equals("random_healthy")) {
            return Optional.of(RANDOM_HEALTHY);
        }
        String digits = t.startsWith("shard_") ? t.substring("shard_".length()) : t;
        if (digits.matches("\\d{1,9}")) {
            return Optional.of(of(Integer.parseInt(digits)));
        }
        return Optional.empty();
    }

    /** As written in PgCat's configuration: {@code shard_<n>}, {@code random} or {@code random_healthy}. */
    @Override
    public String toString() {
        return switch (kind) {
            case SHARD -> "shard_" + shard;
            case RANDOM -> "random";
            case RANDOM_HEALTHY -> "random_healthy";
        };
    }

    /** The three forms of {@code default_shard}. */
    public enum Kind {
        /** One shard, by index. */
        SHARD,
        /** A shard picked at random for each statement (PgCat: per query). */
        RANDOM,
        /** As {@link #RANDOM}, among the shards whose primary passes the health check. */
        RANDOM_HEALTHY
    }
}
