package dev.pgfleet.proxy;

import dev.pgfleet.shared.auth.ScramServer;
import dev.pgfleet.shared.auth.ScramVerifier;
import dev.pgfleet.shared.auth.Md5Auth;
import dev.pgfleet.shared.config.ConfigEpoch;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.UserConfig;
import dev.pgfleet.shared.health.BanRegistry;
import dev.pgfleet.shared.health.HealthSnapshot;
import dev.pgfleet.shared.routing.PoolRoute;
import dev.pgfleet.shared.routing.RouterBus;
import dev.pgfleet.shared.routing.RoutingTable;
import dev.pgfleet.shared.routing.RoutingTableCodec;
import dev.pgfleet.shared.routing.ServerRoute;
import dev.pgfleet.shared.routing.ShardRoute;
import dev.pgfleet.shared.routing.UserRoute;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the {@link ProxyVerticle} instances of one process share: the config, the server
 * pools, the cancel keys, the client count, the ban registry and the newest routing table.
 * Touched on connect, checkout and checkin, never per message.
 *
 * <p>Routing comes from the router verticle over the local event bus ({@link RouterBus}): each
 * table (a configuration epoch, a health change) is applied once here, on the consumer's thread:
 * every {@link PoolRouting} swaps its view, server pools are made, resized or retired, and the
 * configuration logins read becomes the table's. Without a router verticle the proxy routes by
 * the configuration it was made with (a table built once, no reload, no health); bans placed by
 * the proxy itself on failed connects still apply.
 */
public final class ProxyRuntime {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ProxyRuntime.class);

    /** The newest table's (logins, [general]); the first one until the first table. */
    private volatile PgFleetConfig config;
    private final BanRegistry bans;
    private volatile RoutingTable table;
    private MessageConsumer<RoutingTable> tableConsumer;
    private final CancelRegistry cancels = new CancelRegistry();
    private final UniqueIds uniqueIds;
    private final Map<String, ServerPool> pools = new ConcurrentHashMap<>();
    /** The (database, user) routings of the newest table. */
    private final Map<String, PoolRouting> routings = new ConcurrentHashMap<>();
    /** Removed by a reload, still used by sessions logged in before. Guarded by this. */
    private final Map<String, PoolRouting> retiring = new java.util.HashMap<>();
    /** One classifier (and its bounded cache) for every event loop. */
    private final dev.pgfleet.router.QueryClassifier classifier = dev.pgfleet.router.QueryClassifier.create();
    private final Map<String, ScramVerifier> verifiers = new ConcurrentHashMap<>();
    private final Set<ClientSession> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicInteger clients = new AtomicInteger();
    private final List<ProxyVerticle> verticles = new CopyOnWriteArrayList<>();
    private volatile boolean shuttingDown;
    private volatile long queryWaitTimeoutMillis;
    private final Map<Map<String, String>, Map<String, String>> settingsInterned = new ConcurrentHashMap<>();
    private static final int MAX_INTERNED_SETTINGS = 10_000;
    /** Names this instance in STATS and, later, in the fleet: random, fixed for the process's life. */
    private final String instanceId = String.format("%08x", new java.security.SecureRandom().nextInt());
    private final long startedAtMillis = System.currentTimeMillis();
    private MessageConsumer<io.vertx.core.json.JsonObject> adminConsumer;
    private final ProxyControl control = new ProxyControl();
    /** What dist does when an admin SHUTDOWN has done the proxy's part (stops the process); may be null. */
    private volatile Runnable shutdownHook;
    private List<Future<Void>> unbound;
    private volatile boolean accepting = true;
    /** Two-phase commit's log and recovery; null when no pool had two_phase_commit at start. */
    private volatile TwoPhaseRecovery twoPhase;

    /** The admin console that authenticated console clients are handed to; null until dist registers one. */
    private volatile dev.pgfleet.shared.admin.AdminConsole console;

    /** PgBouncer's max_prepared_statements default is 200, PgCat's example 500: on by default. */
    static final int DEFAULT_PREPARED_STATEMENTS_CACHE_SIZE = 500;

    /**
     * @param bans the process's ban registry, the one the health verticle uses too: a server the
     *             proxy fails to reach is banned there, and the health verticle's bans route here
     */
    public ProxyRuntime(PgFleetConfig config, BanRegistry bans) {
        this.config = config;
        this.bans = Objects.requireNonNull(bans, "bans");
        this.queryWaitTimeoutMillis = config.general().queryWaitTimeout().toMillis();
        this.uniqueIds = new UniqueIds(UniqueIds.instanceOf(config.general()));
        // SCRAM verifiers of configured plaintext passwords: PBKDF2 once here, not per login.
        ensureVerifiers(config);
    }

    /** Whether some password of {@code c} has no verifier yet (PBKDF2 to run before its table applies). */
    private boolean needsVerifiers(PgFleetConfig c) {
        String admin = c.general().adminPassword();
        if (admin != null && !Md5Auth.isMd5Hash(admin) && !verifiers.containsKey(adminKey(c.general()))) {
            return true;
        }
        for (PoolConfig pool : c.pools().values()) {
            for (UserConfig user : pool.users()) {
                String secret = user.password();
                if (secret != null && !Md5Auth.isMd5Hash(secret) && !verifiers.containsKey(user.username() + '\0' + secret)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Computes the verifiers {@code c} needs (PBKDF2, ~4096 iterations each: not on an event loop). */
    private void ensureVerifiers(PgFleetConfig c) {
        // The console's login too: a reload that changes admin_password applies to the next admin login.
        verifiers.computeIfAbsent(adminKey(c.general()),
            k -> adminVerifierOf(c.general().adminUsername(), c.general().adminPassword()));
        for (PoolConfig pool : c.pools().values()) {
            for (UserConfig user : pool.users()) {
                verifiers.computeIfAbsent(user.username() + '\0' + user.password(), k -> verifierOf(user));
            }
        }
    }

    /** The admin login's key in {@link #verifiers}, apart from every pool user's (no name starts with NUL). */
    private static String adminKey(dev.pgfleet.shared.config.General g) {
        return "\0admin\0" + g.adminUsername() + '\0' + g.adminPassword();
    }

    private static ScramVerifier adminVerifierOf(String username, String secret) {
        if (secret == null || Md5Auth.isMd5Hash(secret)) {
            return null;
        }
        return ScramVerifier.isVerifier(secret) ? ScramVerifier.parse(secret) : ScramServer.verifierForPlaintext(username, secret);
    }

    private static ScramVerifier verifierOf(UserConfig user) {
        String secret = user.password();
        if (secret == null || Md5Auth.isMd5Hash(secret)) {
            return null;
        }
        return ScramVerifier.isVerifier(secret) ? ScramVerifier.parse(secret) : ScramServer.verifierForPlaintext(user.username(), secret);
    }

    /**
     * Subscribes to routing tables, takes the newest one if a router verticle runs (deploy health,
     * then the router, first), then deploys one {@link ProxyVerticle} per event loop sharing the
     * listening port.
     */
    public Future<String> deploy(Vertx vertx, int instances) {
        RoutingTableCodec.register(vertx.eventBus());
        // Local: a fleet's other instances publish their own tables, and route by their own.
        tableConsumer = vertx.eventBus().localConsumer(RouterBus.TABLE, m -> received(vertx, m.body()));
        return tableConsumer.completion()
            .compose(v -> vertx.eventBus().<RoutingTable>request(RouterBus.CURRENT, null).map(Message::body))
            .otherwise(err -> null)
            .compose(current -> {
                if (current == null) {
                    log.warn("no router verticle answered on {}: routing by the configuration alone (no reload, no health)",
                        RouterBus.CURRENT);
                    current = dev.pgfleet.router.RoutingTables.build(1, new ConfigEpoch(1, config, Instant.now()),
                        HealthSnapshot.EMPTY, null, Instant.now());
                }
                RoutingTable first = current;
                return vertx.executeBlocking(() -> {
                    ensureVerifiers(first.config());
                    return first;
                });
            })
            .compose(first -> {
                table(first);
                return vertx.deployVerticle(() -> new ProxyVerticle(this), new DeploymentOptions().setInstances(instances));
            })
            .compose(id -> startTwoPhase(vertx).map(id))
            .compose(id -> {
                // Local: in a fleet each member answers for itself (the fleet issue fans requests out).
                ProxyAdmin admin = new ProxyAdmin(vertx, this);
                adminConsumer = vertx.eventBus().localConsumer(dev.pgfleet.shared.admin.AdminBus.PROXY, admin::handle);
                return adminConsumer.completion().map(id);
            });
    }

    /**
     * When a pool has two_phase_commit: opens (and compacts) the decision log, then runs the first
     * recovery pass before deploy completes (prepared transactions a crash left are resolved then;
     * a shard down is retried every 10 s). The listeners are up by then: a client's two-phase
     * commit that starts meanwhile is live, and recovery leaves it alone. A log that cannot be
     * opened fails the start: two-phase commit without its log could not keep its promise. A reload that turns two_phase_commit on
     * for a pool applies after a restart when no pool had it at start.
     */
    private Future<Void> startTwoPhase(Vertx vertx) {
        PgFleetConfig c = config;
        if (c.pools().values().stream().noneMatch(PoolConfig::twoPhaseCommit)) {
            return Future.succeededFuture();
        }
        java.nio.file.Path file = java.nio.file.Path.of(c.general().twoPhaseLog());
        return vertx.executeBlocking(() -> new TwoPhaseRecovery(vertx, this, TwoPhaseLog.open(file),
                TwoPhaseRecovery.instanceOf(c.general()), startedAtMillis))
            .compose(tp -> {
                twoPhase = tp;
                log.info("two-phase commit: decisions in {}, instance {}", tp.decisions().file(), tp.instance());
                return tp.start();
            });
    }

    TwoPhaseRecovery twoPhase() {
        return twoPhase;
    }

    String instanceId() {
        return instanceId;
    }

    ProxyControl control() {
        return control;
    }

    /** Listening for clients (false once a shutdown has begun). */
    boolean accepting() {
        return accepting && !verticles.isEmpty();
    }

    /**
     * Called once an admin SHUTDOWN (on {@link dev.pgfleet.shared.admin.AdminBus#PROXY}) has done
     * the proxy's part: clients gone (57P01 for those left, or all left by themselves with
     * WAIT_FOR_CLIENTS), the pools closed. dist's node sets it to stop the rest and exit. Without
     * one the proxy shuts down and the process stays.
     */
    public void onShutdownRequest(Runnable hook) {
        this.shutdownHook = hook;
    }

    Runnable shutdownHook() {
        return shutdownHook;
    }

    /** Whether PAUSE or SUSPEND holds the database of {@code pool} (min_pool_size waits then). */
    boolean holds(ServerPool pool) {
        if (control.flags() == 0) {
            return false;
        }
        for (Map.Entry<String, PoolRouting> e : routings.entrySet()) {
            if (e.getValue().view != null && e.getValue().view.servers.contains(pool)) {
                return control.holds(e.getKey().substring(0, e.getKey().indexOf('\0')));
            }
        }
        return false;
    }

    /**
     * Stops accepting clients (once); those here go on. {@code grace}: how long Vert.x leaves
     * their connections to us before it closes them.
     */
    synchronized List<Future<Void>> stopAccepting(Duration grace) {
        if (unbound == null) {
            accepting = false;
            unbound = new ArrayList<>();
            for (ProxyVerticle v : verticles) {
                Promise<Void> stopped = Promise.promise();
                v.loopContext().runOnContext(x -> v.stopListening(grace).onComplete(stopped));
                unbound.add(stopped.future());
            }
        }
        return unbound;
    }

    long startedAtMillis() {
        return startedAtMillis;
    }

    /** The proxy verticles, one per event loop. */
    List<ProxyVerticle> verticles() {
        return verticles;
    }

    /** The routing of (database, user) if it exists, without creating it. */
    PoolRouting existingRouting(String database, String user) {
        return routings.get(database + '\0' + user);
    }

    /**
     * A table from the router. New passwords get their SCRAM verifiers off the event loop first
     * (PBKDF2); the ordered blocking tasks keep tables in order, and {@link #table} drops one older
     * than what it applied.
     */
    private void received(Vertx vertx, RoutingTable t) {
        if (t.config() == null) {
            return;   // from the wire (not possible with a local consumer): no logins in it
        }
        if (!needsVerifiers(t.config())) {
            table(t);
            return;
        }
        vertx.executeBlocking(() -> {
            ensureVerifiers(t.config());
            return t;
        }, true).onSuccess(this::table).onFailure(err -> log.error("routing table {} not applied", t.version(), err));
    }

    /**
     * Applies a table: every (database, user) of it gets its routing (made, or updated in place:
     * its server pools resized, a changed password for new logins), servers no longer listed are
     * retired (their connections close as their transactions end), pools and users no longer
     * listed stop taking logins and close when their clients have left; then logins see the
     * table's configuration. Older tables than the one applied change nothing. Any thread.
     */
    synchronized void table(RoutingTable t) {
        RoutingTable before = table;
        if (t.config() == null || (before != null && t.version() <= before.version())) {
            return;
        }
        PgFleetConfig c = t.config();
        ensureVerifiers(c);   // at once when received() did it already
        Set<String> listed = new HashSet<>();
        for (PoolRoute p : t.pools().values()) {
            PoolConfig pc = c.pools().get(p.name());
            PoolSharding sharding = pc.shards().size() > 1 ? new PoolSharding(pc) : null;
            for (UserRoute u : p.users()) {
                UserConfig uc = pc.user(u.username()).orElseThrow();
                for (ShardRoute shard : p.shards()) {
                    String key = routingKey(p.name(), u.username(), shard.index());
                    listed.add(key);
                    PoolRouting r = routings.get(key);
                    if (r == null) {
                        PoolRouting old = retiring.remove(key);
                        r = old != null && old.revive() ? old : new PoolRouting(p.name(), shard.index(), bans);
                    }
                    PoolRouting.View was = r.view;
                    List<ServerPool> servers = new ArrayList<>();
                    for (ServerRoute s : shard.servers()) {
                        servers.add(serverPool(p, u, uc, shard, s, c));
                    }
                    for (ServerPool gone : r.update(p, servers, c.general().banTime())) {
                        gone.retire(was != null && gone == was.primary);
                        pools.remove(serverPoolKey(p, u, shard, gone.server()), gone);
                    }
                    r.sharding = sharding;
                    routings.put(key, r);   // with its view: a login that finds it can route at once
                }
            }
        }
        for (java.util.Iterator<Map.Entry<String, PoolRouting>> it = routings.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, PoolRouting> e = it.next();
            if (!listed.contains(e.getKey())) {
                it.remove();
                retiring.put(e.getKey(), e.getValue());
                log.info("{}: removed by configuration epoch {}: no new logins, closes when its clients leave",
                    e.getKey().replace('\0', '/'), t.configEpoch());
                e.getValue().retire();
            }
        }
        retiring.values().removeIf(PoolRouting::closed);
        pools.values().removeIf(ServerPool::isClosed);
        verifiers.keySet().retainAll(verifierKeys(c));
        config = c;
        long waitBefore = queryWaitTimeoutMillis;
        queryWaitTimeoutMillis = c.general().queryWaitTimeout().toMillis();
        table = t;
        if (before != null && waitBefore != queryWaitTimeoutMillis) {
            for (ProxyVerticle v : verticles) {
                v.loopContext().runOnContext(x -> v.queryWaitTimeoutChanged());
            }
        }
    }

    private static Set<String> verifierKeys(PgFleetConfig c) {
        Set<String> keys = new HashSet<>();
        keys.add(adminKey(c.general()));
        for (PoolConfig pool : c.pools().values()) {
            for (UserConfig user : pool.users()) {
                keys.add(user.username() + '\0' + user.password());
            }
        }
        return keys;
    }

    /** The newest table applied; null before {@link #deploy}. */
    public RoutingTable table() {
        return table;
    }

    public PgFleetConfig config() {
        return config;
    }

    /** Clients connected now. */
    public int clientCount() {
        return clients.get();
    }

    /** Prepared statements kept per server connection (LRU); 0 in the config means the default. */
    int preparedStatementsCacheSize() {
        int n = config.general().preparedStatementsCacheSize();
        return n > 0 ? n : DEFAULT_PREPARED_STATEMENTS_CACHE_SIZE;
    }

    /** How long a client waits for a server connection before an error; 0: no limit. */
    long queryWaitTimeoutMillis() {
        return queryWaitTimeoutMillis;
    }

    /**
     * One shared, immutable instance per distinct set of session settings, so that checking
     * whether a server connection has a client's settings is a reference compare. Bounded:
     * past the limit a map is returned unshared (still correct, compared with equals).
     */
    Map<String, String> intern(Map<String, String> settings) {
        Map<String, String> shared = settingsInterned.get(settings);
        if (shared != null) {
            return shared;
        }
        Map<String, String> frozen = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(settings));
        if (settingsInterned.size() >= MAX_INTERNED_SETTINGS) {
            return frozen;
        }
        shared = settingsInterned.putIfAbsent(frozen, frozen);
        return shared != null ? shared : frozen;
    }

    /** Registers the admin console (dist's ProxyNode does, before clients arrive). */
    public void console(dev.pgfleet.shared.admin.AdminConsole console) {
        this.console = console;
    }

    dev.pgfleet.shared.admin.AdminConsole console() {
        return console;
    }

    /** The SCRAM verifier of the configuration in force's admin_password (null for an md5 hash). */
    ScramVerifier adminVerifier() {
        return verifiers.get(adminKey(config().general()));
    }

    /** {@code pgfleet.unique_id()}'s generator. */
    UniqueIds uniqueIds() {
        return uniqueIds;
    }

    CancelRegistry cancels() {
        return cancels;
    }

    boolean shuttingDown() {
        return shuttingDown;
    }

    /** Counts a new client; false when max_client_conn is reached. */
    boolean admitClient() {
        int max = config.general().maxClientConn();
        if (clients.incrementAndGet() > max && max > 0) {
            clients.decrementAndGet();
            return false;
        }
        return true;
    }

    void clientGone() {
        clients.decrementAndGet();
    }

    void sessionStarted(ClientSession s) {
        sessions.add(s);
    }

    void sessionEnded(ClientSession s) {
        sessions.remove(s);
    }

    void register(ProxyVerticle v) {
        verticles.add(v);
    }

    void unregister(ProxyVerticle v) {
        verticles.remove(v);
    }

    /** A user of a pool, looked up by the startup packet's database and user. */
    Optional<UserConfig> user(String database, String username) {
        return config.pool(database).flatMap(p -> p.user(username));
    }

    /**
     * A configured user of this name in any pool, to authenticate a client that asked for a
     * database that does not exist (so it gets 3D000 after authentication, as PostgreSQL does).
     */
    Optional<UserConfig> anyUser(String username) {
        return config.pools().values().stream().flatMap(p -> p.user(username).stream()).findFirst();
    }

    ScramVerifier verifier(UserConfig user) {
        return verifiers.get(user.username() + '\0' + user.password());
    }

    /**
     * The routing of (database, user) in the newest table, or null when the table has none (a
     * pool or user a reload removed since the client's login began: it gets 3D000).
     */
    PoolRouting routing(String database, String username) {
        return routings.get(database + '\0' + username);
    }

    /** The routing of one shard of (database, user) in the newest table, or null (no such pool, user or shard). */
    PoolRouting routing(String database, String username, int shard) {
        return routings.get(routingKey(database, username, shard));
    }

    /** A server pool per (pool, user, shard, server): two shards may be two databases of one server. */
    private static String serverPoolKey(PoolRoute pool, UserRoute user, ShardRoute shard, Object server) {
        return pool.name() + '\0' + user.username() + '\0' + shard.index() + '\0' + server;
    }

    /** Shard 0 keeps the (database, user) key; shard i > 0 appends its index. */
    private static String routingKey(String database, String username, int shard) {
        String key = database + '\0' + username;
        return shard == 0 ? key : key + '\0' + shard;
    }

    /**
     * The server pool of one server for (pool, user): the one already made, given the table's
     * settings, or a new one when there is none or the login changed (another server role or
     * database: its connections are another session's; the old pool is retired by the caller).
     */
    private ServerPool serverPool(PoolRoute pool, UserRoute user, UserConfig uc, ShardRoute shard, ServerRoute server,
                                                                PgFleetConfig c) {
        String key = serverPoolKey(pool, user, shard, server.server());
        ServerTarget target = new ServerTarget(server.server().host(), server.server().port(), shard.database(),
            uc.serverUsername(), uc.serverPassword(), c.general().serverTlsMode());
        ServerPool existing = pools.get(key);
        if (existing != null && !existing.isClosed() && sameLogin(existing.target(), target)) {
            existing.configure(user.settings(), target);
            return existing;
        }
        var s = user.settings();
        ServerPool made = new ServerPool(pool.name() + "/" + user.username() + "@" + server.server(), target,
            s.poolSize(), s.minPoolSize(), s.idleTimeout(), s.serverLifetime(), s.healthcheckDelay(), s.healthcheckTimeout());
        pools.put(key, made);
        return made;
    }

    /** The same server, database, role and TLS mode: a changed password alone keeps the connections. */
    private static boolean sameLogin(ServerTarget a, ServerTarget b) {
        return a.host().equals(b.host()) && a.port() == b.port() && a.database().equals(b.database())
            && a.user().equals(b.user()) && a.tlsMode() == b.tlsMode();
    }

    dev.pgfleet.router.QueryClassifier classifier() {
        return classifier;
    }

    /** Pools by name, for tests and the admin console. */
    Map<String, ServerPool> pools() {
        return pools;
    }

    /**
     * Graceful shutdown: stop accepting, let running transactions finish up to
     * {@code timeout}, then send 57P01 to every client left and close.
     */
    public Future<Void> shutdown(Vertx vertx, Duration timeout) {
        shuttingDown = true;
        control.draining();
        if (tableConsumer != null) {
            tableConsumer.unregister();
        }
        // Each NetServer's shutdown is awaited before this completes: a verticle undeployed (its
        // server closed) while that shutdown is still in its grace period can leave Vert.x 5.0's
        // close sequence failing on a sub-millisecond timer ("Cannot schedule a timer with delay
        // < 1 ms") and never completing, which hung vertx.close() in a test.
        List<Future<Void>> unbound = stopAccepting(timeout.plusSeconds(1));
        Promise<Void> done = Promise.promise();
        long deadline = System.nanoTime() + timeout.toNanos();
        drain(vertx, deadline, done);
        return done.future().eventually(() -> {
            // STATS answers through the drain (draining = true): /ready says why it is 503, /metrics goes on.
            if (adminConsumer != null) {
                adminConsumer.unregister();
            }
            pools.values().forEach(p -> p.close());
            TwoPhaseRecovery tp = twoPhase;
            if (tp != null) {
                vertx.executeBlocking(() -> {
                    tp.stop();
                    return null;
                });
            }
            return Future.join(unbound).transform(ar -> Future.<Void>succeededFuture());
        });
    }

    private void drain(Vertx vertx, long deadline, Promise<Void> done) {
        boolean late = System.nanoTime() >= deadline;
        for (ClientSession s : sessions) {
            s.context().runOnContext(v -> s.terminateIfIdle(late));
        }
        if (sessions.isEmpty()) {
            done.tryComplete();
            return;
        }
        if (late) {
            // Every session was told to go; give the closes a moment to run.
            vertx.setTimer(200, t -> done.tryComplete());
            return;
        }
        vertx.setTimer(50, t -> drain(vertx, deadline, done));
    }
}
