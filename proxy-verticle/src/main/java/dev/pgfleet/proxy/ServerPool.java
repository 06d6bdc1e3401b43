package dev.pgfleet.proxy;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
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
 */
final class ServerPool {

  private static final Logger log = LoggerFactory.getLogger(ServerPool.class);

  /** Opens a server connection on the calling loop. */
  interface Opener {
    Future<ServerConnection> open(ServerPool pool);
  }

  private final String name;
  private final ServerTarget target;
  private final int maxSize;
  private final Map<Object, ArrayDeque<ServerConnection>> idleByLoop = new HashMap<>();
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private final PreparedStatements statements = new PreparedStatements();
  private int size;
  private boolean closed;
  /** The ParameterStatus values of the first connection's login, for clients logging in. */
  private volatile Map<String, String> serverParameters;

  private record Waiter(ContextInternal context, Opener opener, Promise<ServerConnection> promise, long since) {
  }

  private final int minSize;
  private final long idleTimeoutNanos;
  private final long lifetimeNanos;

  ServerPool(String name, ServerTarget target, int maxSize, int minSize, java.time.Duration idleTimeout,
             java.time.Duration lifetime) {
    this.name = name;
    this.target = target;
    this.minSize = minSize;
    this.idleTimeoutNanos = idleTimeout.toNanos();
    this.lifetimeNanos = lifetime.toNanos();
    this.maxSize = maxSize;
  }

  String name() {
    return name;
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
    ServerConnection victim;
    Promise<ServerConnection> promise;
    synchronized (this) {
      if (closed) {
        return context.failedFuture(new IllegalStateException("pool " + name + " is closed"));
      }
      ArrayDeque<ServerConnection> idle = idleByLoop.get(context.nettyEventLoop());
      while (idle != null && !idle.isEmpty()) {
        ServerConnection conn = idle.pollLast();
        if (conn.usable()) {
          return context.succeededFuture(conn);
        }
        // Closed while idle: its close handler frees the slot.
      }
      if (size < maxSize) {
        size++;
        victim = null;
        promise = null;
      } else {
        promise = context.promise();
        waiters.add(new Waiter(context, opener, promise, System.nanoTime()));
        // An idle connection on another loop: closing it hands its slot to the first waiter.
        victim = pollIdleElsewhere();
      }
    }
    if (promise == null) {
      return open(opener);
    }
    if (victim != null) {
      victim.context().runOnContext(x -> victim.close());
    }
    return promise.future();
  }

  private Future<ServerConnection> open(Opener opener) {
    return opener.open(this).onFailure(err -> slotFreed());
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
    waiter.context.runOnContext(x -> open(waiter.opener).onComplete(ar -> {
      if (ar.succeeded() && !waiter.promise.tryComplete(ar.result())) {
        release(ar.result());
      } else if (ar.failed()) {
        waiter.promise.tryFail(ar.cause());
      }
    }));
  }

  /**
   * Idle connections of this loop past idle_timeout or server_lifetime, taken out of the
   * pool for the caller to close (never one in use: only idle ones are looked at), keeping
   * min_pool_size of them.
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
        if ((idleTooLong && size - out.size() > minSize) || tooOld) {
          it.remove();
          out.add(c);
        }
      }
    }
    return out;
  }

  /** Whether the pool is below min_pool_size (and may open one more). */
  synchronized boolean belowMinimum() {
    return !closed && size < minSize && waiters.isEmpty();
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
