package dev.pgfleet.router;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Decides from the SQL text whether a query can run on a replica or needs the primary, and picks
 * out transaction control, PgFleet's own commands ({@link PgFleetCommand}) and comment hints
 * ({@code /* pgfleet_role: replica *}{@code /}, {@code /* pgfleet_shard: 2 *}{@code /}).
 *
 * <p>Pure Java, no Vert.x: the proxy calls {@link #classify} inline on its event loop. An instance
 * is immutable apart from its cache and is meant to be shared by all event loops (one per pool
 * configuration, or one for the process).
 *
 * <p>Rules, in short (see {@link Classification.Reason} for the full list): reads
 * (SELECT/WITH/VALUES/TABLE/EXPLAIN/DECLARE/COPY TO) go to a replica unless they hold a write
 * (data-modifying CTE, SELECT INTO, FOR UPDATE/SHARE, a call of a function of the write set);
 * everything that writes, locks or might (INSERT ... DDL, LOCK, LISTEN/NOTIFY, CALL, DO, EXECUTE,
 * COPY FROM), and anything unknown or unparsable, goes to the primary. A string of several
 * statements takes the strongest route of its statements.
 */
public final class QueryClassifier {

    /** Entries in the classification cache unless configured otherwise. */
    public static final int DEFAULT_CACHE_SIZE = 10_000;

    /** Longer query strings are classified every time, never cached. */
    public static final int DEFAULT_MAX_CACHED_QUERY_LENGTH = 8 * 1024;

    /**
     * Functions whose call makes a query go to the primary: sequences (and {@code currval}/
     * {@code lastval}, which only mean something where {@code nextval} ran), advisory locks (a lock
     * taken on a replica excludes nobody on the primary), transaction ids (a standby cannot assign
     * one), large-object writes, WAL and replication-slot control, notifications, dblink writes.
     */
    public static final Set<String> DEFAULT_WRITE_FUNCTIONS = Collections.unmodifiableSet(new LinkedHashSet<>(Arrays.asList(
            "nextval", "setval", "currval", "lastval",
            "pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_xact_lock", "pg_advisory_xact_lock_shared",
            "pg_try_advisory_lock", "pg_try_advisory_lock_shared", "pg_try_advisory_xact_lock",
            "pg_try_advisory_xact_lock_shared", "pg_advisory_unlock", "pg_advisory_unlock_shared",
            "pg_advisory_unlock_all",
            "txid_current", "pg_current_xact_id",
            "lo_create", "lo_creat", "lo_import", "lo_unlink", "lo_put", "lo_from_bytea", "lowrite", "lo_truncate",
            "lo_truncate64",
            "pg_switch_wal", "pg_create_restore_point", "pg_create_physical_replication_slot",
            "pg_create_logical_replication_slot", "pg_drop_replication_slot", "pg_copy_physical_replication_slot",
            "pg_copy_logical_replication_slot", "pg_logical_emit_message", "pg_replication_origin_create",
            "pg_replication_origin_drop",
            "pg_notify",
            "dblink_exec")));

    private final NameSet writeFunctions;
    private final Set<String> writeFunctionNames;
    private final ClassificationCache cache;

    private QueryClassifier(Builder b) {
        List<String> names = new ArrayList<>();
        for (String f : b.writeFunctions) {
            String n = f.trim().toLowerCase(Locale.ROOT);
            if (n.isEmpty()) {
                throw new IllegalArgumentException("empty write function name");
            }
            if (!names.contains(n)) {
                names.add(n);
            }
        }
        this.writeFunctionNames = Collections.unmodifiableSet(new LinkedHashSet<>(names));
        this.writeFunctions = new NameSet(names);
        this.cache = b.cacheSize > 0 ? new ClassificationCache(b.cacheSize, b.maxCachedQueryLength) : null;
    }

    /** With the defaults: {@link #DEFAULT_WRITE_FUNCTIONS}, a cache of {@link #DEFAULT_CACHE_SIZE}. */
    public static QueryClassifier create() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Classifies a query string (a simple-protocol Query, or the text of a Parse), through the
     * cache: a string seen before costs a hash lookup and allocates nothing. Never throws on bad
     * SQL: what cannot be read goes to the primary.
     *
     * @param sql the text; a {@link String} is best (its hash is cached in it), any CharSequence works
     */
    public Classification classify(CharSequence sql) {
        if (cache == null || !cache.cacheable(sql)) {
            return classifyUncached(sql);
        }
        int hash = ClassificationCache.hash(sql);
        Classification c = cache.get(sql, hash);
        if (c == null) {
            c = classifyUncached(sql);
            cache.put(sql, hash, c);
        }
        return c;
    }

    /** Classifies without looking at or filling the cache (for benchmarks, and one-off text). */
    public Classification classifyUncached(CharSequence sql) {
        return new StatementScanner(sql, writeFunctions).run();
    }

    /** The function names (lower case) whose call sends a query to the primary. */
    public Set<String> writeFunctions() {
        return writeFunctionNames;
    }

    /** Cache lookups that found an entry. */
    public long cacheHits() {
        return cache == null ? 0 : cache.hits();
    }

    /** Cache lookups that did not. */
    public long cacheMisses() {
        return cache == null ? 0 : cache.misses();
    }

    /** Entries in the cache now (counts them: not for the hot path). */
    public int cachedEntries() {
        return cache == null ? 0 : cache.size();
    }

    /** The most entries the cache holds (the configured size rounded up to a multiple of 4); 0 without cache. */
    public int cacheCapacity() {
        return cache == null ? 0 : cache.capacity();
    }

    /** Drops every cached entry (after a configuration change of the write-function set, build a new classifier instead). */
    public void clearCache() {
        if (cache != null) {
            cache.clear();
        }
    }

    /** Settings of a {@link QueryClassifier}. */
    public static final class Builder {
        private int cacheSize = DEFAULT_CACHE_SIZE;
        private int maxCachedQueryLength = DEFAULT_MAX_CACHED_QUERY_LENGTH;
        private final List<String> writeFunctions = new ArrayList<>(DEFAULT_WRITE_FUNCTIONS);

        private Builder() {
        }

        /** Entries in the classification cache; 0 turns the cache off. */
        public Builder cacheSize(int entries) {
            if (entries < 0) {
                throw new IllegalArgumentException("cache size must not be negative, got " + entries);
            }
            this.cacheSize = entries;
            return this;
        }

        /** Query strings longer than this (in chars) are not cached. */
        public Builder maxCachedQueryLength(int chars) {
            if (chars < 0) {
                throw new IllegalArgumentException("max cached query length must not be negative, got " + chars);
            }
            this.maxCachedQueryLength = chars;
            return this;
        }

        /**
         * Replaces the write-function set. Names are matched as a function call ({@code name(}),
         * also schema-qualified ({@code pg_catalog.nextval(}); unquoted calls ignore case, quoted
         * ones ({@code "nextval"(}) must be lower case as stored.
         */
        public Builder writeFunctions(Collection<String> names) {
            writeFunctions.clear();
            writeFunctions.addAll(names);
            return this;
        }

        /** Adds to the write-function set. */
        public Builder addWriteFunctions(String... names) {
            writeFunctions.addAll(Arrays.asList(names));
            return this;
        }

        public QueryClassifier build() {
            return new QueryClassifier(this);
        }
    }
}
