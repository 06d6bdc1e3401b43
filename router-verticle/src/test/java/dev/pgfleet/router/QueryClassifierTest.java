package dev.pgfleet.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

/** What the table cannot say: configuration, the cache, robustness. */
class QueryClassifierTest {

    @Test
    void writeFunctionsAreConfigurable() {
        QueryClassifier defaults = QueryClassifier.create();
        assertEquals(Route.REPLICA, defaults.classify("SELECT audit_insert(1)").route());

        QueryClassifier added = QueryClassifier.builder().addWriteFunctions("Audit_Insert").build();
        Classification c = added.classify("SELECT audit_insert(1)");
        assertEquals(Route.PRIMARY, c.route());
        assertEquals(Classification.Reason.WRITE_FUNCTION, c.reason());
        assertEquals(Route.PRIMARY, added.classify("SELECT app.AUDIT_INSERT (1)").route());
        assertEquals(Route.REPLICA, added.classify("SELECT audit_insert FROM t").route(), "not a call");
        assertEquals(Route.REPLICA, added.classify("SELECT audit_insert_count(1)").route(), "another name");
        assertEquals(Route.PRIMARY, added.classify("SELECT nextval('s')").route(), "defaults kept");
        assertTrue(added.writeFunctions().contains("audit_insert"));

        QueryClassifier replaced = QueryClassifier.builder().writeFunctions(List.of("only_this")).build();
        assertEquals(Route.REPLICA, replaced.classify("SELECT nextval('s')").route());
        assertEquals(Route.PRIMARY, replaced.classify("SELECT only_this()").route());
        assertEquals(Route.PRIMARY, QueryClassifier.builder().writeFunctions(List.of()).build()
                .classify("INSERT INTO t VALUES (1)").route());
    }

    @Test
    void defaultWriteFunctionsAreLowerCaseAndIncludeTheBriefsList() {
        for (String f : QueryClassifier.DEFAULT_WRITE_FUNCTIONS) {
            assertEquals(f.toLowerCase(Locale.ROOT), f);
        }
        for (String f : List.of("nextval", "setval", "pg_advisory_lock", "pg_advisory_xact_lock", "pg_try_advisory_lock")) {
            assertTrue(QueryClassifier.DEFAULT_WRITE_FUNCTIONS.contains(f), f);
        }
    }

    @Test
    void cacheHitsAndMisses() {
        QueryClassifier q = QueryClassifier.create();
        assertEquals(QueryClassifier.DEFAULT_CACHE_SIZE, q.cacheCapacity());
        Classification first = q.classify("SELECT * FROM users WHERE id = $1");
        assertEquals(0, q.cacheHits());
        assertEquals(1, q.cacheMisses());
        for (int i = 0; i < 10; i++) {
            assertSame(first, q.classify("SELECT * FROM users WHERE id = $1"));
        }
        assertEquals(10, q.cacheHits());
        assertEquals(1, q.cacheMisses());
        assertEquals(1, q.cachedEntries());
        q.clearCache();
        assertEquals(0, q.cachedEntries());
    }

    @Test
    void cacheIsBounded() {
        QueryClassifier q = QueryClassifier.builder().cacheSize(100).build();
        assertEquals(100, q.cacheCapacity());
        for (int i = 0; i < 5_000; i++) {
            q.classify("SELECT " + i);
        }
        assertTrue(q.cachedEntries() <= 100, "entries " + q.cachedEntries());
        assertTrue(q.cachedEntries() >= 50, "a set-associative cache stays mostly full: " + q.cachedEntries());
        assertEquals(5_000, q.cacheMisses());
    }

    @Test
    void cacheCapacityRoundsUpToWholeSets() {
        assertEquals(12, QueryClassifier.builder().cacheSize(10).build().cacheCapacity());
        assertEquals(4, QueryClassifier.builder().cacheSize(1).build().cacheCapacity());
    }

    @Test
    void aHotQuerySurvivesAStreamOfOneOffQueries() {
        QueryClassifier q = QueryClassifier.builder().cacheSize(64).build();
        String hot = "SELECT * FROM hot WHERE id = $1";
        q.classify(hot);
        for (int i = 0; i < 10_000; i++) {
            q.classify("SELECT " + i + " FROM cold");
            long before = q.cacheHits();
            q.classify(hot);
            assertEquals(before + 1, q.cacheHits(), "hot query evicted after " + i + " one-off queries");
        }
    }

    @Test
    void longQueriesAreNotCached() {
        QueryClassifier q = QueryClassifier.builder().maxCachedQueryLength(20).build();
        String longQuery = "SELECT 1 FROM a_rather_long_table_name";
        q.classify(longQuery);
        q.classify(longQuery);
        assertEquals(0, q.cachedEntries());
        assertEquals(0, q.cacheHits() + q.cacheMisses());
    }

    @Test
    void noCache() {
        QueryClassifier q = QueryClassifier.builder().cacheSize(0).build();
        assertEquals(Route.REPLICA, q.classify("SELECT 1").route());
        assertEquals(0, q.cacheCapacity());
        assertEquals(0, q.cachedEntries());
    }

    @Test
    void builderRejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> QueryClassifier.builder().cacheSize(-1));
        assertThrows(IllegalArgumentException.class, () -> QueryClassifier.builder().maxCachedQueryLength(-1));
        assertThrows(IllegalArgumentException.class, () -> QueryClassifier.builder().addWriteFunctions(" ").build());
    }

    @Test
    void sameAnswersFromManyThreadsThroughOneSmallCache() throws Exception {
        QueryClassifier shared = QueryClassifier.builder().cacheSize(16).build();
        QueryClassifier reference = QueryClassifier.builder().cacheSize(0).build();
        List<String> queries = List.of("SELECT 1", "INSERT INTO t VALUES (1)", "BEGIN", "COMMIT",
                "SELECT nextval('s')", "WITH d AS (DELETE FROM t RETURNING 1) SELECT 1", "SET x = 1",
                "SELECT * FROM t FOR UPDATE", "/* pgfleet_shard: 3 */ SELECT 1", "SHOW SHARD");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                done.add(pool.submit(() -> {
                    SplittableRandom r = new SplittableRandom(seed);
                    for (int i = 0; i < 20_000; i++) {
                        String sql = r.nextInt(3) == 0 ? "SELECT " + r.nextInt(1000) : queries.get(r.nextInt(queries.size()));
                        assertEquals(reference.classify(sql).toString(), shared.classify(sql).toString(), sql);
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue(shared.cachedEntries() <= 16);
    }

    @Test
    void garbageNeverThrows() {
        QueryClassifier q = QueryClassifier.builder().cacheSize(0).build();
        String alphabet = "sSeElLcCtT iInNoOuUpPdDaAwWhHrRfF();,.'\"$-/*\\\n\t:=_0123456789EUX&é";
        String[] words = {"SELECT ", "INSERT ", "INTO ", "FOR ", "UPDATE ", "WITH ", "AS ", "(", ")", ";", "'", "\"",
            "$$", "$a$", "/*", "*/", "--", "\n", "E'", "BEGIN ", "COMMIT ", "SET ", "SERVER ROLE TO ", "nextval(",
            "DELETE ", "FROM ", "COPY ", "TO ", "EXPLAIN ", "PREPARE ", "ATOMIC ", "END ", "CASE ", "READ ONLY "};
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < 20_000; i++) {
            StringBuilder b = new StringBuilder();
            int n = r.nextInt(30);
            for (int k = 0; k < n; k++) {
                if (r.nextBoolean()) {
                    b.append(words[r.nextInt(words.length)]);
                } else {
                    b.append(alphabet.charAt(r.nextInt(alphabet.length())));
                }
            }
            Classification c = q.classifyUncached(b);
            if (c.reason() == Classification.Reason.UNPARSABLE) {
                assertEquals(Route.PRIMARY, c.route(), b.toString());
            }
        }
    }

    @Test
    void commandAccessors() {
        QueryClassifier q = QueryClassifier.create();
        assertEquals(Route.REPLICA, q.classify("SET SERVER ROLE TO 'replica'").command().role());
        assertNull(q.classify("SET SERVER ROLE TO 'auto'").command().role());
        assertEquals(7, q.classify("SET SHARD TO 7").command().shard());
        assertEquals(-1, q.classify("SET SHARD TO any").command().shard());
        assertThrows(IllegalStateException.class, () -> q.classify("SHOW SHARD").command().shard());
        assertTrue(q.classify("SHOW SHARD").isPgFleetCommand());
        assertFalse(q.classify("SHOW search_path").isPgFleetCommand());
    }

    @Test
    void hintsDriveTheEffectiveRoute() {
        QueryClassifier q = QueryClassifier.create();
        Classification c = q.classify("/* pgfleet_role: primary */ SELECT 1");
        assertEquals(Route.REPLICA, c.route());
        assertEquals(Route.PRIMARY, c.effectiveRoute());
        assertEquals(Route.REPLICA, q.classify("SELECT 1").effectiveRoute());
    }

    /** The keyword ids are hand-numbered: each constant must name the word at its index. */
    @Test
    void keywordIdsMatchTheirWords() throws IllegalAccessException {
        int checked = 0;
        for (Field f : Keywords.class.getDeclaredFields()) {
            if (f.getType() == int.class && Modifier.isStatic(f.getModifiers())) {
                int id = f.getInt(null);
                assertEquals(f.getName().toLowerCase(Locale.ROOT), Keywords.WORDS.get(id), f.getName());
                checked++;
            }
        }
        assertEquals(Keywords.WORDS.size(), checked, "every word has a constant");
    }
}
