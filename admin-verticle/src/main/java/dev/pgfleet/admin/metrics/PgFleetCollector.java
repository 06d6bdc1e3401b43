package dev.pgfleet.admin.metrics;

import dev.pgfleet.shared.admin.ProxyStats;
import dev.pgfleet.shared.admin.ProxyStats.PoolStats;
import dev.pgfleet.shared.admin.ProxyStats.ServerPoolStats;
import dev.pgfleet.shared.admin.ProxyStats.StatementStats;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * PgFleet's own series, built from one {@link Scrape}: the scraping code sets {@link #scrape},
 * asks the registry for its text (which calls {@link #collect()} synchronously, on the same
 * thread), then clears it. Outside a scrape it contributes nothing.
 *
 * <p>Labels are bounded by the configuration: {@code pool} (the database a client connects to,
 * PgBouncer's {@code database} column), {@code user}, {@code shard}, {@code server}
 * ({@code host:port}), {@code role} (as detected by the probes), {@code state}, {@code class}
 * (a SQLSTATE's first two characters) and {@code result} (a probe's: ok, failed, inconclusive).
 * Never a client address. Labels that change at run time (role after a failover) are kept off
 * counters, so a counter's series never splits.
 */
final class PgFleetCollector implements MultiCollector {

    /** µs per second: a division, so that 100 µs prints as 1.0E-4 and not 9.999999999999999E-5. */
    private static final double MICROS = 1_000_000.0;

    private static final double[] DURATION_BOUNDS = durationBounds();

    private Scrape scrape;

    /** On the scraping thread only. */
    void scrape(Scrape s) {
        scrape = s;
    }

    @Override
    public MetricSnapshots collect() {
        Scrape s = scrape;
        if (s == null) {
            return new MetricSnapshots();
        }
        Families f = new Families();
        f.gauge("pgfleet_proxy_up", "1 when the proxy answered STATS for this scrape", s.stats() != null ? 1 : 0);
        f.gauge("pgfleet_health_up", "1 when the health verticle answered HEALTH for this scrape",
                s.healthRows() != null ? 1 : 0);
        if (s.stats() != null) {
            proxy(f, s.stats());
        }
        if (s.healthRows() != null) {
            health(f, s.healthRows());
        }
        if (s.bans() != null) {
            f.gauge("pgfleet_bans", "Servers banned now (every pool)", s.bans().size());
        }
        return f.build();
    }

    private static void proxy(Families f, ProxyStats st) {
        f.gauge("pgfleet_listening", "1 while the client port is bound", st.listening() ? 1 : 0);
        f.gauge("pgfleet_draining", "1 while shutting down (no new clients)", st.draining() ? 1 : 0);
        f.gauge("pgfleet_suspended", "1 while SUSPEND is in force", st.suspended() ? 1 : 0);
        f.gauge("pgfleet_start_time_seconds", "When the proxy started (Unix time)", st.startedAtMillis() / 1000.0);
        f.gauge("pgfleet_client_connections", "Client connections now, every state", st.clientCount());
        f.gauge("pgfleet_max_client_connections", "max_client_conn", st.maxClientConn());
        Map<String, Integer> statements = new HashMap<>();
        if (st.statements() != null) {
            for (StatementStats ss : st.statements()) {
                statements.merge(ss.database() + '\0' + ss.user(), 1, Integer::sum);
            }
        }
        for (PoolStats p : st.pools() == null ? List.<PoolStats>of() : st.pools()) {
            pool(f, p, statements.getOrDefault(p.database() + '\0' + p.user(), 0));
        }
    }

    private static void pool(Families f, PoolStats p, int statements) {
        String[] l = {"pool", p.database(), "user", p.user()};
        // Disjoint states, so that sum() is the pool's clients: PgBouncer's cl_active counts the
        // idle ones (between transactions) too; here "active" is those linked to a server.
        clients(f, l, "active", Math.max(0, p.clActive() - p.clIdle()));
        clients(f, l, "waiting", p.clWaiting());
        clients(f, l, "idle", p.clIdle());
        clients(f, l, "active_cancel_req", p.clActiveCancelReq());
        clients(f, l, "waiting_cancel_req", p.clWaitingCancelReq());
        servers(f, l, "active", p.svActive());
        servers(f, l, "idle", p.svIdle());
        servers(f, l, "used", p.svUsed());
        servers(f, l, "tested", p.svTested());
        servers(f, l, "login", p.svLogin());
        servers(f, l, "active_cancel", p.svActiveCancel());
        servers(f, l, "being_canceled", p.svBeingCanceled());
        f.gauge("pgfleet_pool_size", "pool_size in force (per server of the pool)", p.poolSize(), l);
        f.gauge("pgfleet_pool_min_size", "min_pool_size in force", p.minPoolSize(), l);
        f.gauge("pgfleet_pool_paused", "1 while PAUSE is in force for the pool's database", p.paused() ? 1 : 0, l);
        f.gauge("pgfleet_pool_disabled", "1 while DISABLE is in force for the pool's database", p.disabled() ? 1 : 0, l);
        f.gauge("pgfleet_pool_max_wait_seconds", "How long the oldest waiting client has waited",
                p.maxWaitMicros() / MICROS, l);
        f.gauge("pgfleet_prepared_statements", "Named prepared statements the pool holds", statements, l);
        f.counter("pgfleet_transactions", "Transactions ended", p.xacts(), l);
        f.counter("pgfleet_queries", "Queries ended (one per statement a server ran)", p.queries(), l);
        f.counter("pgfleet_server_assignments", "Server connections handed to a client", p.serverAssignments(), l);
        f.counter("pgfleet_received_bytes", "Bytes received from clients", p.bytesReceived(), l);
        f.counter("pgfleet_sent_bytes", "Bytes sent to clients", p.bytesSent(), l);
        f.counter("pgfleet_client_wait_seconds", "Time clients waited for a server connection",
                p.waitMicros() / MICROS, l);
        f.counter("pgfleet_client_parses", "Parse messages from clients", p.clientParses(), l);
        f.counter("pgfleet_server_parses", "Parse messages sent to servers", p.serverParses(), l);
        f.counter("pgfleet_binds", "Bind messages from clients", p.binds(), l);
        f.counter("pgfleet_prepared_cache_hits", "Named Parse found on the linked server (or answered locally)",
                p.preparedHits(), l);
        f.counter("pgfleet_prepared_cache_misses", "Named Parse that had to be prepared on the server",
                p.preparedMisses(), l);
        f.counter("pgfleet_prepared_cache_evictions", "Statements closed on a server by its LRU",
                p.preparedEvictions(), l);
        if (p.clientErrorsByClass() != null) {
            p.clientErrorsByClass().forEach((sqlClass, n) -> f.counter("pgfleet_client_errors",
                    "ErrorResponses sent to clients, by SQLSTATE class", n, "pool", p.database(), "user", p.user(),
                    "class", sqlClass));
        }
        histogram(f, "pgfleet_transaction_duration_seconds", "Transaction durations", p.xactDurationBuckets(),
                p.xactMicros(), l);
        histogram(f, "pgfleet_query_duration_seconds", "Query durations", p.queryDurationBuckets(), p.queryMicros(), l);
        if (p.servers() != null) {
            for (ServerPoolStats s : p.servers()) {
                String[] sl = {"pool", p.database(), "user", p.user(), "shard", String.valueOf(s.shard()),
                    "server", s.server()};
                serverConnections(f, sl, "active", s.active());
                serverConnections(f, sl, "idle", s.idle());
                serverConnections(f, sl, "used", s.used());
                serverConnections(f, sl, "tested", s.tested());
                serverConnections(f, sl, "login", s.login());
                f.counter("pgfleet_server_connects", "Server logins begun", s.connects(), sl);
                f.counter("pgfleet_server_connect_errors", "Server logins that failed", s.connectErrors(), sl);
            }
        }
    }

    private static void clients(Families f, String[] l, String state, int n) {
        f.gauge("pgfleet_pool_clients", "Client connections of the pool by state (active: linked to a server; idle: between transactions)", n,
                with(l, "state", state));
    }

    private static void servers(Families f, String[] l, String state, int n) {
        f.gauge("pgfleet_pool_servers", "Server connections of the pool by state (PgBouncer's sv_*)", n,
                with(l, "state", state));
    }

    private static void serverConnections(Families f, String[] l, String state, int n) {
        f.gauge("pgfleet_server_connections", "Server connections to one server of a pool, by state", n,
                with(l, "state", state));
    }

    /** ProxyStats' buckets (µs bounds, one more for +Inf) in seconds; skipped when the shape is not that. */
    private static void histogram(Families f, String name, String help, long[] buckets, long sumMicros, String[] l) {
        if (buckets == null || buckets.length != DURATION_BOUNDS.length) {
            return;
        }
        f.histogram(name, help, DURATION_BOUNDS, buckets, sumMicros / MICROS, l);
    }

    private static void health(Families f, JsonArray rows) {
        for (Object o : rows) {
            JsonObject r = (JsonObject) o;
            String pool = r.getString("pool");
            String shard = String.valueOf(r.getInteger("shard"));
            String server = r.getString("server");
            String[] l = {"pool", pool, "shard", shard, "server", server, "role", r.getString("role")};
            f.gauge("pgfleet_server_up", "1 when the server answered its last health probe",
                    Boolean.TRUE.equals(r.getBoolean("up")) ? 1 : 0, l);
            f.gauge("pgfleet_server_banned", "1 while the server is banned", Boolean.TRUE.equals(r.getBoolean("banned"))
                    ? 1 : 0, l);
            f.gauge("pgfleet_server_serves_reads", "1 when reads may go to the server",
                    Boolean.TRUE.equals(r.getBoolean("serves_reads")) ? 1 : 0, l);
            Long lagBytes = r.getLong("lag_bytes");
            if (lagBytes != null) {
                f.gauge("pgfleet_replica_lag_bytes", "WAL bytes the server has not replayed (0: the primary)",
                        lagBytes, l);
            }
            Long lagMs = r.getLong("lag_ms");
            if (lagMs != null) {
                f.gauge("pgfleet_replica_lag_seconds", "How long the server has been missing WAL the primary had",
                        lagMs / 1000.0, l);
            }
            String last = r.getString("last_probe");
            if (last != null) {
                f.gauge("pgfleet_health_last_probe_timestamp_seconds", "When the last probe of the server ended",
                        Instant.parse(last).toEpochMilli() / 1000.0, l);
            }
            String[] cl = {"pool", pool, "shard", shard, "server", server};
            probes(f, cl, "ok", r.getLong("probes_ok"));
            probes(f, cl, "failed", r.getLong("probes_failed"));
            probes(f, cl, "inconclusive", r.getLong("probes_inconclusive"));
        }
    }

    private static void probes(Families f, String[] l, String result, Long n) {
        if (n != null) {
            f.counter("pgfleet_health_probes", "Health probe results (after retries; inconclusive: PgFleet was late)",
                    n, with(l, "result", result));
        }
    }

    private static String[] with(String[] labels, String name, String value) {
        String[] out = java.util.Arrays.copyOf(labels, labels.length + 2);
        out[labels.length] = name;
        out[labels.length + 1] = value;
        return out;
    }

    private static double[] durationBounds() {
        long[] micros = ProxyStats.DURATION_BUCKETS_MICROS;
        double[] bounds = new double[micros.length + 1];
        for (int i = 0; i < micros.length; i++) {
            bounds[i] = micros[i] / MICROS;
        }
        bounds[micros.length] = Double.POSITIVE_INFINITY;
        return bounds;
    }
}
