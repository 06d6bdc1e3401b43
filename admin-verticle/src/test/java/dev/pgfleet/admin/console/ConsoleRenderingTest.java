package dev.pgfleet.admin.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgfleet.shared.admin.AdminBus;
import dev.pgfleet.shared.admin.AdminReply;
import dev.pgfleet.shared.admin.AdminRequest;
import dev.pgfleet.shared.admin.ProxyStats;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The console through real clients (pgjdbc, psql) logged in through the real proxy, answering
 * from stand-in consumers of the admin addresses on a bus of its own: what each SHOW renders
 * from a known reply, the columns against PgBouncer 1.24's captured file, the commands' replies,
 * the logins that must fail.
 */
class ConsoleRenderingTest {

    private static ConsoleFixture fx;
    private static final List<AdminRequest> received = new CopyOnWriteArrayList<>();

    static ProxyStats sample() {
        long t0 = 1_700_000_000_000L;
        ProxyStats.PoolStats pool = new ProxyStats.PoolStats(TestUsers.DATABASE, TestUsers.SCRAM_USER, "transaction",
                false, false, 5, 0,
                10, 25, 3, 0, 0,
                5, 0, 0, 0, 0, 0, 0, 2_500_001L,
                1234, 1000, 3000, 456_789, 987_654,
                2_000_000, 1_500_000, 300_000,
                7, 8, 9, 5, 0, 1, 2, 0, Map.of(),
                new long[17], new long[17], List.of());
        ProxyStats.ConnectionStats client = new ProxyStats.ConnectionStats(1, "C", TestUsers.SCRAM_USER,
                TestUsers.DATABASE, "waiting", "127.0.0.1", 40000, "127.0.0.1", 6000, t0, t0 + 1000, 1_250_000,
                false, 0, 77, "", "app", 0);
        ProxyStats.ConnectionStats server = new ProxyStats.ConnectionStats(2, "S", TestUsers.SCRAM_USER,
                TestUsers.DATABASE, "active", "127.0.0.1", 5432, "127.0.0.1", 50000, t0, t0, 0, true, 1, 4242, "",
                "", 3);
        ProxyStats.StatementStats st = new ProxyStats.StatementStats(TestUsers.DATABASE, TestUsers.SCRAM_USER,
                "pgfleet_1", "SELECT $1", List.of(23), 2);
        return new ProxyStats("instance-1", t0, t0 + 60_000, true, false, false, 2, 100, List.of(pool),
                List.of(client), List.of(server), List.of(st));
    }

    @BeforeAll
    static void start() {
        fx = ConsoleFixture.standIns();
        fx.bus.eventBus().<JsonObject>localConsumer(AdminBus.PROXY, m -> {
            AdminRequest r = AdminRequest.fromJson(m.body());
            received.add(r);
            AdminReply reply = switch (r.command()) {
                case "STATS" -> AdminReply.ok("", sample().toJson());
                case "KILL" -> AdminReply.error("3D000", "no such database: " + r.arg(0));
                default -> AdminReply.ok(r.command().equals("PAUSE") ? "paused " + r.args() : "");
            };
            m.reply(reply.toJson());
        });
        fx.bus.eventBus().<JsonObject>localConsumer(AdminBus.HEALTH, m -> {
            AdminRequest r = AdminRequest.fromJson(m.body());
            received.add(r);
            JsonArray rows = switch (r.command()) {
                case "BANS" -> new JsonArray().add(new JsonObject().put("server", "127.0.0.1:5433")
                        .put("reason", "connect failed").put("since", "2026-12-02T06:00:00Z")
                        .put("expires", "2026-12-02T06:01:00Z"));
                case "HEALTH" -> new JsonArray().add(new JsonObject().put("pool", TestUsers.DATABASE).put("shard", 0)
                        .put("database", TestUsers.DATABASE).put("server", "127.0.0.1:5432").put("role", "primary")
                        .put("configured_role", "primary").put("up", true).put("lag_bytes", 0).putNull("lag_ms")
                        .put("last_probe", "2026-12-02T06:00:00Z").putNull("last_error").put("banned", false)
                        .put("serves_reads", true).put("lagging", false).put("probes_ok", 12)
                        .put("probes_failed", 0).put("probesInconclusive", 1));
                default -> null;
            };
            m.reply((rows == null ? AdminReply.ok("banned") : AdminReply.ok("", new JsonObject().put("rows", rows)))
                    .toJson());
        });
        fx.bus.eventBus().<JsonObject>localConsumer(AdminBus.CONFIG, m -> {
            AdminRequest r = AdminRequest.fromJson(m.body());
            received.add(r);
            if (r.command().equals("CONFIG")) {
                m.reply(AdminReply.ok("", new JsonObject().put("rows", new JsonArray()
                        .add(new JsonObject().put("key", "pool_mode").put("value", "transaction")
                                .put("default", "session").put("changeable", true).put("source", "file"))
                        .add(new JsonObject().put("key", "port").put("value", 6432).put("default", 6432)
                                .put("changeable", false).put("source", "default")))).toJson());
            } else if (r.command().equals("SET") && r.arg(0).equals("port")) {
                m.reply(AdminReply.error("55P02", "port cannot be changed while PgFleet runs").toJson());
            } else {
                m.reply(AdminReply.ok(r.command().equals("RELOAD") ? "configuration unchanged" : "").toJson());
            }
        });
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    /** The columns of every SHOW PgBouncer 1.24 has, from the file bench/console-columns captured. */
    static Map<String, String> pgbouncerColumns() throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        try (InputStream in = ConsoleRenderingTest.class.getResourceAsStream("/pgbouncer-1.24-columns.txt")) {
            assertNotNull(in, "pgbouncer-1.24-columns.txt");
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    String[] kv = line.split("\t", 2);
                    out.put(kv[0], kv[1]);
                }
            }
        }
        return out;
    }

    private static final Map<String, Integer> OIDS = Map.of("text", 25, "int4", 23, "int8", 20, "numeric", 1700);

    static String columns(ResultSetMetaData md) throws SQLException {
        List<String> c = new ArrayList<>();
        for (int i = 1; i <= md.getColumnCount(); i++) {
            c.add(md.getColumnLabel(i) + ":" + OIDS.get(md.getColumnTypeName(i)));
        }
        return String.join(",", c);
    }

    @Test
    void columnsArePgBouncersForEverySharedShow() throws Exception {
        Map<String, String> expected = pgbouncerColumns();
        assertEquals(14, expected.size(), "the file lists 14 SHOW commands");
        try (Connection c = fx.admin(); Statement s = c.createStatement()) {
            for (Map.Entry<String, String> e : expected.entrySet()) {
                try (ResultSet rs = s.executeQuery("SHOW " + e.getKey())) {
                    assertEquals(e.getValue(), columns(rs.getMetaData()), "SHOW " + e.getKey());
                }
            }
        }
    }

    /** pgjdbc's default mode crosses prepareThreshold (5): named statements, binary int4/int8/numeric. */
    @Test
    void pgjdbcReadsEveryShowInEveryQueryMode() throws Exception {
        for (String mode : List.of("extended", "simple", "extendedForPrepared")) {
            try (Connection c = fx.admin("preferQueryMode", mode)) {
                for (String show : ConsoleService.SHOWS) {
                    try (PreparedStatement ps = c.prepareStatement("SHOW " + show)) {
                        for (int i = 0; i < 7; i++) {
                            try (ResultSet rs = ps.executeQuery()) {
                                int n = rs.getMetaData().getColumnCount();
                                while (rs.next()) {
                                    for (int col = 1; col <= n; col++) {
                                        rs.getString(col);
                                    }
                                }
                            }
                        }
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("SHOW POOLS")) {
                    for (int i = 0; i < 7; i++) {
                        try (ResultSet rs = ps.executeQuery()) {
                            assertTrue(rs.next());
                            assertEquals(25, rs.getInt("cl_waiting"), mode);
                            assertEquals(2, rs.getInt("maxwait"), mode);
                            assertEquals(500_001, rs.getInt("maxwait_us"), mode);
                        }
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("SHOW STATS_TOTALS")) {
                    for (int i = 0; i < 7; i++) {
                        try (ResultSet rs = ps.executeQuery()) {
                            assertTrue(rs.next());
                            assertEquals(3000, rs.getLong("query_count"), mode);
                            assertEquals(new java.math.BigDecimal("987654"), rs.getBigDecimal("bytes_sent"), mode);
                        }
                    }
                }
            }
        }
    }

    @Test
    void rowsRenderTheReplies() throws Exception {
        try (Connection c = fx.admin(); Statement s = c.createStatement()) {
            ResultSet rs = s.executeQuery("show pools");
            assertTrue(rs.next());
            assertEquals(TestUsers.DATABASE, rs.getString("database"));
            assertEquals(10, rs.getInt("cl_active"));
            assertEquals(5, rs.getInt("sv_active"));
            assertEquals("transaction", rs.getString("pool_mode"));
            rs = s.executeQuery("SHOW STATS");
            assertTrue(rs.next());
            assertEquals(1000, rs.getLong("total_xact_count"));
            assertEquals(2000, rs.getLong("avg_xact_time"));   // µs per transaction since the start
            rs = s.executeQuery("SHOW SERVERS");
            assertTrue(rs.next());
            assertEquals("S", rs.getString("type"));
            assertEquals(4242, rs.getInt("remote_pid"));
            assertEquals(1, rs.getInt("close_needed"));
            assertEquals("2023-11-14 22:13:20 UTC", rs.getString("connect_time"));
            rs = s.executeQuery("SHOW CLIENTS");
            List<String> states = new ArrayList<>();
            while (rs.next()) {
                states.add(rs.getString("database") + "/" + rs.getString("state"));
            }
            assertEquals(List.of(TestUsers.DATABASE + "/waiting", "pgfleet/active"), states,
                    "the proxy's clients, then the console's own");
            rs = s.executeQuery("SHOW BANS");
            assertTrue(rs.next());
            assertEquals("127.0.0.1:5433|connect failed|2026-12-02T06:01:00Z", rs.getString("server") + "|"
                    + rs.getString("reason") + "|" + rs.getString("expires"));
            rs = s.executeQuery("SHOW HEALTH");
            assertTrue(rs.next());
            assertEquals("yes", rs.getString("up"));
            assertEquals("no", rs.getString("banned"));
            assertEquals(0, rs.getLong("lag_bytes"));
            assertEquals(null, rs.getString("lag_ms"), "unknown lag is NULL");
            assertEquals(12, rs.getLong("probes_ok"));
            assertEquals(1, rs.getLong("probes_inconclusive"), "a camelCase key is found too");
            rs = s.executeQuery("SHOW CONFIG");
            assertTrue(rs.next());
            assertEquals("pool_mode|transaction|session|yes", rs.getString(1) + "|" + rs.getString(2) + "|"
                    + rs.getString(3) + "|" + rs.getString(4));
            rs = s.executeQuery("SHOW pool_mode");
            assertEquals("pool_mode", rs.getMetaData().getColumnLabel(1));
            assertTrue(rs.next());
            assertEquals("transaction", rs.getString(1));
            rs = s.executeQuery("SHOW VERSION");
            assertTrue(rs.next());
            assertTrue(rs.getString(1).startsWith("PgBouncer 1.24.1 (PgFleet "), rs.getString(1));
            rs = s.executeQuery("SHOW PREPARED");
            assertTrue(rs.next());
            assertEquals("SELECT $1", rs.getString("query"));
            assertEquals("23", rs.getString("parameter_types"));
            rs = s.executeQuery("SHOW STATE");
            assertTrue(rs.next());
            assertEquals("active|yes", rs.getString(1) + "|" + rs.getString(2));
        }
    }

    @Test
    void commandsGoToTheirAddressAndTheirRepliesRender() throws Exception {
        try (Connection c = fx.admin(); Statement s = c.createStatement()) {
            received.clear();
            s.execute("PAUSE " + TestUsers.DATABASE);
            SQLWarning w = s.getWarnings();
            assertNotNull(w, "the reply's message as a NOTICE");
            assertEquals("paused [" + TestUsers.DATABASE + "]", w.getMessage());
            assertEquals(List.of("PAUSE"), received.stream().map(AdminRequest::command).toList());
            assertEquals(List.of(TestUsers.DATABASE), received.get(0).args());
            SQLException e = assertThrows(SQLException.class, () -> s.execute("KILL nope"));
            assertEquals("3D000", e.getSQLState());
            s.execute("BAN \"127.0.0.1:5433\" 60");
            assertEquals(List.of("127.0.0.1:5433", "60"), received.get(received.size() - 1).args());
            s.execute("set pool_mode = 'session'");
            assertEquals(List.of("pool_mode", "session"), received.get(received.size() - 1).args());
            e = assertThrows(SQLException.class, () -> s.execute("SET port TO 7000"));
            assertEquals("55P02", e.getSQLState());
            e = assertThrows(SQLException.class, () -> s.execute("KILL"));
            assertEquals("42601", e.getSQLState());
        }
    }

    @Test
    void unknownCommandIs42601WithTheCommandsInTheHint() throws Exception {
        try (Connection c = fx.admin(); Statement s = c.createStatement()) {
            for (String bad : List.of("SHOW NOPE", "FROBNICATE", "SELECT 1", "SHOW")) {
                SQLException e = assertThrows(SQLException.class, () -> s.executeQuery(bad), bad);
                assertEquals("42601", e.getSQLState(), bad);
                org.postgresql.util.ServerErrorMessage m = ((org.postgresql.util.PSQLException) e).getServerErrorMessage();
                assertTrue(m.getHint().contains("SHOW {POOLS|STATS|"), m.getHint());
                assertTrue(m.getHint().contains("KILL_CLIENT id"), m.getHint());
            }
        }
    }

    @Test
    void wrongPasswordAndNonAdminUserAre28P01() {
        SQLException wrong = assertThrows(SQLException.class, () -> fx.console(ConsoleFixture.ADMIN, "nope").close());
        assertEquals("28P01", wrong.getSQLState());
        SQLException app = assertThrows(SQLException.class,
                () -> fx.console(TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD).close());
        assertEquals("28P01", app.getSQLState());
        SQLException pgb = assertThrows(SQLException.class,
                () -> fx.console(fx.port, "pgbouncer", TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD).close());
        assertEquals("28P01", pgb.getSQLState());
    }

    @Test
    void adminPortServesOnlyTheConsole() throws Exception {
        try (Connection c = fx.console(fx.adminPort, "pgbouncer", ConsoleFixture.ADMIN, ConsoleFixture.ADMIN_PASSWORD);
             ResultSet rs = c.createStatement().executeQuery("SHOW LISTS")) {
            assertTrue(rs.next());
            assertEquals("databases", rs.getString(1));
        }
        SQLException other = assertThrows(SQLException.class, () -> fx.console(fx.adminPort, TestUsers.DATABASE,
                ConsoleFixture.ADMIN, ConsoleFixture.ADMIN_PASSWORD).close());
        assertEquals("3D000", other.getSQLState());
        SQLException app = assertThrows(SQLException.class, () -> fx.console(fx.adminPort, TestUsers.DATABASE,
                TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD).close());
        assertEquals("28P01", app.getSQLState(), "a pool's user does not log in on admin_port");
        // The main port still serves the pools.
        try (Connection c = fx.app(); ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
            assertTrue(rs.next());
        }
    }

    /** TLS as for any client: pgjdbc with sslmode=require, and the console's row in SHOW CLIENTS says so. */
    @Test
    void tlsAdminLogin() throws Exception {
        io.vertx.core.net.SelfSignedCertificate cert = io.vertx.core.net.SelfSignedCertificate.create("localhost");
        String tls = "tls_certificate = \"" + cert.certificatePath() + "\"\ntls_private_key = \"" + cert.privateKeyPath()
                + "\"\n";
        try (ConsoleFixture tlsFx = ConsoleFixture.start(true, "transaction", 5, tls,
                ConsoleService.DEFAULT_STATS_PERIOD, 1)) {
            tlsFx.bus.eventBus().<JsonObject>localConsumer(AdminBus.PROXY,
                    m -> m.reply(AdminReply.ok("", sample().toJson()).toJson()));
            java.util.Properties p = new java.util.Properties();
            p.setProperty("user", ConsoleFixture.ADMIN);
            p.setProperty("password", ConsoleFixture.ADMIN_PASSWORD);
            p.setProperty("sslmode", "require");
            try (Connection c = java.sql.DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:" + tlsFx.port + "/pgfleet", p);
                 ResultSet rs = c.createStatement().executeQuery("SHOW CLIENTS")) {
                String consoleTls = null;
                while (rs.next()) {
                    if (rs.getString("database").equals("pgfleet")) {
                        consoleTls = rs.getString("tls");
                    }
                }
                assertNotNull(consoleTls);
                assertTrue(consoleTls.startsWith("TLSv1."), consoleTls);
            }
            SQLException wrong = assertThrows(SQLException.class, () -> {
                java.util.Properties q = new java.util.Properties();
                q.putAll(p);
                q.setProperty("password", "nope");
                java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + tlsFx.port + "/pgfleet", q).close();
            });
            assertEquals("28P01", wrong.getSQLState());
        }
    }

    @Test
    void psqlReadsEveryShowAndSeveralStatementsPerQuery() throws Exception {
        assumeTrue(ConsoleFixture.psqlPresent(), "psql not installed");
        String url = fx.psqlUrl(ConsoleFixture.ADMIN, "pgbouncer");
        for (String show : ConsoleService.SHOWS) {
            String[] r = fx.psql(url, ConsoleFixture.ADMIN_PASSWORD, "SHOW " + show);
            assertEquals("0", r[0], show + ": " + r[1]);
            assertTrue(r[1].contains("row"), show + ": " + r[1]);
        }
        String[] r = fx.psql(url, ConsoleFixture.ADMIN_PASSWORD,
                "/* two */ show version ; -- and\n SHOW STATE;");
        assertEquals("0", r[0], r[1]);
        assertTrue(r[1].contains("PgBouncer 1.24.1 (PgFleet"), r[1]);
        assertTrue(r[1].contains("suspended|no"), r[1]);
        r = fx.psql(url, ConsoleFixture.ADMIN_PASSWORD, "PAUSE");
        assertEquals("0", r[0], r[1]);
        assertTrue(r[1].contains("PAUSE"), r[1]);
        r = fx.psql(url, ConsoleFixture.ADMIN_PASSWORD, "SHOW FOO");
        assertEquals("1", r[0], r[1]);
        assertTrue(r[1].contains("invalid command 'SHOW FOO'") && r[1].contains("HINT:"), r[1]);
    }
}
