package dev.pgfleet.proxy;

import dev.pgfleet.router.ShardKeyReader;
import dev.pgfleet.router.ShardingSchema;
import dev.pgfleet.router.StatementKeys;
import dev.pgfleet.shared.config.DefaultShard;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.ShardedTable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A sharded pool's rules as the sessions use them: its {@link ShardingSchema} (sharded tables,
 * the shard of a key), its default shard, and the sharding keys of the statements its clients
 * send, read once per SQL text ({@link ShardKeyReader}) and kept for every session and loop.
 * Built with each routing table; immutable but for the cache.
 */
final class PoolSharding {

    /** Statements whose keys are kept; past it the cache starts again (a pool's statements are usually few). */
    private static final int MAX_CACHED = 10_000;
    /** Longer SQL is read every time (a bulk INSERT is seldom sent twice). */
    private static final int MAX_CACHED_LENGTH = 8 * 1024;

    /** PgCat's regex_search_limit default: the regexes look at this many characters of a query. */
    private static final int REGEX_SEARCH_LIMIT = 1000;

    final ShardingSchema schema;
    final String poolName;
    private final DefaultShard defaultShard;
    /** PgCat's shard_id_regex and sharding_key_regex (group 1 is the value); null when not set. */
    private final java.util.regex.Pattern shardIdRegex;
    private final java.util.regex.Pattern shardingKeyRegex;
    private final ConcurrentHashMap<String, StatementKeys> cache = new ConcurrentHashMap<>();

    PoolSharding(PoolConfig pool) {
        this.schema = ShardingSchema.of(pool);
        this.poolName = pool.name();
        this.defaultShard = pool.defaultShard().orElse(null);
        this.shardIdRegex = pool.shardIdRegex().map(java.util.regex.Pattern::compile).orElse(null);
        this.shardingKeyRegex = pool.shardingKeyRegex().map(java.util.regex.Pattern::compile).orElse(null);
    }

    /** What shard_id_regex finds in the first 1000 characters of {@code sql} (group 1), or null. */
    String shardIdFromRegex(CharSequence sql) {
        return find(shardIdRegex, sql);
    }

    /** What sharding_key_regex finds (group 1), or null. */
    String shardingKeyFromRegex(CharSequence sql) {
        return find(shardingKeyRegex, sql);
    }

    private static String find(java.util.regex.Pattern p, CharSequence sql) {
        if (p == null) {
            return null;
        }
        java.util.regex.Matcher m = p.matcher(sql.length() > REGEX_SEARCH_LIMIT ? sql.subSequence(0, REGEX_SEARCH_LIMIT) : sql);
        return m.find() ? (m.groupCount() >= 1 ? m.group(1) : m.group()) : null;
    }

    /** Whether any table is sharded by a key (else only explicit selection and hints choose a shard). */
    boolean hasTables() {
        return !schema.tables().isEmpty();
    }

    /** The sharding keys of {@code sql}. */
    StatementKeys keys(String sql) {
        if (sql.length() > MAX_CACHED_LENGTH) {
            return ShardKeyReader.read(sql, schema::keyColumn);
        }
        StatementKeys k = cache.get(sql);
        if (k == null) {
            k = ShardKeyReader.read(sql, schema::keyColumn);
            if (cache.size() >= MAX_CACHED) {
                cache.clear();
            }
            cache.put(sql, k);
        }
        return k;
    }

    /** default_shard: a number, or random; -1 when the pool has none. */
    int defaultShard() {
        if (defaultShard == null) {
            return -1;
        }
        return switch (defaultShard.kind()) {
            case SHARD -> defaultShard.shard();
            // random_healthy: health is per server and the shard's routing skips banned replicas;
            // the primary of a shard is the same either way, so both pick uniformly.
            case RANDOM, RANDOM_HEALTHY -> ThreadLocalRandom.current().nextInt(schema.shards());
        };
    }

    /** The configured table a statement's {@code table()} names ("schema.table" or a bare name). */
    ShardedTable table(String written) {
        if (written == null) {
            return null;
        }
        int dot = written.indexOf('.');
        return dot < 0 ? schema.table(null, written) : schema.table(written.substring(0, dot), written.substring(dot + 1));
    }
}
