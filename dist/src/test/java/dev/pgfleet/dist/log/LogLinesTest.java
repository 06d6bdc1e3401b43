package dev.pgfleet.dist.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/** The JSON line layout: one object per line, whatever the message and the exception hold. */
class LogLinesTest {

    @Test
    void aJsonLineIsOneObjectWithEveryField() {
        IllegalStateException e = new IllegalStateException("boom \"quoted\"\nsecond line");
        String line = LogLines.json(1_764_655_200_123L, Level.WARN, "dev.pgfleet.X", "vert.x-eventloop-thread-0",
                "tab\there, quote \" backslash \\ control \u0001 newline\nend", e);
        assertFalse(line.contains("\n"), line);
        JsonObject o = new JsonObject(line);
        assertEquals("2025-12-02T06:00:00.123Z", o.getString("time"));
        assertEquals("WARN", o.getString("level"));
        assertEquals("dev.pgfleet.X", o.getString("logger"));
        assertEquals("vert.x-eventloop-thread-0", o.getString("thread"));
        assertEquals("tab\there, quote \" backslash \\ control \u0001 newline\nend", o.getString("message"));
        assertTrue(o.getString("exception").startsWith("java.lang.IllegalStateException: boom \"quoted\"\nsecond line"),
                o.getString("exception"));
        assertTrue(o.getString("exception").contains("\tat dev.pgfleet.dist.log.LogLinesTest"), o.getString("exception"));
        assertEquals(6, o.size());
        assertFalse(new JsonObject(LogLines.json(0, Level.INFO, "a", "t", "m", null)).containsKey("exception"));
    }

    @Test
    void levelsFollowTheLongestConfiguredPrefix() {
        // simplelogger.properties of dist: info by default, io.netty at warn.
        assertTrue(LogLines.enabled("dev.pgfleet.dist.ProxyNode", Level.INFO));
        assertFalse(LogLines.enabled("dev.pgfleet.dist.ProxyNode", Level.DEBUG));
        assertFalse(LogLines.enabled("io.netty.channel.Foo", Level.INFO));
        assertTrue(LogLines.enabled("io.netty.channel.Foo", Level.WARN));
    }
}
