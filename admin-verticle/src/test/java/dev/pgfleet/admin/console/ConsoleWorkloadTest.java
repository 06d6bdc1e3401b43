package dev.pgfleet.admin.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.TestUsers;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * End to end, through the real proxy and its real STATS: after a known workload the console's
 * SHOW POOLS and SHOW STATS say exactly what happened. One event loop, so pool_size 5 is the
 * pool's five connections (not five per loop).
 */
class ConsoleWorkloadTest {

    private static ConsoleFixture fx;

    @BeforeAll
    static void start() {
        fx = ConsoleFixture.start(false, "transaction", 5, "query_wait_timeout = 60000",
                ConsoleService.DEFAULT_STATS_PERIOD, 1);
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    private static Map<String, String> row(Connection console, String show, String keyColumn, String key)
            throws SQLException {
        try (Statement s = console.createStatement(); ResultSet rs = s.executeQuery(show)) {
            while (rs.next()) {
                if (key.equals(rs.getString(keyColumn))) {
                    Map<String, String> out = new LinkedHashMap<>();
                    for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                        out.put(rs.getMetaData().getColumnLabel(i), rs.getString(i));
                    }
                    return out;
                }
            }
        }
        throw new AssertionError(show + " has no row for " + key);
    }

    /** One transaction of three queries, each its own simple Query: BEGIN, SELECT, COMMIT. */
    private static void transaction(Statement s, int i) throws SQLException {
        s.execute("BEGIN");
        try (ResultSet rs = s.executeQuery("SELECT " + i)) {
            rs.next();
        }
        s.execute("COMMIT");
    }

    @Test
    @Timeout(180)
    void poolsAndStatsAfterAKnownWorkload() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(30);
        try (Connection console = fx.admin("preferQueryMode", "simple")) {
            // 1,000 transactions of 3 queries by 10 clients.
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < 10; c++) {
                done.add(pool.submit(() -> {
                    try (Connection conn = fx.app(); Statement s = conn.createStatement()) {
                        for (int i = 0; i < 100; i++) {
                            transaction(s, i);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
            Map<String, String> stats = row(console, "SHOW STATS", "database", TestUsers.DATABASE);
            assertEquals("1000", stats.get("total_xact_count"), stats.toString());
            assertEquals("3000", stats.get("total_query_count"), stats.toString());

            // 30 clients on the pool of 5: five hold a transaction open, 25 wait for them.
            List<Connection> holders = new ArrayList<>();
            for (int c = 0; c < 5; c++) {
                Connection conn = fx.app();
                Statement s = conn.createStatement();
                s.execute("BEGIN");
                s.executeQuery("SELECT 1").close();
                holders.add(conn);
            }
            List<Future<?>> waiters = new ArrayList<>();
            for (int c = 0; c < 25; c++) {
                waiters.add(pool.submit(() -> {
                    try (Connection conn = fx.app(); Statement s = conn.createStatement();
                         ResultSet rs = s.executeQuery("SELECT 42")) {
                        assertTrue(rs.next());
                    }
                    return null;
                }));
            }
            Map<String, String> pools = awaitWaiting(console, 25, Duration.ofSeconds(60));
            assertEquals("5", pools.get("cl_active"), pools.toString());
            assertEquals("25", pools.get("cl_waiting"), pools.toString());
            assertEquals("5", pools.get("sv_active"), pools.toString());
            assertEquals("0", pools.get("sv_idle"), pools.toString());
            assertEquals("0", pools.get("sv_used"), pools.toString());
            assertEquals("0", pools.get("sv_login"), pools.toString());
            assertEquals("transaction", pools.get("pool_mode"), pools.toString());
            assertEquals(Map.of("active", 5L, "waiting", 25L), states(console, "SHOW CLIENTS", TestUsers.DATABASE));
            assertEquals(Map.of("active", 5L), states(console, "SHOW SERVERS", TestUsers.DATABASE));
            Map<String, String> lists = row(console, "SHOW LISTS", "list", "used_servers");
            assertEquals("5", lists.get("items"), lists.toString());

            for (Connection h : holders) {
                h.createStatement().execute("COMMIT");
            }
            for (Future<?> f : waiters) {
                f.get(60, TimeUnit.SECONDS);
            }
            for (Connection h : holders) {
                h.close();
            }
            // 1,000 + 5 held + 25 waiters' transactions; 3,000 + 5 x 3 + 25 queries.
            stats = row(console, "SHOW STATS", "database", TestUsers.DATABASE);
            assertEquals("1030", stats.get("total_xact_count"), stats.toString());
            assertEquals("3040", stats.get("total_query_count"), stats.toString());
            assertEquals("1030", stats.get("total_server_assignment_count"), "one per transaction: " + stats);
            Map<String, String> totals = row(console, "SHOW STATS_TOTALS", "database", TestUsers.DATABASE);
            assertEquals("1030", totals.get("xact_count"), totals.toString());
            assertEquals("3040", totals.get("query_count"), totals.toString());
            pools = row(console, "SHOW POOLS", "database", TestUsers.DATABASE);
            assertEquals("0", pools.get("cl_waiting"), pools.toString());
            assertEquals("0", pools.get("sv_active"), pools.toString());
        } finally {
            pool.shutdownNow();
        }
    }

    /** How many rows of a SHOW CLIENTS/SERVERS for {@code database} are in each state. */
    private static Map<String, Long> states(Connection console, String show, String database) throws SQLException {
        Map<String, Long> out = new java.util.TreeMap<>();
        try (Statement s = console.createStatement(); ResultSet rs = s.executeQuery(show)) {
            while (rs.next()) {
                if (database.equals(rs.getString("database"))) {
                    out.merge(rs.getString("state"), 1L, Long::sum);
                }
            }
        }
        return out;
    }

    /** Polls SHOW POOLS (the console is what is under test) until {@code n} clients wait. */
    private static Map<String, String> awaitWaiting(Connection console, int n, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, String> pools;
        do {
            pools = row(console, "SHOW POOLS", "database", TestUsers.DATABASE);
            if (String.valueOf(n).equals(pools.get("cl_waiting"))) {
                return pools;
            }
            Thread.onSpinWait();
        } while (System.nanoTime() < deadline);
        throw new AssertionError("never " + n + " waiting: " + pools);
    }
}
