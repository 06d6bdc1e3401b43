package dev.pgfleet.proxy;

import dev.pgfleet.shared.net.NetSockets;
import dev.pgfleet.shared.protocol.BackendMessages;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a session gets a server connection: an idle one of its event loop with its settings (the
 * common case in transaction mode: no Future, no allocation), else the pool's next one (new, or
 * freed by another client, waiting at most query_wait_timeout), with the session's settings
 * applied before anything of the client's reaches it. A connection found dead before any of the
 * client's messages reached it is replaced, a few times; a failure becomes the client's error.
 * The session counts in each pool it uses (the pools' per-loop share, see ServerPool#attach).
 */
final class Checkout {

    private static final Logger log = LoggerFactory.getLogger(Checkout.class);

    /** A server connection found dead before any of the client's messages reached it: tried again this often. */
    private static final int MAX_ATTEMPTS = 3;

    private final ClientSession session;
    /** The checkout the session waits on, if any: cancelled if the client leaves. */
    private ServerPool.Checkout acquiring;
    /** The pool {@link #acquiring} waits in. */
    private ServerPool acquiringFrom;
    /** Checkouts tried for the current login or transaction (see ServerConnection.Lost). */
    private int attempts;
    /** The pools this client counts in (see ServerPool#attach): usually one, a few with replicas. */
    private ServerPool[] attached = new ServerPool[2];
    private int attachedCount;
    /** Transaction mode's checkout, one per session: a wait for a server connection allocates nothing. */
    private final ServerPool.Checkout transactionCheckout;

    Checkout(ClientSession session) {
        this.session = session;
        this.transactionCheckout = new ServerPool.Checkout() {
            @Override
            public boolean handed(ServerConnection conn) {
                if (acquiring != this || session.closed()) {
                    return false;
                }
                acquiring = null;
                if (session.settings.appliedOn(conn)) {
                    acquiredForTransaction(conn, null);
                } else {
                    withSettings(conn).onComplete(ar -> acquiredForTransaction(ar.result(), ar.cause()));
                }
                return true;
            }

            @Override
            public void failed(Throwable cause) {
                if (acquiring == this) {
                    acquiring = null;
                    acquiredForTransaction(null, waitError(cause, false));
                }
            }
        };
    }

    /**
     * A server connection of {@code pool} for this session with the session's settings applied:
     * an idle one, a new one, or the next one free (waiting at most query_wait_timeout).
     */
    Future<ServerConnection> acquire(ServerPool pool, boolean login) {
        attempts = 0;
        return attempt(pool, login);
    }

    private Future<ServerConnection> attempt(ServerPool pool, boolean login) {
        attempts++;
        attach(pool);
        Promise<ServerConnection> waited = NetSockets.promise(session.context);
        ServerPool.Checkout checkout = new ServerPool.PromiseCheckout(waited);
        session.startWait();
        acquiring = checkout;
        acquiringFrom = pool;
        pool.acquire(session.context, session.verticle.connector()::open, checkout);
        return waited.future().recover(err -> Future.failedFuture(waitError(err, login)))
            .compose(this::withSettings)
            .recover(err -> err instanceof ServerConnection.Lost && attempts < MAX_ATTEMPTS && !session.closed()
                ? attempt(pool, login)   // only PgFleet's SET reached that server (killed while idle): take another
                : Future.failedFuture(err))
            .andThen(ar -> {
                acquiring = null;
                session.endWait();
            });
    }

    /**
     * One more server connection of {@code pool} with the session's settings, beside the session's
     * own (a binding's shard connection): counted in the pool's share, not a wait of the session's.
     */
    Future<ServerConnection> acquireFor(ServerPool pool) {
        attach(pool);
        Promise<ServerConnection> waited = NetSockets.promise(session.context);
        pool.acquire(session.context, session.verticle.connector()::open, new ServerPool.PromiseCheckout(waited));
        return waited.future().recover(err -> Future.failedFuture(waitError(err, false))).compose(this::withSettings);
    }

    /** A failed checkout as the client sees it: query_wait_timeout is 57014, as a cancelled statement. */
    private Throwable waitError(Throwable err, boolean login) {
        return err instanceof ServerPool.WaitTimeout
            ? new PgException(SqlState.QUERY_CANCELED, "no server connection available within query_wait_timeout ("
                + session.runtime.queryWaitTimeoutMillis() + " ms)", null, login)
            : err;
    }

    /** {@code conn} with this session's settings applied (at once when it has them already). */
    private Future<ServerConnection> withSettings(ServerConnection conn) {
        if (session.closed()) {
            conn.release();
            return Future.failedFuture("client left");
        }
        SettingsTracker settings = session.settings;
        if (settings.appliedOn(conn)) {
            return Future.succeededFuture(conn);
        }
        java.util.Map<String, String> wanted = settings.settings();
        String sql = SessionSettings.syncSql(wanted, conn.applied());
        return conn.runInternal(sql).transform(ar -> {
            if (ar.failed()) {
                conn.release();
                return Future.failedFuture(ar.cause());
            }
            conn.applied(wanted);
            return Future.succeededFuture(conn);
        });
    }

    /** Counts this client in the pool's share for its event loop, once per pool it uses. */
    private void attach(ServerPool p) {
        for (int i = 0; i < attachedCount; i++) {
            if (attached[i] == p) {
                return;
            }
        }
        if (attachedCount == attached.length) {
            attached = Arrays.copyOf(attached, attachedCount * 2);
        }
        attached[attachedCount++] = p;
        p.attach(session.loop);
    }

    /** The client left: a wait is cancelled, and it no longer counts in any pool. */
    void close() {
        if (acquiring != null && acquiringFrom != null) {
            acquiringFrom.cancelWait(acquiring);
        }
        for (int i = 0; i < attachedCount; i++) {
            attached[i].detach(session.loop);
        }
        attachedCount = 0;
    }

    /** Transaction mode: the client started a transaction on {@code session.pool}; its input waits until a server is linked. */
    void forTransaction() {
        attempts = 0;
        forTransactionAttempt();
    }

    private void forTransactionAttempt() {
        attempts++;
        ServerPool pool = session.pool;
        attach(pool);
        ServerConnection idle = pool.pollIdle(session.loop);
        if (idle != null && session.settings.appliedOn(idle)) {
            // The common case: an idle connection of this loop with the same settings, no Future.
            session.linked(idle);
            return;
        }
        session.waiting = true;
        if (idle != null) {
            withSettings(idle).onComplete(ar -> acquiredForTransaction(ar.result(), ar.cause()));
        } else {
            session.startWait();
            acquiring = transactionCheckout;
            acquiringFrom = pool;
            pool.acquire(session.context, session.verticle.connector()::open, transactionCheckout);
        }
    }

    /** The end of a transaction's checkout: {@code conn}, or the {@code failure} to report. */
    private void acquiredForTransaction(ServerConnection conn, Throwable failure) {
        if (log.isTraceEnabled()) {
            log.trace("[{}] acquired for transaction: {}", System.identityHashCode(session), failure == null ? "ok" : failure.toString());
        }
        if (session.closed()) {
            if (conn != null) {
                conn.release();
            }
            return;
        }
        session.endWait();
        session.waiting = false;
        if (failure instanceof ServerConnection.Lost && attempts < MAX_ATTEMPTS) {
            // Only PgFleet's settings sync reached that server (killed while idle in the pool), nothing
            // of the client's: take another connection. The client's message still waits in the framer.
            forTransactionAttempt();
            if (session.server != null) {
                session.resumeReading();   // an idle connection with the right settings, at once
            }
            return;
        }
        if (failure != null) {
            PgException e = asPgException(failure);
            if (e.fatal()) {
                session.fatal(e);
                return;
            }
            // The client stays usable: the error, then its messages up to Sync are dropped.
            session.countError(e.sqlState());
            ByteBuf out = session.channel.alloc().buffer(128);
            BackendMessages.errorResponse(out, e);
            session.writeClient(out);
            session.flushClient();
            session.discardToSync = true;
        } else {
            if (session.heldByControl()) {
                // PAUSE came while this client waited for a connection: it goes on waiting, for RESUME.
                conn.release();
                session.hold(false);
                return;
            }
            session.linked(conn);
        }
        session.resumeReading();
    }

    static PgException asPgException(Throwable t) {
        return t instanceof PgException pe ? pe
            : new PgException(SqlState.CONNECTION_FAILURE, "no server connection: " + t.getMessage());
    }
}
