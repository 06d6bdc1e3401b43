package dev.pgfleet.proxy;

import dev.pgfleet.router.LoadBalancer;
import dev.pgfleet.router.Route;
import dev.pgfleet.shared.config.DefaultRole;
import dev.pgfleet.shared.health.BanRegistry;
import dev.pgfleet.shared.health.HealthSnapshot;
import dev.pgfleet.shared.health.ServerKey;
import dev.pgfleet.shared.health.ShardHealth;
import dev.pgfleet.shared.protocol.PgException;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server pools one (database, user) can use, one per server of shard 0, with the pool's
 * routing settings and the newest health of the shard. A transaction goes to the primary unless
 * read/write splitting (query_parser_enabled and query_parser_read_write_splitting) sends a read
 * to a replica, chosen by the load balancer. Named prepared statements are shared by all of
 * them: each server connection tracks which it has.
 *
 * <p>Health: {@link #apply} takes each new {@link HealthSnapshot} (ProxyRuntime hands them over
 * as the health verticle publishes them) and turns the shard's entry into indexes, once per
 * snapshot; a pick reads one volatile field and asks the {@link BanRegistry}, whose check is a
 * volatile read and a hash lookup, so a ban placed a moment ago on a failed connect counts before
 * the next snapshot says so. Nothing crosses the event bus per query.
 * <ul>
 *   <li>Writes go to the server the snapshot names primary: the configured one, or for
 *       {@code role = "auto"} servers the one out of recovery (after {@code pg_promote()}, the
 *       promoted one, from the first snapshot that sees it). The primary is never banned and
 *       never skipped for writes: when it is down, writes fail with the connect error, since no
 *       other server can take them.</li>
 *   <li>Reads go to replicas the snapshot lists as fit (reachable, not banned, within
 *       {@code max_replica_lag_bytes} / {@code max_replica_lag_ms}) and not banned now. When
 *       none is left they go to the primary. PgCat clears its ban list instead and tries the
 *       banned replicas again; the bans and the lag are evidence (a replica that failed would
 *       fail the client too, a lagging one would serve stale rows) while the primary answers and
 *       is never stale, and the fallback ends as soon as a ban ends or a replica catches up.</li>
 *   <li>Until the first snapshot (or without a health verticle) the configuration decides: the
 *       server with role primary, else the first one, takes writes, every other reads.</li>
 * </ul>
 */
final class PoolRouting implements ServerPool.ServerFailures {

  private static final Logger log = LoggerFactory.getLogger(PoolRouting.class);

  /**
   * The pool of the server that takes writes now; moves on failover. Sessions read it when a
   * transaction starts (volatile: written by whoever applies a snapshot).
   */
  volatile ServerPool primary;
  /** Every server of shard 0, in configuration order. */
  final List<ServerPool> servers;
  final PreparedStatements statements = new PreparedStatements();
  final boolean splitting;
  final DefaultRole defaultRole;
  final boolean primaryReads;
  private final String poolName;
  private final LoadBalancer balancer;
  private final BanRegistry bans;
  private final Duration banTime;
  private volatile Health health;
  /** Read weights per server, or null when all are 1. */
  private final int[] weights;

  /**
   * What one snapshot says about shard 0, as indexes into {@link #servers}. Immutable once built.
   *
   * @param replicas the candidates of a read that may not go to the primary
   * @param any      the candidates of a read that may (the primary, when it is up)
   */
  private record Health(long version, int primary, Readers replicas, Readers any) {
  }

  /**
   * @param primaryUp whether the primary answered its last probe (it then may serve reads too)
   * @param readable  per server: a replica fit for reads (never the primary's index)
   */
  private Health health(long version, int primary, boolean primaryUp, boolean[] readable) {
    return new Health(version, primary, new Readers(primary, false, readable), new Readers(primary, primaryUp, readable));
  }

  /**
   * The servers a read may go to under one {@link Health}, built with it so that a pick
   * allocates nothing; bans are asked at each pick.
   */
  private final class Readers implements LoadBalancer.Candidates {
    private final int primary;
    private final boolean primaryFit;
    private final boolean[] readable;

    Readers(int primary, boolean primaryFit, boolean[] readable) {
      this.primary = primary;
      this.primaryFit = primaryFit;
      this.readable = readable;
    }

    @Override
    public int size() {
      return servers.size();
    }

    @Override
    public boolean healthy(int index) {
      boolean fit = index == primary ? primaryFit : readable[index];
      return fit && !bans.isBanned(servers.get(index).server());
    }

    @Override
    public int weight(int index) {
      return weights == null ? 1 : weights[index];
    }

    @Override
    public int outstanding(int index) {
      ServerPool p = servers.get(index);
      return p.size() - p.idle();
    }
  }

  /**
   * @param configuredPrimary the index in {@code servers} of the server that takes writes until a
   *                          snapshot says otherwise
   */
  PoolRouting(String poolName, List<ServerPool> servers, int configuredPrimary, boolean splitting,
              DefaultRole defaultRole, boolean primaryReads, LoadBalancer.Mode mode, BanRegistry bans,
              Duration banTime) {
    this(poolName, servers, configuredPrimary, splitting, defaultRole, primaryReads, mode, bans, banTime, null);
  }

  /**
   * @param weights per server, its share of reads (the servers' fourth element in the config);
   *                null: all 1
   */
  PoolRouting(String poolName, List<ServerPool> servers, int configuredPrimary, boolean splitting,
              DefaultRole defaultRole, boolean primaryReads, LoadBalancer.Mode mode, BanRegistry bans,
              Duration banTime, int[] weights) {
    if (weights != null && weights.length != servers.size()) {
      throw new IllegalArgumentException("one weight per server");
    }
    this.weights = weights == null ? null : weights.clone();
    this.poolName = poolName;
    this.servers = List.copyOf(servers);
    this.splitting = splitting && servers.size() > 1;
    this.defaultRole = defaultRole;
    this.primaryReads = primaryReads;
    this.balancer = new LoadBalancer(mode);
    this.bans = bans;
    this.banTime = banTime;
    boolean[] readable = new boolean[servers.size()];
    for (int i = 0; i < readable.length; i++) {
      readable[i] = i != configuredPrimary;
    }
    this.health = health(HealthSnapshot.EMPTY.version(), configuredPrimary, true, readable);
    this.primary = servers.get(configuredPrimary);
    primary.keepMinimum(true);
  }

  /**
   * Takes a new snapshot: the primary of shard 0 and the replicas fit for reads. Older snapshots
   * than the one applied, and snapshots that do not know this pool (a pool the health verticle
   * has not probed yet), change nothing. Any thread.
   */
  void apply(HealthSnapshot snapshot) {
    if (snapshot.version() > health.version()) {
      applyNewer(snapshot);
    }
  }

  private synchronized void applyNewer(HealthSnapshot snapshot) {
    Health before = health;
    if (snapshot.version() <= before.version()) {
      return;
    }
    ShardHealth shard = snapshot.shard(poolName, 0).orElse(null);
    if (shard == null) {
      return;
    }
    int p = shard.primary().map(this::indexOf).filter(i -> i >= 0).orElse(before.primary());
    boolean[] readable = new boolean[servers.size()];
    for (int i = 0; i < readable.length; i++) {
      readable[i] = i != p && shard.readReplicas().contains(servers.get(i).server());
    }
    health = health(snapshot.version(), p, shard.primaryReachable(), readable);
    if (p != before.primary()) {
      ServerPool old = servers.get(before.primary());
      ServerPool now = servers.get(p);
      log.warn("pool {}: writes go to {} now (was {})", poolName, now.server(), old.server());
      old.keepMinimum(false);
      now.keepMinimum(true);
      primary = now;
    }
  }

  /**
   * The pool for a transaction routed to {@code route}; {@code primaryReads} (the session's
   * SET PRIMARY READS, else the pool's primary_reads_enabled) puts the primary among the
   * candidates for reads.
   */
  ServerPool pick(Route route, boolean primaryReads) {
    if (route == Route.ANY) {
      route = switch (defaultRole) {
        case PRIMARY -> Route.PRIMARY;
        case REPLICA -> Route.REPLICA;
        case ANY -> Route.ANY;
      };
    }
    Health h = health;
    ServerPool writer = servers.get(h.primary());
    if (route == Route.PRIMARY || servers.size() == 1) {
      return writer;
    }
    int i = balancer.pick(route == Route.ANY || primaryReads ? h.any() : h.replicas());
    // No replica fit for reads: the primary (see the class comment for why not PgCat's way).
    return i == LoadBalancer.NONE ? writer : servers.get(i);
  }

  /**
   * Session mode binds one server at login, before any query could be classified: by
   * default_role. {@code replica} picks a replica as a read would (health-aware, the primary
   * when none is fit); {@code primary} and {@code any} bind the primary. {@code any} is PgCat's
   * default, what a file gets when it says nothing, and a whole session bound to a replica fails
   * every write it makes; a pool that wants sessions on replicas says {@code replica}.
   */
  ServerPool forSession() {
    return defaultRole == DefaultRole.REPLICA ? pick(Route.REPLICA, primaryReads) : primary;
  }

  /**
   * A connect or a checkout health check failed on {@code failed}'s server. A replica is banned
   * for ban_time and the caller is sent to the pool a read would pick now (the failed server is
   * out of it); the primary is never banned (writes have nowhere else to go) and its callers get
   * the error. A refused login (SQLSTATE class 28, bad password or no pg_hba entry; 3D, no such
   * database) bans nothing: it says the pool's configuration is wrong for that server, not that
   * the server is down for the other pools that use it.
   */
  @Override
  public ServerPool serverFailed(ServerPool failed, Throwable cause) {
    int i = servers.indexOf(failed);
    if (i < 0 || i == health.primary() || loginRefused(cause)) {
      return null;
    }
    ServerKey key = failed.server();
    if (!bans.isBanned(key)) {
      log.warn("{}: banned for {} s: {}", key, banTime.toSeconds(), cause.getMessage());
    }
    bans.ban(key, banTime, cause.getMessage());
    ServerPool other = pick(Route.REPLICA, primaryReads);
    return other == failed ? null : other;
  }

  private static boolean loginRefused(Throwable cause) {
    if (cause instanceof PgException pe && pe.sqlState() != null) {
      return pe.sqlState().startsWith("28") || pe.sqlState().startsWith("3D");
    }
    return false;
  }

  private int indexOf(ServerKey key) {
    for (int i = 0; i < servers.size(); i++) {
      if (servers.get(i).server().equals(key)) {
        return i;
      }
    }
    return -1;
  }
}
