package dev.pgfleet.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.router.SessionCommands.Change;
import dev.pgfleet.router.SessionCommands.Effects;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class SessionCommandsTest {

    private static List<Change> changes(String sql) {
        return SessionCommands.scan(sql).changes();
    }

    @Test
    void everyStatementIsRead() {
        assertEquals(List.of(new Change("app.tenant", false)), changes("SELECT 1; SET app.tenant = 'a'"));
        assertEquals(List.of(new Change("app.tenant", false)), changes("BEGIN; SET SESSION app.tenant TO 'a'; COMMIT"));
        assertEquals(List.of(new Change("datestyle", true)), changes("select 1;reset DateStyle"));
        assertEquals(List.of(new Change(Change.ALL, true)), changes("SELECT 1; RESET ALL"));
        assertEquals(List.of(new Change(Change.ALL, true)), changes("/* x */ DISCARD ALL"));
        assertEquals(List.of(new Change("timezone", true)), changes("SET TIME ZONE DEFAULT"));
        assertEquals(List.of(new Change("timezone", true)), changes("SET TIME ZONE LOCAL"));
        assertEquals(List.of(new Change("timezone", false)), changes("SET TIME ZONE 'UTC'"));
        assertEquals(List.of(new Change("work_mem", true)), changes("SET work_mem = DEFAULT"));
        assertEquals(List.of(new Change("app.tenant", false)), changes("SET \"App\".\"Tenant\" = 'x'"));
        assertTrue(SessionCommands.scan("DISCARD ALL").discardAll());
        assertTrue(SessionCommands.scan("SELECT 1; DEALLOCATE ALL").deallocate());
    }

    @Test
    void setConfigAnywhere() {
        Effects fx = SessionCommands.scan("SELECT 1 AS one, pg_catalog.SET_CONFIG('App.Tenant', 'a', false)");
        assertEquals(List.of(new Change("app.tenant", false)), fx.changes());
        assertEquals(List.of("app.tenant"), fx.customNames());
        assertEquals(List.of(new Change("app.x", false)), changes("WITH s AS (SELECT set_config('app.x', f(1, 2), false)) SELECT * FROM s"));
        assertEquals(List.of(new Change("app.x", true)), changes("SELECT set_config('app.x', NULL, false)"));
        Effects opaque = SessionCommands.scan("SELECT set_config($1, $2, false)");
        assertTrue(opaque.settings());
        assertTrue(opaque.opaque());
    }

    @Test
    void whatDoesNotOutliveTheTransactionOrIsNotSqlIsIgnored() {
        assertSame(Effects.NONE, SessionCommands.scan("SELECT set_config('app.x', 'a', true)"));
        assertSame(Effects.NONE, SessionCommands.scan("SET LOCAL app.x = 'a'"));
        assertSame(Effects.NONE, SessionCommands.scan("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"));
        assertSame(Effects.NONE, SessionCommands.scan("UPDATE t SET a = 1 WHERE b = 'RESET ALL'"));
        assertSame(Effects.NONE, SessionCommands.scan("SELECT 'SET x = 1; set_config(''a.b'', ''c'', false)' -- RESET ALL"));
        assertSame(Effects.NONE, SessionCommands.scan("SELECT $$; SET app.x = 1$$, \"set_config\" FROM t OFFSET 5"));
        assertSame(Effects.NONE, SessionCommands.scan("DISCARD PLANS"));
        assertSame(Effects.NONE, SessionCommands.scan("CREATE FUNCTION f() RETURNS int LANGUAGE sql SET search_path = x AS 'SELECT 1'"));
    }

    @Test
    void ordersAreKept() {
        assertEquals(List.of(new Change(Change.ALL, true), new Change("datestyle", false)),
            changes("BEGIN; RESET ALL; SET datestyle = 'German'; COMMIT"));
    }

    private static boolean prefilter(String sql) {
        ByteBuf b = Unpooled.copiedBuffer(sql, StandardCharsets.UTF_8);
        try {
            return SqlReader.mayChangeSession(b, 0, b.writerIndex());
        } finally {
            b.release();
        }
    }

    @Test
    void bytePrefilter() {
        assertTrue(prefilter("SELECT 1; SET x = 1"));
        assertTrue(prefilter("reset all"));
        assertTrue(prefilter("select SET_CONFIG('a.b','c',false)"));
        assertTrue(prefilter("DISCARD ALL"));
        assertTrue(prefilter("deallocate all"));
        assertTrue(prefilter("SELECT * FROM t OFFSET 10"));   // a false positive: the lexer decides
        assertFalse(prefilter("SELECT abalance FROM pgbench_accounts WHERE aid = $1"));
        assertFalse(prefilter("UPDATE pgbench_tellers SET"
            .substring(0, 15)));
        assertFalse(prefilter("st"));
        assertFalse(prefilter("ET"));
    }
}
