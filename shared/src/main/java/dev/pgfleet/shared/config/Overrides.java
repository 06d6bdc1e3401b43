package dev.pgfleet.shared.config;

import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Environment and system property overrides of {@code [general]} scalar keys (see
 * {@link ConfigLoader} for the scheme). Only these names are read, so the process environment
 * and the JVM's own properties never look like configuration.
 */
final class Overrides {

    private static final Logger LOG = LoggerFactory.getLogger(Overrides.class);

    static final String ENV_PREFIX = "PGFLEET_GENERAL_";
    static final String SYS_PREFIX = "pgfleet.general.";
    private static final Pattern INTEGER = Pattern.compile("-?\\d{1,18}");

    /** The [general] keys that may be overridden: every scalar key PgFleet reads there. */
    static final List<String> GENERAL_KEYS = List.of("host", "port", "admin_username", "admin_password",
            "auth_type", "max_client_conn", "max_message_size", "connect_timeout", "idle_timeout",
            "server_lifetime", "idle_client_in_transaction_timeout", "query_wait_timeout", "client_login_timeout", "healthcheck_timeout", "healthcheck_delay",
            "shutdown_timeout", "ban_time", "healthcheck_interval", "max_replica_lag_bytes", "max_replica_lag_ms",
            "worker_threads", "tcp_keepalives_idle", "tcp_keepalives_count", "tcp_keepalives_interval",
            "tcp_user_timeout", "tls_certificate", "tls_private_key", "server_tls", "verify_server_certificate",
            "server_tls_mode", "server_reset_query", "server_reset_query_always", "enable_prometheus_exporter", "prometheus_exporter_port",
            "log_client_connections", "log_client_disconnections", "autoreload", "prepared_statements",
            "prepared_statements_cache_size", "log_format", "admin_port");

    /** Keys whose override text is used as is, so a password of digits stays a string. */
    private static final Set<String> STRING_KEYS = Set.of("host", "admin_username", "admin_password", "auth_type",
            "tls_certificate", "tls_private_key", "server_tls_mode", "server_reset_query", "log_format");

    private Overrides() {
    }

    /** Environment variable names to ask the vertx-config "env" store for. */
    static List<String> envNames() {
        List<String> names = new ArrayList<>();
        GENERAL_KEYS.forEach(k -> names.add(ENV_PREFIX + k.toUpperCase(Locale.ROOT)));
        return names;
    }

    /** The {@code pgfleet.general.*} system properties, as a flat JSON object for a "json" store. */
    static JsonObject systemProperties(Map<Object, Object> properties) {
        JsonObject out = new JsonObject();
        for (String key : GENERAL_KEYS) {
            Object v = properties.get(SYS_PREFIX + key);
            if (v != null) {
                out.put(SYS_PREFIX + key, v.toString());
            }
        }
        return out;
    }

    /**
     * Removes the override entries vertx-config merged into {@code merged} and writes them into
     * its {@code general} table: environment first, then system properties, so the latter win
     * (ARCHITECTURE.md: file, then environment, then system properties).
     */
    static JsonObject apply(JsonObject merged, String source) {
        return apply(merged, source, new java.util.HashMap<>());
    }

    /** As {@link #apply(JsonObject, String)}, noting in {@code sources} each key an override set. */
    static JsonObject apply(JsonObject merged, String source, Map<String, String> sources) {
        JsonObject general = merged.getValue("general") instanceof JsonObject g ? g : new JsonObject();
        for (String key : GENERAL_KEYS) {
            if (apply(merged, general, ENV_PREFIX + key.toUpperCase(Locale.ROOT), key, source)) {
                sources.put(key, ConfigTree.ENVIRONMENT);
            }
        }
        for (String key : GENERAL_KEYS) {
            if (apply(merged, general, SYS_PREFIX + key, key, source)) {
                sources.put(key, ConfigTree.SYSTEM_PROPERTY);
            }
        }
        if (!general.isEmpty() || merged.containsKey("general")) {
            merged.put("general", general);
        }
        return merged;
    }

    private static boolean apply(JsonObject merged, JsonObject general, String name, String key, String source) {
        Object v = merged.remove(name);
        if (v != null) {
            general.put(key, STRING_KEYS.contains(key) ? v.toString() : typed(v.toString()));
            // The name only: values may be passwords.
            LOG.info("{}: general.{} overridden by {}", source, key, name);
            return true;
        }
        return false;
    }

    /** Overrides arrive as text; integers and booleans are turned back into TOML's types. */
    static Object typed(String s) {
        String t = s.trim();
        if (INTEGER.matcher(t).matches()) {
            return Long.parseLong(t);
        }
        if (t.equalsIgnoreCase("true") || t.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(t);
        }
        return s;
    }
}
