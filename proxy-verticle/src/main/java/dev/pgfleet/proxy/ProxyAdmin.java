package dev.pgfleet.proxy;

import dev.pgfleet.shared.admin.AdminReply;
import dev.pgfleet.shared.admin.AdminRequest;
import dev.pgfleet.shared.admin.ProxyStats;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.PoolMode;
import dev.pgfleet.shared.config.UserConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's side of the control plane: the consumer of {@link dev.pgfleet.shared.admin.AdminBus#PROXY}.
 * Every request is answered with an {@link AdminReply} (a failed command is a reply with a
 * SQLSTATE). STATS runs a task on every event loop that copies that loop's counters and reads
 * its connections ({@link LoopStats#snapshot}), then merges them here: exact numbers, nothing
 * shared written by the data plane.
 */
final class ProxyAdmin {

    private static final Logger log = LoggerFactory.getLogger(ProxyAdmin.class);

    private final Vertx vertx;
    private final ProxyRuntime runtime;

    ProxyAdmin(Vertx vertx, ProxyRuntime runtime) {
        this.vertx = vertx;
        this.runtime = runtime;
    }

    void handle(Message<JsonObject> message) {
        AdminRequest request;
        try {
            request = AdminRequest.fromJson(message.body());
        } catch (RuntimeException e) {
            message.reply(AdminReply.error("42601", "malformed admin request: " + e.getMessage()).toJson());
            return;
        }
        Future<AdminReply> reply;
        try {
            reply = execute(request);
        } catch (RuntimeException e) {
            log.warn("admin command {} failed", request.command(), e);
            reply = Future.succeededFuture(AdminReply.error("XX000", request.command() + " failed: " + e));
        }
        reply.onComplete(ar -> message.reply((ar.succeeded() ? ar.result()
            : AdminReply.error("XX000", request.command() + " failed: " + ar.cause())).toJson()));
    }

    /** PgBouncer's SQLSTATE for its own errors (admin_error): protocol_violation. */
    static final String POOLER_ERROR = "08P01";
    /** How often a waiting command (PAUSE, WAIT_CLOSE, SHUTDOWN WAIT_FOR_*) looks again; on no data-plane path. */
    static final long POLL_MILLIS = 10;

    Future<AdminReply> execute(AdminRequest request) {
        String db = request.arg(0);
        if (db != null && !"SHUTDOWN".equals(request.command()) && !"KILL_CLIENT".equals(request.command())
            && runtime.config().pool(db).isEmpty()) {
            return done(AdminReply.error("3D000", "no such database: " + db));
        }
        ProxyControl control = runtime.control();
        switch (request.command()) {
            case "STATS":
                return stats().map(s -> AdminReply.ok("STATS", s.toJson()));   // still on the worker
            case "PAUSE":
                return pause(db);
            case "RESUME":
                return resume(db);
            case "SUSPEND":
                if (control.pausedAll() || control.suspended()) {
                    return done(AdminReply.error(POOLER_ERROR, "already suspended/paused"));
                }
                if (control.anyDatabasePaused()) {
                    return done(AdminReply.error(POOLER_ERROR, "cannot suspend with paused databases"));
                }
                control.suspend(true);
                return onEachLoop(v -> {
                    v.stats().clients().forEach(c -> c.suspend(true));
                    v.stats().servers().forEach(c -> c.suspend(true));
                }).map(x -> AdminReply.ok("SUSPEND"));
            case "KILL":
                return onEachLoop(v -> {
                    for (ClientSession c : List.copyOf(v.stats().clients())) {
                        if (db == null || db.equals(c.database())) {
                            c.kill(false);
                        }
                    }
                    Set<ServerPool> pools = serverPools(db);
                    for (ServerConnection c : List.copyOf(v.stats().servers())) {
                        if (pools.contains(c.pool())) {
                            c.close();
                        }
                    }
                }).map(x -> AdminReply.ok("KILL"));
            case "KILL_CLIENT":
                return killClient(request.arg(0));
            case "RECONNECT": {
                Set<ServerPool> pools = serverPools(db);
                return onEachLoop(v -> {
                    for (ServerConnection c : List.copyOf(v.stats().servers())) {
                        if (pools.contains(c.pool())) {
                            c.reconnect();
                        }
                    }
                }).map(x -> AdminReply.ok("RECONNECT"));
            }
            case "WAIT_CLOSE": {
                Set<ServerPool> pools = serverPools(db);
                return until(() -> countServers(pools, c -> c.closeNeeded()).map(n -> n == 0))
                    .map(x -> AdminReply.ok("WAIT_CLOSE"));
            }
            case "DISABLE":
            case "ENABLE":
                if (db == null) {
                    return done(AdminReply.error("42601", request.command() + " needs a database name"));
                }
                control.disable(db, "DISABLE".equals(request.command()));
                return done(AdminReply.ok(request.command()));
            case "SHUTDOWN":
                return shutdown(request.arg(0));
            default:
                return done(AdminReply.error("42601", "unknown proxy command: " + request.command()));
        }
    }

    private static Future<AdminReply> done(AdminReply reply) {
        return Future.succeededFuture(reply);
    }

    /**
     * PgBouncer's PAUSE: no new transaction starts (clients wait), running ones end, and each server
     * connection of the paused pools closes once released (for a database restart); the reply comes
     * when none is left.
     */
    private Future<AdminReply> pause(String db) {
        ProxyControl control = runtime.control();
        if (db == null) {
            if (control.pausedAll() || control.suspended()) {
                return done(AdminReply.error(POOLER_ERROR, "already suspended/paused"));
            }
            control.pauseAll(true);
        } else {
            control.pause(db, true);
        }
        log.info("PAUSE{} command issued", db == null ? "" : " '" + db + "'");
        Set<ServerPool> pools = serverPools(db);
        return until(() -> closeIdleAndCount(pools).map(n -> n == 0)).map(x -> AdminReply.ok("PAUSE"));
    }

    private Future<AdminReply> resume(String db) {
        ProxyControl control = runtime.control();
        if (runtime.shuttingDown()) {
            return done(AdminReply.error(POOLER_ERROR, "pooler is shutting down"));
        }
        boolean wasSuspended = control.suspended();
        if (db == null) {
            if (!control.pausedAll() && !wasSuspended) {
                return done(AdminReply.error(POOLER_ERROR, "pooler is not paused/suspended"));
            }
            control.pauseAll(false);
            control.suspend(false);
        } else {
            if (!control.paused(db) || control.pausedAll()) {
                return done(AdminReply.error(POOLER_ERROR, "database " + db + " is not paused"));
            }
            control.pause(db, false);
        }
        log.info("RESUME{} command issued", db == null ? "" : " '" + db + "'");
        Future<Void> unsuspended = !wasSuspended || control.suspended() ? Future.succeededFuture() : onEachLoop(v -> {
            v.stats().clients().forEach(c -> c.suspend(false));
            v.stats().servers().forEach(c -> c.suspend(false));
        });
        return unsuspended.map(x -> {
            control.releaseHeld();
            return AdminReply.ok("RESUME");
        });
    }

    private Future<AdminReply> killClient(String arg) {
        long id;
        try {
            id = Long.parseLong(arg == null ? "" : arg.trim());
        } catch (NumberFormatException e) {
            return done(AdminReply.error("42601", "KILL_CLIENT needs a client id (SHOW CLIENTS), got: " + arg));
        }
        return onEachLoop(v -> {
            for (ClientSession c : List.copyOf(v.stats().clients())) {
                if (c.id == id) {
                    c.kill(true);
                    return 1;
                }
            }
            return 0;
        }).map(found -> found.stream().mapToInt(Integer::intValue).sum() > 0 ? AdminReply.ok("KILL_CLIENT")
            : AdminReply.error(POOLER_ERROR, "client not found: " + id));
    }

    /**
     * SHUTDOWN: at once, every client getting 57P01; WAIT_FOR_SERVERS: no new clients, waiting clients
     * get 57P01 now, then PAUSE, then the rest; WAIT_FOR_CLIENTS: no new clients, then when the last
     * one has left. Replied at once; then {@link ProxyRuntime#onShutdownRequest}'s hook runs.
     */
    private Future<AdminReply> shutdown(String mode) {
        String m = mode == null ? "" : mode.toUpperCase(java.util.Locale.ROOT);
        Future<Void> ready;
        switch (m) {
            case "" -> ready = Future.succeededFuture();
            case "WAIT_FOR_SERVERS" -> {
                runtime.stopAccepting(java.time.Duration.ofDays(1));
                runtime.control().pauseAll(true);
                Set<ServerPool> pools = serverPools(null);
                ready = onEachLoop(v -> {
                    for (ClientSession c : List.copyOf(v.stats().clients())) {
                        if (c.waitingForServer()) {
                            c.kill(false);
                        }
                    }
                }).compose(x -> until(() -> closeIdleAndCount(pools).map(n -> n == 0)));
            }
            case "WAIT_FOR_CLIENTS" -> {
                runtime.stopAccepting(java.time.Duration.ofDays(1));
                ready = until(() -> Future.succeededFuture(runtime.clientCount() == 0));
            }
            default -> {
                return done(AdminReply.error("42601", "SHUTDOWN takes WAIT_FOR_SERVERS or WAIT_FOR_CLIENTS, not " + mode));
            }
        }
        log.info("SHUTDOWN{} command issued", m.isEmpty() ? "" : " " + m);
        ready.compose(x -> runtime.shutdown(vertx, java.time.Duration.ZERO)).onComplete(ar -> {
            Runnable hook = runtime.shutdownHook();
            if (hook != null) {
                hook.run();
            }
        });
        return done(AdminReply.ok("SHUTDOWN"));
    }

    /** The server pools of {@code db}'s (database, user) pools, or of all when null. */
    private Set<ServerPool> serverPools(String db) {
        Set<ServerPool> out = new java.util.HashSet<>();
        for (Pool p : pools()) {
            if (db == null || db.equals(p.database)) {
                out.addAll(p.routing.view.servers);
            }
        }
        return out;
    }

    /** Closes the idle connections of {@code pools} (PAUSE); zero once none is left open or being opened. */
    private Future<Integer> closeIdleAndCount(Set<ServerPool> pools) {
        return onEachLoop(v -> {
            int open = 0;
            for (ServerConnection c : List.copyOf(v.stats().servers())) {
                if (pools.contains(c.pool()) && !c.closed()) {
                    if (c.idleInPool()) {
                        c.close();
                    } else {
                        open++;
                    }
                }
            }
            return open;
        }).map(counts -> counts.stream().mapToInt(Integer::intValue).sum()
            // Slots being opened (a TCP connect under way has no connection object yet) count too.
            + pools.stream().mapToInt(ServerPool::size).sum());
    }

    private Future<Integer> countServers(Set<ServerPool> pools, Predicate<ServerConnection> which) {
        return onEachLoop(v -> {
            int n = 0;
            for (ServerConnection c : v.stats().servers()) {
                if (pools.contains(c.pool()) && !c.closed() && which.test(c)) {
                    n++;
                }
            }
            return n;
        }).map(counts -> counts.stream().mapToInt(Integer::intValue).sum());
    }

    /** Completes once {@code check} says true, asking every {@link #POLL_MILLIS} (timers: no loop blocks). */
    private Future<Void> until(Supplier<Future<Boolean>> check) {
        Promise<Void> done = Promise.promise();
        poll(check, done);
        return done.future();
    }

    private void poll(Supplier<Future<Boolean>> check, Promise<Void> done) {
        check.get().onComplete(ar -> {
            if (ar.failed()) {
                done.fail(ar.cause());
            } else if (ar.result()) {
                done.complete();
            } else {
                vertx.setTimer(POLL_MILLIS, t -> poll(check, done));
            }
        });
    }

    private Future<Void> onEachLoop(Consumer<ProxyVerticle> action) {
        return onEachLoop(v -> {
            action.accept(v);
            return 0;
        }).mapEmpty();
    }

    /** Runs {@code action} on every proxy loop (where its sessions and connections live), results joined. */
    private <T> Future<List<T>> onEachLoop(Function<ProxyVerticle, T> action) {
        List<Future<T>> parts = new ArrayList<>();
        for (ProxyVerticle v : runtime.verticles()) {
            Promise<T> part = Promise.promise();
            v.loopContext().runOnContext(x -> {
                try {
                    part.complete(action.apply(v));
                } catch (RuntimeException e) {
                    part.fail(e);
                }
            });
            parts.add(part.future());
        }
        return Future.all(parts).map(cf -> cf.list());
    }

    /** One snapshot of every loop, merged. */
    Future<ProxyStats> stats() {
        Map<ServerPool, String[]> names = new HashMap<>();
        List<Pool> pools = pools();
        for (Pool p : pools) {
            for (ServerPool sp : p.routing.view.servers) {
                names.put(sp, new String[] {p.database, p.user.username()});
            }
        }
        List<Future<LoopStats.Snapshot>> parts = new ArrayList<>();
        for (ProxyVerticle v : runtime.verticles()) {
            Promise<LoopStats.Snapshot> part = Promise.promise();
            v.loopContext().runOnContext(x -> {
                try {
                    part.complete(v.stats().snapshot(names, true));
                } catch (RuntimeException e) {
                    part.fail(e);
                }
            });
            parts.add(part.future());
        }
        // Merged (and turned into JSON by the caller) on a worker thread: a large instance has
        // thousands of rows, and every event loop of the process carries clients.
        return Future.all(parts).compose(cf -> vertx.executeBlocking(() -> merge(pools, cf.list()), false));
    }

    /** A configured (database, user) pool and its routing, in configuration order. */
    private record Pool(String database, PoolConfig config, UserConfig user, PoolRouting routing) {
    }

    private List<Pool> pools() {
        List<Pool> out = new ArrayList<>();
        for (PoolConfig p : runtime.config().pools().values()) {
            for (UserConfig u : p.users()) {
                PoolRouting r = runtime.existingRouting(p.name(), u.username());
                if (r != null) {
                    out.add(new Pool(p.name(), p, u, r));
                }
            }
        }
        return out;
    }

    private ProxyStats merge(List<Pool> pools, List<LoopStats.Snapshot> loops) {
        List<ProxyStats.PoolStats> poolRows = new ArrayList<>();
        List<ProxyStats.ConnectionStats> clients = new ArrayList<>();
        List<ProxyStats.ConnectionStats> servers = new ArrayList<>();
        List<ProxyStats.StatementStats> statements = new ArrayList<>();
        for (LoopStats.Snapshot s : loops) {
            clients.addAll(s.clients());
            servers.addAll(s.servers());
        }
        for (Pool p : pools) {
            PoolCounters c = new PoolCounters();
            int clActive = 0;
            int clWaiting = 0;
            int clIdle = 0;
            long maxWait = 0;
            for (LoopStats.Snapshot s : loops) {
                PoolCounters lc = s.counters().get(p.routing);
                if (lc != null) {
                    c.add(lc);
                }
                LoopStats.ClientGauges g = s.clientGauges().get(p.routing);
                if (g != null) {
                    clActive += g.active;
                    clWaiting += g.waiting;
                    clIdle += g.idle;
                    maxWait = Math.max(maxWait, g.maxWaitMicros);
                }
            }
            List<ProxyStats.ServerPoolStats> serverRows = new ArrayList<>();
            int[] sv = new int[5];
            long connects = 0;
            long connectErrors = 0;
            Map<String, Integer> prepared = new HashMap<>();
            ServerPool primary = p.routing.view.primary;
            for (ServerPool sp : p.routing.view.servers) {
                int[] g = new int[5];
                long spConnects = 0;
                long spErrors = 0;
                for (LoopStats.Snapshot s : loops) {
                    LoopStats.ServerGauges lg = s.serverGauges().get(sp);
                    if (lg != null) {
                        g[0] += lg.active;
                        g[1] += lg.idle;
                        g[2] += lg.used;
                        g[3] += lg.tested;
                        g[4] += lg.login;
                        spConnects += lg.connects;
                        spErrors += lg.connectErrors;
                        lg.prepared.forEach((name, n) -> prepared.merge(name, n, Integer::sum));
                    }
                }
                for (int i = 0; i < 5; i++) {
                    sv[i] += g[i];
                }
                connects += spConnects;
                connectErrors += spErrors;
                serverRows.add(new ProxyStats.ServerPoolStats(sp.server().host() + ":" + sp.server().port(), 0,
                    sp == primary ? "primary" : "replica", g[0], g[1], g[2], g[3], g[4], spConnects, spErrors));
            }
            PoolMode mode = p.user.poolMode() != null ? p.user.poolMode() : p.config.poolMode();
            ProxyControl control = runtime.control();
            poolRows.add(new ProxyStats.PoolStats(p.database, p.user.username(), mode.configName(),
                control.paused(p.database), control.disabled(p.database),
                primary.maxSize(), p.user.minPoolSize(), clActive, clWaiting, clIdle, 0, 0, sv[0], 0, 0, sv[1], sv[2], sv[3],
                sv[4], maxWait, c.serverAssignments, c.xacts, c.queries, c.bytesReceived, c.bytesSent, c.xactMicros,
                c.queryMicros, c.waitMicros, c.clientParses, c.serverParses, c.binds, connects, connectErrors, c.preparedHits,
                c.preparedMisses, c.preparedEvictions, c.errorsByClassMap(), c.xactBuckets, c.queryBuckets, serverRows));
            for (PreparedStatements.Statement st : p.routing.statements.all()) {
                statements.add(new ProxyStats.StatementStats(p.database, p.user.username(), st.serverName(), st.query(),
                    parameterTypes(st.parameterTypes()), prepared.getOrDefault(st.serverName(), 0)));
            }
        }
        boolean draining = runtime.shuttingDown();
        return new ProxyStats(runtime.instanceId(), runtime.startedAtMillis(), System.currentTimeMillis(),
            runtime.accepting(),
            draining, runtime.control().suspended(), runtime.clientCount(), runtime.config().general().maxClientConn(), poolRows, clients, servers,
            statements);
    }

    /** Parse's parameter type OIDs, as kept: an int16 count, then an int32 per parameter. */
    private static List<Integer> parameterTypes(byte[] raw) {
        List<Integer> out = new ArrayList<>(raw.length / 4);
        for (int i = 2; i + 3 < raw.length; i += 4) {
            out.add(((raw[i] & 0xFF) << 24) | ((raw[i + 1] & 0xFF) << 16) | ((raw[i + 2] & 0xFF) << 8) | (raw[i + 3] & 0xFF));
        }
        return out;
    }
}
