package dev.pgfleet.admin.config;

import dev.pgfleet.shared.config.GeneralKeys;
import java.util.Set;

/**
 * Which {@code [general]} keys may change while PgFleet runs. A key outside {@link #RESTART_ONLY}
 * is applied by a reload (the router, proxy and health verticles read the new epoch); SET takes
 * those too, except the secrets, which belong in the file (a SET would leave them in the
 * console's history and in {@code pg_stat_activity}-like tooling of whoever typed it).
 */
final class LiveKeys {

    /**
     * Read once at start. host, port: the listening socket is bound once; worker_threads: the
     * event loop count is fixed when Vert.x is built; max_message_size: the server connectors are
     * built with it; tcp_*: socket options set when the listener and connectors are built;
     * tls_certificate, tls_private_key: the listener's TLS options are built at start (rotating
     * them needs a restart, a rolling one in Kubernetes); enable_prometheus_exporter,
     * prometheus_exporter_port, admin_port: those servers are bound once; connect_timeout: each
     * event loop's NetClient to the servers is built with it; log_format: chosen before the first
     * log line. A reload that changes one keeps the running value and says so.
     */
    static final Set<String> RESTART_ONLY = Set.of("host", "port", "worker_threads", "max_message_size",
            "tcp_keepalives_idle", "tcp_keepalives_count", "tcp_keepalives_interval", "tcp_user_timeout",
            "tls_certificate", "tls_private_key", "enable_prometheus_exporter", "prometheus_exporter_port",
            "admin_port", "connect_timeout", "log_format");

    private LiveKeys() {
    }

    static boolean restartOnly(String key) {
        return RESTART_ONLY.contains(key);
    }

    /** What SHOW CONFIG's {@code changeable} says: SET takes it. */
    static boolean settable(String key) {
        return GeneralKeys.known(key) && !restartOnly(key) && !GeneralKeys.secret(key);
    }
}
