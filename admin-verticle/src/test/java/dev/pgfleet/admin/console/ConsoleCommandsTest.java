package dev.pgfleet.admin.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.TestUsers;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The console's commands end to end, through the real proxy's consumer of AdminBus.PROXY. */
class ConsoleCommandsTest {

    private static int select(Connection c, int v) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT " + v)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    @Timeout(120)
    void pauseHoldsTransactionsResumeReleasesThemKillEndsClients() throws Exception {
        try (ConsoleFixture fx = ConsoleFixture.start(false, "transaction", 5, "query_wait_timeout = 60000",
                ConsoleService.DEFAULT_STATS_PERIOD, 1);
             Connection console = fx.admin("preferQueryMode", "simple");
             Connection app = fx.app()) {
            assertEquals(1, select(app, 1));
            Statement cs = console.createStatement();
            cs.execute("PAUSE " + TestUsers.DATABASE);
            assertNull(cs.getWarnings(), "PgBouncer sends no NOTICE with PAUSE");
            CompletableFuture<Integer> held = CompletableFuture.supplyAsync(() -> {
                try {
                    return select(app, 2);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            String waiting = "0";
            while (!"1".equals(waiting) && System.nanoTime() < deadline) {
                try (ResultSet rs = cs.executeQuery("SHOW POOLS")) {
                    rs.next();
                    waiting = rs.getString("cl_waiting");
                }
                Thread.onSpinWait();
            }
            assertEquals("1", waiting, "the paused transaction waits");
            assertTrue(!held.isDone());
            try (ResultSet rs = cs.executeQuery("SHOW DATABASES")) {
                rs.next();
                assertEquals(1, rs.getInt("paused"));
            }
            cs.execute("RESUME " + TestUsers.DATABASE);
            assertEquals(2, held.get(30, TimeUnit.SECONDS));
            SQLException notPaused = assertThrows(SQLException.class, () -> cs.execute("RESUME"));
            assertEquals("08P01", notPaused.getSQLState(), notPaused.getMessage());

            cs.execute("KILL " + TestUsers.DATABASE);
            SQLException killed = assertThrows(SQLException.class, () -> select(app, 3));
            assertEquals("57P01", killed.getSQLState(), killed.getMessage());
            try (Connection again = fx.app()) {
                assertEquals(4, select(again, 4), "the pool reconnects");
            }
            SQLException noDb = assertThrows(SQLException.class, () -> cs.execute("KILL nope"));
            assertEquals("3D000", noDb.getSQLState());
        }
    }
}
