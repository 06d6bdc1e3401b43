package dev.pgfleet.shared.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Typed reads from one TOML table, each error reported with the full key path. Every key asked
 * for is remembered, so that {@link #reportUnknownKeys()} can warn about the keys nobody asked for
 * (typos such as PgCat's own {@code [pool.sharded_db.plugins]}) instead of silently dropping them.
 *
 * <p>A value of the wrong type is an error and the default is used in its place, so binding goes
 * on and later keys are checked too. Password values are never echoed in messages.
 */
final class Section {

    private final Problems problems;
    private final String path;
    private final JsonObject table;
    private final Set<String> asked = new LinkedHashSet<>();
    private final Set<String> unsupported = new LinkedHashSet<>();

    Section(Problems problems, String path, JsonObject table) {
        this.problems = problems;
        this.path = path;
        this.table = table;
    }

    String path() {
        return path;
    }

    String path(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    Problems problems() {
        return problems;
    }

    boolean has(String key) {
        asked.add(key);
        return table.containsKey(key);
    }

    Set<String> keys() {
        return table.fieldNames();
    }

    void error(String key, String message) {
        problems.error(path(key), message);
    }

    /** Keys PgCat knows that PgFleet does not implement: accepted, with a warning when present. */
    void unsupported(String... keys) {
        unsupported.addAll(Arrays.asList(keys));
    }

    // ---------------------------------------------------------------- strings

    Optional<String> optString(String key) {
        Object v = value(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof String s) {
            return Optional.of(s);
        }
        typeError(key, "a string", v);
        return Optional.empty();
    }

    String string(String key, String def) {
        return optString(key).orElse(def);
    }

    /** A non-empty string; missing or empty is an error and the result is {@code ""}. */
    String requiredString(String key) {
        boolean present = has(key);
        Optional<String> s = optString(key);
        if (!present) {
            error(key, "required key is missing");
        } else if (s.isPresent() && s.get().isEmpty()) {
            error(key, "must not be empty");
        }
        return s.orElse("");
    }

    // ---------------------------------------------------------------- numbers

    Optional<Long> optLong(String key, long min, long max) {
        Object v = value(key);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte
                || v instanceof BigInteger)) {
            typeError(key, "an integer", v);
            return Optional.empty();
        }
        BigInteger n = v instanceof BigInteger b ? b : BigInteger.valueOf(((Number) v).longValue());
        if (n.compareTo(BigInteger.valueOf(min)) < 0) {
            error(key, "must be at least " + min + ", got " + n);
            return Optional.empty();
        }
        if (n.compareTo(BigInteger.valueOf(max)) > 0) {
            error(key, "must be at most " + max + ", got " + n);
            return Optional.empty();
        }
        return Optional.of(n.longValue());
    }

    Optional<Integer> optInt(String key, int min, int max) {
        return optLong(key, min, max).map(Long::intValue);
    }

    int integer(String key, int def, int min, int max) {
        return optInt(key, min, max).orElse(def);
    }

    int requiredInt(String key, int min, int max) {
        if (!has(key)) {
            error(key, "required key is missing");
            return min;
        }
        return optInt(key, min, max).orElse(min);
    }

    /** A duration written as an integer count of milliseconds, as every PgCat timeout is. */
    Optional<Duration> optMillis(String key) {
        return optLong(key, 0, Long.MAX_VALUE / 1_000_000).map(Duration::ofMillis);
    }

    Duration millis(String key, Duration def) {
        return optMillis(key).orElse(def);
    }

    /** A duration written as an integer count of seconds ({@code ban_time}, TCP keepalive times). */
    Duration seconds(String key, Duration def) {
        return optLong(key, 0, Long.MAX_VALUE / 1_000_000_000).map(Duration::ofSeconds).orElse(def);
    }

    // ---------------------------------------------------------------- booleans

    Optional<Boolean> optBool(String key) {
        Object v = value(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof Boolean b) {
            return Optional.of(b);
        }
        typeError(key, "a boolean (true or false)", v);
        return Optional.empty();
    }

    boolean bool(String key, boolean def) {
        return optBool(key).orElse(def);
    }

    // ---------------------------------------------------------------- enums

    <E extends Enum<E> & ConfigEnum> Optional<E> optEnum(String key, Class<E> type) {
        Optional<String> s = optString(key);
        if (s.isEmpty()) {
            return Optional.empty();
        }
        Optional<E> e = parseEnum(s.get(), type);
        if (e.isEmpty()) {
            error(key, "unknown value \"" + s.get() + "\"; accepted: " + accepted(type));
        }
        return e;
    }

    <E extends Enum<E> & ConfigEnum> E enumValue(String key, Class<E> type, E def) {
        return optEnum(key, type).orElse(def);
    }

    /** Case-insensitive, like PgCat's serde aliases ("primary" and "Primary"). */
    static <E extends Enum<E> & ConfigEnum> Optional<E> parseEnum(String s, Class<E> type) {
        for (E e : type.getEnumConstants()) {
            if (e.configName().equalsIgnoreCase(s)
                    || e.aliases().stream().anyMatch(a -> a.equalsIgnoreCase(s))) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    static <E extends Enum<E> & ConfigEnum> String accepted(Class<E> type) {
        return Arrays.stream(type.getEnumConstants()).map(e -> "\"" + e.configName() + "\"")
                .collect(Collectors.joining(", "));
    }

    // ---------------------------------------------------------------- tables and arrays

    /** A sub-table; a non-table value is a type error. */
    Optional<Section> table(String key) {
        Object v = value(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof JsonObject o) {
            return Optional.of(new Section(problems, path(key), o));
        }
        typeError(key, "a table", v);
        return Optional.empty();
    }

    Optional<JsonArray> optArray(String key) {
        Object v = value(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof JsonArray a) {
            return Optional.of(a);
        }
        typeError(key, "an array", v);
        return Optional.empty();
    }

    /** The raw value (marks the key as known); for values kept unparsed, such as plugins. */
    Object raw(String key) {
        return value(key);
    }

    // ---------------------------------------------------------------- unknown keys

    /**
     * Warns about every key present but never asked for, suggesting the closest known key when
     * one is near (edit distance 2 or less), and about PgCat keys PgFleet does not implement.
     */
    void reportUnknownKeys() {
        for (String key : table.fieldNames()) {
            if (unsupported.contains(key)) {
                problems.warn(path(key), "PgCat setting not supported by PgFleet, ignored");
            } else if (!asked.contains(key)) {
                String hint = closest(key).map(k -> " (did you mean '" + path(k) + "'?)").orElse("");
                problems.warn(path(key), "unknown key, ignored" + hint);
            }
        }
    }

    private Optional<String> closest(String key) {
        String best = null;
        int bestDistance = 3;
        for (String known : asked) {
            int d = distance(key.toLowerCase(Locale.ROOT), known);
            if (d < bestDistance && !known.equals(key)) {
                best = known;
                bestDistance = d;
            }
        }
        return Optional.ofNullable(best);
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    // ---------------------------------------------------------------- helpers

    private Object value(String key) {
        asked.add(key);
        return table.getValue(key);
    }

    private void typeError(String key, String expected, Object got) {
        error(key, "expected " + expected + ", got " + describe(key, got));
    }

    /** The type of a bad value, and the value itself unless the key holds a secret. */
    private static String describe(String key, Object v) {
        String type = typeName(v);
        if (key.contains("password") || v instanceof JsonObject || v instanceof JsonArray) {
            return type;
        }
        return type + " " + (v instanceof String s ? "\"" + s + "\"" : String.valueOf(v));
    }

    static String typeName(Object v) {
        if (v == null) {
            return "nothing";
        } else if (v instanceof String) {
            return "a string";
        } else if (v instanceof Boolean) {
            return "a boolean";
        } else if (v instanceof Double || v instanceof Float || v instanceof java.math.BigDecimal) {
            return "a float";
        } else if (v instanceof Number) {
            return "an integer";
        } else if (v instanceof JsonObject) {
            return "a table";
        } else if (v instanceof JsonArray) {
            return "an array";
        }
        return "a " + v.getClass().getSimpleName();
    }

    /** Deep, unmodifiable copy of a TOML value, for settings kept unparsed. */
    static Object freeze(Object v) {
        if (v instanceof JsonObject o) {
            return freeze(o.getMap());
        }
        if (v instanceof JsonArray a) {
            return freeze(a.getList());
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> copy = new java.util.LinkedHashMap<>();
            m.forEach((k, x) -> copy.put(String.valueOf(k), freeze(x)));
            return java.util.Collections.unmodifiableMap(copy);
        }
        if (v instanceof List<?> l) {
            List<Object> copy = new ArrayList<>();
            l.forEach(x -> copy.add(freeze(x)));
            return java.util.Collections.unmodifiableList(copy);
        }
        return v;
    }

    /** Applies {@code f} to each sub-table of this section; non-tables are type errors. */
    <T> List<T> eachTable(Function<Section, T> f) {
        List<T> out = new ArrayList<>();
        for (String key : table.fieldNames()) {
            table(key).map(f).ifPresent(out::add);
        }
        return out;
    }
}
