package dev.pgfleet.shared.config;

import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * {@code [[pools.<db>.sharded_tables]]}: a table whose rows are spread over the pool's shards by the
 * value of one column, the sharding key. Statements on a table not listed (nor named by
 * {@code automatic_sharding_key}) go to shard 0 or the pool's {@code default_shard}.
 *
 * <p>Names are stored in lower case, as PostgreSQL folds unquoted identifiers.
 *
 * @param schema       the schema of {@code name = "schema.table"}; {@code null} for a bare name, which
 *                     matches the table in any schema
 * @param name         the table name, without schema
 * @param column       the sharding key column
 * @param type         the key's type family; int2, int4 and int8 keys all hash as bigint
 * @param mapping      how a key value picks a shard
 * @param lists        for {@link Mapping#LIST}: the values each shard holds; empty otherwise
 * @param ranges       for {@link Mapping#RANGE}: ordered by start, not overlapping; empty otherwise
 * @param defaultShard the shard of a value in no list or range; empty: such a value is an error
 */
public record ShardedTable(
        String schema,
        String name,
        String column,
        KeyType type,
        Mapping mapping,
        List<ListShard> lists,
        List<RangeShard> ranges,
        OptionalInt defaultShard) {

    public ShardedTable {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(column, "column");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(mapping, "mapping");
        lists = List.copyOf(lists);
        ranges = List.copyOf(ranges);
        Objects.requireNonNull(defaultShard, "defaultShard");
    }

    /** A hash-mapped table with no default, as {@code automatic_sharding_key = "table.column"} implies. */
    public static ShardedTable hash(String schema, String name, String column, KeyType type) {
        return new ShardedTable(schema, name, column, type, Mapping.HASH, List.of(), List.of(), OptionalInt.empty());
    }

    /** {@code schema.name}, or the bare name: how messages name the table. */
    public String qualifiedName() {
        return schema == null ? name : schema + "." + name;
    }

    /**
     * The type family of a sharding key column: what the key's text is parsed as and which of
     * PostgreSQL's extended hash functions partitions it.
     */
    public enum KeyType implements ConfigEnum {
        /** smallint, integer and bigint: {@code hashint8extended} gives one hash for one number in all three. */
        BIGINT("bigint", List.of("smallint", "integer", "int", "int2", "int4", "int8")),
        /** text and varchar: {@code hashtextextended} over the UTF-8 bytes. */
        TEXT("text", List.of("varchar", "character varying")),
        /** uuid: {@code uuid_hash_extended} over the 16 bytes. */
        UUID("uuid", List.of());

        private final String configName;
        private final List<String> aliases;

        KeyType(String configName, List<String> aliases) {
            this.configName = configName;
            this.aliases = aliases;
        }

        @Override
        public String configName() {
            return configName;
        }

        @Override
        public List<String> aliases() {
            return aliases;
        }
    }

    /** How a key value picks a shard: PostgreSQL's {@code PARTITION BY HASH}, {@code LIST} or {@code RANGE}, over shards. */
    public enum Mapping implements ConfigEnum {
        /** The pool's {@code sharding_function} with MODULUS = the number of shards. */
        HASH("hash"),
        /** Each shard holds the values listed for it, as {@code FOR VALUES IN (...)}. */
        LIST("list"),
        /** Each shard holds {@code [start, end)}, as {@code FOR VALUES FROM (start) TO (end)}; bigint keys only. */
        RANGE("range");

        private final String configName;

        Mapping(String configName) {
            this.configName = configName;
        }

        @Override
        public String configName() {
            return configName;
        }
    }

    /**
     * One entry of {@code lists = [{ shard = 0, values = ["eu", "uk"] }]}.
     *
     * @param values in canonical text form: a bigint as {@link Long#toString(long)}, a uuid in lower
     *               case with hyphens, text as written
     */
    public record ListShard(int shard, List<String> values) {

        public ListShard {
            values = List.copyOf(values);
        }
    }

    /**
     * One entry of {@code ranges = [{ shard = 0, start = 0, end = 1000 }]}: the bigint keys
     * {@code start <= key < end}, as PostgreSQL's range partition bounds (lower inclusive, upper
     * exclusive).
     *
     * @param start {@code null}: no lower bound (PostgreSQL's {@code MINVALUE})
     * @param end   {@code null}: no upper bound ({@code MAXVALUE}); exclusive
     */
    public record RangeShard(int shard, Long start, Long end) {

        /** Whether {@code key} falls in {@code [start, end)}. */
        public boolean contains(long key) {
            return (start == null || key >= start) && (end == null || key < end);
        }
    }
}
