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
 */
final class ServerPool {

  private static final Logger log = LoggerFactory.getLogger(ServerPool.class);

  /** Opens a server connection on the calling loop. */
  interface Opener {
    Future<ServerConnection> open(ServerPool pool);
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
  private final ServerTarget target;
  private final int maxSize;
  private final Map<Object, LoopShare> loops = new HashMap<>();
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private final PreparedStatements statements = new PreparedStatements();
  private int size;
  private boolean closed;
  /** The ParameterStatus values of the first connection's login, for clients logging in. */
  private volatile Map<String, String> serverParameters;

  private record Waiter(ContextInternal context, Opener opener, Promise<ServerConnection> promise, long since) {
    Object loop() {
      return context.nettyEventLoop();
    }
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

  /** An idle connection of this loop, or null: checkout without a Future. */
  synchronized ServerConnection pollIdle(Object loop) {
    LoopShare mine = loops.get(loop);
    if (mine == null || closed) {
      return null;
    }
    while (!mine.idle.isEmpty()) {
      ServerConnection conn = mine.idle.pollLast();
      if (conn.usable()) {
        return conn;
      }
    }
    return null;
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
        w.promise.tryFail(new WaitTimeout());
      }
    }
  }

  /**
   * A server connection on the caller's event loop: an idle one, a new one, or the next one
   * free. Must be called on {@code context}'s event loop.
   */
  Future<ServerConnection> acquire(ContextInternal context, Opener opener) {
    ServerConnection victim;
    Promise<ServerConnection> promise;
    Object loop = context.nettyEventLoop();
    synchronized (this) {
      if (closed) {
        return context.failedFuture(new IllegalStateException("pool " + name + " is closed"));
      }
      LoopShare mine = share(loop);
      while (!mine.idle.isEmpty()) {
        ServerConnection conn = mine.idle.pollLast();
        if (conn.usable()) {
          return context.succeededFuture(conn);
        }
        // Closed while idle: its close handler frees the slot.
      }
      if (size < maxSize) {
        size++;
        mine.owned++;
        victim = null;
        promise = null;
      } else {
        promise = context.promise();
        waiters.add(new Waiter(context, opener, promise, System.nanoTime()));
        mine.waiting++;
        // Below its share, this loop may take an idle connection of another: closing it
        // hands the slot to the first waiter.
        victim = belowShare(mine) ? pollIdleElsewhere(loop) : null;
      }
    }
    if (promise == null) {
      return open(opener, loop);
    }
    if (victim != null) {
      log.debug("pool {}: an idle connection moves to a loop below its share", name);
      ServerConnection v = victim;
      v.context().runOnContext(x -> v.close());
    }
    return promise.future();
  }

  private Future<ServerConnection> open(Opener opener, Object loop) {
    return opener.open(this).onFailure(err -> slotFreed(loop));
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

  /** Gives back a clean, idle connection. Called on the connection's loop. */
  void release(ServerConnection conn) {
    boolean expired = lifetimeNanos > 0 && System.nanoTime() - conn.createdAt() > lifetimeNanos;
    Object loop = conn.context().nettyEventLoop();
    synchronized (this) {
      if (!closed && conn.usable() && !expired) {
        LoopShare mine = share(loop);
        Waiter waiter = pollWaiterOn(loop, mine);
        if (waiter != null) {
          waiter.context.runOnContext(x -> {
            if (!waiter.promise.tryComplete(conn)) {
              release(conn);
            }
          });
          return;
        }
        if (!foreignWaiterOwed()) {
          mine.idle.addLast(conn);
          return;
        }
      }
    }
    // Closed pool, broken or expired connection, or a loop below its share waiting:
    // closing it hands the slot on (connectionClosed).
    if (log.isDebugEnabled()) {
      log.debug("pool {}: released connection closed (usable {}, expired {}, closed pool {})", name, conn.usable(), expired,
        closed);
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
    Object loop = conn.context().nettyEventLoop();
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
      waiter = closed ? null : waiters.pollFirst();
      if (waiter == null) {
        size--;
        return;
      }
      LoopShare theirs = share(waiter.loop());
      theirs.waiting--;
      theirs.owned++;
    }
    Object theirLoop = waiter.loop();
    waiter.context.runOnContext(x -> open(waiter.opener, theirLoop).onComplete(ar -> {
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
      LoopShare l = loops.get(loop);
      if (l == null) {
        return out;
      }
      ArrayDeque<ServerConnection> q = l.idle;
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
    for (java.util.Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (w.promise.future() == future) {
        it.remove();
        share(w.loop()).waiting--;
        return true;
      }
    }
    return false;
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
      waiter.context.runOnContext(x -> waiter.promise.tryFail("pool " + name + " is closed"));
    }
    log.debug("pool {} closed", name);
  }
}
