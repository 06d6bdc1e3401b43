package dev.pgfleet.shared.admin;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;

/**
 * What one PgFleet instance's proxy reports about itself at one moment: the answer to
 * {@code STATS} on {@link AdminBus#PROXY}. The console renders PgBouncer's SHOW POOLS, STATS,
 * CLIENTS, SERVERS, DATABASES, USERS, LISTS from it; the metrics endpoint turns it into
 * Prometheus series. Counters are cumulative since the instance started (rates and averages are
 * the reader's work, from two snapshots), gauges are as of {@code takenAtMillis}.
 *
 * <p>The data plane counts with plain per-event-loop fields; building a ProxyStats reads them
 * once. Travels as JSON ({@link #toJson}, Jackson's record mapping through Vert.x).
 *
 * @param instanceId      this instance's id (the fleet names members by it)
 * @param startedAtMillis when the proxy started (epoch ms)
 * @param takenAtMillis   when this snapshot was built (epoch ms)
 * @param listening       the client port is bound
 * @param draining        shutting down: no new clients (readiness is false)
 * @param suspended       SUSPEND in force
 * @param clientCount     client connections now (every state, admin console included)
 * @param maxClientConn   the limit of client connections
 * @param pools           one per (database, user) pool, in configuration order
 * @param clients         one per client connection (type "C")
 * @param servers         one per server connection (type "S")
 * @param statements      the pools' named prepared statements (SHOW PREPARED)
 */
public record ProxyStats(String instanceId, long startedAtMillis, long takenAtMillis, boolean listening,
                         boolean draining, boolean suspended, int clientCount, int maxClientConn,
                         List<PoolStats> pools, List<ConnectionStats> clients, List<ConnectionStats> servers,
                         List<StatementStats> statements) {

    /**
     * Upper bounds (µs, inclusive) of the duration histograms' buckets in {@link PoolStats};
     * the last bucket of each histogram counts everything above the last bound (+Inf).
     */
    public static final long[] DURATION_BUCKETS_MICROS = {100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000,
        50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000};

    public JsonObject toJson() {
        return JsonObject.mapFrom(this);
    }

    public static ProxyStats fromJson(JsonObject json) {
        return json.mapTo(ProxyStats.class);
    }

    /**
     * One (database, user) pool over all its servers and event loops. Client and server counts
     * follow PgBouncer's SHOW POOLS: cl_active = linked to a server or idle between transactions
     * (logged in, not waiting), cl_waiting = waiting for a server connection; sv_active = linked
     * to a client, sv_idle = ready for use, sv_used = idle but not yet checked since
     * server_check_delay (PgFleet: idle past healthcheck_delay), sv_tested = running the checkout
     * check or the reset query, sv_login = logging in.
     *
     * @param poolMode                "session", "transaction" or "statement"
     * @param clIdle                  logged-in clients neither linked nor waiting (idle between transactions):
     *                                a part of clActive, which counts them as PgBouncer does
     * @param paused                  PAUSE in force for this pool's database
     * @param disabled                DISABLE in force for this pool's database
     * @param poolSize                the pool size in force now (per server of the pool)
     * @param maxWaitMicros           how long the oldest waiting client has waited
     * @param serverAssignments       server connections handed to a client (PgBouncer's server_assignment_count)
     * @param xacts                   transactions ended (ReadyForQuery 'I' after work, in every mode)
     * @param queries                 queries ended: as PgBouncer counts query_count, one per client request
     *                                that a ReadyForQuery answers (a Query, a Sync, a FunctionCall), so an
     *                                extended-protocol batch up to Sync is one query, a simple Query of
     *                                several statements is one; pipelined requests count one each
     * @param bytesReceived           bytes from clients
     * @param bytesSent               bytes to clients
     * @param xactMicros              total time in transactions (first request to ReadyForQuery 'I'; a
     *                                transaction-mode wait for a server connection comes before and is not in it)
     * @param queryMicros             total time in queries (request to its ReadyForQuery; a pipelined request
     *                                from the previous one's ReadyForQuery)
     * @param waitMicros              total time clients waited for a server connection
     * @param clientParses            Parse messages from clients
     * @param serverParses            Parse messages sent to servers (PgFleet's just-in-time ones included)
     * @param binds                   Bind messages from clients
     * @param serverConnects          server logins begun
     * @param serverConnectErrors     server logins that failed
     * @param preparedHits            a client's named Parse found its statement on the linked server
     *                                (or answered without a server): no Parse sent
     * @param preparedMisses          a pool statement had to be prepared on a server connection (at a
     *                                client's Parse, or just in time at a Bind or Describe)
     * @param preparedEvictions       statements closed on a server by its LRU
     * @param clientErrorsByClass     ErrorResponses sent to clients, by SQLSTATE class ("28", "42", ...)
     * @param xactDurationBuckets     transaction durations per {@link #DURATION_BUCKETS_MICROS}
     *                                bucket (not cumulative; one more element for +Inf)
     * @param queryDurationBuckets    query durations, likewise
     * @param servers                 the pool's servers (primary, replicas; shard 0 until sharding)
     */
    public record PoolStats(String database, String user, String poolMode, boolean paused, boolean disabled,
                            int poolSize, int minPoolSize,
                            int clActive, int clWaiting, int clIdle, int clActiveCancelReq, int clWaitingCancelReq,
                            int svActive, int svActiveCancel, int svBeingCanceled, int svIdle, int svUsed,
                            int svTested, int svLogin, long maxWaitMicros,
                            long serverAssignments, long xacts, long queries, long bytesReceived, long bytesSent,
                            long xactMicros, long queryMicros, long waitMicros,
                            long clientParses, long serverParses, long binds,
                            long serverConnects, long serverConnectErrors,
                            long preparedHits, long preparedMisses, long preparedEvictions,
                            Map<String, Long> clientErrorsByClass,
                            long[] xactDurationBuckets, long[] queryDurationBuckets,
                            List<ServerPoolStats> servers) {
    }

    /**
     * One server of a pool.
     *
     * @param server "host:port"
     * @param role   "primary" or "replica", as routing sees it now
     */
    public record ServerPoolStats(String server, int shard, String role, int active, int idle, int used, int tested,
                                  int login, long connects, long connectErrors) {
    }

    /**
     * A row of SHOW CLIENTS or SHOW SERVERS (PgBouncer's columns).
     *
     * @param id                 unique among this instance's connections of its type
     * @param type               "C" (client) or "S" (server)
     * @param state              clients: "active", "waiting", "idle" (between transactions) or
     *                           "login"; servers: "active", "idle", "used", "tested", "login"
     * @param connectTimeMillis  epoch ms
     * @param requestTimeMillis  epoch ms of the last request (connect time before any)
     * @param waitMicros         a waiting client: how long it has waited; else 0
     * @param closeNeeded        the connection is closed at its next release (RECONNECT, lifetime)
     * @param link               the id of the connection on the other side, 0 when unlinked
     * @param remotePid          servers: the backend's process id; clients: PgFleet's cancel key id
     * @param tls                "" without TLS, else the protocol and cipher
     * @param applicationName    the client's application_name ("" when unset)
     * @param preparedStatements named statements the connection holds
     */
    public record ConnectionStats(long id, String type, String user, String database, String state, String addr,
                                  int port, String localAddr, int localPort, long connectTimeMillis,
                                  long requestTimeMillis, long waitMicros, boolean closeNeeded, long link,
                                  int remotePid, String tls, String applicationName, int preparedStatements) {
    }

    /**
     * A pool's named prepared statement (SHOW PREPARED).
     *
     * @param name       the name PgFleet gives it on servers ({@code pgfleet_N})
     * @param query      the SQL text (never parameter values)
     * @param parameterTypes the parameter type OIDs the Parse declared
     * @param servers    server connections that have it prepared now
     */
    public record StatementStats(String database, String user, String name, String query, List<Integer> parameterTypes,
                                 int servers) {
    }
}
