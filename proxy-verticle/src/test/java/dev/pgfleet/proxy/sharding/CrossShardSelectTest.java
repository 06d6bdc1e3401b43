package dev.pgfleet.proxy.sharding;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.desc.ColumnDescriptor;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Cross-shard SELECT (issue 14): every query of {@link CrossShardQueries} runs on the reference (one
 * server holding all rows) and through PgFleet (2 shards, each holding PostgreSQL's hash share of the
 * rows), with the same client and settings; the answers must be the same: column names and types, then
 * the rows as the query's ORDER BY promises ({@link CorpusResult#differences}). One test per client mode;
 * each reports every failing query of its mode in one message.
 *
 * <p>{@code -Dpgfleet.corpus.target=reference} compares the reference with itself (the harness: all
 * pass), {@code =shard0} with shard 0 alone (most must fail, with readable messages).
 * {@code -Dpgfleet.corpus.queries=3,17} runs only those queries (numbered from 1 as in the reports).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CrossShardSelectTest {

    /** At least this many queries, so that the corpus does not shrink unnoticed. */
    private static final int MIN_QUERIES = 150;
    /** Seconds a query may take (pgjdbc's socketTimeout, vertx-pg-client's wait); {@code -Dpgfleet.corpus.timeout}. */
    static final int TIMEOUT_SECONDS = CrossShardCorpus.TIMEOUT_SECONDS;

    private CrossShardCorpus corpus;
    private List<CorpusQuery> queries;

    @BeforeAll
    void start() throws SQLException {
        corpus = CrossShardCorpus.start();
        queries = CrossShardQueries.all(corpus.keysOnShard);
        String only = System.getProperty("pgfleet.corpus.queries", "");
        if (!only.isBlank()) {
            Set<Integer> numbers = new HashSet<>();
            for (String n : only.split(",")) {
                numbers.add(Integer.parseInt(n.trim()));
            }
            List<CorpusQuery> chosen = new ArrayList<>();
            for (int n = 0; n < queries.size(); n++) {
                chosen.add(numbers.contains(n + 1) ? queries.get(n) : null);
            }
            queries = chosen;
        }
    }

    @AfterAll
    void stop() {
        if (corpus != null) {
            corpus.close();
        }
    }

    @Test
    void corpusIsLargeEnough() {
        assertTrue(CrossShardQueries.all(corpus.keysOnShard).size() >= MIN_QUERIES);
    }

    /**
     * @param mode {@code simple}: preferQueryMode=simple (parameters inlined by pgjdbc); {@code extended}:
     *             pgjdbc's default (unnamed statements, text results); {@code prepared}: prepareThreshold=-1
     *             (named server-prepared statements from the first execution, binary results for the
     *             types pgjdbc reads in binary), each query executed twice on the same statement
     */
    @ParameterizedTest(name = "pgjdbc {0}")
    @ValueSource(strings = {"simple", "extended", "prepared"})
    void pgjdbc(String mode) throws SQLException {
        Properties props = new Properties();
        switch (mode) {
            case "simple" -> props.setProperty("preferQueryMode", "simple");
            case "extended" -> { }
            case "prepared" -> props.setProperty("prepareThreshold", "-1");
            default -> throw new IllegalArgumentException(mode);
        }
        int executions = mode.equals("prepared") ? 2 : 1;
        List<String> failures = new ArrayList<>();
        Connection target = corpus.connectTarget(props);
        try (Connection ref = corpus.connectReference(props)) {
            for (int n = 0; n < queries.size(); n++) {
                CorpusQuery q = queries.get(n);
                if (q == null) {
                    continue;
                }
                CorpusResult expected;
                try {
                    expected = runJdbc(ref, q, 1);
                } catch (SQLException e) {
                    fail("the reference rejects query #" + (n + 1) + " " + q + ": " + e.getMessage());
                    return;
                }
                String problem;
                try {
                    problem = null;
                    CorpusResult[] actual = runJdbcTimes(target, q, executions);
                    for (int run = 0; run < actual.length && problem == null; run++) {
                        problem = CorpusResult.differences(q, expected, actual[run]);
                        if (problem != null && run > 0) {
                            problem = "execution " + (run + 1) + " of the prepared statement: " + problem;
                        }
                    }
                } catch (SQLException e) {
                    problem = refusedAsAllowed(q, e.getSQLState(), e.getMessage()) ? null
                        : "ERROR " + e.getSQLState() + ": " + e.getMessage();
                    if (target.isClosed() || !target.isValid(5)) {
                        // A broken connection (or a query past the socket timeout) fails this query only.
                        problem += " [the connection broke: the next queries run on a new one]";
                        target.close();
                        target = corpus.connectTarget(props);
                    }
                }
                if (problem != null) {
                    failures.add(failure("pgjdbc " + mode, n, q.toString(), problem));
                }
            }
        } finally {
            target.close();
        }
        assertTrue(failures.isEmpty(), () -> report("pgjdbc " + mode, (int) queries.stream().filter(Objects::nonNull).count(), failures));
    }

    /**
     * vertx-pg-client (extended protocol, every value in binary) through a prepared query per statement;
     * the queries with parameters and every other one of the rest.
     */
    @Test
    void vertxPgClient() {
        Vertx vertx = Vertx.vertx();
        List<String> failures = new ArrayList<>();
        int run = 0;
        try {
            PgConnection ref = await(PgConnection.connect(vertx, corpus.referenceOptions()));
            PgConnection target = await(PgConnection.connect(vertx, corpus.targetOptions()));
            for (int n = 0; n < queries.size(); n++) {
                CorpusQuery q = queries.get(n);
                if (q == null || q.params().isEmpty() && n % 2 == 1) {
                    continue;
                }
                run++;
                CorpusResult expected = runVertx(ref, q);
                String problem;
                try {
                    problem = CorpusResult.differences(q, expected, runVertx(target, q));
                } catch (PgException e) {
                    problem = refusedAsAllowed(q, e.getSqlState(), e.getMessage()) ? null : "ERROR " + e;
                } catch (RuntimeException e) {
                    problem = "ERROR " + e + " [the next queries run on a new connection]";
                    target.close();
                    target = await(PgConnection.connect(vertx, corpus.targetOptions()));
                }
                if (problem != null) {
                    failures.add(failure("vertx-pg-client", n, q.dollarSql() + " " + q.params(), problem));
                }
            }
            ref.close();
            target.close();
        } finally {
            vertx.close().await();
        }
        int ran = run;
        assertTrue(failures.isEmpty(), () -> report("vertx-pg-client", ran, failures));
    }

    /** One failure's text, also printed at once, so that a run cut short still shows what failed. */
    private static String failure(String mode, int n, String query, String problem) {
        String text = "#" + (n + 1) + " " + query + "\n    " + problem;
        System.out.println("CORPUS FAILURE " + mode + " " + text);
        return text;
    }

    /** vertx-pg-client has no query timeout of its own: a query unanswered for {@value #TIMEOUT_SECONDS} s fails. */
    private static <T> T await(io.vertx.core.Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("no answer in " + TIMEOUT_SECONDS + " s");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A refusal the query allows (see {@link CorpusQuery#refusal}). */
    private static boolean refusedAsAllowed(CorpusQuery q, String sqlState, String message) {
        return "0A000".equals(sqlState) && q.refusal().stream()
            .anyMatch(w -> CrossShardRefusalTest.names(String.valueOf(message), w));
    }

    private String report(String mode, int ran, List<String> failures) {
        return mode + " against " + corpus.target + ": " + failures.size() + " of " + ran
            + " queries failed:\n" + String.join("\n", failures);
    }

    private static CorpusResult[] runJdbcTimes(Connection c, CorpusQuery q, int times) throws SQLException {
        CorpusResult[] results = new CorpusResult[times];
        try (PreparedStatement ps = c.prepareStatement(q.sql())) {
            for (int i = 0; i < times; i++) {
                results[i] = execute(ps, q);
            }
        }
        return results;
    }

    private static CorpusResult runJdbc(Connection c, CorpusQuery q, int times) throws SQLException {
        return runJdbcTimes(c, q, times)[0];
    }

    private static CorpusResult execute(PreparedStatement ps, CorpusQuery q) throws SQLException {
        for (int p = 0; p < q.params().size(); p++) {
            Object v = q.params().get(p);
            if (v instanceof Long l) {
                ps.setLong(p + 1, l);
            } else {
                ps.setString(p + 1, (String) v);
            }
        }
        try (ResultSet rs = ps.executeQuery()) {
            ResultSetMetaData md = rs.getMetaData();
            int n = md.getColumnCount();
            List<String> columns = new ArrayList<>(n);
            for (int c = 1; c <= n; c++) {
                columns.add(md.getColumnLabel(c) + " " + md.getColumnTypeName(c) + "/" + md.getColumnType(c)
                    + "(" + md.getPrecision(c) + "," + md.getScale(c) + ")");
            }
            List<String[]> rows = new ArrayList<>();
            while (rs.next()) {
                String[] row = new String[n];
                for (int c = 1; c <= n; c++) {
                    row[c - 1] = rs.getString(c);
                }
                rows.add(row);
            }
            return new CorpusResult(columns, rows);
        }
    }

    private static CorpusResult runVertx(PgConnection c, CorpusQuery q) {
        RowSet<Row> rs = await(c.preparedQuery(q.dollarSql()).execute(Tuple.from(q.params())));
        List<String> columns = new ArrayList<>();
        for (ColumnDescriptor d : rs.columnDescriptors()) {
            columns.add(d.name() + " " + d.typeName() + "/" + d.jdbcType());
        }
        List<String[]> rows = new ArrayList<>();
        for (Row r : rs) {
            String[] row = new String[r.size()];
            for (int i = 0; i < r.size(); i++) {
                Object v = r.getValue(i);
                row[i] = v == null ? null : v.toString();
            }
            rows.add(row);
        }
        return new CorpusResult(columns, rows);
    }
}
