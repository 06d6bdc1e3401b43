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
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the {@link ProxyVerticle} instances of one process share: the config, the server
 * pools, the cancel keys, the client count. Touched on connect, checkout and checkin,
 * never per message.
 */
public final class ProxyRuntime {

  private final PgFleetConfig config;
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

  /** PgBouncer's max_prepared_statements default is 200, PgCat's example 500: on by default. */
  static final int DEFAULT_PREPARED_STATEMENTS_CACHE_SIZE = 500;

  public ProxyRuntime(PgFleetConfig config) {
    this.config = config;
    this.queryWaitTimeoutMillis = config.general().queryWaitTimeout().toMillis();
    // SCRAM verifiers of configured plaintext passwords: PBKDF2 once here, not per login.
    for (PoolConfig pool : config.pools().values()) {
      for (UserConfig user : pool.users()) {
        verifiers.computeIfAbsent(user.username() + '\0' + user.password(), k -> verifierOf(user));
      }
    }
  }

  private static ScramVerifier verifierOf(UserConfig user) {
    String secret = user.password();
    if (secret == null || Md5Auth.isMd5Hash(secret)) {
      return null;
    }
    return ScramVerifier.isVerifier(secret) ? ScramVerifier.parse(secret) : ScramServer.verifierForPlaintext(user.username(), secret);
  }

  /** Deploys one {@link ProxyVerticle} per event loop sharing the listening port. */
  public Future<String> deploy(Vertx vertx, int instances) {
    createPools();
    return vertx.deployVerticle(() -> new ProxyVerticle(this), new DeploymentOptions().setInstances(instances));
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

  /** The routing of (database, user): shard 0's primary and replicas, each with its own pool. */
  PoolRouting routing(PoolConfig pool, UserConfig user) {
    return routings.computeIfAbsent(pool.name() + '\0' + user.username(), k -> {
      ShardConfig shard = pool.shards().get(0);
      ServerConfig primary = shard.servers().stream().filter(s -> s.role() == ServerRole.PRIMARY).findFirst()
        .orElse(shard.servers().get(0));
      List<ServerPool> replicas = new java.util.ArrayList<>();
      for (ServerConfig s : shard.servers()) {
        if (s != primary) {
          replicas.add(serverPool(pool, user, shard, s, false));
        }
      }
      return new PoolRouting(serverPool(pool, user, shard, primary, true), List.copyOf(replicas),
        pool.queryParserEnabled() && pool.queryParserReadWriteSplitting(), pool.defaultRole(),
        pool.primaryReadsEnabled(), dev.pgfleet.router.LoadBalancer.Mode.fromConfigName(pool.loadBalancingMode().configName()));
    });
  }

  /** The shard 0 primary's pool (session mode uses only this one). */
  ServerPool pool(PoolConfig pool, UserConfig user) {
    return routing(pool, user).primary;
  }

  private ServerPool serverPool(PoolConfig pool, UserConfig user, ShardConfig shard, ServerConfig server,
                                boolean isPrimary) {
    return pools.computeIfAbsent(pool.name() + '\0' + user.username() + '\0' + server.host() + ':' + server.port(), k -> {
      ServerTarget target = new ServerTarget(server.host(), server.port(), shard.database(), user.serverUsername(),
        user.serverPassword(), config.general().serverTlsMode());
      return new ServerPool(pool.name() + "/" + user.username() + "@" + server.host() + ":" + server.port(), target,
        user.poolSize(), isPrimary ? user.minPoolSize() : 0, user.idleTimeout(), user.serverLifetime());
    });
  }

  dev.pgfleet.router.QueryClassifier classifier() {
    return classifier;
  }

  /** Every (database, user) pool of the config, created now so min_pool_size can warm them. */
  void createPools() {
    for (PoolConfig p : config.pools().values()) {
      for (UserConfig u : p.users()) {
        pool(p, u);
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
    for (ProxyVerticle v : verticles) {
      v.loopContext().runOnContext(x -> v.stopListening(timeout.plusSeconds(1)));
    }
    Promise<Void> done = Promise.promise();
    long deadline = System.nanoTime() + timeout.toNanos();
    drain(vertx, deadline, done);
    return done.future().eventually(() -> {
      pools.values().forEach(p -> p.close());
      return Future.succeededFuture();
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
