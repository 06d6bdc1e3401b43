package dev.pgfleet.proxy;

import dev.pgfleet.shared.protocol.BackendMessages;
import dev.pgfleet.shared.protocol.FrontendMessages;
import dev.pgfleet.shared.protocol.MessageFramer;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.PgProtocol;
import dev.pgfleet.shared.protocol.ServerError;
import dev.pgfleet.shared.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * A client request bound to several shards at once (a {@link ClientSession.Binding}): one server
 * connection per shard, taken from each shard's primary, each in a transaction of its own that
 * commits only when every shard has done its part, and rolls back on every shard when any fails
 * (without two-phase commit a failure of COMMIT itself on one shard cannot be undone on the
 * others; the client is told; with the pool's two_phase_commit, {@link TwoPhaseCommit} commits).
 * The subclasses say what each shard is sent and how the answers are merged: {@link ShardedInsert},
 * {@link ShardedCopyIn}, {@link ShardedCopyOut}.
 *
 * <p>It works in steps: a step writes Query messages to some of the connections and ends when
 * every ReadyForQuery they owe has come; then {@link #stepDone} decides the next one. Every
 * message of the shards comes to {@link #shardMessage}; none is forwarded unread.
 */
abstract class ShardFanOut implements ServerConnection.ShardPeer, ClientSession.Binding, TwoPhaseCommit.Participants {

    final ClientSession session;
    /** The shards concerned, in the order of {@link #conns}. */
    final int[] shards;
    final ServerConnection[] conns;
    /** ReadyForQuery still owed by the current step. */
    private int owed;
    /** The first error (a shard's ErrorResponse, or PgFleet's), sent to the client at the end. */
    private ByteBuf error;
    private String errorState;
    private boolean aborting;
    private boolean done;
    /** Started by a Bind (extended protocol): the client's Describe, Execute and Sync follow. */
    private boolean extended;
    private boolean described;
    private boolean syncSeen;
    /** The answer, held until the client's Sync (extended protocol). */
    private ByteBuf held;
    /** Another statement came before the Sync: dropped up to it, as PostgreSQL drops after an error. */
    private boolean dropping;
    /**
     * Another statement came before the Sync and waits in the framer (see {@link #batchWaits}): the
     * answer goes without ReadyForQuery and the session reads on.
     */
    private boolean continued;
    /** The commit in two phases (pools with two_phase_commit), once begun. */
    private TwoPhaseCommit twoPhase;

    ShardFanOut(ClientSession session, int[] shards) {
        this.session = session;
        this.shards = shards;
        this.conns = new ServerConnection[shards.length];
    }

    /**
     * Takes a connection on every shard (client input waits meanwhile), then {@link #begin}. One
     * after the other, in ascending shard order: two requests that each need several shards then
     * never hold one shard's last connection while waiting for the other's (no deadlock until
     * query_wait_timeout), whatever the pool sizes.
     */
    final void start() {
        session.waiting = true;
        acquireFrom(0);
    }

    private void acquireFrom(int i) {
        if (i == shards.length) {
            session.waiting = false;
            if (session.closed()) {
                releaseAll();
                return;
            }
            for (ServerConnection c : conns) {
                c.linkShard(this);
            }
            begin();
            return;
        }
        session.checkoutShard(shards[i]).onComplete(ar -> {
            if (ar.succeeded()) {
                conns[i] = ar.result();
            }
            if (ar.failed() || session.closed() || done) {
                session.waiting = false;
                releaseAll();
                if (ar.failed() && !session.closed()) {
                    PgException e = Checkout.asPgException(ar.cause());
                    session.unbind(this, errorReply(new PgException(e.sqlState(), e.getMessage(), e.detail(), false)));
                }
                return;
            }
            acquireFrom(i + 1);
        });
    }

    /** The connections are linked: the first step. */
    abstract void begin();

    /** A message of connection {@code i} (ReadyForQuery and errors are counted before). */
    abstract void message(int i, byte type, ByteBuf buf, int offset, int length);

    /** Every ReadyForQuery of the step has come (and, when {@link #failed()}, the abort's too). */
    abstract void stepDone();

    /** Connection {@code i} sent an ErrorResponse (recorded by then). */
    void shardFailed(int i) {
    }

    /** The step owes {@code n} more ReadyForQuery (for requests written without {@link #query}). */
    final void addOwed(int n) {
        owed += n;
    }

    /** Writes a Query to connection {@code i}; the step owes its ReadyForQuery. */
    final void query(int i, String sql) {
        ServerConnection c = conns[i];
        ByteBuf q = c.alloc(sql.length() * 3 + 6);
        FrontendMessages.query(q, sql);
        c.requestSent();
        owed++;
        c.write(q);
        c.flush();
    }

    /**
     * Connection {@code i} is no longer needed mid-step (its work is moot after another shard's
     * error): closed, so the server stops, and what the step owed of it is forgotten.
     */
    final void dropConnection(int i) {
        ServerConnection c = conns[i];
        if (c == null) {
            return;
        }
        conns[i] = null;
        owed -= c.readyOwed();
        c.close();
        if (owed == 0) {
            stepDone();
        }
    }

    /** Writes to connection {@code i} without flushing (COPY data). */
    final void send(int i, ByteBuf buf) {
        conns[i].write(buf);
    }

    final boolean failed() {
        return error != null;
    }

    @Override
    public final void shardMessage(ServerConnection conn, byte type, ByteBuf buf, int offset, int length) {
        int i = indexOf(conn);
        if (i < 0 || done || twoPhase != null) {
            return;   // once the two-phase commit runs, only its own statements' answers count (a FATAL shows as a lost connection)
        }
        if (type == PgProtocol.ERROR_RESPONSE) {
            fail(buf, offset, length);
            shardFailed(i);
        } else if (type != PgProtocol.READY_FOR_QUERY_RESPONSE && type != PgProtocol.PARAMETER_STATUS_RESPONSE
            && type != PgProtocol.NOTICE_RESPONSE) {
            message(i, type, buf, offset, length);
        }
        if (type == PgProtocol.READY_FOR_QUERY_RESPONSE && --owed == 0) {
            stepDone();
        }
    }

    /** A shard's ErrorResponse: the first one is the client's. */
    private void fail(ByteBuf buf, int offset, int length) {
        if (error == null) {
            error = session.channel.alloc().buffer(length).writeBytes(buf, offset, length);
            errorState = ServerError.decode(buf, offset, length).sqlState();
        }
    }

    /** An error of PgFleet's (bad COPY data, a key no shard takes): the client's unless a shard's came first. */
    final void fail(PgException e) {
        if (error == null) {
            error = session.channel.alloc().buffer(128);
            BackendMessages.errorResponse(error, new PgException(e.sqlState(), e.getMessage(), e.detail(), false));
            errorState = e.sqlState();
        }
    }

    /** Ends every shard's transaction: ROLLBACK where one is open, then the error goes to the client. */
    final void rollbackAll() {
        aborting = true;
        boolean sent = false;
        for (int i = 0; i < conns.length; i++) {
            if (conns[i].txStatus() != PgProtocol.TX_IDLE || conns[i].awaitingReady()) {
                query(i, "ROLLBACK");
                sent = true;
            }
        }
        if (!sent) {
            finishWithError();
        }
    }

    /** Whether the current step is the rollback of {@link #rollbackAll}. */
    final boolean aborting() {
        return aborting;
    }

    /**
     * COMMIT on every shard (after every shard's part succeeded); with two_phase_commit, the
     * {@link TwoPhaseCommit} instead, which calls {@link #stepDone} once committed, or ends the
     * request with the error.
     */
    final void commitAll() {
        TwoPhaseRecovery tp = session.runtime.twoPhase();
        if (tp != null && tp.enabled(session.database())) {
            PgException refused = TwoPhaseCommit.refusal(tp, session.database());
            if (refused != null) {
                fail(refused);
                rollbackAll();
                return;
            }
            twoPhase = TwoPhaseCommit.start(this, tp);
            return;
        }
        for (int i = 0; i < conns.length; i++) {
            query(i, "COMMIT");
        }
    }

    @Override
    public final ClientSession session() {
        return session;
    }

    @Override
    public final ServerConnection[] connections() {
        return conns;
    }

    @Override
    public final int[] shards() {
        return shards;
    }

    @Override
    public final boolean over() {
        return done;
    }

    @Override
    public final void committed() {
        stepDone();   // the subclass answers the client
    }

    @Override
    public final void notCommitted(PgException e) {
        if (e != null) {
            fail(e);
        }
        finishWithError();
    }

    /** The request came as Bind (its Parse answered by PgFleet): Describe, Execute and Sync follow. */
    final void extended() {
        extended = true;
    }

    /** Whether the client's Describe asked for the result's description (always so for a simple Query). */
    final boolean described() {
        return !extended || described;
    }

    final boolean isExtended() {
        return extended;
    }

    final boolean syncSeen() {
        return syncSeen;
    }

    /** The client's Sync came (extended protocol), before the answer was ready. */
    void onSync() {
    }

    /** The client's Execute came (extended protocol); {@code maxRows} is its row limit, 0 for all. */
    void onExecute(int maxRows) {
    }

    /**
     * Whether a request that is not the last before Sync may let the batch go on: its answer goes
     * without ReadyForQuery and the session then reads the next message (a read that committed
     * nothing on its own). False: the request fails, see {@link #batchContinued}.
     */
    boolean batchWaits() {
        return false;
    }

    /**
     * Another statement's message came before the Sync: the implicit transaction of the batch would
     * span the split request and more, which PgFleet cannot keep on one server; the subclass fails
     * the request (nothing of it commits) and the rest of the batch is dropped up to the Sync.
     */
    void batchContinued() {
    }

    /** The request is over with the client's error, then ReadyForQuery. */
    final void finishWithError() {
        finishWithError(extended);
    }

    /** As {@link #finishWithError()}; {@code bindComplete}: the answer still owes the Bind's BindComplete. */
    final void finishWithError(boolean bindComplete) {
        ByteBuf out = session.channel.alloc().buffer(error.readableBytes() + 6);
        out.writeBytes(error);
        session.countError(errorState);
        complete(out, bindComplete);
    }

    /**
     * The answer (without ReadyForQuery) is ready: a simple Query's goes now; a Bind's gets its
     * BindComplete first and goes with ReadyForQuery when the client's Sync has come.
     */
    final void complete(ByteBuf answer) {
        complete(answer, extended);
    }

    /**
     * As {@link #complete(ByteBuf)}, for a binding that wrote the first part of its answer itself
     * ({@code bindComplete} false: the BindComplete went with it).
     */
    final void complete(ByteBuf answer, boolean bindComplete) {
        if (extended && bindComplete) {
            ByteBuf withBind = session.channel.alloc().buffer(answer.readableBytes() + 5);
            withBind.writeByte(PgProtocol.BIND_COMPLETE_RESPONSE).writeInt(4);
            withBind.writeBytes(answer);
            answer.release();
            answer = withBind;
        }
        if (extended && !syncSeen) {
            if (continued) {
                finish(answer);   // the batch goes on: the session reads the next message, whose Sync ends it
                return;
            }
            held = answer;
            releaseAll();   // the shards are done; only the client's Sync is awaited
            return;
        }
        BackendMessages.readyForQuery(answer, PgProtocol.TX_IDLE);
        finish(answer);
    }

    /** The request is over: the connections go back to their pools, {@code reply} to the client. */
    final void finish(ByteBuf reply) {
        if (done) {
            reply.release();
            return;
        }
        releaseAll();
        session.unbind(this, reply);
    }

    private void releaseAll() {
        letGo(false);
    }

    /** The request is over: its connections go back to their pools ({@code close}: are closed), its buffers are freed. */
    private void letGo(boolean close) {
        done = true;
        if (error != null) {
            error.release();
            error = null;
        }
        for (int i = 0; i < conns.length; i++) {
            ServerConnection c = conns[i];
            conns[i] = null;
            if (c == null) {
                continue;
            }
            if (close) {
                c.close();   // mid-request: nothing of it commits
            } else {
                c.release();   // closed instead when it is not clean (a shard that failed mid-way)
            }
        }
        released();
    }

    /** Buffers of the subclass are released here (the request ended, or the client left). */
    void released() {
    }

    private ByteBuf errorReply(PgException e) {
        ByteBuf out = session.channel.alloc().buffer(128);
        BackendMessages.errorResponse(out, e);
        BackendMessages.readyForQuery(out, PgProtocol.TX_IDLE);
        session.countError(e.sqlState());
        return out;
    }

    final int indexOf(ServerConnection conn) {
        for (int i = 0; i < conns.length; i++) {
            if (conns[i] == conn) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public void shardClosed(ServerConnection conn) {
        int i = indexOf(conn);
        if (i < 0 || done) {
            return;
        }
        conns[i] = null;
        if (twoPhase != null) {
            return;   // the two-phase commit sees the lost connection fail its statement
        }
        // Its transaction is gone with it; the others' are ended by closing them (mid-request,
        // perhaps mid-COPY), and the client is told.
        fail(new PgException(SqlState.CONNECTION_FAILURE, "server connection of shard " + shards[i]
            + " closed unexpectedly", null, false));
        List<ServerConnection> busy = new ArrayList<>();
        for (int k = 0; k < conns.length; k++) {
            if (conns[k] != null && (conns[k].txStatus() != PgProtocol.TX_IDLE || conns[k].awaitingReady())) {
                busy.add(conns[k]);
                conns[k] = null;
            }
        }
        finishWithError();
        for (ServerConnection c : busy) {
            c.close();
        }
    }

    @Override
    public void shardReadComplete() {
        session.flushIfNeeded();
    }

    /**
     * While bound: a Bind's Describe, Execute, Flush and Sync are taken (the answer goes at Sync;
     * another statement before the Sync fails the request, see {@link #batchContinued}); for a
     * simple Query everything waits in the framer until the request is over, as PostgreSQL would
     * not read it yet either.
     */
    @Override
    public int clientMessage(byte type, ByteBuf buf, int offset, int length) {
        if (!extended || syncSeen) {
            return MessageFramer.STOP;
        }
        switch (type) {
            case PgProtocol.DESCRIBE_REQUEST -> described = true;
            case PgProtocol.SYNC_REQUEST -> {
                syncSeen = true;
                if (held != null) {
                    ByteBuf answer = held;
                    held = null;
                    BackendMessages.readyForQuery(answer, PgProtocol.TX_IDLE);
                    session.unbind(this, answer);
                } else if (!done) {
                    onSync();
                }
            }
            case PgProtocol.EXECUTE_REQUEST, PgProtocol.FLUSH_REQUEST -> {
                if (dropping && type == PgProtocol.EXECUTE_REQUEST) {
                    return MessageFramer.CONSUME;
                }
                if (type == PgProtocol.EXECUTE_REQUEST && !done) {
                    onExecute(buf.getInt(offset + length - 4));
                }
            }
            default -> {
                if (!dropping && !failed() && batchWaits()) {
                    if (held != null) {
                        ByteBuf answer = held;   // done already: the answer goes, the session takes this message
                        held = null;
                        session.unbind(this, answer);
                    }
                    continued = true;
                    return MessageFramer.STOP;
                }
                if (!dropping) {
                    dropping = true;
                    if (!done) {
                        batchContinued();
                    }
                }
            }
        }
        return MessageFramer.CONSUME;
    }

    @Override
    public void clientClosed() {
        if (done) {
            return;
        }
        letGo(true);
        if (held != null) {
            held.release();
            held = null;
        }
    }
}
