package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** pgjdbc through PgFleet in session mode, against a real primary. */
class SessionModeTest {

  static ProxyFixture proxy;

  @BeforeAll
  static void startProxy() {
    proxy = ProxyFixture.start(20);
  }

  @AfterAll
  static void stopProxy() {
    proxy.close();
  }

  @BeforeEach
  void reset() {
    TestPostgres.reset();
  }

  @Test
  void scramSimpleQuery() throws SQLException {
    try (Connection c = proxy.connectScram(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT current_user, 40 + 2")) {
      assertTrue(rs.next());
      assertEquals(TestUsers.SCRAM_USER, rs.getString(1));
      assertEquals(42, rs.getInt(2));
    }
  }

  @Test
  void md5PreparedQuery() throws SQLException {
    try (Connection c = proxy.connect(TestUsers.MD5_USER, TestUsers.MD5_PASSWORD);
         PreparedStatement ps = c.prepareStatement("SELECT ?::int * 2, current_user")) {
      for (int i = 0; i < 10; i++) {
        ps.setInt(1, i);
        try (ResultSet rs = ps.executeQuery()) {
          assertTrue(rs.next());
          assertEquals(i * 2, rs.getInt(1));
          assertEquals(TestUsers.MD5_USER, rs.getString(2));
        }
      }
    }
  }

  @Test
  void wrongPasswordIs28P01() {
    SQLException e = assertThrows(SQLException.class, () -> proxy.connect(TestUsers.SCRAM_USER, "nope"));
    assertEquals("28P01", e.getSQLState());
  }
}
