package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Shutdown stops accepting, lets a running transaction finish, and sends 57P01. */
class GracefulShutdownTest {

  @Test
  void runningTransactionFinishesIdleClientsGet57P01() throws Exception {
    TestPostgres.reset();
    try (ProxyFixture proxy = ProxyFixture.start(5)) {
      try (Connection setup = proxy.connectScram()) {
        setup.createStatement().execute("CREATE TABLE shutdown_test (id int)");
      }
      Connection idle = proxy.connectScram();
      Connection busy = proxy.connectScram();
      busy.setAutoCommit(false);
      Statement st = busy.createStatement();
      st.execute("INSERT INTO shutdown_test VALUES (1)");

      io.vertx.core.Future<Void> shutdown = proxy.runtime.shutdown(proxy.vertx, Duration.ofSeconds(10));
      Thread.sleep(300);
      // The idle client is told to go.
      SQLException gone = assertThrows(SQLException.class, () -> idle.createStatement().execute("SELECT 1"));
      assertTrue(gone.getSQLState() == null || gone.getSQLState().startsWith("57P01") || gone.getSQLState().startsWith("08"),
        "idle client: " + gone.getSQLState() + " " + gone.getMessage());
      // No new clients.
      assertThrows(SQLException.class, proxy::connectScram);
      // The transaction in flight can still finish.
      st.execute("INSERT INTO shutdown_test VALUES (2)");
      busy.commit();
      shutdown.toCompletionStage().toCompletableFuture().get();
      assertTrue(busy.isClosed() || !busy.isValid(1), "the busy client goes after its transaction");
      try (Connection d = proxy.direct(); ResultSet rs = d.createStatement().executeQuery("SELECT count(*) FROM shutdown_test")) {
        rs.next();
        assertEquals(2, rs.getInt(1));
      }
      idle.close();
      busy.close();
    }
  }

  @Test
  void lateTransactionsAreTerminatedAtTheTimeout() throws Exception {
    try (ProxyFixture proxy = ProxyFixture.start(5)) {
      Connection busy = proxy.connectScram();
      busy.setAutoCommit(false);
      busy.createStatement().execute("SELECT 1");
      long start = System.nanoTime();
      proxy.runtime.shutdown(proxy.vertx, Duration.ofMillis(500)).toCompletionStage().toCompletableFuture().get();
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(ms < 3000, "shutdown took " + ms + " ms");
      SQLException e = assertThrows(SQLException.class, () -> busy.createStatement().execute("SELECT 1"));
      assertTrue(e.getSQLState().startsWith("57P01") || e.getSQLState().startsWith("08"), e.getSQLState());
      busy.close();
    }
  }
}
