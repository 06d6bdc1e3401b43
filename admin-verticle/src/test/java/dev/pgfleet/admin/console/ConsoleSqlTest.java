package dev.pgfleet.admin.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConsoleSqlTest {

    @Test
    void statementsCommentsQuotesAndCase() {
        List<ConsoleSql.Statement> s = ConsoleSql.parse(
                "  show pools ;/* a /* nested */ comment */ Pause \"My;Db\" -- the rest\n; ;kill_client 17");
        assertEquals(List.of("SHOW", "PAUSE", "", "KILL_CLIENT"), s.stream().map(ConsoleSql.Statement::verb).toList());
        assertEquals(List.of("pools"), s.get(0).args());
        assertEquals(List.of("My;Db"), s.get(1).args());
        assertTrue(s.get(2).empty());
        assertEquals(List.of("17"), s.get(3).args());
    }

    @Test
    void setForms() {
        assertEquals(List.of("pool_mode", "session"), ConsoleSql.parse("SET pool_mode='session'").get(0).args());
        assertEquals(List.of("default_pool_size", "20"), ConsoleSql.parse("set default_pool_size TO 20;").get(0).args());
        assertEquals(List.of("k", "it's"), ConsoleSql.parse("SET k = 'it''s'").get(0).args());
        assertNotNull(ConsoleSql.parse("SET k").get(0).error());
        assertNull(ConsoleSql.parse("SET k = v").get(0).error());
    }

    @Test
    void emptyAndBroken() {
        assertTrue(ConsoleSql.parse("").get(0).empty());
        assertTrue(ConsoleSql.parse(" -- nothing").get(0).empty());
        assertNotNull(ConsoleSql.parse("SHOW 'pools").get(0).error());
        assertEquals(1, ConsoleSql.parse("SHOW POOLS;").size());
    }
}
