package dev.pgfleet.shared.config;

import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The {@code [general]} keys as SHOW CONFIG and SET see them: each key's value in force as text,
 * in the file's own units (milliseconds stay milliseconds, {@code ban_time} seconds), its default
 * the same way, and how a SET's text becomes the value the binder checks. PgCat's older spellings
 * that PgFleet folds into another key ({@code server_tls}, {@code verify_server_certificate} into
 * {@code server_tls_mode}, {@code prepared_statements} into {@code prepared_statements_cache_size})
 * are not rows of their own: they count as setting the key they fold into ({@link #spellings}).
 */
public final class GeneralKeys {

    private enum Kind { STRING, INTEGER, BOOLEAN, DURATION }

    private record Key(String name, Kind kind, boolean secret, Function<General, String> value) {
    }

    private static final Map<String, Key> KEYS = new LinkedHashMap<>();

    static {
        str("host", General::host);
        integer("port", g -> g.port());
        str("admin_username", General::adminUsername);
        secret("admin_password", General::adminPassword);
        integer("admin_port", g -> g.adminPort());
        str("auth_type", g -> g.authType().configName());
        integer("max_client_conn", g -> g.maxClientConn());
        integer("max_message_size", g -> g.maxMessageSize());
        ms("connect_timeout", General::connectTimeout);
        ms("idle_timeout", General::idleTimeout);
        ms("server_lifetime", General::serverLifetime);
        ms("idle_client_in_transaction_timeout", General::idleClientInTransactionTimeout);
        ms("query_wait_timeout", General::queryWaitTimeout);
        ms("client_login_timeout", General::clientLoginTimeout);
        ms("healthcheck_timeout", General::healthcheckTimeout);
        ms("healthcheck_delay", General::healthcheckDelay);
        ms("healthcheck_interval", General::healthcheckInterval);
        str("healthcheck_user", g -> g.healthProbe().user().orElse(""));
        secret("healthcheck_password", g -> g.healthProbe().password().orElse(""));
        str("healthcheck_database", g -> g.healthProbe().database().orElse(""));
        integer("healthcheck_max_retries", g -> g.healthProbe().maxRetries());
        ms("healthcheck_retry_delay", g -> g.healthProbe().retryDelay());
        ms("shutdown_timeout", General::shutdownTimeout);
        seconds("ban_time", General::banTime);
        integer("max_replica_lag_bytes", g -> g.maxReplicaLagBytes());
        ms("max_replica_lag_ms", General::maxReplicaLag);
        integer("worker_threads", g -> g.workerThreads());
        seconds("tcp_keepalives_idle", General::tcpKeepalivesIdle);
        integer("tcp_keepalives_count", g -> g.tcpKeepalivesCount());
        seconds("tcp_keepalives_interval", General::tcpKeepalivesInterval);
        ms("tcp_user_timeout", General::tcpUserTimeout);
        str("tls_certificate", g -> g.tlsCertificate().orElse(""));
        str("tls_private_key", g -> g.tlsPrivateKey().orElse(""));
        str("server_tls_mode", g -> g.serverTlsMode().configName());
        str("server_reset_query", General::serverResetQuery);
        bool("server_reset_query_always", General::serverResetQueryAlways);
        bool("enable_prometheus_exporter", General::enablePrometheusExporter);
        integer("prometheus_exporter_port", g -> g.prometheusExporterPort());
        bool("log_client_connections", General::logClientConnections);
        bool("log_client_disconnections", General::logClientDisconnections);
        str("log_format", g -> g.logFormat().configName());
        // Off is 0, as the file may write it.
        KEYS.put("autoreload", new Key("autoreload", Kind.DURATION, false,
                g -> Long.toString(g.autoreload().map(Duration::toMillis).orElse(0L))));
        integer("prepared_statements_cache_size", g -> g.preparedStatementsCacheSize());
        integer("cross_shard_memory_limit", g -> g.crossShardMemoryLimit());
        str("two_phase_log", General::twoPhaseLog);
        integer("instance_id", g -> g.instanceId());
    }

    /** Older PgCat spellings that set another key's value (see the class comment). */
    private static final Map<String, String> FOLDED = Map.of(
            "server_tls", "server_tls_mode",
            "verify_server_certificate", "server_tls_mode",
            "prepared_statements", "prepared_statements_cache_size");

    private static final List<String> NAMES = List.copyOf(KEYS.keySet());
    private static final General DEFAULTS = defaults();

    private GeneralKeys() {
    }

    /** Every key, in the order of conf/pgfleet.toml's sections. */
    public static List<String> names() {
        return NAMES;
    }

    public static boolean known(String key) {
        return KEYS.containsKey(key);
    }

    /** Keys whose values are never shown, logged or taken by SET. */
    public static boolean secret(String key) {
        Key k = KEYS.get(key);
        return k != null && k.secret();
    }

    /** The value in force as text (an unset optional value is ""); secrets included, so never log it. */
    public static String text(General general, String key) {
        return require(key).value().apply(general);
    }

    /** The value a file without the key gets, as text ("" for the required admin credentials). */
    public static String defaultText(String key) {
        return text(DEFAULTS, key);
    }

    /** The file keys that set {@code key}: itself, and the older PgCat spellings folded into it. */
    public static Set<String> spellings(String key) {
        Set<String> s = new java.util.LinkedHashSet<>();
        s.add(key);
        FOLDED.forEach((old, to) -> {
            if (to.equals(key)) {
                s.add(old);
            }
        });
        return Collections.unmodifiableSet(s);
    }

    /**
     * The value a SET's text stands for, typed as TOML would type it, so that the binder checks a
     * SET exactly as it checks the file: digits are an integer, true/false/on/off/yes/no/1/0 a
     * boolean for a boolean key; anything else stays text and the binder says what it expected.
     */
    public static Object typed(String key, String text) {
        Kind kind = require(key).kind();
        String t = text.trim();
        switch (kind) {
            case STRING:
                return text;
            case BOOLEAN:
                switch (t.toLowerCase(Locale.ROOT)) {
                    case "true", "on", "yes", "1":
                        return true;
                    case "false", "off", "no", "0":
                        return false;
                    default:
                        return text;
                }
            default:
                if (t.matches("-?\\d{1,18}")) {
                    return Long.parseLong(t);
                }
                if (kind == Kind.DURATION && (t.equalsIgnoreCase("true") || t.equalsIgnoreCase("false"))) {
                    return Boolean.parseBoolean(t);   // autoreload's PgCat 0.x form
                }
                return text;
        }
    }

    /** A copy of {@code tree} with {@code [general]} {@code key} set to {@code value} (null: removed). */
    public static JsonObject withGeneral(JsonObject tree, String key, Object value) {
        JsonObject copy = tree.copy();
        JsonObject general = copy.getValue("general") instanceof JsonObject g ? g : new JsonObject();
        if (value == null) {
            general.remove(key);
        } else {
            general.put(key, value);
        }
        copy.put("general", general);
        return copy;
    }

    /** The [general] keys whose text differs between two configurations, in {@link #names()} order. */
    public static List<String> changed(General before, General after) {
        List<String> out = new ArrayList<>();
        for (String key : NAMES) {
            if (!text(before, key).equals(text(after, key))) {
                out.add(key);
            }
        }
        return out;
    }

    private static Key require(String key) {
        Key k = KEYS.get(key);
        if (k == null) {
            throw new IllegalArgumentException("unknown [general] key " + key);
        }
        return k;
    }

    /** [general] with nothing set: the binder's own defaults, so this class cannot drift from them. */
    private static General defaults() {
        Problems ignored = new Problems("defaults");
        return GeneralBinder.bind(new Section(ignored, "general", new JsonObject()));
    }

    private static void str(String name, Function<General, String> f) {
        KEYS.put(name, new Key(name, Kind.STRING, false, f));
    }

    private static void secret(String name, Function<General, String> f) {
        KEYS.put(name, new Key(name, Kind.STRING, true, f));
    }

    private static void integer(String name, Function<General, Object> f) {
        KEYS.put(name, new Key(name, Kind.INTEGER, false, g -> String.valueOf(f.apply(g))));
    }

    private static void bool(String name, Function<General, Boolean> f) {
        KEYS.put(name, new Key(name, Kind.BOOLEAN, false, g -> f.apply(g).toString()));
    }

    private static void ms(String name, Function<General, Duration> f) {
        KEYS.put(name, new Key(name, Kind.DURATION, false, g -> Long.toString(f.apply(g).toMillis())));
    }

    private static void seconds(String name, Function<General, Duration> f) {
        KEYS.put(name, new Key(name, Kind.DURATION, false, g -> Long.toString(f.apply(g).toSeconds())));
    }
}
