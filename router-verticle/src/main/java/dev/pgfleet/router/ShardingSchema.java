package dev.pgfleet.router;

import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.ShardKeyText;
import dev.pgfleet.shared.config.ShardedTable;
import dev.pgfleet.shared.config.ShardedTable.ListShard;
import dev.pgfleet.shared.config.ShardedTable.RangeShard;
import dev.pgfleet.shared.config.ShardingFunction;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.SqlState;
import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How one pool's rows are spread over its shards: which tables are sharded, on which column, and
 * the shard of a sharding key value. Built from the pool's configuration
 * ({@code [[pools.<db>.sharded_tables]]}, {@code automatic_sharding_key}, {@code sharding_function});
 * immutable and thread safe, so one instance serves every event loop.
 *
 * <p>A key value maps to a shard the way PostgreSQL maps a row to a partition, the shards standing
 * for the partitions:
 * <ul>
 *   <li>hash: {@code PARTITION BY HASH} with MODULUS = the number of shards ({@link ShardHash};
 *       PgCat's {@code pg_bigint_hash}), or PgCat's {@code sha1} ({@link PgCatSha1}) when the
 *       pool's {@code sharding_function} says so;</li>
 *   <li>list: {@code FOR VALUES IN (...)}, the shard whose list holds the value;</li>
 *   <li>range: {@code FOR VALUES FROM (start) TO (end)}, the shard whose range holds it.</li>
 * </ul>
 * A value in no list or range goes to the table's {@code default_shard}, as rows go to a
 * {@code DEFAULT} partition; without one it is an error (22023), as PostgreSQL's "no partition of
 * relation found for row" is one. A value that is not of the key's type is refused with
 * PostgreSQL's own error for it (22P02, {@code invalid input syntax for type bigint: "..."}).
 *
 * <p>Table names: a bare name in the configuration matches the table in any schema; a
 * {@code schema.table} matches only in that schema; a bare name in a query, which PostgreSQL
 * resolves through the search_path, matches a configured {@code public.table} too. Names are
 * compared in lower case (PostgreSQL folds unquoted identifiers).
 */
public final class ShardingSchema {

    /** PostgreSQL's {@code ERRCODE_INVALID_BINARY_REPRESENTATION}: a binary parameter of the wrong length. */
    static final String INVALID_BINARY_REPRESENTATION = "22P03";

    private final int shards;
    private final ShardingFunction function;
    private final List<ShardedTable> tables;
    /** Tables configured by bare name. */
    private final Map<String, ShardedTable> bare = new HashMap<>();
    /** Tables configured as schema.table: schema, then table name. */
    private final Map<String, Map<String, ShardedTable>> qualified = new HashMap<>();
    /** For list-mapped tables: canonical value text to shard. */
    private final Map<ShardedTable, Map<String, Integer>> lists = new IdentityHashMap<>();
    /** The table SET SHARDING KEY values are read for; null for a pool with no sharded table. */
    private final ShardedTable keyTable;

    private ShardingSchema(PoolConfig pool) {
        this.shards = pool.shards().size();
        this.function = pool.shardingFunction();
        this.tables = pool.shardedTables();
        for (ShardedTable t : tables) {
            if (t.schema() == null) {
                bare.putIfAbsent(t.name(), t);
            } else {
                qualified.computeIfAbsent(t.schema(), s -> new HashMap<>()).putIfAbsent(t.name(), t);
            }
            if (t.mapping() == ShardedTable.Mapping.LIST) {
                Map<String, Integer> values = new HashMap<>();
                for (ListShard l : t.lists()) {
                    l.values().forEach(v -> values.putIfAbsent(v, l.shard()));
                }
                lists.put(t, values);
            }
        }
        ShardedTable automatic = pool.automaticShardingKey()
                .map(k -> k.replace("\"", "").toLowerCase(Locale.ROOT).split("\\.", -1))
                .filter(parts -> parts.length == 2)
                // As the config loader decided: the listed table of that name in any schema, else the implicit one.
                .flatMap(parts -> tables.stream().filter(t -> t.name().equals(parts[0])).findFirst())
                .orElse(null);
        this.keyTable = automatic != null ? automatic : tables.isEmpty() ? null : tables.get(0);
    }

    /** The sharding of a pool, from its configuration. */
    public static ShardingSchema of(PoolConfig pool) {
        return new ShardingSchema(pool);
    }

    /** The pool's number of shards: the MODULUS of hash mapping. */
    public int shards() {
        return shards;
    }

    /** Whether the pool has more than one shard. */
    public boolean sharded() {
        return shards > 1;
    }

    /** The sharded tables as configured, the one of {@code automatic_sharding_key} first when it is not listed. */
    public List<ShardedTable> tables() {
        return tables;
    }

    /**
     * The sharded table a statement names, or {@code null} when it is not sharded.
     *
     * @param schemaOrNull the schema written in the statement, {@code null} for a bare name
     */
    public ShardedTable table(String schemaOrNull, String name) {
        String n = lower(name);
        if (schemaOrNull != null) {
            Map<String, ShardedTable> inSchema = qualified.get(lower(schemaOrNull));
            ShardedTable t = inSchema == null ? null : inSchema.get(n);
            return t != null ? t : bare.get(n);
        }
        ShardedTable t = bare.get(n);
        if (t != null) {
            return t;
        }
        Map<String, ShardedTable> pub = qualified.get("public");
        return pub == null ? null : pub.get(n);
    }

    /** The sharding key column (lower case) of a sharded table, or {@code null} when the table is not sharded. */
    public String keyColumn(String schemaOrNull, String table) {
        ShardedTable t = table(schemaOrNull, table);
        return t == null ? null : t.column();
    }

    /**
     * The shard of a key value in text format (a literal of the statement, a text-format parameter):
     * {@code "42"}, {@code "-7"}, {@code "abc"}, a uuid's text.
     *
     * @throws PgException 22P02 when the value is not of the key's type (22003 for a bigint out of
     *                     range), 22023 when no list or range holds it and the table has no default
     */
    public int shardOfText(ShardedTable t, CharSequence value) {
        return switch (t.type()) {
            case BIGINT -> shardOfBigint(t, ShardKeyText.parseBigint(value));
            case TEXT -> shardOfTextKey(t, value.toString(), null, 0, 0);
            case UUID -> shardOfUuid(t, ShardKeyText.parseUuid(value));
        };
    }

    /**
     * The shard of a key value in binary format (a Bind parameter with format code 1): for a bigint
     * key an int2, int4 or int8 by its length (2, 4 or 8 bytes, big-endian), for text the UTF-8
     * bytes, for uuid the 16 bytes. The buffer is only read.
     *
     * @throws PgException 22P03 for a length the type does not have, else as {@link #shardOfText}
     */
    public int shardOfBinary(ShardedTable t, ByteBuf buf, int offset, int length) {
        switch (t.type()) {
            case BIGINT -> {
                long key = switch (length) {
                    case 2 -> buf.getShort(offset);
                    case 4 -> buf.getInt(offset);
                    case 8 -> buf.getLong(offset);
                    default -> throw binaryLength(t, "2, 4 or 8", length);
                };
                return shardOfBigint(t, key);
            }
            case TEXT -> {
                byte[] utf8;
                int from;
                if (buf.hasArray()) {
                    utf8 = buf.array();
                    from = buf.arrayOffset() + offset;
                } else {
                    utf8 = new byte[length];
                    buf.getBytes(offset, utf8);
                    from = 0;
                }
                String text = t.mapping() == ShardedTable.Mapping.HASH ? null
                        : new String(utf8, from, length, StandardCharsets.UTF_8);
                return shardOfTextKey(t, text, utf8, from, length);
            }
            case UUID -> {
                if (length != 16) {
                    throw binaryLength(t, "16", length);
                }
                byte[] uuid = new byte[16];
                buf.getBytes(offset, uuid);
                return shardOfUuid(t, uuid);
            }
            default -> throw new IllegalStateException(t.type().toString());
        }
    }

    /**
     * The shard of a {@code SET SHARDING KEY} value or a {@code /* sharding_key: k *}{@code /} hint,
     * read as the pool's key type: that of the {@code automatic_sharding_key} table, else of the
     * first sharded table, mapped as that table maps keys. A pool with no sharded table hashes an
     * integer as a bigint and anything else as text, with its sharding function.
     *
     * @throws PgException as {@link #shardOfText}
     */
    public int shardOfKey(String value) {
        if (keyTable != null) {
            return shardOfText(keyTable, value);
        }
        long key;
        try {
            key = ShardKeyText.parseBigint(value);
        } catch (PgException notAnInteger) {
            return function == ShardingFunction.SHA1
                    ? PgCatSha1.shardOf(value.getBytes(StandardCharsets.UTF_8), shards)
                    : ShardHash.textRemainder(value, shards);
        }
        return function == ShardingFunction.SHA1 ? PgCatSha1.shardOf(key, shards) : ShardHash.bigintRemainder(key, shards);
    }

    // ---------------------------------------------------------------- by type

    private int shardOfBigint(ShardedTable t, long key) {
        switch (t.mapping()) {
            case HASH -> {
                return function == ShardingFunction.SHA1 ? PgCatSha1.shardOf(key, shards)
                        : ShardHash.bigintRemainder(key, shards);
            }
            case LIST -> {
                return listed(t, Long.toString(key));
            }
            case RANGE -> {
                for (RangeShard r : t.ranges()) {
                    if (r.contains(key)) {
                        return r.shard();
                    }
                }
                return unmapped(t, Long.toString(key), "range");
            }
            default -> throw new IllegalStateException(t.mapping().toString());
        }
    }

    /** A text key, as a string or (for hash mapping from a Bind) as UTF-8 bytes when {@code text} is null. */
    private int shardOfTextKey(ShardedTable t, String text, byte[] utf8, int offset, int length) {
        if (t.mapping() == ShardedTable.Mapping.LIST) {
            return listed(t, text);
        }
        if (t.mapping() != ShardedTable.Mapping.HASH) {
            throw new IllegalStateException(t.mapping() + " mapping of a text key"); // refused by the config loader
        }
        if (text == null) {
            return function == ShardingFunction.SHA1 ? PgCatSha1.shardOf(utf8, offset, length, shards)
                    : ShardHash.textRemainder(utf8, offset, length, shards);
        }
        return function == ShardingFunction.SHA1 ? PgCatSha1.shardOf(text.getBytes(StandardCharsets.UTF_8), shards)
                : ShardHash.textRemainder(text, shards);
    }

    private int shardOfUuid(ShardedTable t, byte[] uuid) {
        if (t.mapping() == ShardedTable.Mapping.LIST) {
            return listed(t, ShardKeyText.uuidText(uuid, 0));
        }
        if (t.mapping() != ShardedTable.Mapping.HASH) {
            throw new IllegalStateException(t.mapping() + " mapping of a uuid key"); // refused by the config loader
        }
        return function == ShardingFunction.SHA1
                ? PgCatSha1.shardOf(ShardKeyText.uuidText(uuid, 0).getBytes(StandardCharsets.US_ASCII), shards)
                : ShardHash.uuidRemainder(uuid, 0, shards);
    }

    private int listed(ShardedTable t, String canonical) {
        Integer shard = lists.get(t).get(canonical);
        return shard != null ? shard : unmapped(t, canonical, "list");
    }

    /** A value no list or range holds: the table's default shard, else 22023 naming table, column and value. */
    private static int unmapped(ShardedTable t, String value, String kind) {
        if (t.defaultShard().isPresent()) {
            return t.defaultShard().getAsInt();
        }
        throw new PgException(SqlState.INVALID_PARAMETER_VALUE,
                "no shard holds value \"" + value + "\" of sharding key " + t.qualifiedName() + "." + t.column(),
                "The value is in no " + kind + " of sharded table " + t.qualifiedName()
                        + " and the table has no default_shard.", false);
    }

    private static PgException binaryLength(ShardedTable t, String expected, int length) {
        return new PgException(INVALID_BINARY_REPRESENTATION,
                "incorrect binary data format in bind parameter for sharding key " + t.qualifiedName() + "."
                        + t.column(),
                "A " + t.type().configName() + " key takes " + expected + " bytes, got " + length + ".", false);
    }

    /** ASCII lower case, as PostgreSQL folds an unquoted identifier; the same string when already lower case. */
    private static String lower(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return s.toLowerCase(Locale.ROOT);
            }
        }
        return s;
    }
}
