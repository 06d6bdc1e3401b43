package dev.pgfleet.proxy;

import dev.pgfleet.shared.health.HealthChecks;
import dev.pgfleet.shared.health.ServerKey;
import dev.pgfleet.shared.net.NetSockets;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.SqlState;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Server connections of one pool (database, user, server), shared by every event loop of
 * the process, at most {@code maxSize} of them.
 *
 * <p>A server connection belongs to the event loop that opened it (so a client and the
 * server connection it borrows share one loop, with no locks while forwarding); idle
 * connections are kept per loop. A client that finds none idle on its loop opens one if
 * the pool has room; if not, it waits in FIFO order among the waiters of its loop, and a
 * connection released on a loop goes to that loop's first waiter.
 *
 * <p>Moving a slot to another loop means closing a connection and logging in anew, so it
 * happens only to bring a loop up to its fair share: the pool's size split in proportion to
 * the clients of each loop that use the pool, rounded down. (The instantaneous demand, in use
 * plus waiting, swings with every round trip and made slots churn between loops.) A loop
 * below its share that has waiters takes an idle connection of another loop (by closing it),
 * and a connection that would go idle while a loop below its share waits is handed over the
 * same way; so is one that would go idle while a waiter elsewhere has waited longer than
 * {@link #STARVED_NANOS}, whatever the shares. Under even load every loop keeps its share and
 * no connection churns. Only checkout and checkin take the lock, never forwarding.
 *
 * <p>Health, as PgCat does it: an idle connection not used for {@code healthcheck_delay} runs
 * {@code ;} (an empty query) within {@code healthcheck_timeout} before it is handed out; one used
 * more recently costs a timestamp compare. A failed check, or a failed connect, is reported to
 * the pool's {@link ServerFailures} (the {@link PoolRouting}, which bans a replica and may name
 * another pool); the caller then gets a connection from that pool instead of an error, since
 * nothing of its own was sent yet. Without another pool the caller gets the error.
 */
final class ServerPool {

    private static final Logger log = LoggerFactory.getLogger(ServerPool.class);

    /**
     * How many times one checkout may move to another pool after failures. Bans make the chain
     * end by themselves (each failed server is out of the next pick); this bounds it when they do
     * not (ban_time = 0).
     */
    private static final int MAX_REROUTES = 3;

    /** Opens a server connection on the calling loop. */
    interface Opener {
        Future<ServerConnection> open(ServerPool pool);
    }

    /** Told when this pool's server fails a connect or a checkout health check. */
    interface ServerFailures {
        /**
         * Called on the loop of the failed attempt.
         *
         * @return the pool the caller should try instead, or null: the caller gets the error
         */
        ServerPool serverFailed(ServerPool pool, Throwable cause);

        /**
         * Where a checkout of {@code retired} (a server a reload took out) goes instead, or null:
         * the caller gets the error. {@code wasPrimary}: it was the shard's primary's pool.
         */
        default ServerPool replacement(ServerPool retired, boolean wasPrimary) {
            return null;
        }
    }

    /** One event loop's part of the pool. Guarded by the pool's lock. */
    private static final class LoopShare {
        final ArrayDeque<ServerConnection> idle = new ArrayDeque<>();
        /** Connections open or opening on this loop. */
        int owned;
        /** Clients of this loop waiting for a connection. */
        int waiting;
        /** Clients of this loop that use this pool (attached), busy or not. */
        int clients;
    }

    /** A waiter elsewhere that waited this long gets a connection that would go idle here. */
    static final long STARVED_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(100);

    private final String name;
    /** Volatile: a new table may change the password (new logins use it). */
    private volatile ServerTarget target;
    private final ServerKey server;
    /** pool_size; a new table may change it ({@link #configure}). Written under the lock. */
    private volatile int maxSize;
    private final Map<Object, LoopShare> loops = new HashMap<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private final PreparedStatements statements = new PreparedStatements();
    private int size;
    private boolean closed;
    /** Closed by a reload that took its server out: checkouts go to {@link ServerFailures#replacement}. */
    private boolean retired;
    private boolean retiredPrimary;
    /** The ParameterStatus values of the first connection's login, for clients logging in. */
    private volatile Map<String, String> serverParameters;

    /**
     * Who is handed a connection when one is free. A session's transaction-mode checkout
     * implements this itself (one instance per session), so a wait costs no Future chain; the
     * Future form of {@link #acquire(Context, Opener)} wraps a promise in one.
     */
    interface Checkout {
        /**
         * The connection, on the checkout's event loop. False if it is no longer wanted (the
         * client left, or the checkout was cancelled): the pool takes it back.
         */
        boolean handed(ServerConnection conn);

        /** No connection: {@link WaitTimeout}, a closed pool, or a failed connect with nowhere to reroute. */
        void failed(Throwable cause);
    }

    record PromiseCheckout(Promise<ServerConnection> promise) implements Checkout {
        @Override
        public boolean handed(ServerConnection conn) {
            return promise.tryComplete(conn);
        }

        @Override
        public void failed(Throwable cause) {
            promise.tryFail(cause);
        }
    }

    private record Waiter(Context context, Opener opener, Checkout checkout, long since, int reroutes) {
        Object loop() {
            return NetSockets.eventLoop(context);
        }
    }

    // From the routing table; a new table may change them (configure), read without the lock.
    private volatile int minSize;
    private volatile long idleTimeoutNanos;
    private volatile long lifetimeNanos;
    private volatile long healthcheckDelayNanos;
    private volatile long healthcheckTimeoutMillis;
    /** min_pool_size applies to the pool of the shard's primary only; moves with it on failover. */
    private volatile boolean keepMinimum;
    private volatile ServerFailures failures;

    ServerPool(String name, ServerTarget target, int maxSize, int minSize, Duration idleTimeout, Duration lifetime,
                          Duration healthcheckDelay, Duration healthcheckTimeout) {
        this.name = name;
        this.target = target;
        this.server = new ServerKey(target.host(), target.port());
        this.minSize = minSize;
        this.idleTimeoutNanos = idleTimeout.toNanos();
        this.lifetimeNanos = lifetime.toNanos();
        this.maxSize = maxSize;
        this.healthcheckDelayNanos = healthcheckDelay.toNanos();
        this.healthcheckTimeoutMillis = Math.max(1, healthcheckTimeout.toMillis());
    }

    /**
     * A new table's settings (pool_size, min_pool_size, idle_timeout, server_lifetime, the checkout
     * health check) and login (a changed password), for the checkouts and logins from now on. A
     * larger pool opens connections for its waiters at once; a smaller one closes idle connections
     * above the new size now and busy ones as they are released (never one in use), and hands no
     * slot to a waiter while it is above its size.
     */
    void configure(dev.pgfleet.shared.routing.PoolSettings settings, ServerTarget target) {
        java.util.List<Waiter> served = new java.util.ArrayList<>();
        java.util.List<ServerConnection> excess = new java.util.ArrayList<>();
        synchronized (this) {
            this.target = target;
            this.minSize = settings.minPoolSize();
            this.idleTimeoutNanos = settings.idleTimeout().toNanos();
            this.lifetimeNanos = settings.serverLifetime().toNanos();
            this.healthcheckDelayNanos = settings.healthcheckDelay().toNanos();
            this.healthcheckTimeoutMillis = Math.max(1, settings.healthcheckTimeout().toMillis());
            int before = maxSize;
            maxSize = settings.poolSize();
            if (closed || maxSize == before) {
                return;
            }
            if (maxSize > before) {
                Waiter w;
                while (size < maxSize && (w = waiters.pollFirst()) != null) {
                    LoopShare theirs = share(w.loop());
                    theirs.waiting--;
                    theirs.owned++;
                    size++;
                    served.add(w);
                }
            } else {
                for (LoopShare l : loops.values()) {
                    while (size - excess.size() > maxSize && !l.idle.isEmpty()) {
                        excess.add(l.idle.pollFirst());
                    }
                }
            }
        }
        log.info("pool {}: pool_size {}", name, settings.poolSize());
        for (Waiter w : served) {
            w.context.runOnContext(x -> open(w.context, w.opener, w.checkout, w.reroutes));
        }
        for (ServerConnection c : excess) {
            c.context().runOnContext(x -> c.close());   // its slot is freed, not handed on: the pool shrinks
        }
    }

    String name() {
        return name;
    }

    /** The server, as bans and health snapshots name it. */
    ServerKey server() {
        return server;
    }

    /** Who hears about failed connects and checks; set once, by the pool's {@link PoolRouting}. */
    void onServerFailure(ServerFailures failures) {
        this.failures = failures;
    }

    /** Whether min_pool_size holds for this pool (its server is the primary now). */
    void keepMinimum(boolean keep) {
        this.keepMinimum = keep;
    }

    /** Called after each login; the first one fills the cache clients are greeted with. */
    void learnParameters(Map<String, String> parameters) {
        if (serverParameters == null) {
            serverParameters = Map.copyOf(parameters);
        }
    }

    /**
     * How this pool's servers report a setting given as a startup value ("datestyle\0ISO" ->
     * "ISO, MDY"), learnt from connections that applied it: a transaction-mode client is greeted
     * with the value PostgreSQL would have reported, without a server connection once it is known.
     */
    private final java.util.concurrent.ConcurrentHashMap<String, String> reportedSettings =
        new java.util.concurrent.ConcurrentHashMap<>();

    String reportedSetting(String name, String value) {
        return reportedSettings.get(name + '\0' + value);
    }

    void learnReportedSetting(String name, String value, String reported) {
        if (reportedSettings.size() < 10_000) {
            reportedSettings.put(name + '\0' + value, reported);
        }
    }

    /** What a server of this pool reported at login, or null before the first connection. */
    Map<String, String> serverParameters() {
        return serverParameters;
    }

    PreparedStatements statements() {
        return statements;
    }

    ServerTarget target() {
        return target;
    }

    int maxSize() {
        return maxSize;
    }

    long healthcheckDelayNanos() {
        return healthcheckDelayNanos;
    }

    synchronized int size() {
        return size;
    }

    /** Closed (shutdown, its pool removed) or retired (its server taken out by a reload). */
    synchronized boolean isClosed() {
        return closed;
    }

    /** Clients waiting for a connection of this pool now (tests, the admin console). */
    synchronized int waiting() {
        return waiters.size();
    }

    synchronized int idle() {
        int n = 0;
        for (LoopShare l : loops.values()) {
            n += l.idle.size();
        }
        return n;
    }

    private LoopShare share(Object loop) {
        LoopShare l = loops.get(loop);
        if (l == null) {
            l = new LoopShare();
            loops.put(loop, l);
        }
        return l;
    }

    /**
     * Whether {@code l} holds fewer connections than its fair share: the pool's size times its
     * part of the clients, rounded down (at least one for a loop with clients). Rounded down,
     * the shares add up to at most the pool's size, so a loop taking a slot to reach its share
     * never pushes the loop it took from below that loop's share: slots do not go back and forth.
     */
    private boolean belowShare(LoopShare l) {
        int total = 0;
        for (LoopShare x : loops.values()) {
            total += x.clients;
        }
        long fair = total == 0 ? 1 : Math.max(1, (long) maxSize * l.clients / total);
        return l.owned < fair;
    }

    /** A client on {@code loop} starts using this pool (counted in the loop's fair share). */
    synchronized void attach(Object loop) {
        share(loop).clients++;
    }

    /** The client attached on {@code loop} is gone. */
    synchronized void detach(Object loop) {
        share(loop).clients--;
    }

    /**
     * An idle connection of this loop, or null: checkout without a Future. One due for the
     * health check stays for {@link #acquire}, which checks it.
     */
    synchronized ServerConnection pollIdle(Object loop) {
        LoopShare mine = loops.get(loop);
        if (mine == null || closed) {
            return null;
        }
        ServerConnection conn = newestUsableIdle(mine);
        if (conn == null || HealthChecks.needsCheck(conn.lastUsed(), System.nanoTime(), healthcheckDelayNanos)) {
            return null;
        }
        return mine.idle.pollLast();
    }

    /**
     * The most recently released idle connection of the loop that is still usable, left in the
     * list; the ones above it that closed while idle are dropped (their close handlers free the
     * slots). Under the lock.
     */
    private static ServerConnection newestUsableIdle(LoopShare mine) {
        ServerConnection conn;
        while ((conn = mine.idle.peekLast()) != null && !conn.usable()) {
            mine.idle.pollLast();
        }
        return conn;
    }

    /** Why a waiter was failed by {@link #expireWaiters}. */
    static final class WaitTimeout extends RuntimeException {
        WaitTimeout() {
            super("no server connection available in time", null, false, false);
        }
    }

    /**
     * Fails the waiters of {@code loop} that have waited longer than {@code timeoutNanos}
     * (query_wait_timeout) with {@link WaitTimeout}. One sweep per loop and period instead of a
     * timer per wait: a busy pool has a waiter per transaction.
     */
    void expireWaiters(Object loop, long now, long timeoutNanos) {
        java.util.List<Waiter> late = null;
        synchronized (this) {
            LoopShare mine = loops.get(loop);
            if (mine == null || mine.waiting == 0) {
                return;
            }
            for (java.util.Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
                Waiter w = it.next();
                if (w.loop() == loop && now - w.since > timeoutNanos) {
                    it.remove();
                    mine.waiting--;
                    if (late == null) {
                        late = new java.util.ArrayList<>();
                    }
                    late.add(w);
                }
            }
        }
        if (late != null) {
            for (Waiter w : late) {
                w.checkout.failed(new WaitTimeout());
            }
        }
    }

    /**
     * A server connection on the caller's event loop: an idle one, a new one, or the next one
     * free. Must be called on {@code context}'s event loop.
     */
    Future<ServerConnection> acquire(Context context, Opener opener) {
        Promise<ServerConnection> promise = NetSockets.promise(context);
        acquire(context, opener, new PromiseCheckout(promise));
        return promise.future();
    }

    /**
     * As {@link #acquire(Context, Opener)}, handing the connection to {@code checkout}
     * (at once when an idle one needs no health check). Must be called on {@code context}'s
     * event loop; {@code checkout} is called there, exactly once.
     */
    void acquire(Context context, Opener opener, Checkout checkout) {
        acquire(context, opener, checkout, 0);
    }

    private void acquire(Context context, Opener opener, Checkout checkout, int reroutes) {
        ServerConnection victim;
        ServerConnection idle = null;
        boolean open = false;
        boolean wasClosed;
        Object loop = NetSockets.eventLoop(context);
        long now = System.nanoTime();
        synchronized (this) {
            wasClosed = closed;
            if (wasClosed) {
                victim = null;
            } else {
                LoopShare mine = share(loop);
                idle = newestUsableIdle(mine);
                if (idle != null) {
                    mine.idle.pollLast();
                    victim = null;
                } else if (size < maxSize) {
                    size++;
                    mine.owned++;
                    open = true;
                    victim = null;
                } else {
                    waiters.add(new Waiter(context, opener, checkout, now, reroutes));
                    mine.waiting++;
                    // Below its share, this loop may take an idle connection of another: closing it
                    // hands the slot to the first waiter.
                    victim = belowShare(mine) ? pollIdleElsewhere(loop) : null;
                }
            }
        }
        if (idle != null) {
            if (HealthChecks.needsCheck(idle.lastUsed(), now, healthcheckDelayNanos)) {
                check(idle, context, opener, checkout, reroutes);   // idle past healthcheck_delay: checked first
            } else {
                hand(checkout, idle);
            }
        } else if (open) {
            open(context, opener, checkout, reroutes);
        } else if (victim != null) {
            log.debug("pool {}: an idle connection moves to a loop below its share", name);
            victim.context().runOnContext(x -> victim.close());
        } else if (wasClosed) {
            ServerFailures f = failures;
            ServerPool other = retiredNow() && f != null ? f.replacement(this, retiredPrimary) : null;
            if (other != null && other != this && reroutes < MAX_REROUTES) {
                other.acquire(context, opener, checkout, reroutes + 1);   // read the view before a reload took this server out
            } else {
                checkout.failed(new IllegalStateException("pool " + name + " is closed"));
            }
        }
    }

    private synchronized boolean retiredNow() {
        return retired;
    }

    /** Hands {@code conn} over; if it is no longer wanted, it goes back to its pool (possibly another's, after a reroute). */
    private static void hand(Checkout checkout, ServerConnection conn) {
        if (!checkout.handed(conn)) {
            conn.pool().release(conn, System.nanoTime());
        }
    }

    private void open(Context context, Opener opener, Checkout checkout, int reroutes) {
        opener.open(this).onComplete(ar -> {
            if (ar.succeeded()) {
                hand(checkout, ar.result());
            } else {
                slotFreed(NetSockets.eventLoop(context));
                elsewhere(context, opener, checkout, reroutes, ar.cause());
            }
        });
    }

    /**
     * PgCat's checkout health check: {@code ;} within healthcheck_timeout (a timer closes the
     * connection, which fails the query). On failure the connection is closed (its slot freed),
     * the routing hears of it, and the checkout goes on in the pool it names, or here: another
     * idle connection, else a new one.
     */
    private void check(ServerConnection conn, Context context, Opener opener, Checkout checkout,
                                          int reroutes) {
        boolean[] timedOut = new boolean[1];
        long timer = context.owner().setTimer(healthcheckTimeoutMillis, t -> {
            timedOut[0] = true;
            conn.close();
        });
        conn.runInternal(";").onComplete(ar -> {
            context.owner().cancelTimer(timer);
            if (ar.succeeded() && conn.usable()) {
                hand(checkout, conn);
                return;
            }
            Throwable cause = timedOut[0]
                ? new PgException(SqlState.CONNECTION_FAILURE, "no answer to the health check within healthcheck_timeout ("
                    + healthcheckTimeoutMillis + " ms)")
                : ar.failed() ? ar.cause() : new PgException(SqlState.CONNECTION_FAILURE, "server connection closed");
            log.warn("{}: health check of an idle connection failed: {}", name, cause.getMessage());
            conn.close();
            ServerFailures f = failures;
            ServerPool other = f == null ? null : f.serverFailed(this, cause);
            if (other != null && other != this && reroutes < MAX_REROUTES) {
                other.acquire(context, opener, checkout, reroutes + 1);
            } else {
                acquire(context, opener, checkout, reroutes);
            }
        });
    }

    /** After a failed connect: the pool the routing names instead, or the error. */
    private void elsewhere(Context context, Opener opener, Checkout checkout, int reroutes, Throwable err) {
        ServerFailures f = failures;
        ServerPool other = f == null ? null : f.serverFailed(this, err);
        if (other == null || other == this || reroutes >= MAX_REROUTES) {
            checkout.failed(err);
            return;
        }
        log.debug("{}: connect failed, trying {}", name, other.name());
        other.acquire(context, opener, checkout, reroutes + 1);
    }

    /** An idle connection of another loop, to close so its slot can be used here. */
    private ServerConnection pollIdleElsewhere(Object loop) {
        for (Map.Entry<Object, LoopShare> e : loops.entrySet()) {
            if (e.getKey() != loop) {
                ServerConnection c = e.getValue().idle.pollFirst();
                if (c != null) {
                    return c;
                }
            }
        }
        return null;
    }

    /**
     * Gives back a clean, idle connection, released at {@code now} (System.nanoTime()). Called on
     * the connection's loop.
     *
     * <p>A waiter of this loop gets it through the loop's task queue, not inside this call. Handed
     * over at once (inside the connection's read of ReadyForQuery), the next client's query went
     * to its server before the loop had answered the other sockets ready in the same poll, and
     * 50-client pgbench runs lost throughput (BENCHMARKS.md, "Third round").
     */
    void release(ServerConnection conn, long now) {
        boolean expired = lifetimeNanos > 0 && now - conn.createdAt() > lifetimeNanos || conn.closeNeeded();
        Object loop = NetSockets.eventLoop(conn.context());
        synchronized (this) {
            if (!closed && conn.usable() && !expired && size <= maxSize) {
                LoopShare mine = share(loop);
                Waiter waiter = pollWaiterOn(loop, mine);
                if (waiter != null) {
                    waiter.context.runOnContext(x -> hand(waiter.checkout, conn));
                    return;
                }
                if (!foreignWaiterOwed()) {
                    mine.idle.addLast(conn);
                    return;
                }
            }
        }
        // Closed pool, broken or expired connection, a pool above its (lowered) size, or a loop
        // below its share waiting: closing it hands the slot on, or shrinks the pool (connectionClosed).
        if (log.isDebugEnabled()) {
            Waiter first;
            String shares;
            synchronized (this) {
                first = waiters.peekFirst();
                StringBuilder b = new StringBuilder();
                loops.forEach((k, l) -> b.append(" [owned ").append(l.owned).append(" idle ").append(l.idle.size())
                    .append(" waiting ").append(l.waiting).append(" clients ").append(l.clients).append(']'));
                shares = b.toString();
            }
            log.debug("pool {}: released connection closed (usable {}, expired {}, closed pool {}, first waiter waited {} us){}",
                name, conn.usable(), expired, closed, first == null ? -1 : (System.nanoTime() - first.since) / 1000, shares);
        }
        conn.close();
    }

    /** The first waiter on this loop, if any (FIFO among them). */
    private Waiter pollWaiterOn(Object loop, LoopShare mine) {
        if (mine.waiting == 0) {
            return null;
        }
        for (java.util.Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
            Waiter w = it.next();
            if (w.loop() == loop) {
                it.remove();
                mine.waiting--;
                return w;
            }
        }
        return null;
    }

    /**
     * Whether the first waiter (on another loop, as this loop has none) is owed a slot: its
     * loop is below its share, or it has waited too long.
     */
    private boolean foreignWaiterOwed() {
        Waiter first = waiters.peekFirst();
        return first != null && (belowShare(share(first.loop())) || System.nanoTime() - first.since > STARVED_NANOS);
    }

    /**
     * Every connection that was opened calls this once when it closes, for whatever reason:
     * its slot goes to the first waiter, or the pool shrinks.
     */
    void connectionClosed(ServerConnection conn) {
        Object loop = NetSockets.eventLoop(conn.context());
        synchronized (this) {
            share(loop).idle.remove(conn);
        }
        slotFreed(loop);
    }

    /** A slot of {@code loop} is free (a connection closed or failed to open): the first waiter opens one. */
    private void slotFreed(Object loop) {
        Waiter waiter;
        synchronized (this) {
            share(loop).owned--;
            // Above pool_size (lowered by a reload): the slot goes, the pool shrinks.
            waiter = closed || size > maxSize ? null : waiters.pollFirst();
            if (waiter == null) {
                size--;
                return;
            }
            LoopShare theirs = share(waiter.loop());
            theirs.waiting--;
            theirs.owned++;
        }
        waiter.context.runOnContext(x -> open(waiter.context, waiter.opener, waiter.checkout, waiter.reroutes));
    }

    /**
     * Idle connections of this loop past idle_timeout or server_lifetime, taken out of the
     * pool for the caller to close (never one in use: only idle ones are looked at), keeping
     * min_pool_size of them (the primary's pool only).
     */
    java.util.List<ServerConnection> expiredIdle(Object loop, long now) {
        java.util.List<ServerConnection> out = new java.util.ArrayList<>();
        synchronized (this) {
            LoopShare l = loops.get(loop);
            if (l == null) {
                return out;
            }
            ArrayDeque<ServerConnection> q = l.idle;
            for (java.util.Iterator<ServerConnection> it = q.iterator(); it.hasNext(); ) {
                ServerConnection c = it.next();
                boolean idleTooLong = idleTimeoutNanos > 0 && now - c.lastUsed() > idleTimeoutNanos;
                boolean tooOld = lifetimeNanos > 0 && now - c.createdAt() > lifetimeNanos;
                if ((idleTooLong && size - out.size() > (keepMinimum ? minSize : 0)) || tooOld) {
                    it.remove();
                    out.add(c);
                }
            }
        }
        return out;
    }

    /** Whether the pool is below min_pool_size (and may open one more). */
    synchronized boolean belowMinimum() {
        return keepMinimum && !closed && size < minSize && waiters.isEmpty();
    }

    /** Cancels a waiter that gave up (client left); true if it was still waiting. */
    synchronized boolean cancelWait(Checkout checkout) {
        for (java.util.Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
            Waiter w = it.next();
            if (w.checkout == checkout) {
                it.remove();
                share(w.loop()).waiting--;
                return true;
            }
        }
        return false;
    }

    /**
     * A reload took this server out of its shard (or changed the login): no new connections, idle
     * ones close now, busy ones when released (as their transactions end); waiters and later
     * checkouts go where the routing sends them instead ({@link ServerFailures#replacement}).
     */
    void retire(boolean wasPrimary) {
        java.util.List<Waiter> moved;
        ArrayDeque<ServerConnection> idleNow = new ArrayDeque<>();
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            retired = true;
            retiredPrimary = wasPrimary;
            moved = new java.util.ArrayList<>(waiters);
            waiters.clear();
            for (LoopShare l : loops.values()) {
                idleNow.addAll(l.idle);
                l.idle.clear();
                l.waiting = 0;
            }
        }
        log.info("pool {}: server taken out by a reload, its connections close as their transactions end", name);
        for (ServerConnection c : idleNow) {
            c.context().runOnContext(x -> c.close());
        }
        ServerFailures f = failures;
        for (Waiter w : moved) {
            ServerPool other = f == null ? null : f.replacement(this, wasPrimary);
            w.context.runOnContext(x -> {
                if (other != null && other != this) {
                    other.acquire(w.context, w.opener, w.checkout, w.reroutes);
                } else {
                    w.checkout.failed(new IllegalStateException("pool " + name + " is closed"));
                }
            });
        }
    }

    void close() {
        ArrayDeque<Waiter> w;
        ArrayDeque<ServerConnection> all = new ArrayDeque<>();
        synchronized (this) {
            closed = true;
            w = new ArrayDeque<>(waiters);
            waiters.clear();
            for (LoopShare l : loops.values()) {
                all.addAll(l.idle);
                l.idle.clear();
                l.waiting = 0;
            }
        }
        for (ServerConnection c : all) {
            c.context().runOnContext(x -> c.close());
        }
        for (Waiter waiter : w) {
            waiter.context.runOnContext(x -> waiter.checkout.failed(new IllegalStateException("pool " + name + " is closed")));
        }
        log.debug("pool {} closed", name);
    }
}
