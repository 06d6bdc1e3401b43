package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.testkit.PgCluster;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Read/write splitting in transaction mode against a real primary and two streaming
 * replicas: reads to replicas (round robin), writes and transactions that may write to the
 * primary, SET SERVER ROLE and comment hints. (Health-aware routing is not wired yet.)
 */
class ReadWriteSplitTest {

  static PgCluster cluster;
  static Vertx vertx;
  static ProxyRuntime runtime;
  static int port;

  @BeforeAll
  static void start() {
    cluster = TestPostgres.cluster();
    port = ProxyFixture.freePort();
    StringBuilder servers = new StringBuilder("[\"127.0.0.1\", " + cluster.primary().port() + ", \"primary\"]");
    for (PgServer r : cluster.replicas()) {
      servers.append(", [\"127.0.0.1\", ").append(r.port()).append(", \"replica\"]");
    }
    String toml = """
      [general]
      host = "127.0.0.1"
      port = %d
      admin_username = "admin"
      admin_password = "admin"

      [pools.%s]
      pool_mode = "transaction"
      query_parser_enabled = true
      query_parser_read_write_splitting = true
      load_balancing_mode = "round_robin"
      primary_reads_enabled = false

      [pools.%s.users.0]
      username = "%s"
      password = "%s"
      pool_size = 5

      [pools.%s.shards.0]
      database = "%s"
      servers = [%s]
      """.formatted(port, TestUsers.DATABASE, TestUsers.DATABASE, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD,
      TestUsers.DATABASE, TestUsers.DATABASE, servers);
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    runtime = new ProxyRuntime(ConfigLoader.parse(toml, "split.toml"));
    runtime.deploy(vertx, 2).await();
  }

  @AfterAll
  static void stop() {
    runtime.shutdown(vertx, Duration.ofSeconds(2)).await();
    vertx.close().await();
  }

  @BeforeEach
  void reset() {
    TestPostgres.reset();
  }

  private static Connection connect() throws SQLException {
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + TestUsers.DATABASE
      + "?sslmode=disable&gssEncMode=disable", TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD);
  }

  @Test
  void readsGoToReplicasWritesToThePrimary() throws Exception {
    try (Connection c = connect(); Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
        rs.next();
        assertTrue(rs.getBoolean(1), "a read should run on a replica");
      }
      st.execute("CREATE TABLE split (id serial primary key, v text)");
      try (ResultSet rs = st.executeQuery("INSERT INTO split (v) VALUES ('x') RETURNING id, pg_is_in_recovery()")) {
        rs.next();
        assertEquals(1, rs.getInt(1));
        assertFalse(rs.getBoolean(2));
      }
      // A transaction that starts with a read and then writes runs entirely on the primary.
      c.setAutoCommit(false);
      try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery(), count(*) FROM split")) {
        rs.next();
        assertFalse(rs.getBoolean(1));
      }
      st.execute("INSERT INTO split (v) VALUES ('y')");
      c.commit();
      c.setAutoCommit(true);
    }
  }

  @Test
  void roundRobinSpreadsReadsEvenly() throws Exception {
    Map<Integer, Integer> byPort = new HashMap<>();
    try (Connection c = connect(); Statement st = c.createStatement()) {
      for (int i = 0; i < 1000; i++) {
        try (ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
          rs.next();
          byPort.merge(rs.getInt(1), 1, Integer::sum);
        }
      }
    }
    assertEquals(2, byPort.size(), byPort.toString());
    for (PgServer r : cluster.replicas()) {
      int n = byPort.getOrDefault(r.port(), 0);
      assertTrue(n >= 450 && n <= 550, "replica " + r.port() + " got " + n + " of 1000: " + byPort);
    }
  }

  @Test
  void setServerRoleAndCommentHintsOverride() throws Exception {
    try (Connection c = connect(); Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("/* pgfleet_role: primary */ SELECT pg_is_in_recovery()")) {
        rs.next();
        assertFalse(rs.getBoolean(1));
      }
      st.execute("SET SERVER ROLE TO 'primary'");
      try (ResultSet rs = st.executeQuery("SHOW SERVER ROLE")) {
        rs.next();
        assertEquals("primary", rs.getString(1));
      }
      try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
        rs.next();
        assertFalse(rs.getBoolean(1));
      }
      st.execute("SET SERVER ROLE TO 'auto'");
      try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
        rs.next();
        assertTrue(rs.getBoolean(1));
      }
    }
  }
}
