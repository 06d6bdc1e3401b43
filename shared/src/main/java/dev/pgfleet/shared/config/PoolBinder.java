package dev.pgfleet.shared.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Binds one {@code [pools.<db>]} table with its users and shards. */
final class PoolBinder {

    private PoolBinder() {
    }

    static PoolConfig bind(Section s, String name, General general) {
        // Known to PgCat, not implemented by PgFleet: accepted with a warning.
        s.unsupported("no_shard_specified_behavior", "regex_search_limit", "auth_query",
                "auth_query_user", "auth_query_password", "query_parser_max_length",
                "log_client_parameter_status_changes", "checkout_failure_limit", "db_activity_based_routing",
                "db_activity_based_ms_init_delay", "db_activity_ttl", "table_mutation_cache_ms_ttl",
                "dns_cache_enabled", "dns_max_ttl");

        PoolMode poolMode = s.enumValue("pool_mode", PoolMode.class, Defaults.POOL_MODE);
        DefaultRole defaultRole = s.enumValue("default_role", DefaultRole.class, Defaults.DEFAULT_ROLE);
        LoadBalancingMode lb = s.enumValue("load_balancing_mode", LoadBalancingMode.class, Defaults.LOAD_BALANCING_MODE);
        boolean parser = s.bool("query_parser_enabled", Defaults.QUERY_PARSER_ENABLED);
        boolean rwSplitting = s.bool("query_parser_read_write_splitting", Defaults.QUERY_PARSER_READ_WRITE_SPLITTING);
        if (rwSplitting && !parser) {
            // PgCat refuses this combination too: splitting needs the parser.
            s.error("query_parser_read_write_splitting", "requires query_parser_enabled = true");
        }
        boolean primaryReads = s.bool("primary_reads_enabled", Defaults.PRIMARY_READS_ENABLED);
        ShardingFunction sharding = s.enumValue("sharding_function", ShardingFunction.class, Defaults.SHARDING_FUNCTION);
        Optional<String> automaticKey = s.optString("automatic_sharding_key");
        automaticKey.filter(k -> k.replace("\"", "").split("\\.", -1).length != 2).ifPresent(k ->
                s.error("automatic_sharding_key", "must be fully qualified as table.column, got \"" + k + "\""));
        Optional<String> keyRegex = regex(s, "sharding_key_regex");
        Optional<String> shardIdRegex = regex(s, "shard_id_regex");
        Duration connectTimeout = s.millis("connect_timeout", general.connectTimeout());
        Duration idleTimeout = s.millis("idle_timeout", general.idleTimeout());
        Duration serverLifetime = s.millis("server_lifetime", general.serverLifetime());
        long maxLagBytes = s.optLong("max_replica_lag_bytes", 0, Long.MAX_VALUE)
                .orElse(general.maxReplicaLagBytes());
        Duration maxLag = s.millis("max_replica_lag_ms", general.maxReplicaLag());
        int cacheSize = s.integer("prepared_statements_cache_size", general.preparedStatementsCacheSize(), 0,
                Integer.MAX_VALUE);
        boolean cleanup = s.bool("cleanup_server_connections", Defaults.CLEANUP_SERVER_CONNECTIONS);
        Map<String, Object> plugins = plugins(s);

        UserBinder.Inherited inherited = new UserBinder.Inherited(general.authType(), poolMode, serverLifetime,
                idleTimeout, connectTimeout);
        List<UserConfig> users = users(s, inherited);
        List<ShardConfig> shards = shards(s);
        Optional<DefaultShard> defaultShard = ShardedTableBinder.defaultShard(s, shards.size());
        List<ShardedTable> shardedTables = ShardedTableBinder.tables(s, shards.size(), automaticKey);
        CrossShard crossShard = crossShard(s, general, shardedTables);
        s.reportUnknownKeys();
        return new PoolConfig(name, poolMode, defaultRole, lb, parser, rwSplitting, primaryReads, sharding,
                automaticKey, keyRegex, shardIdRegex, connectTimeout, idleTimeout, serverLifetime, maxLagBytes,
                maxLag, cacheSize, cleanup, plugins, users, shards, defaultShard, shardedTables, crossShard);
    }

    /** omnisharded_tables, cross_shard_writes, two_phase_commit, cross_shard_memory_limit. */
    private static CrossShard crossShard(Section s, General general, List<ShardedTable> shardedTables) {
        java.util.Set<String> omni = new java.util.LinkedHashSet<>();
        s.optArray("omnisharded_tables").ifPresent(a -> {
            for (Object o : a) {
                if (!(o instanceof String name) || name.isBlank()) {
                    s.error("omnisharded_tables", "expected table names (strings), got " + Section.typeName(o));
                    continue;
                }
                String table = name.trim().toLowerCase(java.util.Locale.ROOT);
                for (ShardedTable t : shardedTables) {
                    if (t.qualifiedName().equals(table)) {
                        s.error("omnisharded_tables", "\"" + name + "\" is also a sharded table");
                    }
                }
                if (!omni.add(table)) {
                    s.error("omnisharded_tables", "\"" + name + "\" is listed twice");
                }
            }
        });
        CrossShardWrites writes = s.enumValue("cross_shard_writes", CrossShardWrites.class, Defaults.CROSS_SHARD_WRITES);
        boolean twoPhase = s.bool("two_phase_commit", Defaults.TWO_PHASE_COMMIT);
        long memory = GeneralBinder.bytes(s, "cross_shard_memory_limit", general.crossShardMemoryLimit());
        return new CrossShard(omni, writes, twoPhase, memory);
    }

    private static Optional<String> regex(Section s, String key) {
        Optional<String> regex = s.optString(key);
        try {
            regex.ifPresent(Pattern::compile);
        } catch (PatternSyntaxException e) {
            s.error(key, "not a valid regular expression: " + e.getDescription());
        }
        return regex;
    }

    /** PgCat plugins are kept as written so a later PgFleet can read them; nothing runs them. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> plugins(Section s) {
        Object raw = s.raw("plugins");
        if (raw == null) {
            return Map.of();
        }
        Object frozen = Section.freeze(raw);
        if (!(frozen instanceof Map)) {
            s.error("plugins", "expected a table, got " + Section.typeName(raw));
            return Map.of();
        }
        s.problems().warn(s.path("plugins"), "PgCat plugins are not run by PgFleet; kept unparsed");
        return (Map<String, Object>) frozen;
    }

    private static List<UserConfig> users(Section s, UserBinder.Inherited inherited) {
        List<UserConfig> users = new ArrayList<>();
        if (!s.has("users")) {
            s.error("users", "a pool needs at least one user, e.g. [" + s.path("users") + ".0]");
            return users;
        }
        Optional<Section> table = s.table("users");
        if (table.isEmpty()) {
            return users;
        }
        Map<String, String> seen = new HashMap<>();
        for (String index : sortedIndexes(table.get())) {
            Optional<Section> entry = table.get().table(index);
            if (entry.isEmpty()) {
                continue;
            }
            UserConfig user = UserBinder.bind(entry.get(), index, inherited);
            String first = seen.putIfAbsent(user.username(), index);
            if (first != null && !user.username().isEmpty()) {
                entry.get().error("username", "duplicate username \"" + user.username() + "\", already used by "
                        + table.get().path(first));
            }
            users.add(user);
        }
        if (table.get().keys().isEmpty()) {
            s.error("users", "a pool needs at least one user, the table is empty");
        }
        return users;
    }

    private static List<ShardConfig> shards(Section s) {
        List<ShardConfig> shards = new ArrayList<>();
        if (!s.has("shards")) {
            s.error("shards", "a pool needs at least one shard, e.g. [" + s.path("shards") + ".0]");
            return shards;
        }
        Optional<Section> table = s.table("shards");
        if (table.isEmpty()) {
            return shards;
        }
        TreeMap<Integer, String> byIndex = new TreeMap<>();
        for (String key : table.get().keys()) {
            Integer index = key.matches("\\d{1,9}") ? Integer.valueOf(key) : null;
            if (index == null) {
                table.get().error(key, "shard index must be a number (shards are numbered from 0)");
            } else if (byIndex.put(index, key) != null) {
                table.get().error(key, "shard index " + index + " given twice");
            }
        }
        int expected = 0;
        for (Map.Entry<Integer, String> e : byIndex.entrySet()) {
            if (e.getKey() != expected) {
                // Sharding functions map a key to hash mod N, so every index below N must exist.
                table.get().error(String.valueOf(expected), "missing: shard indexes must run 0.."
                        + (byIndex.size() - 1) + " without gaps");
                break;
            }
            expected++;
        }
        for (Map.Entry<Integer, String> e : byIndex.entrySet()) {
            table.get().table(e.getValue()).ifPresent(shard -> shards.add(ShardBinder.bind(shard, e.getKey())));
        }
        if (table.get().keys().isEmpty()) {
            s.error("shards", "a pool needs at least one shard, the table is empty");
        }
        return shards;
    }

    /** User table keys, numerically when they are numbers ("10" after "9"), else as written. */
    private static List<String> sortedIndexes(Section users) {
        List<String> keys = new ArrayList<>(users.keys());
        keys.sort(Comparator.comparing((String k) -> !k.matches("\\d{1,9}"))
                .thenComparing(k -> k.matches("\\d{1,9}") ? Integer.parseInt(k) : 0)
                .thenComparing(Comparator.naturalOrder()));
        return keys;
    }
}
