package dev.pgfleet.router;

import java.util.concurrent.atomic.LongAdder;

/**
 * A bounded, thread-safe map from query text to {@link Classification}: 4-way set associative,
 * with a second-chance (clock) bit per entry for eviction inside a set. A hit costs the query's
 * hash (cached inside a {@link String}), one index computation, up to four reference reads and one
 * {@code equals}; it allocates nothing and takes no lock.
 *
 * <p>Concurrency: slots are a plain array of immutable entries written without locks. A reader
 * sees either an old entry or a new one, fully built (final fields); two writers racing on one set
 * can lose an insert, which costs a later miss and nothing else. The referenced bit is a benign
 * race too. That is the trade a per-query cache on several event loops wants.
 */
final class ClassificationCache {
    private static final int WAYS = 4;

    private static final class Entry {
        final String key;
        final int hash;
        final Classification value;
        /** Second chance: set on a hit, cleared when the clock passes. */
        boolean referenced;

        Entry(String key, int hash, Classification value) {
            this.key = key;
            this.hash = hash;
            this.value = value;
        }
    }

    private final Entry[] slots;
    private final int sets;
    private final int maxKeyLength;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();

    /**
     * @param capacity     entries at most, rounded up to a multiple of 4
     * @param maxKeyLength longer query strings are not cached (one-off bulk INSERTs would only
     *                     push out useful entries and hold their text)
     */
    ClassificationCache(int capacity, int maxKeyLength) {
        if (capacity < 1) {
            throw new IllegalArgumentException("cache capacity must be at least 1, got " + capacity);
        }
        this.sets = (capacity + WAYS - 1) / WAYS;
        this.slots = new Entry[sets * WAYS];
        this.maxKeyLength = maxKeyLength;
    }

    /** The same value {@link String#hashCode()} gives, for any {@link CharSequence}. */
    static int hash(CharSequence s) {
        if (s instanceof String) {
            return s.hashCode();
        }
        int h = 0;
        for (int i = 0, n = s.length(); i < n; i++) {
            h = 31 * h + s.charAt(i);
        }
        return h;
    }

    private int setBase(int hash) {
        int h = hash * 0x9E3779B9;
        h ^= h >>> 15;
        // Lemire's multiply-shift maps h onto [0, sets) without a modulo.
        return (int) (((h & 0xFFFFFFFFL) * sets) >>> 32) * WAYS;
    }

    boolean cacheable(CharSequence sql) {
        return sql.length() <= maxKeyLength;
    }

    /** The cached classification, or null (counted as a miss). */
    Classification get(CharSequence sql, int hash) {
        int base = setBase(hash);
        int len = sql.length();
        for (int i = base; i < base + WAYS; i++) {
            Entry e = slots[i];
            if (e != null && e.hash == hash && e.key.length() == len && e.key.contentEquals(sql)) {
                if (!e.referenced) {
                    e.referenced = true;
                }
                hits.increment();
                return e.value;
            }
        }
        misses.increment();
        return null;
    }

    void put(CharSequence sql, int hash, Classification value) {
        if (!cacheable(sql)) {
            return;
        }
        Entry fresh = new Entry(sql.toString(), hash, value);
        int base = setBase(hash);
        for (int i = base; i < base + WAYS; i++) {
            Entry e = slots[i];
            if (e == null || (e.hash == hash && e.key.contentEquals(sql))) {
                slots[i] = fresh;
                return;
            }
        }
        // Clock inside the set: the first entry not used since the hand last passed goes.
        for (int i = base; i < base + WAYS; i++) {
            Entry e = slots[i];
            if (!e.referenced) {
                slots[i] = fresh;
                return;
            }
            e.referenced = false;
        }
        slots[base + ((hash >>> 29) & (WAYS - 1))] = fresh;
    }

    int capacity() {
        return slots.length;
    }

    /** Entries held now; counts the slots, so O(capacity): for tests and metrics, not per query. */
    int size() {
        int n = 0;
        for (Entry e : slots) {
            if (e != null) {
                n++;
            }
        }
        return n;
    }

    long hits() {
        return hits.sum();
    }

    long misses() {
        return misses.sum();
    }

    void clear() {
        java.util.Arrays.fill(slots, null);
    }
}
