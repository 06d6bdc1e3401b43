package dev.pgfleet.proxy.sharding;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Properties;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What cross-shard SELECT cannot merge is refused, never answered from one shard or merged wrongly:
 * SQLSTATE 0A000 with a message naming the construct (one of its words, case-insensitive), and the
 * connection keeps working: a keyed query right after gives the reference's answer, and inside a
 * transaction block the refusal aborts the transaction as any PostgreSQL error does (25P02 until
 * ROLLBACK), after which the connection works again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CrossShardRefusalTest {

    /**
     * A refused statement and the words of which its message must hold at least one: at the start of a
     * word, case-insensitively, but case-sensitively for a word written with capitals (so "WITH" for a
     * CTE, not the "with" of any sentence).
     */
    record Refused(String sql, List<String> words) {
        static Refused of(String sql, String... words) {
            return new Refused(sql, List.of(words));
        }
    }

    static final List<Refused> REFUSED = List.of(
        // window functions
        Refused.of("SELECT id, row_number() OVER (ORDER BY id) FROM items", "window", "OVER", "row_number"),
        Refused.of("SELECT grp, sum(i) OVER (PARTITION BY grp) FROM items", "window", "OVER"),
        Refused.of("SELECT id, rank() OVER w FROM items WINDOW w AS (ORDER BY i)", "window", "OVER", "rank"),
        Refused.of("SELECT grp, count(*), lag(count(*)) OVER (ORDER BY grp) FROM items GROUP BY grp",
            "window", "OVER", "lag"),
        // joins of sharded tables not on the key
        Refused.of("SELECT count(*) FROM items i JOIN orders o ON o.id = i.id", "join"),
        Refused.of("SELECT i.id, o.id FROM items i JOIN orders o ON o.user_id = i.i ORDER BY 1, 2", "join"),
        Refused.of("SELECT count(*) FROM items a JOIN items b ON a.grp = b.grp", "join"),
        Refused.of("SELECT count(*) FROM items, solo", "join"),
        // subqueries and CTEs over sharded tables
        Refused.of("SELECT count(*) FROM (SELECT id FROM items WHERE grp = 1) s", "subquer", "sub-quer", "subselect", "sub-select", "sublink"),
        Refused.of("SELECT id FROM items WHERE i IN (SELECT x FROM solo) ORDER BY id", "subquer", "sub-quer", "subselect", "sub-select", "sublink"),
        Refused.of("SELECT id, (SELECT max(amount) FROM orders o WHERE o.user_id = items.id) FROM items ORDER BY id",
            "subquer", "sub-quer", "subselect", "sub-select", "sublink"),
        Refused.of("SELECT id FROM items WHERE EXISTS (SELECT 1 FROM orders o WHERE o.id = items.i) ORDER BY id",
            "subquer", "sub-quer", "subselect", "sub-select", "sublink", "exists"),
        Refused.of("WITH c AS (SELECT id, grp FROM items) SELECT grp, count(*) FROM c GROUP BY grp",
            "WITH", "cte", "common table"),
        // set operations
        Refused.of("SELECT id FROM items UNION SELECT id FROM solo", "union"),
        Refused.of("SELECT id FROM items UNION ALL SELECT id FROM solo", "union"),
        Refused.of("SELECT id FROM items INTERSECT SELECT id FROM solo", "intersect"),
        Refused.of("SELECT id FROM items EXCEPT SELECT id FROM solo", "except"),
        // row locks
        Refused.of("SELECT id FROM items WHERE grp = 1 FOR UPDATE", "for update", "lock"),
        Refused.of("SELECT id FROM items WHERE grp = 1 FOR SHARE", "for share", "lock"),
        Refused.of("SELECT id FROM items ORDER BY id LIMIT 5 FOR NO KEY UPDATE", "for no key update", "lock"),
        // aggregates that cannot be merged from partials
        Refused.of("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY i) FROM items", "percentile_cont"),
        Refused.of("SELECT mode() WITHIN GROUP (ORDER BY grp) FROM items", "mode()", "within group"),
        Refused.of("SELECT string_agg(v, ',') FROM items", "string_agg"),
        Refused.of("SELECT grp, array_agg(id) FROM items GROUP BY grp", "array_agg"),
        Refused.of("SELECT json_agg(t) FROM items", "json_agg"),
        // expressions over aggregates
        Refused.of("SELECT round(avg(i), 2) FROM items", "round", "avg", "expression"),
        Refused.of("SELECT grp, sum(i) / count(*) FROM items GROUP BY grp", "expression", "sum", "count"),
        Refused.of("SELECT count(*) + 1 FROM items", "expression", "count"),
        Refused.of("SELECT grp, max(i) - min(i) AS spread FROM items GROUP BY grp ORDER BY grp",
            "expression", "max", "min"),
        // grouping sets
        Refused.of("SELECT grp, grp2, count(*) FROM items GROUP BY ROLLUP (grp, grp2)", "rollup", "grouping"),
        Refused.of("SELECT grp, count(*) FROM items GROUP BY GROUPING SETS ((grp), ())", "grouping"));

    private CrossShardCorpus corpus;

    @BeforeAll
    void start() throws SQLException {
        corpus = CrossShardCorpus.start();
    }

    @AfterAll
    void stop() {
        if (corpus != null) {
            corpus.close();
        }
    }

    @ParameterizedTest(name = "preferQueryMode={0}")
    @ValueSource(strings = {"simple", "extended"})
    void refusedWith0A000NamingTheConstruct(String mode) throws SQLException {
        Properties props = new Properties();
        props.setProperty("preferQueryMode", mode);
        long key = corpus.keysOnShard[1][3];
        String keyed = "SELECT id, t, n, tz FROM items WHERE id = " + key;
        String expectedKeyed;
        try (Connection ref = corpus.connectReference(props); Statement st = ref.createStatement()) {
            expectedKeyed = firstRow(st, keyed);
        }
        List<String> failures = new ArrayList<>();
        Connection c = corpus.connectTarget(props);
        try {
            for (Refused r : REFUSED) {
                String problem = refusal(c, r);
                if (problem == null) {
                    problem = worksAfter(c, keyed, expectedKeyed);
                }
                if (problem == null) {
                    problem = inTransactionBlock(c, r, keyed, expectedKeyed);
                }
                if (problem != null) {
                    failures.add(r.sql() + "\n    " + problem);
                    System.out.println("CORPUS REFUSAL FAILURE " + mode + " " + r.sql() + "\n    " + problem);
                }
                if (c.isClosed() || !c.isValid(5)) {
                    // One broken connection fails its statement only.
                    failures.add(r.sql() + "\n    the connection broke: the next statements run on a new one");
                    c.close();
                    c = corpus.connectTarget(props);
                }
            }
        } finally {
            c.close();
        }
        assertTrue(failures.isEmpty(), () -> mode + " against " + corpus.target + ": " + failures.size() + " of "
            + REFUSED.size() + " refusals failed:\n" + String.join("\n", failures));
    }

    /** Null when {@code r} is refused as it should be. */
    private static String refusal(Connection c, Refused r) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(r.sql())) {
            int rows = 0;
            while (rs.next()) {
                rows++;
            }
            return "answered with " + rows + " rows instead of 0A000";
        } catch (SQLException e) {
            if (!"0A000".equals(e.getSQLState())) {
                return "SQLSTATE " + e.getSQLState() + " (want 0A000): " + e.getMessage();
            }
            String message = String.valueOf(e.getMessage());
            if (r.words().stream().noneMatch(w -> names(message, w))) {
                return "0A000, but the message names none of " + r.words() + ": " + e.getMessage();
            }
            return null;
        }
    }

    static boolean names(String message, String word) {
        boolean exactCase = !word.equals(word.toLowerCase(Locale.ROOT));
        int flags = exactCase ? 0 : Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE;
        return Pattern.compile("(?<![\\p{L}\\p{N}_])" + Pattern.quote(word), flags).matcher(message).find();
    }

    private static String worksAfter(Connection c, String keyed, String expected) {
        try (Statement st = c.createStatement()) {
            String got = firstRow(st, keyed);
            return Objects.equals(expected, got) ? null : "after the refusal " + keyed + " gave " + got
                + ", the reference " + expected;
        } catch (SQLException e) {
            return "after the refusal " + keyed + " failed: " + e.getSQLState() + " " + e.getMessage();
        }
    }

    /** BEGIN; keyed; refused (0A000); keyed again (25P02, as after any error); ROLLBACK; keyed works. */
    private static String inTransactionBlock(Connection c, Refused r, String keyed, String expected) {
        try {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                String first = firstRow(st, keyed);
                if (!Objects.equals(expected, first)) {
                    return "in a transaction block " + keyed + " gave " + first;
                }
                String problem = refusal(c, r);
                if (problem != null) {
                    return "in a transaction block: " + problem;
                }
                try {
                    firstRow(st, keyed);
                    return "in a transaction block the statement after the refusal succeeded (want 25P02)";
                } catch (SQLException e) {
                    if (!"25P02".equals(e.getSQLState())) {
                        return "in a transaction block the statement after the refusal: " + e.getSQLState()
                            + " (want 25P02) " + e.getMessage();
                    }
                }
            }
            c.rollback();
            c.setAutoCommit(true);
            return worksAfter(c, keyed, expected);
        } catch (SQLException e) {
            return "in a transaction block: " + e.getSQLState() + " " + e.getMessage();
        } finally {
            try {
                if (!c.getAutoCommit()) {
                    c.rollback();
                    c.setAutoCommit(true);
                }
            } catch (SQLException ignored) {
                // reported by the next statement
            }
        }
    }

    private static String firstRow(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            if (!rs.next()) {
                return null;
            }
            int n = rs.getMetaData().getColumnCount();
            StringBuilder b = new StringBuilder();
            for (int i = 1; i <= n; i++) {
                b.append(i > 1 ? "|" : "").append(rs.getString(i));
            }
            return b.toString();
        }
    }
}
