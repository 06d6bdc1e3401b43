package dev.pgfleet.shared.config;

import java.time.Duration;
import java.util.Optional;

/**
 * {@code [general]}: settings of the pooler process. Key names, units and defaults follow
 * PgCat's {@code pgcat.toml}; see {@link Defaults} for where each default comes from.
 *
 * @param connectTimeout                 how long a client waits to obtain a server connection (ms)
 * @param idleTimeout                    idle server connections older than this are closed (ms)
 * @param serverLifetime                 server connections older than this are closed when idle (ms)
 * @param idleClientInTransactionTimeout ZERO = clients may idle in a transaction forever (ms)
 * @param queryWaitTimeout how long a client waits for a server connection (ms, PgBouncer's
 *     query_wait_timeout); ZERO = forever
 * @param healthcheckTimeout             time given to the health check query (ms)
 * @param healthcheckDelay               a connection used within this time skips the health check (ms)
 * @param shutdownTimeout                grace period for clients at shutdown (ms)
 * @param banTime                        how long a failed server is kept out of rotation (s)
 * @param healthcheckInterval            period of the background health probe of every server (ms;
 *                                       PgFleet addition, the name PgDog uses)
 * @param maxReplicaLagBytes             replicas further behind the primary's WAL than this serve no
 *                                       reads until they catch up; 0 = no limit (PgFleet addition)
 * @param maxReplicaLag                  the same limit in time ({@code max_replica_lag_ms});
 *                                       {@link Duration#ZERO} = no limit (PgFleet addition)
 * @param tcpKeepalivesIdle              idleness before the first keepalive probe (s)
 * @param tcpKeepalivesInterval          time between keepalive probes (s)
 * @param tcpUserTimeout                 Linux TCP_USER_TIMEOUT (ms)
 * @param serverTlsMode                  TLS to servers; from {@code server_tls_mode}, or derived
 *                                       from PgCat's {@code server_tls}/{@code verify_server_certificate}
 * @param autoreload                     interval to check the file for changes; empty = off
 * @param preparedStatementsCacheSize    default for pools; 0 = disabled
 * @param authType                       client authentication (PgFleet addition)
 * @param maxMessageSize                 largest protocol message accepted, bytes (PgFleet addition)
 * @param maxClientConn                  client connections accepted per process (PgFleet addition)
 * @param workerThreads                  event loops; 0 (unset) = by the cores PgFleet may use (dist's ProxyNode)
 * @param serverResetQuery               run on a session-mode server connection before reuse (PgFleet addition)
 * @param serverResetQueryAlways         run serverResetQuery after every transaction in transaction mode
 *                                       too (PgBouncer's server_reset_query_always)
 * @param clientLoginTimeout             a client that has not logged in within this is closed (ms,
 *                                       PgBouncer's client_login_timeout); ZERO = no limit
 * @param healthProbe                    the health probe's login, database and retries ({@code healthcheck_user},
 *                                       {@code healthcheck_password}, {@code healthcheck_database},
 *                                       {@code healthcheck_max_retries}, {@code healthcheck_retry_delay})
 * @param logFormat                      {@code log_format}: text or JSON lines (read by dist's logging
 *                                       at start; PgFleet addition)
 * @param adminPort                      a second listener that serves only the admin console; 0 = none
 * @param crossShardMemoryLimit          {@code cross_shard_memory_limit} in bytes, the pools' default
 * @param twoPhaseLog                    {@code two_phase_log}: the file of two-phase commit decisions
 * @param instanceId                     {@code instance_id}: 0..1023, this instance's number in
 *                                       {@code pgfleet.unique_id()} and two-phase transaction names; -1 =
 *                                       derived from the host name and port
 *                                       (PgFleet addition: PgBouncer and PgCat serve it on the main port only)
 */
public record General(
        String host,
        int port,
        String adminUsername,
        String adminPassword,
        AuthType authType,
        int maxClientConn,
        int maxMessageSize,
        Duration connectTimeout,
        Duration idleTimeout,
        Duration serverLifetime,
        Duration idleClientInTransactionTimeout,
        Duration queryWaitTimeout,
        Duration healthcheckTimeout,
        Duration healthcheckDelay,
        Duration shutdownTimeout,
        Duration banTime,
        Duration healthcheckInterval,
        long maxReplicaLagBytes,
        Duration maxReplicaLag,
        int workerThreads,
        Duration tcpKeepalivesIdle,
        int tcpKeepalivesCount,
        Duration tcpKeepalivesInterval,
        Duration tcpUserTimeout,
        Optional<String> tlsCertificate,
        Optional<String> tlsPrivateKey,
        ServerTlsMode serverTlsMode,
        String serverResetQuery,
        boolean serverResetQueryAlways,
        boolean enablePrometheusExporter,
        int prometheusExporterPort,
        boolean logClientConnections,
        boolean logClientDisconnections,
        Optional<Duration> autoreload,
        int preparedStatementsCacheSize,
        Duration clientLoginTimeout,
        HealthProbe healthProbe,
        LogFormat logFormat,
        int adminPort,
        long crossShardMemoryLimit,
        String twoPhaseLog,
        int instanceId) {

    /** A copy listening on {@code port} (the demo binds where its servers let it). */
    public General withPort(int port) {
        return new General(host, port, adminUsername, adminPassword, authType, maxClientConn, maxMessageSize,
                connectTimeout, idleTimeout, serverLifetime, idleClientInTransactionTimeout, queryWaitTimeout, healthcheckTimeout,
                healthcheckDelay, shutdownTimeout, banTime, healthcheckInterval, maxReplicaLagBytes, maxReplicaLag,
                workerThreads, tcpKeepalivesIdle, tcpKeepalivesCount, tcpKeepalivesInterval, tcpUserTimeout,
                tlsCertificate, tlsPrivateKey, serverTlsMode, serverResetQuery, serverResetQueryAlways, enablePrometheusExporter,
                prometheusExporterPort, logClientConnections, logClientDisconnections, autoreload,
                preparedStatementsCacheSize, clientLoginTimeout, healthProbe, logFormat, adminPort,
                crossShardMemoryLimit, twoPhaseLog, instanceId);
    }

    /** A copy with other health settings (tests and tools that shorten the probe cycle). */
    public General withHealth(Duration healthcheckTimeout, Duration healthcheckInterval, Duration banTime) {
        return new General(host, port, adminUsername, adminPassword, authType, maxClientConn, maxMessageSize,
                connectTimeout, idleTimeout, serverLifetime, idleClientInTransactionTimeout, queryWaitTimeout, healthcheckTimeout,
                healthcheckDelay, shutdownTimeout, banTime, healthcheckInterval, maxReplicaLagBytes, maxReplicaLag,
                workerThreads, tcpKeepalivesIdle, tcpKeepalivesCount, tcpKeepalivesInterval, tcpUserTimeout,
                tlsCertificate, tlsPrivateKey, serverTlsMode, serverResetQuery, serverResetQueryAlways, enablePrometheusExporter,
                prometheusExporterPort, logClientConnections, logClientDisconnections, autoreload,
                preparedStatementsCacheSize, clientLoginTimeout, healthProbe, logFormat, adminPort,
                crossShardMemoryLimit, twoPhaseLog, instanceId);
    }

    /** Client TLS is on when both the certificate and the key are set. */
    public boolean clientTlsEnabled() {
        return tlsCertificate.isPresent() && tlsPrivateKey.isPresent();
    }

    /** Never prints the admin password (STYLE.md: never log passwords). */
    @Override
    public String toString() {
        return "General[host=" + host + ", port=" + port + ", adminUsername=" + adminUsername
                + ", adminPassword=***, authType=" + authType + ", maxClientConn=" + maxClientConn
                + ", maxMessageSize=" + maxMessageSize + ", connectTimeout=" + connectTimeout
                + ", idleTimeout=" + idleTimeout + ", serverLifetime=" + serverLifetime
                + ", idleClientInTransactionTimeout=" + idleClientInTransactionTimeout
                + ", queryWaitTimeout=" + queryWaitTimeout
                + ", healthcheckTimeout=" + healthcheckTimeout + ", healthcheckDelay=" + healthcheckDelay
                + ", shutdownTimeout=" + shutdownTimeout + ", banTime=" + banTime
                + ", healthcheckInterval=" + healthcheckInterval + ", maxReplicaLagBytes=" + maxReplicaLagBytes
                + ", maxReplicaLag=" + maxReplicaLag + ", workerThreads=" + workerThreads
                + ", tcpKeepalivesIdle=" + tcpKeepalivesIdle + ", tcpKeepalivesCount=" + tcpKeepalivesCount
                + ", tcpKeepalivesInterval=" + tcpKeepalivesInterval + ", tcpUserTimeout=" + tcpUserTimeout
                + ", tlsCertificate=" + tlsCertificate + ", tlsPrivateKey=" + tlsPrivateKey
                + ", serverTlsMode=" + serverTlsMode + ", serverResetQuery=" + serverResetQuery
                + ", serverResetQueryAlways=" + serverResetQueryAlways
                + ", enablePrometheusExporter=" + enablePrometheusExporter
                + ", prometheusExporterPort=" + prometheusExporterPort
                + ", logClientConnections=" + logClientConnections
                + ", logClientDisconnections=" + logClientDisconnections + ", autoreload=" + autoreload
                + ", preparedStatementsCacheSize=" + preparedStatementsCacheSize
                + ", clientLoginTimeout=" + clientLoginTimeout + ", healthProbe=" + healthProbe
                + ", logFormat=" + logFormat + ", adminPort=" + adminPort + "]";
    }
}
