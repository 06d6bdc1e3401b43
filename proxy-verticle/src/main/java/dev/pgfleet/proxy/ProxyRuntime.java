package dev.pgfleet.proxy;

import dev.pgfleet.shared.auth.ScramServer;
import dev.pgfleet.shared.auth.ScramVerifier;
import dev.pgfleet.shared.auth.Md5Auth;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.ServerConfig;
import dev.pgfleet.shared.config.ServerRole;
import dev.pgfleet.shared.config.ShardConfig;
import dev.pgfleet.shared.config.UserConfig;
import dev.pgfleet.shared.health.BanRegistry;
import dev.pgfleet.shared.health.HealthBus;
import dev.pgfleet.shared.health.HealthSnapshot;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.time.Duration;
import java.util.ArrayList;
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
 * pools, the cancel keys, the client count, the ban registry and the newest health snapshot.
 * Touched on connect, checkout and checkin, never per message.
 *
 * <p>Health comes from the health verticle over the local event bus ({@link HealthBus}): each
 * snapshot is handed to every {@link PoolRouting}, which keeps what routing needs in a volatile
 * field. Without a health verticle nothing arrives and routing goes by the configuration, bans
 * (placed by the proxy itself on failed connects) still apply.
 */
public final class ProxyRuntime {

  private final PgFleetConfig config;
  private final BanRegistry bans;
  private volatile HealthSnapshot health = HealthSnapshot.EMPTY;
  private MessageConsumer<HealthSnapshot> healthConsumer;
  private final CancelRegistry cancels = new CancelRegistry();
  private final Map<String, ServerPool> pools = new ConcurrentHashMap<>();
  private final Map<String, PoolRouting> routings = new ConcurrentHashMap<>();
  /** One classifier (and its bounded cache) for every event loop. */
  private final dev.pgfleet.router.QueryClassifier classifier = dev.pgfleet.router.QueryClassifier.create();
  private final Map<String, ScramVerifier> verifiers = new ConcurrentHashMap<>();
  private final Set<ClientSession> sessions = ConcurrentHashMap.newKeySet();
  private final AtomicInteger clients = new AtomicInteger();
  private final List<ProxyVerticle> verticles = new CopyOnWriteArrayList<>();
  private volatile boolean shuttingDown;
  private final long queryWaitTimeoutMillis;
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

  /** The admin console that authenticated console clients are handed to; null until dist registers one. */
  private volatile dev.pgfleet.shared.admin.AdminConsole console;
  /** The admin login's SCRAM verifier (null when admin_password is an md5 hash): PBKDF2 once. */
  private final ScramVerifier adminVerifier;

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
    this.adminVerifier = adminVerifierOf(config.general().adminUsername(), config.general().adminPassword());
    // SCRAM verifiers of configured plaintext passwords: PBKDF2 once here, not per login.
    for (PoolConfig pool : config.pools().values()) {
      for (UserConfig user : pool.users()) {
        verifiers.computeIfAbsent(user.username() + '\0' + user.password(), k -> verifierOf(user));
      }
    }
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
   * Subscribes to health snapshots, takes the newest one if a health verticle runs (deploy it
   * first), then deploys one {@link ProxyVerticle} per event loop sharing the listening port.
   */
  public Future<String> deploy(Vertx vertx, int instances) {
    // Local: a fleet's other instances publish their own snapshots, and route by their own.
    healthConsumer = vertx.eventBus().localConsumer(HealthBus.SNAPSHOTS, m -> health(m.body()));
    return healthConsumer.completion()
      .compose(v -> vertx.eventBus().<HealthSnapshot>request(HealthBus.CURRENT, null)
        .map(Message::body)
        .otherwise(HealthSnapshot.EMPTY))   // no health verticle: routing by the configuration
      .compose(current -> {
        health(current);
        createPools();
        return vertx.deployVerticle(() -> new ProxyVerticle(this), new DeploymentOptions().setInstances(instances));
      })
      .compose(id -> {
        // Local: in a fleet each member answers for itself (the fleet issue fans requests out).
        ProxyAdmin admin = new ProxyAdmin(vertx, this);
        adminConsumer = vertx.eventBus().localConsumer(dev.pgfleet.shared.admin.AdminBus.PROXY, admin::handle);
        return adminConsumer.completion().map(id);
      });
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
      if (e.getValue().servers.contains(pool)) {
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

  /** A new snapshot: kept, and handed to every routing (each keeps only newer ones). */
  synchronized void health(HealthSnapshot snapshot) {
    if (snapshot.version() < health.version()) {
      return;
    }
    health = snapshot;
    for (PoolRouting r : routings.values()) {
      r.apply(snapshot);
    }
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

  ScramVerifier adminVerifier() {
    return adminVerifier;
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
   * The routing of (database, user): a pool per server of shard 0 (any of them may become the
   * primary: role auto, failover), the configured primary (else the first server) taking writes
   * until a health snapshot names one.
   */
  PoolRouting routing(PoolConfig pool, UserConfig user) {
    PoolRouting routing = routings.computeIfAbsent(pool.name() + '\0' + user.username(), k -> {
      ShardConfig shard = pool.shards().get(0);
      List<ServerPool> servers = new ArrayList<>();
      int configuredPrimary = -1;
      for (ServerConfig s : shard.servers()) {
        if (configuredPrimary < 0 && s.role() == ServerRole.PRIMARY) {
          configuredPrimary = servers.size();
        }
        servers.add(serverPool(pool, user, shard, s));
      }
      PoolRouting r = new PoolRouting(pool.name(), servers, Math.max(0, configuredPrimary),
        pool.queryParserEnabled() && pool.queryParserReadWriteSplitting(), pool.defaultRole(),
        pool.primaryReadsEnabled(), dev.pgfleet.router.LoadBalancer.Mode.of(pool.loadBalancingMode()),
        bans, config.general().banTime(), shard.servers().stream().mapToInt(ServerConfig::weight).toArray());
      servers.forEach(p -> p.onServerFailure(r));
      return r;
    });
    // After it is in the map: a snapshot that arrives meanwhile either finds it there or is the
    // one read here (apply ignores what it already has).
    routing.apply(health);
    return routing;
  }

  private ServerPool serverPool(PoolConfig pool, UserConfig user, ShardConfig shard, ServerConfig server) {
    return pools.computeIfAbsent(pool.name() + '\0' + user.username() + '\0' + server.host() + ':' + server.port(), k -> {
      ServerTarget target = new ServerTarget(server.host(), server.port(), shard.database(), user.serverUsername(),
        user.serverPassword(), config.general().serverTlsMode());
      return new ServerPool(pool.name() + "/" + user.username() + "@" + server.host() + ":" + server.port(), target,
        user.poolSize(), user.minPoolSize(), user.idleTimeout(), user.serverLifetime(),
        config.general().healthcheckDelay(), config.general().healthcheckTimeout());
    });
  }

  dev.pgfleet.router.QueryClassifier classifier() {
    return classifier;
  }

  /** Every (database, user) pool of the config, created now so min_pool_size can warm them. */
  void createPools() {
    for (PoolConfig p : config.pools().values()) {
      for (UserConfig u : p.users()) {
        routing(p, u);
      }
    }
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
    if (healthConsumer != null) {
      healthConsumer.unregister();
    }
    if (adminConsumer != null) {
      adminConsumer.unregister();
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
      pools.values().forEach(p -> p.close());
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
