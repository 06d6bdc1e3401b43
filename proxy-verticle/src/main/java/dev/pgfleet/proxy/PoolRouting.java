package dev.pgfleet.proxy;

import dev.pgfleet.router.LoadBalancer;
import dev.pgfleet.router.Route;
import dev.pgfleet.shared.config.DefaultRole;
import dev.pgfleet.shared.health.BanRegistry;
import dev.pgfleet.shared.health.ServerKey;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.routing.PoolRoute;
import dev.pgfleet.shared.routing.ServerRoute;
import dev.pgfleet.shared.routing.ShardRoute;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server pools one (database, user) can use, one per server of shard 0, with the pool's
 * routing settings, as the newest routing table says (the router verticle builds it from the
 * configuration and the health snapshots; ProxyRuntime hands each table over). A transaction goes
 * to the primary unless read/write splitting (query_parser_enabled and
 * query_parser_read_write_splitting) sends a read to a replica, chosen by the load balancer.
 * Named prepared statements are shared by all of them, across tables: each server connection
 * tracks which it has.
 *
 * <p>Each table becomes one immutable {@link View} in a volatile field: a transaction reads that
 * field once and asks the {@link BanRegistry} (a volatile read and a hash lookup) at its pick, so a
 * ban placed a moment ago on a failed connect counts before the next table says so. Nothing
 * crosses the event bus per query.
 * <ul>
 *   <li>Writes go to the shard's primary in the table (the health verticle's, else the
 *       configuration's). The primary is never banned and never skipped for writes: when it is
 *       down, writes fail with the connect error, since no other server can take them.</li>
 *   <li>Reads go to the replicas the table marks readable and that are not banned now. When none
 *       is left they go to the primary. PgCat clears its ban list instead and tries the banned
 *       replicas again; the bans and the lag are evidence (a replica that failed would fail the
 *       client too, a lagging one would serve stale rows) while the primary answers and is never
 *       stale, and the fallback ends as soon as a ban ends or a replica catches up.</li>
 * </ul>
 *
 * <p>A pool removed by a reload is retired: no new logins reach it (ProxyRuntime no longer lists
 * it), its sessions go on with the last view, and its server pools close when the last session
 * has left ({@link #sessionEnded}).
 */
final class PoolRouting implements ServerPool.ServerFailures {

    private static final Logger log = LoggerFactory.getLogger(PoolRouting.class);

    /** The routing of the newest table; a transaction reads it once. */
    volatile View view;
    final PreparedStatements statements = new PreparedStatements();
    /** A sharded pool's keys and tables (set with each routing table); null for a pool of one shard. */
    volatile PoolSharding sharding;
    private final String poolName;
    private final int shard;
    private final BanRegistry bans;
    private volatile Duration banTime;
    /** Sessions logged in to this (database, user) and not gone yet. Guarded by this. */
    private int sessions;
    /** Removed by a reload: closes when its last session leaves. Guarded by this. */
    private boolean retired;
    private boolean closed;

    /**
     * What one table says about shard 0, with the server pools it names. Immutable once built.
     */
    final class View {
        /** Every server of shard 0, in configuration order. */
        final List<ServerPool> servers;
        /** The pool of the server that takes writes now. */
        final ServerPool primary;
        final int primaryIndex;
        final boolean splitting;
        final DefaultRole defaultRole;
        final boolean primaryReads;
        final LoadBalancer balancer;
        /** The candidates of a read that may not go to the primary. */
        final Readers replicas;
        /** The candidates of a read that may (the primary, when it is up). */
        final Readers any;
        /** Read weights per server, or null when all are 1. */
        private final int[] weights;

        View(List<ServerPool> servers, int primaryIndex, boolean primaryUp, boolean[] readable, boolean splitting,
                  DefaultRole defaultRole, boolean primaryReads, LoadBalancer balancer, int[] weights) {
            this.servers = List.copyOf(servers);
            this.primaryIndex = primaryIndex;
            this.primary = servers.get(primaryIndex);
            this.splitting = splitting && servers.size() > 1;
            this.defaultRole = defaultRole;
            this.primaryReads = primaryReads;
            this.balancer = balancer;
            this.weights = weights;
            this.replicas = new Readers(this, false, readable);
            this.any = new Readers(this, primaryUp, readable);
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
            if (route == Route.PRIMARY || servers.size() == 1) {
                return primary;
            }
            int i = balancer.pick(route == Route.ANY || primaryReads ? any : replicas);
            // No replica fit for reads: the primary (see the class comment for why not PgCat's way).
            return i == LoadBalancer.NONE ? primary : servers.get(i);
        }
    }

    /**
     * The servers a read may go to under one {@link View}, built with it so that a pick allocates
     * nothing; bans are asked at each pick.
     */
    private final class Readers implements LoadBalancer.Candidates {
        private final View view;
        private final boolean primaryFit;
        private final boolean[] readable;

        Readers(View view, boolean primaryFit, boolean[] readable) {
            this.view = view;
            this.primaryFit = primaryFit;
            this.readable = readable;
        }

        @Override
        public int size() {
            return view.servers.size();
        }

        @Override
        public boolean healthy(int index) {
            boolean fit = index == view.primaryIndex ? primaryFit : readable[index];
            return fit && !bans.isBanned(view.servers.get(index).server());
        }

        @Override
        public int weight(int index) {
            return view.weights == null ? 1 : view.weights[index];
        }

        @Override
        public int outstanding(int index) {
            ServerPool p = view.servers.get(index);
            return p.size() - p.idle();
        }
    }

    PoolRouting(String poolName, BanRegistry bans) {
        this(poolName, 0, bans);
    }

    /** The routing of one shard ({@code shard}, counting from 0) of a pool. */
    PoolRouting(String poolName, int shard, BanRegistry bans) {
        this.poolName = shard == 0 ? poolName : poolName + " shard " + shard;
        this.shard = shard;
        this.bans = bans;
    }

    /** The shard of the pool this routing serves. */
    int shard() {
        return shard;
    }

    /**
     * Takes a new table's routing of this pool: {@code servers} are the pools of this shard's servers,
     * in the table's order (ProxyRuntime made or kept them). The pools the previous view had and
     * this one has not are returned, for the caller to retire. min_pool_size moves to the primary.
     */
    synchronized List<ServerPool> update(PoolRoute pool, List<ServerPool> servers, Duration banTime) {
        ShardRoute shard = pool.shards().get(this.shard);
        boolean[] readable = new boolean[servers.size()];
        int[] weights = new int[servers.size()];
        boolean weighted = false;
        for (int i = 0; i < readable.length; i++) {
            ServerRoute s = shard.servers().get(i);
            readable[i] = s.readable();
            weights[i] = s.weight();
            weighted |= s.weight() != 1;
        }
        View before = view;
        LoadBalancer.Mode mode = LoadBalancer.Mode.of(pool.loadBalancing());
        LoadBalancer balancer = before != null && before.balancer.mode() == mode ? before.balancer : new LoadBalancer(mode);
        View now = new View(servers, shard.primary(), shard.primaryReachable(), readable, pool.splitting(),
            pool.defaultRole(), pool.primaryReads(), balancer, weighted ? weights : null);
        this.banTime = banTime;
        List<ServerPool> gone = new ArrayList<>();
        if (before != null) {
            for (ServerPool p : before.servers) {
                if (!now.servers.contains(p)) {
                    gone.add(p);
                }
            }
            if (before.primary != now.primary && now.servers.contains(before.primary)) {
                log.warn("pool {}: writes go to {} now (was {})", poolName, now.primary.server(), before.primary.server());
            }
        }
        for (ServerPool p : now.servers) {
            p.keepMinimum(p == now.primary);
            p.onServerFailure(this);
        }
        view = now;
        return gone;
    }

    /** A session logged in to this pool; false if it was removed meanwhile (the client gets 3D000). */
    synchronized boolean sessionStarted() {
        if (closed) {
            return false;
        }
        sessions++;
        return true;
    }

    /** A session left; the last one of a retired pool closes its server pools. */
    void sessionEnded() {
        synchronized (this) {
            sessions--;
            if (!retired || sessions > 0 || closed) {
                return;
            }
            closed = true;
        }
        closePools();
    }

    /** Removed by a reload: closes now if no session uses it, else when the last one leaves. */
    void retire() {
        synchronized (this) {
            retired = true;
            if (sessions > 0 || closed) {
                return;
            }
            closed = true;
        }
        closePools();
    }

    /** Back in a newer table before it closed (removed, then added again): it goes on. */
    synchronized boolean revive() {
        if (closed) {
            return false;
        }
        retired = false;
        return true;
    }

    synchronized boolean closed() {
        return closed;
    }

    private void closePools() {
        log.info("pool {}: removed from the configuration and its last client left: server connections close", poolName);
        for (ServerPool p : view.servers) {
            p.close();
        }
    }

    /**
     * The pool the routing of a transaction names now (tests; sessions read {@link #view} once and
     * pick on it).
     */
    ServerPool pick(Route route, boolean primaryReads) {
        return view.pick(route, primaryReads);
    }

    /**
     * Session mode binds one server at login, before any query could be classified: by
     * default_role. {@code replica} picks a replica as a read would (health-aware, the primary
     * when none is fit); {@code primary} and {@code any} bind the primary. {@code any} is PgCat's
     * default, what a file gets when it says nothing, and a whole session bound to a replica fails
     * every write it makes; a pool that wants sessions on replicas says {@code replica}.
     */
    ServerPool forSession() {
        View v = view;
        return v.defaultRole == DefaultRole.REPLICA ? v.pick(Route.REPLICA, v.primaryReads) : v.primary;
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
        View v = view;
        int i = v.servers.indexOf(failed);
        if (i < 0 || i == v.primaryIndex || loginRefused(cause)) {
            return null;
        }
        ServerKey key = failed.server();
        if (!bans.isBanned(key)) {
            log.warn("{}: banned for {} s: {}", key, banTime.toSeconds(), cause.getMessage());
        }
        bans.ban(key, banTime, cause.getMessage());
        ServerPool other = v.pick(Route.REPLICA, v.primaryReads);
        return other == failed ? null : other;
    }

    /**
     * Where a checkout of a pool a reload took out goes instead: the primary now if it was the
     * primary's, else where a read would go now.
     */
    @Override
    public ServerPool replacement(ServerPool retired, boolean wasPrimary) {
        View v = view;
        ServerPool other = wasPrimary ? v.primary : v.pick(Route.REPLICA, v.primaryReads);
        return other == retired ? null : other;
    }

    private static boolean loginRefused(Throwable cause) {
        if (cause instanceof PgException pe && pe.sqlState() != null) {
            return pe.sqlState().startsWith("28") || pe.sqlState().startsWith("3D");
        }
        return false;
    }
}
