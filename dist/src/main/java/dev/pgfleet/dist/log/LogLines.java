package dev.pgfleet.dist.log;

import dev.pgfleet.shared.config.LogFormat;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.event.Level;

/**
 * How PgFleet's log lines look and which are written: one line per event on stderr (stdout is
 * what a person reads, the demo's instructions), as text or as one JSON object per line
 * ({@code general.log_format}). Levels are read as slf4j-simple read them, from
 * {@code simplelogger.properties} and {@code -Dorg.slf4j.simpleLogger.*}, so existing settings
 * and habits keep working.
 *
 * <p>The format is chosen before the configuration is read by {@code PGFLEET_GENERAL_LOG_FORMAT}
 * or {@code -Dpgfleet.general.log_format} (the same overrides the configuration takes, so the
 * first lines and the rest agree), then by {@link #use} once the file is read.
 */
public final class LogLines {

    private static final String PREFIX = "org.slf4j.simpleLogger.";
    private static final DateTimeFormatter TEXT_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS")
            .withZone(ZoneId.systemDefault());
    private static final DateTimeFormatter JSON_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private static final Properties SETTINGS = settings();
    private static final Level DEFAULT_LEVEL = level(SETTINGS.getProperty(PREFIX + "defaultLogLevel"), Level.INFO);
    private static final Map<String, Level> LEVELS = new ConcurrentHashMap<>();
    private static volatile LogFormat format = initialFormat();

    private LogLines() {
    }

    /** The format from now on (called with the configuration's {@code log_format}). */
    public static void use(LogFormat f) {
        format = f;
    }

    public static LogFormat format() {
        return format;
    }

    /** The most verbose level written for {@code logger}: the longest configured prefix of its name wins. */
    static Level threshold(String logger) {
        return LEVELS.computeIfAbsent(logger, LogLines::lookup);
    }

    private static Level lookup(String logger) {
        String name = logger;
        while (true) {
            String v = SETTINGS.getProperty(PREFIX + "log." + name);
            if (v != null) {
                return level(v, DEFAULT_LEVEL);
            }
            int dot = name.lastIndexOf('.');
            if (dot < 0) {
                return DEFAULT_LEVEL;
            }
            name = name.substring(0, dot);
        }
    }

    static void write(String logger, Level level, String message, Throwable t) {
        long now = System.currentTimeMillis();
        String thread = Thread.currentThread().getName();
        String line = format == LogFormat.JSON ? json(now, level, logger, thread, message, t)
                : text(now, level, logger, thread, message, t);
        // Looked up at each line, so that a test (or a tool embedding PgFleet) may redirect stderr.
        System.err.println(line);
    }

    static String text(long now, Level level, String logger, String thread, String message, Throwable t) {
        StringBuilder sb = new StringBuilder(96 + message.length());
        sb.append(TEXT_TIME.format(Instant.ofEpochMilli(now))).append(" [").append(thread).append("] [")
                .append(level).append("] ").append(logger.substring(logger.lastIndexOf('.') + 1)).append(" - ")
                .append(message);
        if (t != null) {
            sb.append(System.lineSeparator()).append(stackTrace(t).stripTrailing());
        }
        return sb.toString();
    }

    /** {"time","level","logger","thread","message"[,"exception"]}: one line, whatever the message holds. */
    static String json(long now, Level level, String logger, String thread, String message, Throwable t) {
        StringBuilder sb = new StringBuilder(128 + message.length());
        sb.append("{\"time\":\"").append(JSON_TIME.format(Instant.ofEpochMilli(now))).append('"');
        sb.append(",\"level\":\"").append(level).append('"');
        field(sb, "logger", logger);
        field(sb, "thread", thread);
        field(sb, "message", message);
        if (t != null) {
            field(sb, "exception", stackTrace(t).stripTrailing());
        }
        return sb.append('}').toString();
    }

    private static void field(StringBuilder sb, String name, String value) {
        sb.append(",\"").append(name).append("\":\"");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    private static String stackTrace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    private static LogFormat initialFormat() {
        String v = System.getProperty("pgfleet.general.log_format", System.getenv("PGFLEET_GENERAL_LOG_FORMAT"));
        return v != null && v.trim().equalsIgnoreCase("json") ? LogFormat.JSON : LogFormat.TEXT;
    }

    private static Properties settings() {
        Properties p = new Properties();
        try (InputStream in = LogLines.class.getClassLoader().getResourceAsStream("simplelogger.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // defaults only
        }
        System.getProperties().forEach((k, v) -> {
            if (k.toString().startsWith(PREFIX)) {
                p.setProperty(k.toString(), v.toString());
            }
        });
        return p;
    }

    private static Level level(String s, Level def) {
        if (s == null) {
            return def;
        }
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "trace" -> Level.TRACE;
            case "debug" -> Level.DEBUG;
            case "info" -> Level.INFO;
            case "warn" -> Level.WARN;
            case "error" -> Level.ERROR;
            // slf4j-simple's "off": above ERROR, nothing is written.
            case "off" -> null;
            default -> def;
        };
    }

    /** Whether {@code level} is written for {@code logger}. */
    static boolean enabled(String logger, Level level) {
        Level min = threshold(logger);
        return min != null && level.toInt() >= min.toInt();
    }
}
