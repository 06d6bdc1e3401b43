package dev.pgfleet.proxy;

import dev.pgfleet.router.ShardKeyReader;
import dev.pgfleet.router.ShardingSchema;
import dev.pgfleet.router.StatementKeys;
import dev.pgfleet.router.merge.CrossShardPlan;
import dev.pgfleet.router.merge.CrossShardPlanner;
import dev.pgfleet.router.merge.CrossShardRefusal;
import dev.pgfleet.shared.config.CrossShard;
import dev.pgfleet.shared.config.DefaultShard;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.ShardedTable;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
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
    /** The cross-shard SELECT plans (or refusals) of the statements that need one, by SQL text. */
    private final ConcurrentHashMap<String, Object> plans = new ConcurrentHashMap<>();
    private final CrossShardPlanner planner;
    /** omnisharded_tables, cross_shard_writes, two_phase_commit, cross_shard_memory_limit. */
    final CrossShard crossShard;

    PoolSharding(PoolConfig pool) {
        this.schema = ShardingSchema.of(pool);
        this.poolName = pool.name();
        this.defaultShard = pool.defaultShard().orElse(null);
        this.shardIdRegex = pool.shardIdRegex().map(java.util.regex.Pattern::compile).orElse(null);
        this.shardingKeyRegex = pool.shardingKeyRegex().map(java.util.regex.Pattern::compile).orElse(null);
        this.crossShard = pool.crossShard();
        Map<String, String> keyColumns = new HashMap<>();
        for (ShardedTable t : schema.tables()) {
            keyColumns.put(t.qualifiedName(), t.column());
        }
        this.planner = new CrossShardPlanner(keyColumns, crossShard.omnishardedTables());
    }

    /**
     * How a SELECT that spans shards runs: a {@link CrossShardPlan}, or a {@link CrossShardRefusal}
     * saying what PgFleet cannot merge. Kept per SQL text as the keys are.
     */
    Object plan(String sql) {
        Object p = sql.length() > MAX_CACHED_LENGTH ? null : plans.get(sql);
        if (p == null) {
            try {
                p = planner.plan(sql);
            } catch (CrossShardRefusal r) {
                p = r;
            }
            if (sql.length() <= MAX_CACHED_LENGTH) {
                if (plans.size() >= MAX_CACHED) {
                    plans.clear();
                }
                plans.put(sql, p);
            }
        }
        return p;
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

    /** Statements by SQL text: the omnisharded table they name ("" for none). */
    private final ConcurrentHashMap<String, String> omni = new ConcurrentHashMap<>();

    /**
     * The omnisharded table {@code sql} references (the first one), or null; asked of statements that
     * reference no sharded table.
     */
    String omnishardedTable(String sql) {
        if (crossShard.omnishardedTables().isEmpty()) {
            return null;
        }
        String t = sql.length() > MAX_CACHED_LENGTH ? null : omni.get(sql);
        if (t == null) {
            StatementKeys k = ShardKeyReader.read(sql, (schema, name) -> isOmnisharded(schema, name) ? "?" : null);
            t = k.kind() == StatementKeys.Kind.UNSHARDED || k.table() == null ? "" : k.table();
            if (sql.length() <= MAX_CACHED_LENGTH) {
                if (omni.size() >= MAX_CACHED) {
                    omni.clear();
                }
                omni.put(sql, t);
            }
        }
        return t.isEmpty() ? null : t;
    }

    private boolean isOmnisharded(String schema, String name) {
        Set<String> tables = crossShard.omnishardedTables();
        String n = name.toLowerCase(java.util.Locale.ROOT);
        if (schema != null) {
            String s = schema.toLowerCase(java.util.Locale.ROOT);
            return tables.contains(s + "." + n) || tables.contains(n) || s.equals("public") && tables.contains(n);
        }
        return tables.contains(n) || tables.contains("public." + n);
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
