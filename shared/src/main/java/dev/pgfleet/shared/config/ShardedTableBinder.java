package dev.pgfleet.shared.config;

import dev.pgfleet.shared.config.ShardedTable.KeyType;
import dev.pgfleet.shared.config.ShardedTable.ListShard;
import dev.pgfleet.shared.config.ShardedTable.Mapping;
import dev.pgfleet.shared.config.ShardedTable.RangeShard;
import dev.pgfleet.shared.protocol.PgException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Binds a pool's {@code default_shard} and {@code [[pools.<db>.sharded_tables]]}, and checks them
 * against the pool's shards: every shard number names a shard, list values are of the key type
 * and listed once, ranges do not overlap, a table is listed once.
 */
final class ShardedTableBinder {

    private ShardedTableBinder() {
    }

    /** {@code default_shard}: a number, {@code "shard_<n>"}, {@code "random"} or {@code "random_healthy"}. */
    static Optional<DefaultShard> defaultShard(Section pool, int shards) {
        Object v = pool.raw("default_shard");
        if (v == null) {
            return Optional.empty();
        }
        Optional<DefaultShard> d = Optional.empty();
        if (isIntegral(v) && fitsInt(v) && ((Number) v).intValue() >= 0) {
            d = Optional.of(DefaultShard.of(((Number) v).intValue()));
        } else if (v instanceof String s) {
            d = DefaultShard.parse(s);
        }
        if (d.isEmpty()) {
            pool.error("default_shard", "expected a shard number, \"shard_<n>\", \"random\" or \"random_healthy\", got "
                    + describe(v));
        } else if (d.get().kind() == DefaultShard.Kind.SHARD && !inRange(d.get().shard(), shards)) {
            pool.error("default_shard", notAShard(d.get().shard(), shards));
            return Optional.empty();
        }
        return d;
    }

    /**
     * The pool's sharded tables, as listed, and the table of {@code automatic_sharding_key}
     * ("t.c": a bigint hash table t keyed on c) first unless t is listed, in which case the entry
     * listed is the one used.
     */
    static List<ShardedTable> tables(Section pool, int shards, Optional<String> automaticKey) {
        List<ShardedTable> tables = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        Optional<JsonArray> array = pool.optArray("sharded_tables");
        if (array.isPresent()) {
            for (int i = 0; i < array.get().size(); i++) {
                String path = pool.path("sharded_tables") + "[" + i + "]";
                if (!(array.get().getValue(i) instanceof JsonObject entry)) {
                    pool.problems().error(path, "expected a table with name and column, e.g. [["
                            + pool.path("sharded_tables") + "]]");
                    continue;
                }
                Section t = new Section(pool.problems(), path, entry);
                Optional<ShardedTable> table = table(t, shards);
                if (table.isEmpty()) {
                    continue;
                }
                String first = seen.putIfAbsent(table.get().qualifiedName(), path);
                if (first != null) {
                    t.error("name", "table \"" + table.get().qualifiedName() + "\" is already listed at " + first);
                    continue;
                }
                tables.add(table.get());
            }
        }
        automaticKey.ifPresent(key -> {
            String[] parts = key.replace("\"", "").toLowerCase(Locale.ROOT).split("\\.", -1);
            if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
                return; // reported by PoolBinder
            }
            Optional<ShardedTable> listed = tables.stream().filter(t -> t.name().equals(parts[0])).findFirst();
            if (listed.isEmpty()) {
                tables.add(0, ShardedTable.hash(null, parts[0], parts[1], KeyType.BIGINT));
            } else if (!listed.get().column().equals(parts[1])) {
                pool.problems().warn(pool.path("automatic_sharding_key"), "names column " + parts[1] + " of "
                        + parts[0] + ", but sharded_tables lists " + listed.get().qualifiedName() + " keyed on "
                        + listed.get().column() + "; the sharded_tables entry is used");
            }
        });
        return tables;
    }

    private static Optional<ShardedTable> table(Section t, int shards) {
        String qualified = t.requiredString("name").toLowerCase(Locale.ROOT);
        String column = t.requiredString("column").toLowerCase(Locale.ROOT);
        // The type may be left out for the common case, a bigint key (PgCat shards on bigints only).
        Optional<KeyType> typeGiven = t.optEnum("type", KeyType.class);
        boolean typeOk = !t.has("type") || typeGiven.isPresent();
        KeyType type = typeGiven.orElse(KeyType.BIGINT);
        Optional<Mapping> mapping = t.optEnum("mapping", Mapping.class);
        boolean mappingOk = !t.has("mapping") || mapping.isPresent();
        OptionalInt defaultShard = tableDefaultShard(t, shards);
        String[] parts = qualified.split("\\.", -1);
        boolean nameOk = !qualified.isEmpty() && parts.length <= 2 && !parts[0].isEmpty()
                && !parts[parts.length - 1].isEmpty();
        if (!qualified.isEmpty() && !nameOk) {
            t.error("name", "expected table or schema.table, got \"" + qualified + "\"");
        }
        Mapping m = mapping.orElse(Mapping.HASH);
        List<ListShard> lists = List.of();
        List<RangeShard> ranges = List.of();
        if (m == Mapping.LIST) {
            lists = lists(t, shards, type);
        } else if (t.has("lists")) {
            t.error("lists", "lists are read only with mapping = \"list\"");
        }
        if (m == Mapping.RANGE) {
            if (type != KeyType.BIGINT) {
                t.error("mapping", "range mapping needs a bigint key (also smallint, integer), got type "
                        + type.configName());
            } else {
                ranges = ranges(t, shards);
            }
        } else if (t.has("ranges")) {
            t.error("ranges", "ranges are read only with mapping = \"range\"");
        }
        if (m == Mapping.HASH && t.has("default_shard")) {
            t.error("default_shard", "a hash-mapped table maps every key; default_shard is for list and range mapping");
        }
        t.reportUnknownKeys();
        if (!nameOk || column.isEmpty() || !typeOk || !mappingOk) {
            return Optional.empty();
        }
        String schema = parts.length == 2 ? parts[0] : null;
        String name = parts[parts.length - 1];
        return Optional.of(new ShardedTable(schema, name, column, type, m, lists, ranges, defaultShard));
    }

    private static OptionalInt tableDefaultShard(Section t, int shards) {
        Object v = t.raw("default_shard");
        if (v == null) {
            return OptionalInt.empty();
        }
        Optional<DefaultShard> d = Optional.empty();
        if (isIntegral(v) && fitsInt(v) && ((Number) v).intValue() >= 0) {
            d = Optional.of(DefaultShard.of(((Number) v).intValue()));
        } else if (v instanceof String s) {
            d = DefaultShard.parse(s).filter(x -> x.kind() == DefaultShard.Kind.SHARD);
        }
        if (d.isEmpty()) {
            t.error("default_shard", "expected a shard number or \"shard_<n>\", got " + describe(v));
            return OptionalInt.empty();
        }
        if (!inRange(d.get().shard(), shards)) {
            t.error("default_shard", notAShard(d.get().shard(), shards));
            return OptionalInt.empty();
        }
        return OptionalInt.of(d.get().shard());
    }

    private static List<ListShard> lists(Section t, int shards, KeyType type) {
        List<ListShard> lists = new ArrayList<>();
        if (!t.has("lists")) {
            t.error("lists", "required with mapping = \"list\", e.g. lists = [{ shard = 0, values = [...] }]");
            return lists;
        }
        Optional<JsonArray> array = t.optArray("lists");
        if (array.isEmpty()) {
            return lists;
        }
        if (array.get().isEmpty()) {
            t.error("lists", "at least one { shard, values } is required");
        }
        Map<String, String> listedAt = new HashMap<>();
        for (int i = 0; i < array.get().size(); i++) {
            String path = t.path("lists") + "[" + i + "]";
            if (!(array.get().getValue(i) instanceof JsonObject o)) {
                t.problems().error(path, "expected { shard = <n>, values = [...] }");
                continue;
            }
            Section e = new Section(t.problems(), path, o);
            int shard = shard(e, shards);
            List<String> values = new ArrayList<>();
            if (!e.has("values")) {
                e.error("values", "required key is missing");
            }
            Optional<JsonArray> raw = e.optArray("values");
            if (raw.isPresent() && raw.get().isEmpty()) {
                e.error("values", "at least one value is required");
            }
            for (int j = 0; raw.isPresent() && j < raw.get().size(); j++) {
                String vpath = e.path("values") + "[" + j + "]";
                Optional<String> value = listValue(t.problems(), vpath, raw.get().getValue(j), type);
                if (value.isEmpty()) {
                    continue;
                }
                String first = listedAt.putIfAbsent(value.get(), vpath);
                if (first != null) {
                    t.problems().error(vpath, "value \"" + value.get() + "\" is already listed at " + first);
                    continue;
                }
                values.add(value.get());
            }
            e.reportUnknownKeys();
            if (shard >= 0) {
                lists.add(new ListShard(shard, values));
            }
        }
        return lists;
    }

    /** A list value in canonical text form; a bigint may be written as a TOML integer or a string. */
    private static Optional<String> listValue(Problems p, String path, Object v, KeyType type) {
        if (type == KeyType.BIGINT && isIntegral(v)) {
            if (v instanceof BigInteger b && b.bitLength() > 63) {
                p.error(path, "value \"" + b + "\" is out of range for type bigint");
                return Optional.empty();
            }
            return Optional.of(Long.toString(((Number) v).longValue()));
        }
        if (!(v instanceof String s)) {
            p.error(path, "expected " + (type == KeyType.BIGINT ? "an integer or a string" : "a string") + ", got "
                    + describe(v));
            return Optional.empty();
        }
        try {
            return Optional.of(ShardKeyText.canonical(type, s));
        } catch (PgException e) {
            p.error(path, e.getMessage());
            return Optional.empty();
        }
    }

    private static List<RangeShard> ranges(Section t, int shards) {
        List<RangeShard> ranges = new ArrayList<>();
        if (!t.has("ranges")) {
            t.error("ranges", "required with mapping = \"range\", e.g. ranges = [{ shard = 0, start = 0, end = 1000 }]");
            return ranges;
        }
        Optional<JsonArray> array = t.optArray("ranges");
        if (array.isEmpty()) {
            return ranges;
        }
        if (array.get().isEmpty()) {
            t.error("ranges", "at least one { shard, start, end } is required");
        }
        List<String> paths = new ArrayList<>();
        for (int i = 0; i < array.get().size(); i++) {
            String path = t.path("ranges") + "[" + i + "]";
            if (!(array.get().getValue(i) instanceof JsonObject o)) {
                t.problems().error(path, "expected { shard = <n>, start = <bigint>, end = <bigint> }");
                continue;
            }
            Section e = new Section(t.problems(), path, o);
            int shard = shard(e, shards);
            Long start = e.optLong("start", Long.MIN_VALUE, Long.MAX_VALUE).orElse(null);
            Long end = e.optLong("end", Long.MIN_VALUE, Long.MAX_VALUE).orElse(null);
            boolean bad = (e.has("start") && start == null) || (e.has("end") && end == null);
            if (start != null && end != null && start >= end) {
                e.error("end", "must be greater than start (" + start + "), got " + end
                        + "; a range is [start, end)");
                bad = true;
            }
            e.reportUnknownKeys();
            if (shard >= 0 && !bad) {
                ranges.add(new RangeShard(shard, start, end));
                paths.add(path);
            }
        }
        // Ordered by start (an open start first); each must end at or before the next starts. An
        // overlap is reported at the entry written later, naming the earlier one.
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < ranges.size(); i++) {
            order.add(i);
        }
        Comparator<Long> nullsFirst = Comparator.nullsFirst(Comparator.naturalOrder());
        order.sort(Comparator.comparing((Integer i) -> ranges.get(i).start(), nullsFirst));
        for (int k = 1; k < order.size(); k++) {
            int a = order.get(k - 1);
            int b = order.get(k);
            RangeShard prev = ranges.get(a);
            RangeShard cur = ranges.get(b);
            if (prev.end() == null || cur.start() == null || prev.end() > cur.start()) {
                int earlier = Math.min(a, b);
                int later = Math.max(a, b);
                t.problems().error(paths.get(later), "overlaps " + paths.get(earlier) + ": "
                        + bounds(ranges.get(earlier)) + " and " + bounds(ranges.get(later)));
            }
        }
        List<RangeShard> sorted = new ArrayList<>();
        order.forEach(i -> sorted.add(ranges.get(i)));
        return sorted;
    }

    private static String bounds(RangeShard r) {
        return "[" + (r.start() == null ? "MINVALUE" : r.start()) + ", " + (r.end() == null ? "MAXVALUE" : r.end()) + ")";
    }

    /** The required {@code shard} of a list or range entry; -1 when missing or out of range. */
    private static int shard(Section e, int shards) {
        if (!e.has("shard")) {
            e.error("shard", "required key is missing");
            return -1;
        }
        Optional<Long> n = e.optLong("shard", 0, Integer.MAX_VALUE);
        if (n.isEmpty()) {
            return -1;
        }
        if (!inRange(n.get().intValue(), shards)) {
            e.error("shard", notAShard(n.get().intValue(), shards));
            return -1;
        }
        return n.get().intValue();
    }

    private static boolean inRange(int shard, int shards) {
        // With no valid shard at all the pool already has an error; do not add one per number.
        return shards == 0 || shard < shards;
    }

    private static String notAShard(int shard, int shards) {
        return "shard " + shard + " does not exist; this pool has shards 0.." + (shards - 1);
    }

    private static boolean isIntegral(Object v) {
        return v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte
                || v instanceof BigInteger;
    }

    private static boolean fitsInt(Object v) {
        return !(v instanceof BigInteger) && ((Number) v).longValue() <= Integer.MAX_VALUE;
    }

    private static String describe(Object v) {
        String type = Section.typeName(v);
        return v instanceof String s ? type + " \"" + s + "\"" : v instanceof Number ? type + " " + v : type;
    }
}
