package dev.pgfleet.shared.config;

import java.time.Duration;
import java.util.Optional;

/** Binds and checks {@code [general]}. */
final class GeneralBinder {

    /**
     * Cache size when PgCat 1.x's {@code prepared_statements = true} is given without a size:
     * the value PgCat's example pgcat.toml uses for {@code prepared_statements_cache_size}.
     */
    static final int PREPARED_STATEMENTS_CACHE_SIZE_WHEN_ENABLED = 500;

    private GeneralBinder() {
    }

    static General bind(Section s) {
        // Known to PgCat, not implemented by PgFleet: accepted with a warning.
        s.unsupported("dns_cache_enabled", "dns_max_ttl", "server_round_robin", "validate_config", "verify_config",
                "auth_query", "auth_query_user", "auth_query_password", "admin_auth_type");

        String host = s.string("host", Defaults.HOST);
        int port = s.integer("port", Defaults.PORT, 1, 65_535);
        String adminUsername = s.requiredString("admin_username");
        String adminPassword = s.requiredString("admin_password");
        AuthType authType = s.enumValue("auth_type", AuthType.class, Defaults.AUTH_TYPE);
        int maxClientConn = s.integer("max_client_conn", Defaults.MAX_CLIENT_CONN, 1, Integer.MAX_VALUE);
        int maxMessageSize = s.integer("max_message_size", Defaults.MAX_MESSAGE_SIZE,
                Defaults.MIN_MAX_MESSAGE_SIZE, Defaults.MAX_MAX_MESSAGE_SIZE);

        Duration connectTimeout = s.millis("connect_timeout", Defaults.CONNECT_TIMEOUT);
        Duration idleTimeout = s.millis("idle_timeout", Defaults.IDLE_TIMEOUT);
        Duration serverLifetime = s.millis("server_lifetime", Defaults.SERVER_LIFETIME);
        Duration idleInTx = s.millis("idle_client_in_transaction_timeout", Defaults.IDLE_CLIENT_IN_TRANSACTION_TIMEOUT);
        Duration queryWait = s.millis("query_wait_timeout", Defaults.QUERY_WAIT_TIMEOUT);
        Duration loginTimeout = s.millis("client_login_timeout", Defaults.CLIENT_LOGIN_TIMEOUT);
        Duration healthcheckTimeout = s.millis("healthcheck_timeout", Defaults.HEALTHCHECK_TIMEOUT);
        Duration healthcheckDelay = s.millis("healthcheck_delay", Defaults.HEALTHCHECK_DELAY);
        Duration shutdownTimeout = s.millis("shutdown_timeout", Defaults.SHUTDOWN_TIMEOUT);
        Duration banTime = s.seconds("ban_time", Defaults.BAN_TIME);
        Duration healthcheckInterval = s.millis("healthcheck_interval", Defaults.HEALTHCHECK_INTERVAL);
        if (healthcheckInterval.isZero()) {
            s.error("healthcheck_interval", "must be at least 1 (ms); the probe cannot be turned off");
            healthcheckInterval = Defaults.HEALTHCHECK_INTERVAL;
        }
        long maxLagBytes = s.optLong("max_replica_lag_bytes", 0, Long.MAX_VALUE)
                .orElse(Defaults.MAX_REPLICA_LAG_BYTES);
        Duration maxLag = s.millis("max_replica_lag_ms", Defaults.MAX_REPLICA_LAG);
        HealthProbe healthProbe = healthProbe(s);

        int workerThreads = s.integer("worker_threads", Defaults.WORKER_THREADS, 1, 1024);
        Duration keepIdle = s.seconds("tcp_keepalives_idle", Defaults.TCP_KEEPALIVES_IDLE);
        int keepCount = s.integer("tcp_keepalives_count", Defaults.TCP_KEEPALIVES_COUNT, 0, 1_000);
        Duration keepInterval = s.seconds("tcp_keepalives_interval", Defaults.TCP_KEEPALIVES_INTERVAL);
        Duration tcpUserTimeout = s.millis("tcp_user_timeout", Defaults.TCP_USER_TIMEOUT);

        Optional<String> tlsCertificate = s.optString("tls_certificate");
        Optional<String> tlsPrivateKey = s.optString("tls_private_key");
        if (tlsCertificate.isPresent() && tlsPrivateKey.isEmpty()) {
            s.error("tls_private_key", "required when tls_certificate is set");
        } else if (tlsPrivateKey.isPresent() && tlsCertificate.isEmpty()) {
            s.error("tls_certificate", "required when tls_private_key is set");
        }
        ServerTlsMode serverTlsMode = serverTlsMode(s);
        String serverResetQuery = s.string("server_reset_query", Defaults.SERVER_RESET_QUERY);
        boolean serverResetQueryAlways = s.bool("server_reset_query_always", Defaults.SERVER_RESET_QUERY_ALWAYS);

        boolean prometheus = s.bool("enable_prometheus_exporter", Defaults.ENABLE_PROMETHEUS_EXPORTER);
        int prometheusPort = s.integer("prometheus_exporter_port", Defaults.PROMETHEUS_EXPORTER_PORT, 1, 65_535);
        boolean logConnections = s.bool("log_client_connections", Defaults.LOG_CLIENT_CONNECTIONS);
        boolean logDisconnections = s.bool("log_client_disconnections", Defaults.LOG_CLIENT_DISCONNECTIONS);
        Optional<Duration> autoreload = autoreload(s);
        int cacheSize = preparedStatementsCacheSize(s);
        LogFormat logFormat = s.enumValue("log_format", LogFormat.class, Defaults.LOG_FORMAT);
        int adminPort = s.integer("admin_port", Defaults.ADMIN_PORT, 0, 65_535);
        if (adminPort != 0 && adminPort == port) {
            s.error("admin_port", "must differ from port (" + port + "); 0 turns the console's own listener off");
        }
        long crossShardMemory = bytes(s, "cross_shard_memory_limit", Defaults.CROSS_SHARD_MEMORY_LIMIT);
        String twoPhaseLog = s.string("two_phase_log", Defaults.TWO_PHASE_LOG);
        int instanceId = s.integer("instance_id", -1, -1, 1023);

        s.reportUnknownKeys();
        return new General(host, port, adminUsername, adminPassword, authType, maxClientConn, maxMessageSize,
                connectTimeout, idleTimeout, serverLifetime, idleInTx, queryWait, healthcheckTimeout, healthcheckDelay,
                shutdownTimeout, banTime, healthcheckInterval, maxLagBytes, maxLag, workerThreads, keepIdle,
                keepCount, keepInterval, tcpUserTimeout, tlsCertificate, tlsPrivateKey, serverTlsMode,
                serverResetQuery, serverResetQueryAlways, prometheus, prometheusPort, logConnections, logDisconnections,
                autoreload, cacheSize, loginTimeout, healthProbe, logFormat, adminPort,
                crossShardMemory, twoPhaseLog, instanceId);
    }

    /**
     * A size: an integer of bytes, or a string with a unit as PostgreSQL writes them ("64MB", "512kB",
     * "1GB"; B, kB, MB, GB, TB, powers of 1024).
     */
    static long bytes(Section s, String key, long def) {
        Object v = s.raw(key);
        if (v == null) {
            return def;
        }
        if (v instanceof Number n && (v instanceof Integer || v instanceof Long) && n.longValue() > 0) {
            return n.longValue();
        }
        if (v instanceof String text) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\s*(\\d{1,12})\\s*(B|kB|MB|GB|TB)?\\s*")
                    .matcher(text);
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                String unit = m.group(2) == null ? "B" : m.group(2);
                int shift = switch (unit) {
                    case "kB" -> 10;
                    case "MB" -> 20;
                    case "GB" -> 30;
                    case "TB" -> 40;
                    default -> 0;
                };
                if (n > 0 && n <= (Long.MAX_VALUE >> shift)) {
                    return n << shift;
                }
            }
        }
        s.error(key, "expected a size above 0: bytes, or a string such as \"64MB\" (B, kB, MB, GB, TB), got "
                + Section.typeName(v) + " " + v);
        return def;
    }

    /** The probe's own login and database (both optional), and its retries. */
    private static HealthProbe healthProbe(Section s) {
        Optional<String> user = s.optString("healthcheck_user");
        Optional<String> password = s.optString("healthcheck_password");
        if (password.isPresent() && user.isEmpty()) {
            s.error("healthcheck_password", "set without healthcheck_user");
        }
        Optional<String> database = s.optString("healthcheck_database");
        int maxRetries = s.integer("healthcheck_max_retries", Defaults.HEALTHCHECK_MAX_RETRIES, 0, 100);
        Duration retryDelay = s.millis("healthcheck_retry_delay", Defaults.HEALTHCHECK_RETRY_DELAY);
        return new HealthProbe(user, password, database, maxRetries, retryDelay);
    }

    /** {@code server_tls_mode} if given, else derived from PgCat's two booleans. */
    private static ServerTlsMode serverTlsMode(Section s) {
        Optional<Boolean> tls = s.optBool("server_tls");
        Optional<Boolean> verify = s.optBool("verify_server_certificate");
        Optional<ServerTlsMode> mode = s.optEnum("server_tls_mode", ServerTlsMode.class);
        if (mode.isPresent()) {
            if (tls.isPresent() || verify.isPresent()) {
                s.problems().warn(s.path("server_tls_mode"),
                        "set together with server_tls/verify_server_certificate; server_tls_mode wins");
            }
            return mode.get();
        }
        if (!tls.orElse(false)) {
            return ServerTlsMode.DISABLE;
        }
        return verify.orElse(false) ? ServerTlsMode.VERIFY_FULL : ServerTlsMode.REQUIRE;
    }

    /**
     * PgCat 1.x takes an interval in milliseconds; older PgCat took a boolean. Both are accepted:
     * {@code true} means {@link Defaults#AUTORELOAD_INTERVAL}, {@code false} or 0 means off.
     * Unset is off: PgBouncer never reloads by itself and PgCat's autoreload is unset by default,
     * and a file edited in place could be read half-written. conf/pgfleet.toml and the Kubernetes
     * ConfigMap set it, where the file changes atomically (a {@code ..data} symlink swap).
     */
    private static Optional<Duration> autoreload(Section s) {
        Object v = s.raw("autoreload");
        if (v == null || v instanceof Boolean b && !b) {
            return Optional.empty();
        }
        if (v instanceof Boolean) {
            return Optional.of(Defaults.AUTORELOAD_INTERVAL);
        }
        if (v instanceof Number) {
            return s.optMillis("autoreload").filter(d -> !d.isZero());
        }
        s.error("autoreload", "expected a boolean or an integer (milliseconds), got " + Section.typeName(v));
        return Optional.empty();
    }

    /**
     * PgCat 1.x: {@code prepared_statements} (boolean) and {@code prepared_statements_cache_size};
     * later PgCat: the size alone, 0 = disabled. Pools inherit the result.
     */
    private static int preparedStatementsCacheSize(Section s) {
        Optional<Boolean> enabled = s.optBool("prepared_statements");
        Optional<Integer> size = s.optInt("prepared_statements_cache_size", 0, Integer.MAX_VALUE);
        if (enabled.isPresent() && !enabled.get()) {
            return 0;
        }
        if (enabled.isPresent()) {
            return size.orElse(PREPARED_STATEMENTS_CACHE_SIZE_WHEN_ENABLED);
        }
        return size.orElse(Defaults.PREPARED_STATEMENTS_CACHE_SIZE);
    }
}
