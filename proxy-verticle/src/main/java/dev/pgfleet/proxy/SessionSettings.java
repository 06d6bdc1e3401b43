package dev.pgfleet.proxy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Run-time settings a client expects its session to have (startup parameters, options'
 * -c settings, the user's statement_timeout, and what it SET since), and the SQL that brings
 * a server connection from what it has to what the client expects.
 *
 * <p>Settings are applied with {@code set_config(name, value, false)}, which parses a value
 * as postgresql.conf does (so list settings such as search_path keep their elements), and
 * removed with RESET. Names and values are quoted as literals: a client cannot inject SQL.
 */
final class SessionSettings {

    /** Startup parameters that are not run-time settings. */
    private static final List<String> NOT_SETTINGS = List.of("user", "database", "options", "replication");

    /** What pg_settings reports as set in this session (SET, set_config, RESET undoes it). */
    private static final String CAPTURE_SQL =
        "SELECT name, pg_catalog.current_setting(name) FROM pg_catalog.pg_settings WHERE source = 'session'";

    /**
     * The query reading back a session's settings: pg_settings' session-level ones, and the
     * custom ("prefix.name") placeholders it does not list, by name.
     */
    static String captureSql(java.util.Collection<String> customNames) {
        if (customNames.isEmpty()) {
            return CAPTURE_SQL;
        }
        StringBuilder sql = new StringBuilder(CAPTURE_SQL);
        for (String name : customNames) {
            sql.append(" UNION ALL SELECT ").append(literal(name)).append(", pg_catalog.current_setting(")
                .append(literal(name)).append(", true)");
        }
        return sql.toString();
    }

    private SessionSettings() {
    }

    /** The settings a client asked for at startup; names in lower case. */
    static Map<String, String> fromStartup(Map<String, String> startupParameters, long statementTimeoutMillis) {
        Map<String, String> settings = new LinkedHashMap<>();
        if (statementTimeoutMillis > 0) {
            settings.put("statement_timeout", Long.toString(statementTimeoutMillis));
        }
        // As PostgreSQL's process_startup_options: options' -c switches first, then the startup
        // packet's own parameters, which win where both name a setting.
        StartupOptions.parse(startupParameters.get("options"))
            .forEach((k, v) -> settings.put(k.toLowerCase(java.util.Locale.ROOT), v));
        startupParameters.forEach((k, v) -> {
            if (!NOT_SETTINGS.contains(k) && !k.startsWith("_pq_.")) {
                settings.put(k.toLowerCase(java.util.Locale.ROOT), v);
            }
        });
        return settings;
    }

    /** SQL taking a server connection from {@code applied} to {@code wanted}; "" if they match. */
    static String syncSql(Map<String, String> wanted, Map<String, String> applied) {
        StringBuilder set = new StringBuilder();
        StringBuilder reset = new StringBuilder();
        for (Map.Entry<String, String> e : wanted.entrySet()) {
            if (!e.getValue().equals(applied.get(e.getKey()))) {
                set.append(set.length() == 0 ? "SELECT " : ", ")
                    .append("pg_catalog.set_config(").append(literal(e.getKey())).append(", ")
                    .append(literal(e.getValue())).append(", false)");
            }
        }
        for (String name : applied.keySet()) {
            if (!wanted.containsKey(name)) {
                reset.append("RESET ").append(identifier(name)).append(';');
            }
        }
        if (set.length() > 0) {
            set.append(';');
        }
        return set.append(reset).toString();
    }

    static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    static String identifier(String s) {
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }
}
