package dev.pgfleet.proxy;

import dev.pgfleet.shared.health.HealthChecks;
import dev.pgfleet.shared.health.ServerKey;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.SqlState;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
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
 * the pool has room; if not, it waits in FIFO order. A connection released on a loop whose
 * first waiter lives on another loop is closed, and its slot goes to that waiter, which
 * opens one on its own loop. Only checkout and checkin take the lock, never forwarding.
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
  }

  private final String name;
  private final ServerTarget target;
  private final ServerKey server;
  private final int maxSize;
  private final Map<Object, ArrayDeque<ServerConnection>> idleByLoop = new HashMap<>();
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private final PreparedStatements statements = new PreparedStatements();
  private int size;
  private boolean closed;
  /** The ParameterStatus values of the first connection's login, for clients logging in. */
  private volatile Map<String, String> serverParameters;

  private record Waiter(ContextInternal context, Opener opener, Promise<ServerConnection> promise, long since,
                        int reroutes) {
  }

  private final int minSize;
  private final long idleTimeoutNanos;
  private final long lifetimeNanos;
  private final long healthcheckDelayNanos;
  private final long healthcheckTimeoutMillis;
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

  synchronized int size() {
    return size;
  }

  synchronized int idle() {
    int n = 0;
    for (ArrayDeque<ServerConnection> q : idleByLoop.values()) {
      n += q.size();
    }
    return n;
  }

  /**
   * A server connection on the caller's event loop: an idle one, a new one, or the next one
   * free. Must be called on {@code context}'s event loop.
   */
  Future<ServerConnection> acquire(ContextInternal context, Opener opener) {
    return acquire(context, opener, 0);
  }

  private Future<ServerConnection> acquire(ContextInternal context, Opener opener, int reroutes) {
    ServerConnection victim;
    Promise<ServerConnection> promise;
    ServerConnection toCheck = null;
    long now = System.nanoTime();
    synchronized (this) {
      if (closed) {
        return context.failedFuture(new IllegalStateException("pool " + name + " is closed"));
      }
      ArrayDeque<ServerConnection> idle = idleByLoop.get(context.nettyEventLoop());
      while (idle != null && !idle.isEmpty()) {
        ServerConnection conn = idle.pollLast();
        if (conn.usable()) {
          if (!HealthChecks.needsCheck(conn.lastUsed(), now, healthcheckDelayNanos)) {
            return context.succeededFuture(conn);
          }
          toCheck = conn;   // idle past healthcheck_delay: checked first, outside the lock
          break;
        }
        // Closed while idle: its close handler frees the slot.
      }
      if (toCheck != null) {
        victim = null;
        promise = null;
      } else if (size < maxSize) {
        size++;
        victim = null;
        promise = null;
      } else {
        promise = context.promise();
        waiters.add(new Waiter(context, opener, promise, now, reroutes));
        // An idle connection on another loop: closing it hands its slot to the first waiter.
        victim = pollIdleElsewhere();
      }
    }
    if (toCheck != null) {
      return check(toCheck, context, opener, reroutes);
    }
    if (promise == null) {
      return open(context, opener, reroutes);
    }
    if (victim != null) {
      victim.context().runOnContext(x -> victim.close());
    }
    return promise.future();
  }

  private Future<ServerConnection> open(ContextInternal context, Opener opener, int reroutes) {
    return opener.open(this).recover(err -> {
      slotFreed();
      return elsewhere(context, opener, reroutes, err);
    });
  }

  /**
   * PgCat's checkout health check: {@code ;} within healthcheck_timeout (a timer closes the
   * connection, which fails the query). On failure the connection is closed (its slot freed),
   * the routing hears of it, and the checkout goes on in the pool it names, or here: another
   * idle connection, else a new one.
   */
  private Future<ServerConnection> check(ServerConnection conn, ContextInternal context, Opener opener,
                                         int reroutes) {
    Promise<ServerConnection> checked = context.promise();
    boolean[] timedOut = new boolean[1];
    long timer = context.owner().setTimer(healthcheckTimeoutMillis, t -> {
      timedOut[0] = true;
      conn.close();
    });
    conn.runInternal(";").onComplete(ar -> {
      context.owner().cancelTimer(timer);
      if (ar.succeeded() && conn.usable()) {
        checked.complete(conn);
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
      Future<ServerConnection> next = other != null && other != this && reroutes < MAX_REROUTES
        ? other.acquire(context, opener, reroutes + 1) : acquire(context, opener, reroutes);
      next.onComplete(checked);
    });
    return checked.future();
  }

  /** After a failed connect: the pool the routing names instead, or the error. */
  private Future<ServerConnection> elsewhere(ContextInternal context, Opener opener, int reroutes, Throwable err) {
    ServerFailures f = failures;
    ServerPool other = f == null ? null : f.serverFailed(this, err);
    if (other == null || other == this || reroutes >= MAX_REROUTES) {
      return context.failedFuture(err);
    }
    log.debug("{}: connect failed, trying {}", name, other.name());
    return other.acquire(context, opener, reroutes + 1);
  }

  /** An idle connection of another loop, to close so its slot can be used here. */
  private ServerConnection pollIdleElsewhere() {
    for (ArrayDeque<ServerConnection> q : idleByLoop.values()) {
      ServerConnection c = q.pollFirst();
      if (c != null) {
        return c;
      }
    }
    return null;
  }

  /**
   * A waiter on another loop gets a connection released here only after it has waited this
   * long: handing over across loops means closing a connection and opening another (a new
   * login), so under steady load each loop serves its own waiters and nothing churns.
   */
  private static final long TRANSFER_AFTER_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(20);

  /** Gives back a clean, idle connection. Called on the connection's loop. */
  void release(ServerConnection conn) {
    boolean expired = lifetimeNanos > 0 && System.nanoTime() - conn.createdAt() > lifetimeNanos;
    Object loop = conn.context().nettyEventLoop();
    boolean foreignWaiters;
    synchronized (this) {
      if (!closed && conn.usable() && !expired) {
        Waiter waiter = pollWaiterOn(loop);
        if (waiter != null) {
          waiter.context.runOnContext(x -> {
            if (!waiter.promise.tryComplete(conn)) {
              release(conn);
            }
          });
          return;
        }
        Waiter oldest = waiters.peekFirst();
        if (oldest == null || System.nanoTime() - oldest.since < TRANSFER_AFTER_NANOS) {
          idleByLoop.computeIfAbsent(loop, k -> new ArrayDeque<>()).addLast(conn);
          foreignWaiters = oldest != null;
          if (!foreignWaiters) {
            return;
          }
        } else {
          foreignWaiters = false;
        }
      } else {
        foreignWaiters = false;
      }
    }
    if (foreignWaiters) {
      // Kept here for now; if a waiter elsewhere is still waiting soon, pass a slot to it.
      conn.context().owner().setTimer(TRANSFER_AFTER_NANOS / 1_000_000 + 1, t -> rebalance(loop));
      return;
    }
    // Closed pool, broken or expired connection, or a waiter elsewhere waited long enough:
    // closing it hands the slot on (connectionClosed).
    conn.close();
  }

  /** The first waiter on this loop, if any (FIFO among them). */
  private Waiter pollWaiterOn(Object loop) {
    for (java.util.Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (w.context.nettyEventLoop() == loop) {
        it.remove();
        return w;
      }
    }
    return null;
  }

  /** Waiters on other loops still waiting while this loop has idle connections: move a slot. */
  private void rebalance(Object loop) {
    ServerConnection victim = null;
    synchronized (this) {
      ArrayDeque<ServerConnection> idle = idleByLoop.get(loop);
      if (!waiters.isEmpty() && idle != null && !idle.isEmpty()) {
        victim = idle.pollFirst();
      }
    }
    if (victim != null) {
      victim.close();
    }
  }

  /**
   * Every connection that was opened calls this once when it closes, for whatever reason:
   * its slot goes to the first waiter, or the pool shrinks.
   */
  void connectionClosed(ServerConnection conn) {
    synchronized (this) {
      ArrayDeque<ServerConnection> q = idleByLoop.get(conn.context().nettyEventLoop());
      if (q != null) {
        q.remove(conn);
      }
    }
    slotFreed();
  }

  /** A slot is free (a connection closed or failed to open): the first waiter opens one. */
  private void slotFreed() {
    Waiter waiter;
    synchronized (this) {
      waiter = closed ? null : waiters.pollFirst();
      if (waiter == null) {
        size--;
        return;
      }
    }
    waiter.context.runOnContext(x -> open(waiter.context, waiter.opener, waiter.reroutes).onComplete(ar -> {
      if (ar.succeeded() && !waiter.promise.tryComplete(ar.result())) {
        // Possibly another pool's, after a failed connect here.
        ar.result().pool().release(ar.result());
      } else if (ar.failed()) {
        waiter.promise.tryFail(ar.cause());
      }
    }));
  }

  /**
   * Idle connections of this loop past idle_timeout or server_lifetime, taken out of the
   * pool for the caller to close (never one in use: only idle ones are looked at), keeping
   * min_pool_size of them (the primary's pool only).
   */
  java.util.List<ServerConnection> expiredIdle(Object loop, long now) {
    java.util.List<ServerConnection> out = new java.util.ArrayList<>();
    synchronized (this) {
      ArrayDeque<ServerConnection> q = idleByLoop.get(loop);
      if (q == null) {
        return out;
      }
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
  synchronized boolean cancelWait(Future<ServerConnection> future) {
    return waiters.removeIf(w -> w.promise.future() == future);
  }

  void close() {
    ArrayDeque<Waiter> w;
    ArrayDeque<ServerConnection> all = new ArrayDeque<>();
    synchronized (this) {
      closed = true;
      w = new ArrayDeque<>(waiters);
      waiters.clear();
      idleByLoop.values().forEach(all::addAll);
      idleByLoop.clear();
    }
    for (ServerConnection c : all) {
      c.context().runOnContext(x -> c.close());
    }
    for (Waiter waiter : w) {
      waiter.context.runOnContext(x -> waiter.promise.tryFail("pool " + name + " is closed"));
    }
    log.debug("pool {} closed", name);
  }
}
