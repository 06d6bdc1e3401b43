package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 11, defect 2: in transaction mode, what one client sets in its session must never reach
 * the next client of the same server connection, whatever form the SET takes (several statements
 * in one Query, set_config anywhere, RESET and DISCARD, a Parse's text), and the client itself must
 * keep what it committed and lose what it rolled back.
 */
class SessionIsolationTest {

    /** One form of "client A sets app.tenant = 'a'": A's statements, and what A reads afterwards. */
    private record Form(String name, List<String> simple, String extended, String[] params, String expectedForA) {
        static Form simple(String name, String expected, String... sql) {
            return new Form(name, List.of(sql), null, new String[0], expected);
        }

        static Form extended(String name, String expected, String sql, String... params) {
            return new Form(name, List.of(), sql, params, expected);
        }
    }

    private static final List<Form> FORMS = List.of(
        Form.simple("SET after SELECT in one Query", "a", "SELECT 1; SET app.tenant = 'a'"),
        Form.simple("BEGIN; SET; COMMIT in one Query", "a", "BEGIN; SET app.tenant = 'a'; COMMIT"),
        Form.simple("set_config", "a", "SELECT set_config('app.tenant', 'a', false)"),
        Form.simple("set_config not first, schema-qualified, comment before", "a",
            "/* tenant */ SELECT 1 AS one, 'set_config(''x.y'', ''b'', false)' AS text, PG_CATALOG.SET_CONFIG('app.tenant', 'a', false)"),
        Form.simple("set_config in a later statement", "a", "SELECT 1; SELECT set_config('app.tenant', 'a', false); SELECT 2"),
        Form.simple("SET SESSION, quoted name", "a", "SELECT 1; SET SESSION \"app\".\"tenant\" TO 'a'"),
        Form.simple("rolled back SET", "z", "BEGIN; SELECT 1; SET app.tenant = 'a'; ROLLBACK"),
        Form.simple("rolled back set_config", "z", "BEGIN; SELECT set_config('app.tenant', 'a', false); ROLLBACK"),
        Form.simple("RESET after a SELECT", "", "SET app.tenant = 'a'", "SELECT 1; RESET app.tenant"),
        Form.simple("RESET ALL after a SELECT", null, "SET app.tenant = 'a'", "SELECT 1; RESET ALL"),
        Form.simple("DISCARD ALL after a comment", null, "SET app.tenant = 'a'", "-- done\n DISCARD ALL"),
        Form.extended("set_config in a Parse, value bound", "a", "SELECT set_config('app.tenant', $1, false)", "a"),
        Form.extended("SET in a Parse", "a", "SET app.tenant = 'a'"),
        Form.extended("set_config in a Parse, not first", "a", "SELECT 1 AS one, set_config('app.tenant', 'a', false) AS t"));

    @BeforeAll
    static void cleanServer() {
        TestPostgres.reset();
    }

    private static WireSession login(ProxyFixture proxy) throws IOException {
        return WireSession.login(proxy.port, TestUsers.MD5_USER, TestUsers.MD5_PASSWORD, TestUsers.DATABASE, Map.of());
    }

    private static String tenant(WireSession s) throws IOException {
        return s.simple("SELECT current_setting('app.tenant', true)").value();
    }

    /** The test means something only if both clients take turns on one server connection. */
    private static void assertSameServerConnection(WireSession a, WireSession b) throws IOException {
        String pid = a.simple("SELECT pg_backend_pid()").value();
        assertEquals(pid, b.simple("SELECT pg_backend_pid()").value(), "clients on different server connections");
        assertEquals(pid, a.simple("SELECT pg_backend_pid()").value(), "server connection replaced");
    }

    /** RESET ALL and DISCARD ALL leave the placeholder empty (''), or unknown on a new connection. */
    private static boolean unset(String v) {
        return v == null || v.isEmpty();
    }

    @Test
    void noSettingLeaksToTheNextClientOfTheServerConnection() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.startOneLoop("transaction", 1, null);
                  WireSession a = login(proxy); WireSession b = login(proxy)) {
            assertSameServerConnection(a, b);
            int transactions = 0;
            for (int i = 0; transactions < 2_000; i++) {
                Form f = FORMS.get(i % FORMS.size());
                assertNull(a.simple("SET app.tenant = 'z'").error());
                transactions++;
                for (String sql : f.simple()) {
                    WireSession.Result r = a.simple(sql);
                    assertNull(r.error(), () -> f.name() + ": " + r.error());
                    transactions++;
                }
                if (f.extended() != null) {
                    WireSession.Result r = a.extended(f.extended(), f.params());
                    assertNull(r.error(), () -> f.name() + ": " + r.error());
                    transactions++;
                }
                String seenByB = tenant(b);
                transactions++;
                assertTrue(unset(seenByB), "round " + i + ", " + f.name() + ": client B sees app.tenant = '" + seenByB + "'");
                String seenByA = tenant(a);
                transactions++;
                if (f.expectedForA() == null) {
                    assertTrue(unset(seenByA), "round " + i + ", " + f.name() + ": client A sees '" + seenByA + "'");
                } else {
                    assertEquals(f.expectedForA(), seenByA, "round " + i + ", " + f.name() + ": client A's own value");
                }
            }
            assertSameServerConnection(a, b);
        }
    }

    /**
     * An unnamed statement parsed in one transaction and run in a later one (Parse + Sync, then
     * Bind + Execute + Sync, as vertx-pg-client does by default): its SET takes effect when it runs,
     * on whatever server connection that transaction got, so that is when it must be tracked.
     */
    @Test
    void anUnnamedStatementRunInALaterTransactionIsTracked() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.startOneLoop("transaction", 1, null);
                  WireSession a = login(proxy); WireSession b = login(proxy)) {
            assertSameServerConnection(a, b);
            String[] forms = {"SET app.tenant = 'a'", "SELECT set_config('app.tenant', 'a', false)"};
            for (int i = 0; i < 200; i++) {
                String sql = forms[i % forms.length];
                assertNull(a.simple("SET app.tenant = 'z'").error());
                assertNull(a.parseUnnamed(sql).error(), sql);
                // B's transaction between A's Parse and A's Bind (its Query also destroys the server's
                // unnamed statement, so PgFleet parses A's again for the Bind).
                assertTrue(unset(tenant(b)));
                assertNull(a.bindUnnamed().error(), sql);
                String seenByB = tenant(b);
                assertTrue(unset(seenByB), "round " + i + ", " + sql + ": client B sees app.tenant = '" + seenByB + "'");
                assertEquals("a", tenant(a), "round " + i + ", " + sql + ": client A's own value");
            }
            assertSameServerConnection(a, b);
        }
    }

    /**
     * A function that sets a setting inside is invisible to PgFleet; server_reset_query_always
     * (PgBouncer's) resets the server connection after every transaction, so it cannot leak.
     */
    @Test
    void serverResetQueryAlwaysCoversAFunctionThatSetsASetting() throws Exception {
        try (Connection direct = TestPostgres.cluster().primary().connectSuperuser(TestUsers.DATABASE);
                  Statement st = direct.createStatement()) {
            st.execute("CREATE OR REPLACE FUNCTION set_tenant(t text) RETURNS text LANGUAGE plpgsql AS "
                + "$$ BEGIN PERFORM set_config('app.tenant', t, false); RETURN t; END $$");
            st.execute("GRANT EXECUTE ON FUNCTION set_tenant(text) TO PUBLIC");
        }
        try (ProxyFixture proxy = ProxyFixture.startOneLoop("transaction", 1, "server_reset_query_always = true");
                  WireSession a = login(proxy); WireSession b = login(proxy)) {
            assertSameServerConnection(a, b);
            for (int i = 0; i < 200; i++) {
                assertEquals("a", a.simple("SELECT set_tenant('a')").value());
                String seenByB = tenant(b);
                assertTrue(unset(seenByB), "round " + i + ": client B sees app.tenant = '" + seenByB + "'");
                // What PgFleet tracks survives the reset: it is applied again on the next transaction.
                assertNull(a.simple("SET app.tenant = 'z'").error());
                assertEquals("z", tenant(a));
                assertTrue(unset(tenant(b)));
                assertEquals("z", tenant(a));
            }
        }
    }

    /**
     * What the capture after a transaction relies on, checked on the test server (PostgreSQL 17):
     * a custom placeholder set in a session is not listed in pg_settings, so PgFleet reads such
     * names back one by one (those it saw in SET, RESET, or as set_config's literal first argument).
     */
    @Test
    void customPlaceholdersAreNotInPgSettings() throws Exception {
        try (Connection c = TestPostgres.cluster().primary().connectSuperuser(TestUsers.DATABASE);
                  Statement st = c.createStatement()) {
            st.execute("SET app.tenant = 'a'");
            st.execute("SELECT set_config('app.other', 'b', false)");
            try (ResultSet rs = st.executeQuery(
                "SELECT count(*) FROM pg_settings WHERE name IN ('app.tenant', 'app.other')")) {
                rs.next();
                assertEquals(0, rs.getInt(1), "custom placeholders listed in pg_settings");
            }
            try (ResultSet rs = st.executeQuery("SELECT current_setting('app.tenant'), current_setting('app.other')")) {
                rs.next();
                assertEquals("a", rs.getString(1));
                assertEquals("b", rs.getString(2));
            }
        }
    }
}
