package dev.pgfleet.bench.jmh;

import dev.pgfleet.router.Classification;
import dev.pgfleet.router.QueryClassifier;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * router-verticle's {@link QueryClassifier} on pgbench's statements and typical ORM ones, through
 * the cache and around it.
 *
 * <p>Target: a cached classification under 200 ns, with no allocation on a hit. {@code cached}
 * passes the same {@link String} every time, so its hash is already computed; what the proxy
 * passes (a String freshly decoded from the message) is measured by
 * {@link QueryRoutingPathBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
public class QueryClassifierBenchmark {

    /** Distinct texts cycled by {@link #cacheMissEveryTime}: more than the cache holds. */
    static final int DISTINCT_TEXTS = 1 << 16;

    private QueryClassifier classifier;
    private String[] literalTexts;
    private int next;

    /** One query of {@link Queries}, warmed into the cache. */
    @State(Scope.Thread)
    public static class Query {
        @Param({"pgbenchSelect", "pgbenchBegin", "pgbenchUpdateAccounts", "pgbenchUpdateTellers", "pgbenchUpdateBranches",
            "pgbenchInsertHistory", "pgbenchEnd", "ormSelectJoins", "ormInsertReturning", "cteWrite"})
        public String query;

        String sql;

        @Setup(Level.Trial)
        public void setUp(QueryClassifierBenchmark b) {
            sql = Queries.sql(query);
            b.classifier.classify(sql);
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        classifier = QueryClassifier.create();
        literalTexts = new String[DISTINCT_TEXTS];
        for (int i = 0; i < DISTINCT_TEXTS; i++) {
            literalTexts[i] = "SELECT abalance FROM pgbench_accounts WHERE aid = " + (i * 7919 % 1_000_000 + 1) + ";";
        }
    }

    /** A cache hit: hash (cached in the String), one set of 4 slots, one equals. */
    @Benchmark
    public Classification cached(Query q) {
        return classifier.classify(q.sql);
    }

    /** The lexer and the statement rules on every call (what a miss costs before the insert). */
    @Benchmark
    public Classification uncached(Query q) {
        return classifier.classifyUncached(q.sql);
    }

    /**
     * pgbench -S with -M simple: the key is a literal, so every text differs and the cache
     * (10,000 entries) never hits: hash, a miss, classification, and an insert (one entry object;
     * the String itself is kept as the key).
     */
    @Benchmark
    public Classification cacheMissEveryTime() {
        String sql = literalTexts[next];
        next = (next + 1) & (DISTINCT_TEXTS - 1);
        return classifier.classify(sql);
    }
}
