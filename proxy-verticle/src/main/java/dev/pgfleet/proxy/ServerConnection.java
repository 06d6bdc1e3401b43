package dev.pgfleet.proxy;

import dev.pgfleet.shared.net.NetSockets;
import dev.pgfleet.shared.protocol.FrontendMessages;
import dev.pgfleet.shared.protocol.MessageFramer;
import dev.pgfleet.shared.protocol.ParameterStatus;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.PgProtocol;
import dev.pgfleet.shared.protocol.ServerError;
import dev.pgfleet.shared.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection to a PostgreSQL server, owned by a {@link ServerPool} and borrowed by one
 * client session at a time. Lives on one event loop.
 *
 * <p>While linked in session mode, what the server sends is forwarded unread, except
 * ReadyForQuery (when is the server idle, in which transaction state), ParameterStatus
 * (its settings) and ErrorResponse. In transaction mode every response is matched to its
 * request through the session's {@link RequestQueue} (still forwarded without copies), so
 * that responses to what PgFleet injected are hidden and responses PgFleet makes itself
 * are inserted in order. While not linked, everything is read and dropped.
 */
final class ServerConnection implements MessageFramer.Listener, RequestQueue.Skipped {

    private static final Logger log = LoggerFactory.getLogger(ServerConnection.class);

    /** The session a server connection is linked to. */
    interface Peer {

        /** A run of server messages for the client; the peer owns it. */
        void serverBytes(ByteBuf run);

        /**
         * ReadyForQuery with a transaction open ('T' or 'E') arrived: false to drop it (the session
         * is ending with an error instead). Not asked for 'I'.
         */
        default boolean allowReady(byte txStatus) {
            return true;
        }

        /** ReadyForQuery was forwarded. */
        void serverReady(byte txStatus);

        /** The server connection closed under the session. */
        void serverClosed(ServerConnection conn);

        /** Writes made to the client from this read cycle should be flushed. */
        void serverReadComplete();

        /** The server's outbound buffer crossed a water mark: pause or resume the client. */
        void serverWritabilityChanged(boolean writable);

        /**
         * The server reported a setting (ParameterStatus), while linked or in an internal query
         * run while linked: true to forward it to the client (ignored for internal queries).
         */
        boolean serverParameter(String name, String value);

        /**
         * The ReadyForQuery that {@link #holdNextReady()} asked for: what came before it is
         * forwarded, {@code ready} (the message, the peer owns it) is not.
         */
        void readyHeld(ByteBuf ready, byte txStatus);

        /** The server did not create this unnamed statement (its Parse failed or was skipped after an error). */
        default void unnamedStatementLost(PreparedStatements.Unnamed statement) {
        }

        /** An ErrorResponse of the server went to the client (counted by SQLSTATE class). */
        default void serverError(String sqlState) {
        }
    }

    /**
     * A request spread over several shards (see {@link ShardFanOut}) reads every message of each
     * of its shard connections itself: nothing is forwarded.
     */
    interface ShardPeer {

        /** A whole server message, {@code buf[offset, offset + length)}: the peer copies what it keeps. */
        void shardMessage(ServerConnection conn, byte type, ByteBuf buf, int offset, int length);

        /** The connection closed under the request. */
        void shardClosed(ServerConnection conn);

        /** The connection's outbound buffer drained below its low water mark (or filled). */
        default void shardWritabilityChanged(ServerConnection conn, boolean writable) {
        }

        /** The end of a read of this connection's socket: writes made to the client may be flushed. */
        default void shardReadComplete() {
        }
    }

    private enum Phase { STARTUP, IDLE, LINKED, SHARD, INTERNAL, CLOSED }

    private final Context context;
    private final NetSocket socket;
    private final ChannelHandlerContext channel;
    private final ServerPool pool;
    private final ServerTarget target;
    private final MessageFramer framer;
    private final Map<String, String> parameters = new HashMap<>();
    /** The session settings this connection has (immutable; replaced whole, compared by reference first). */
    private Map<String, String> applied = Map.of();
    /** Server-side prepared statement names, least recently used first. */
    private final LinkedHashMap<String, Boolean> prepared = new LinkedHashMap<>(16, 0.75f, true);
    /**
     * Whose unnamed statement the server holds, when PgFleet knows: the session statement a
     * client's Parse("") created here, null after a simple Query ("a simple Query message
     * also destroys the unnamed statement", PostgreSQL docs, Extended Query) or a failed Parse.
     */
    private PreparedStatements.Unnamed unnamed;
    /** A Describe's ParameterDescription, kept until its RowDescription/NoData completes a statement's description. */
    private byte[] parameterDescription;
    private final long createdAt = System.nanoTime();
    private ServerStartup startup;
    private Phase phase = Phase.STARTUP;
    private Peer peer;
    private ShardPeer shardPeer;
    private RequestQueue requests;
    private Phase afterInternal;
    private Promise<List<String[]>> internalDone;
    private List<String[]> internalRows;
    private ServerError internalError;
    private int backendPid;
    private int backendSecret;
    private byte txStatus = PgProtocol.TX_IDLE;
    private int pendingReady;
    private boolean unsynced;
    /** A FATAL or PANIC ErrorResponse went to the client: the server closes next, and that error is the client's. */
    private boolean forwardedFatal;
    /** Hand the ReadyForQuery that answers the last request to the peer instead of forwarding it. */
    private boolean holdReady;
    private long lastUsed = System.nanoTime();
    private static final java.util.concurrent.atomic.AtomicLong IDS = new java.util.concurrent.atomic.AtomicLong();
    /** SHOW SERVERS' id (PgFleet's own numbering, per process). */
    final long id = IDS.incrementAndGet();
    private final long connectMillis = System.currentTimeMillis();
    /** The loop's registry of connections (SHOW SERVERS), told when this one closes. */
    private LoopStats loopStats;
    /** RECONNECT: closed when next released instead of pooled (PgBouncer's close_needed). */
    private boolean closeNeeded;

    /**
     * The connection closed before it answered PgFleet's own query (a settings sync, the login's
     * SET, a reset): the server is gone (killed while idle in the pool), and nothing of a client's
     * reached it, so a checkout may take another connection instead.
     */
    static final class Lost extends PgException {
        private static final long serialVersionUID = 1L;

        Lost() {
            super(SqlState.CONNECTION_FAILURE, "server connection closed");
        }
    }

    ServerConnection(Context context, NetSocket socket, ServerPool pool, ServerTarget target, int maxMessageLength) {
        this.context = context;
        this.socket = socket;
        this.channel = NetSockets.context(socket);
        this.pool = pool;
        this.target = target;
        this.framer = new MessageFramer(MessageFramer.Mode.MESSAGE, maxMessageLength, this);
        framer.interceptTable(ALL);
    }

    /** Starts reading: the startup exchange runs first, then the connection serves sessions. */
    void start(ServerStartup startup) {
        this.startup = startup;
        NetSockets.onBytes(socket, this::onBytes, v -> {
            Peer p = peer;
            if (p != null) {
                p.serverReadComplete();
            } else if (shardPeer != null) {
                shardPeer.shardReadComplete();
            }
        });
        NetSockets.onWritabilityChanged(socket, writable -> {
            Peer p = peer;
            if (p != null) {
                p.serverWritabilityChanged(writable);
            } else if (shardPeer != null) {
                shardPeer.shardWritabilityChanged(this, writable);
            }
        });
        socket.closeHandler(v -> onClosed());
        socket.exceptionHandler(err -> {
            log.debug("server connection {}: {}", target, err.toString());
            socket.close();
        });
    }

    private void onBytes(ByteBuf buf) {
        try {
            framer.feed(buf);
        } catch (PgException e) {
            log.warn("server {} sent a malformed message: {}", target, e.getMessage());
            close();
        }
    }

    /** Called by ServerStartup when ReadyForQuery ends the login. */
    void startupDone(int pid, int secret) {
        this.backendPid = pid;
        this.backendSecret = secret;
        this.startup = null;
        this.phase = Phase.IDLE;
        pool.learnParameters(parameters);
        applyIntercepts();
    }

    /**
     * What is read of the server's messages: everything while not linked, while running an
     * internal query, or while matching responses to requests; otherwise only ReadyForQuery,
     * ParameterStatus and ErrorResponse, the rest passing unread.
     */
    private void applyIntercepts() {
        framer.interceptTable(phase != Phase.LINKED ? ALL : requests != null ? TRACKED : SESSION_LINKED);
    }

    private static final boolean[] ALL = MessageFramer.typeTable(true);
    /** Session mode: what says where the server stands. */
    private static final boolean[] SESSION_LINKED = MessageFramer.typeTable(false, PgProtocol.READY_FOR_QUERY_RESPONSE,
        PgProtocol.PARAMETER_STATUS_RESPONSE, PgProtocol.ERROR_RESPONSE);
    /**
     * Transaction mode: everything that answers a request (or comes first in a response), so
     * the queue stays matched; rows, COPY data and asynchronous messages pass unread.
     */
    private static final boolean[] TRACKED = MessageFramer.typeTable(true, PgProtocol.DATA_ROW_RESPONSE,
        PgProtocol.COPY_DATA, PgProtocol.NOTICE_RESPONSE, PgProtocol.NOTIFICATION_RESPONSE);

    void write(ByteBuf buf) {
        NetSockets.write(channel, buf);
    }

    void flush() {
        NetSockets.flush(channel);
    }

    ByteBuf alloc(int size) {
        return channel.alloc().buffer(size);
    }

    boolean writable() {
        return NetSockets.writable(channel);
    }

    NetSocket socket() {
        return socket;
    }

    @Override
    public int onMessage(byte type, ByteBuf buf, int offset, int length) {
        if (log.isTraceEnabled()) {
            log.trace("<=BE {} ({}, queue {}) {}", (char) type, phase, requests == null ? "-" : requests.size(),
                type == 'E' ? ServerError.decode(buf, offset, length) : "");
        }
        switch (phase) {
            case STARTUP:
                return startup.onMessage(type, buf, offset, length);
            case INTERNAL:
                return onInternalMessage(type, buf, offset, length);
            case SHARD:
                return onShardMessage(type, buf, offset, length);
            case LINKED:
                return requests != null ? onTrackedMessage(type, buf, offset, length) : onLinkedMessage(type, buf, offset, length);
            default:
                if (type == PgProtocol.ERROR_RESPONSE) {
                    // Not linked: the FATAL a server sends before it closes (admin shutdown, terminate).
                    log.debug("server {} while not linked: {}", target, ServerError.decode(buf, offset, length));
                } else if (type == PgProtocol.PARAMETER_STATUS_RESPONSE) {
                    trackParameter(buf, offset, length);
                }
                return MessageFramer.CONSUME;
        }
    }

    private int onLinkedMessage(byte type, ByteBuf buf, int offset, int length) {
        switch (type) {
            case PgProtocol.READY_FOR_QUERY_RESPONSE:
                return onReadyForQuery(buf, offset, length);
            case PgProtocol.PARAMETER_STATUS_RESPONSE:
                return onParameterStatus(buf, offset, length);
            case PgProtocol.ERROR_RESPONSE:
                noteFatal(buf, offset, length, true);
                return MessageFramer.FORWARD;
            default:
                return MessageFramer.FORWARD;
        }
    }

    /** Transaction mode: every response is matched to the request at the head of the queue. */
    private int onTrackedMessage(byte type, ByteBuf buf, int offset, int length) {
        RequestQueue q = requests;
        switch (type) {
            case PgProtocol.NOTICE_RESPONSE:
            case PgProtocol.NOTIFICATION_RESPONSE:
                return MessageFramer.FORWARD;   // asynchronous: may come at any time
            case PgProtocol.PARAMETER_STATUS_RESPONSE:
                return onParameterStatus(buf, offset, length);
            default:
                break;
        }
        emitSynthetic();
        byte head = q.peekKind();
        switch (type) {
            case PgProtocol.PARSE_COMPLETE_RESPONSE:
                if (head == RequestQueue.PARSE && q.peekSubject() instanceof PreparedStatements.Statement st) {
                    st.markPrepared();
                }
                return pollIf(q, head == RequestQueue.PARSE, type);
            case PgProtocol.BIND_COMPLETE_RESPONSE:
                return pollIf(q, head == RequestQueue.BIND, type);
            case PgProtocol.CLOSE_COMPLETE_RESPONSE:
                return pollIf(q, head == RequestQueue.CLOSE, type);
            case PgProtocol.PARAMETER_DESCRIPTION_RESPONSE:
                // First half of Describe statement; kept once per pool statement for Describes answered without a server.
                if (head == RequestQueue.DESCRIBE_STATEMENT && q.peekSubject() instanceof PreparedStatements.Statement st
                    && st.description() == null) {
                    parameterDescription = new byte[length];
                    buf.getBytes(offset, parameterDescription);
                }
                return MessageFramer.FORWARD;
            case PgProtocol.ROW_DESCRIPTION_RESPONSE:
            case PgProtocol.NO_DATA_RESPONSE:
                if (head == RequestQueue.DESCRIBE_STATEMENT || head == RequestQueue.DESCRIBE_PORTAL) {
                    if (parameterDescription != null) {
                        describedStatement(q.peekSubject(), buf, offset, length);
                    }
                    return pollIf(q, true, type);
                }
                return MessageFramer.FORWARD;   // a Query's or an Execute's row description
            case PgProtocol.COMMAND_COMPLETE_RESPONSE:
            case PgProtocol.EMPTY_QUERY_RESPONSE:
            case PgProtocol.PORTAL_SUSPENDED_RESPONSE:
                if (head == RequestQueue.EXECUTE) {
                    q.poll();
                }
                return MessageFramer.FORWARD;   // a Query has one per statement: it ends at ReadyForQuery
            case PgProtocol.ERROR_RESPONSE:
                noteFatal(buf, offset, length, head != RequestQueue.REFUSED);   // a refused request's error is PgFleet's
                return onTrackedError(q, head, buf, offset, length);
            case PgProtocol.READY_FOR_QUERY_RESPONSE:
                while (!q.isEmpty()) {
                    byte k = q.peekKind();
                    ByteBuf s = q.poll();
                    if (s != null) {
                        s.release();
                    }
                    if (k == RequestQueue.SYNC || k == RequestQueue.QUERY || k == RequestQueue.FUNCTION_CALL) {
                        break;
                    }
                }
                return onReadyForQuery(buf, offset, length);
            default:
                return MessageFramer.FORWARD;   // DataRow, COPY, FunctionCallResponse...
        }
    }

    /** Errors are rare: decoding each one to read its severity costs nothing on the hot path. */
    private void noteFatal(ByteBuf buf, int offset, int length, boolean forwarded) {
        ServerError error = ServerError.decode(buf, offset, length);
        String severity = error.severity();
        if ("FATAL".equals(severity) || "PANIC".equals(severity)) {
            forwardedFatal = true;
        }
        Peer p = peer;
        if (forwarded && p != null) {
            p.serverError(error.sqlState());
        }
    }

    /** Whether the client was sent the server's own FATAL (or PANIC) ErrorResponse. */
    boolean forwardedFatal() {
        return forwardedFatal;
    }

    private void describedStatement(Object subject, ByteBuf buf, int offset, int length) {
        byte[] first = parameterDescription;
        parameterDescription = null;
        if (subject instanceof PreparedStatements.Statement st) {
            byte[] all = java.util.Arrays.copyOf(first, first.length + length);
            buf.getBytes(offset, all, first.length, length);
            st.description(all);
        }
    }

    /**
     * An ErrorResponse: for a Query or FunctionCall it is one of its responses; in the
     * extended protocol the server now skips everything up to Sync, and so does the queue,
     * learning on the way which statements the server did not create. A refused request's
     * error is replaced by PgFleet's own; a shared statement whose result type changed is
     * retired.
     */
    private int onTrackedError(RequestQueue q, byte head, ByteBuf buf, int offset, int length) {
        if (head == RequestQueue.QUERY || head == RequestQueue.FUNCTION_CALL) {
            return MessageFramer.FORWARD;
        }
        parameterDescription = null;
        if ((head == RequestQueue.BIND || head == RequestQueue.DESCRIBE_STATEMENT)
            && q.peekSubject() instanceof PreparedStatements.Statement st) {
            // "cached plan must not change result type" (by SQLSTATE: the text may be translated)
            // is the only 0A000 a Bind or Describe of a prepared statement raises.
            ServerError error = ServerError.decode(buf, offset, length);
            if (SqlState.FEATURE_NOT_SUPPORTED.equals(error.sqlState())) {
                st.retire();
            }
        }
        if (head == RequestQueue.REFUSED) {
            framer.flushRun();
            ByteBuf mine = q.poll();
            q.skipToSync(this);
            Peer p = peer;
            if (p != null) {
                p.serverBytes(mine);
            } else {
                mine.release();
            }
            return MessageFramer.CONSUME;
        }
        q.skipToSync(this);
        return MessageFramer.FORWARD;
    }

    /** A request the server failed or skipped after an error: what it would have created does not exist. */
    @Override
    public void skipped(byte kind, boolean hidden, Object subject) {
        if (kind == RequestQueue.PARSE) {
            if (subject instanceof PreparedStatements.Statement st) {
                prepared.remove(st.serverName());
            } else if (subject instanceof PreparedStatements.Unnamed u) {
                // Failed: PostgreSQL dropped the previous unnamed statement first; skipped: it kept
                // it. Either way PgFleet parses again when it is needed.
                unnamed = null;
                Peer p = peer;
                if (p != null) {
                    p.unnamedStatementLost(u);
                }
            }
        } else if (kind == RequestQueue.CLOSE && subject instanceof String evicted) {
            prepared.put(evicted, Boolean.TRUE);   // the eviction did not happen: the server still has it
        }
    }

    private int pollIf(RequestQueue q, boolean matches, byte type) {
        if (!matches) {
            log.warn("server {}: response '{}' does not match the request queue (head '{}')", target, (char) type,
                (char) q.peekKind());
            return MessageFramer.FORWARD;
        }
        boolean hide = q.peekHidden();
        q.poll();
        return hide ? MessageFramer.CONSUME : MessageFramer.FORWARD;
    }

    /**
     * Responses PgFleet makes itself (ParseComplete for a statement the server already has,
     * CloseComplete for a statement it keeps) go out when they reach the head of the queue.
     */
    void emitSynthetic() {
        RequestQueue q = requests;
        Peer p = peer;
        if (q == null || p == null) {
            return;
        }
        boolean flushed = false;
        while (q.peekKind() == RequestQueue.SYNTHETIC) {
            if (!flushed && phase == Phase.LINKED) {
                framer.flushRun();
                flushed = true;
            }
            p.serverBytes(q.poll());
        }
    }

    private ParameterStatus trackParameter(ByteBuf buf, int offset, int length) {
        ParameterStatus p = ParameterStatus.decode(buf, offset, length);
        parameters.put(p.name(), p.value());
        return p;
    }

    /** Linked: the session decides whether the client sees it (it may be restoring startup values). */
    private int onParameterStatus(ByteBuf buf, int offset, int length) {
        ParameterStatus ps = trackParameter(buf, offset, length);
        Peer p = peer;
        return p == null || p.serverParameter(ps.name(), ps.value()) ? MessageFramer.FORWARD : MessageFramer.CONSUME;
    }

    /**
     * The ReadyForQuery answering the last request sent so far goes to the peer's
     * {@link Peer#readyHeld} instead of the client, so the session can run something of its own
     * first (restoring startup settings after a RESET).
     */
    void holdNextReady() {
        holdReady = true;
    }

    private int onReadyForQuery(ByteBuf buf, int offset, int length) {
        byte status = buf.getByte(offset + 5);
        txStatus = status;
        if (pendingReady > 0) {
            pendingReady--;
        }
        Peer p = peer;
        if (p == null) {
            return MessageFramer.CONSUME;
        }
        if (holdReady && pendingReady == 0) {
            holdReady = false;
            framer.flushRun();
            p.readyHeld(buf.retainedSlice(offset, length), status);
            return MessageFramer.CONSUME;
        }
        // Forward what came before and the ReadyForQuery itself, then tell the session, which
        // may unlink (transaction mode) before anything else is read.
        if (status == PgProtocol.TX_IDLE) {
            // The common case: what came before and the ReadyForQuery in one slice.
            framer.flushRunWith(buf, offset, length);
        } else {
            framer.flushRun();
            if (!p.allowReady(status)) {
                return MessageFramer.CONSUME;
            }
            p.serverBytes(buf.retainedSlice(offset, length));
        }
        p.serverReady(status);
        return MessageFramer.CONSUME;
    }

    @Override
    public void forward(ByteBuf run) {
        Peer p = peer;
        if (p != null && phase == Phase.LINKED) {
            p.serverBytes(run);
        } else {
            run.release();
        }
    }

    // -- used by sessions -----------------------------------------------------------------

    /** Links a session; with a request queue, responses are matched to requests. */
    void link(Peer peer, RequestQueue requests) {
        this.shardPeer = null;
        this.peer = peer;
        this.requests = requests;
        this.phase = Phase.LINKED;
        applyIntercepts();
    }

    /**
     * Links a request spread over several shards: every message goes to {@code p}, which writes
     * its own requests (and counts them with {@link #requestSent}).
     */
    void linkShard(ShardPeer p) {
        this.peer = null;
        this.requests = null;
        this.shardPeer = p;
        // A binding's Query or Parse replaces the unnamed statement: the next session must prepare its own.
        this.unnamed = null;
        this.phase = Phase.SHARD;
        applyIntercepts();
    }

    private int onShardMessage(byte type, ByteBuf buf, int offset, int length) {
        if (type == PgProtocol.READY_FOR_QUERY_RESPONSE) {
            txStatus = buf.getByte(offset + 5);
            if (pendingReady > 0) {
                pendingReady--;
            }
        } else if (type == PgProtocol.PARAMETER_STATUS_RESPONSE) {
            trackParameter(buf, offset, length);
        } else if (type == PgProtocol.ERROR_RESPONSE) {
            noteFatal(buf, offset, length, false);
        }
        ShardPeer p = shardPeer;
        if (p != null) {
            p.shardMessage(this, type, buf, offset, length);
        }
        return MessageFramer.CONSUME;
    }

    /** Unlinks the session; {@code now} (System.nanoTime()) is when the connection was last used. */
    void unlink(long now) {
        this.peer = null;
        this.shardPeer = null;
        this.requests = null;
        this.holdReady = false;
        // The session may have paused reading for its own back-pressure.
        socket.resume();
        if (phase == Phase.LINKED || phase == Phase.SHARD) {
            phase = Phase.IDLE;
            applyIntercepts();
        }
        this.lastUsed = now;
    }

    /** The session sent a message that ReadyForQuery answers (Query, Sync, FunctionCall). */
    void requestSent() {
        pendingReady++;
        unsynced = false;
    }

    /** ReadyForQuery messages still to come. */
    int readyOwed() {
        return pendingReady;
    }

    /** Extended-protocol messages were sent since the last Sync. */
    boolean unsynced() {
        return unsynced;
    }

    /** The session sent an extended-protocol message: until Sync, the server holds state. */
    void extendedSent() {
        unsynced = true;
    }

    /**
     * A ReadyForQuery is still to come (a Query, Sync or FunctionCall not answered yet): the
     * transaction may end (or not) before the next request, and a Terminate waits for it.
     */
    boolean awaitingReady() {
        return pendingReady > 0;
    }

    /** Idle, outside a transaction, every request answered: it can serve another client. */
    boolean clean() {
        return phase != Phase.CLOSED && pendingReady == 0 && !unsynced && txStatus == PgProtocol.TX_IDLE;
    }

    boolean usable() {
        return phase == Phase.IDLE && !framer.stopped();
    }

    byte txStatus() {
        return txStatus;
    }

    Map<String, String> parameters() {
        return parameters;
    }

    Map<String, String> applied() {
        return applied;
    }

    void applied(Map<String, String> settings) {
        this.applied = settings;
    }

    /** Whether this connection has the server-side statement; marks it used. */
    boolean hasPrepared(String serverName) {
        return prepared.get(serverName) != null;
    }

    /**
     * Records a statement PgFleet is preparing here; returns the least recently used one to
     * close when the connection holds more than {@code max}, else null.
     */
    String addPrepared(String serverName, int max) {
        prepared.put(serverName, Boolean.TRUE);
        if (prepared.size() > max) {
            String eldest = prepared.keySet().iterator().next();
            prepared.remove(eldest);
            return eldest;
        }
        return null;
    }

    void forgetPrepared() {
        prepared.clear();
    }

    /** Whose unnamed statement the server holds (see {@link #unnamed}). */
    PreparedStatements.Unnamed unnamed() {
        return unnamed;
    }

    void unnamed(PreparedStatements.Unnamed statement) {
        this.unnamed = statement;
    }

    int backendPid() {
        return backendPid;
    }

    int backendSecret() {
        return backendSecret;
    }

    ServerTarget target() {
        return target;
    }

    ServerPool pool() {
        return pool;
    }

    Context context() {
        return context;
    }

    long createdAt() {
        return createdAt;
    }

    long lastUsed() {
        return lastUsed;
    }

    /**
     * Runs the reset query (DISCARD ALL by default) and gives the connection back to its
     * pool; a connection that is not clean is closed instead, since it may still be in the
     * middle of something a reset cannot undo in order.
     */
    void resetAndRelease(String resetQuery) {
        long now = System.nanoTime();
        unlink(now);
        if (!clean()) {
            close();
            return;
        }
        if (resetQuery == null || resetQuery.isEmpty()) {
            pool.release(this, now);
            return;
        }
        runInternal(resetQuery).onComplete(ar -> {
            if (ar.succeeded() && usable()) {
                // DISCARD ALL drops settings and prepared statements alike.
                applied = Map.of();
                prepared.clear();
                pool.release(this, System.nanoTime());
            } else {
                close();
            }
        });
    }

    /** Gives the connection back as it is (transaction mode: no reset between clients). */
    void release() {
        release(System.nanoTime());
    }

    /** As {@link #release()}, {@code now} being the System.nanoTime() the caller read last (at the ReadyForQuery). */
    void release(long now) {
        unlink(now);
        if (clean()) {
            pool.release(this, now);
        } else {
            close();
        }
    }

    /**
     * Runs a simple query of PgFleet's own (a reset, the settings a session needs),
     * reading and dropping its results; returns the rows of text columns it produced.
     * Fails with the server's error, if any. The connection must be clean; afterwards it is
     * back in the phase it was in.
     */
    Future<List<String[]>> runInternal(String sql) {
        return runInternal(sql, false);
    }

    /**
     * As {@link #runInternal(String)}; with {@code inTransaction}, also inside the client's open
     * transaction ('T', not 'E'), where what it does commits or rolls back with the transaction.
     */
    Future<List<String[]>> runInternal(String sql, boolean inTransaction) {
        if (phase == Phase.CLOSED) {
            return NetSockets.failedFuture(context, new Lost());
        }
        boolean ready = inTransaction
            ? phase != Phase.CLOSED && pendingReady == 0 && !unsynced && txStatus != PgProtocol.TX_FAILED
            : clean();
        return sendInternal(sql, ready);
    }

    /**
     * As {@link #runInternal(String)}, in whatever transaction state the connection is (a failed
     * one included): the ROLLBACK or COMMIT that ends a client's transaction PgFleet holds.
     */
    Future<List<String[]>> endInternal(String sql) {
        if (phase == Phase.CLOSED) {
            return NetSockets.failedFuture(context, new Lost());
        }
        return sendInternal(sql, pendingReady == 0 && !unsynced);
    }

    private Future<List<String[]>> sendInternal(String sql, boolean ready) {
        if (!ready || phase == Phase.INTERNAL) {
            return NetSockets.failedFuture(context, new IllegalStateException("server connection busy"));
        }
        afterInternal = phase;
        phase = Phase.INTERNAL;
        unnamed = null;   // a simple Query destroys the unnamed statement
        applyIntercepts();
        internalError = null;
        internalRows = new ArrayList<>();
        internalDone = NetSockets.promise(context);
        ByteBuf q = alloc(sql.length() * 3 + 6);
        FrontendMessages.query(q, sql);
        requestSent();
        write(q);
        flush();
        return internalDone.future();
    }

    private int onInternalMessage(byte type, ByteBuf buf, int offset, int length) {
        switch (type) {
            case PgProtocol.ERROR_RESPONSE:
                internalError = ServerError.decode(buf, offset, length);
                break;
            case PgProtocol.PARAMETER_STATUS_RESPONSE: {
                ParameterStatus ps = trackParameter(buf, offset, length);
                Peer p = peer;
                if (p != null) {
                    p.serverParameter(ps.name(), ps.value());   // a linked session's own internal query
                }
                break;
            }
            case PgProtocol.DATA_ROW_RESPONSE:
                internalRows.add(textColumns(buf, offset));
                break;
            case PgProtocol.READY_FOR_QUERY_RESPONSE:
                txStatus = buf.getByte(offset + 5);
                if (pendingReady > 0) {
                    pendingReady--;
                }
                if (pendingReady == 0) {
                    internalFinished();
                }
                break;
            default:
                break;
        }
        return MessageFramer.CONSUME;
    }

    private static String[] textColumns(ByteBuf buf, int offset) {
        int n = buf.getUnsignedShort(offset + 5);
        String[] cols = new String[n];
        int pos = offset + 7;
        for (int i = 0; i < n; i++) {
            int len = buf.getInt(pos);
            pos += 4;
            if (len >= 0) {
                cols[i] = buf.toString(pos, len, StandardCharsets.UTF_8);
                pos += len;
            }
        }
        return cols;
    }

    private void internalFinished() {
        Promise<List<String[]>> p = internalDone;
        List<String[]> rows = internalRows;
        internalDone = null;
        internalRows = null;
        phase = afterInternal;
        applyIntercepts();
        if (p != null) {
            if (internalError != null) {
                p.tryFail(new PgException(internalError.sqlState() != null ? internalError.sqlState() : SqlState.INTERNAL_ERROR,
                    internalError.message() != null ? internalError.message() : "error from server", internalError.detail(), true));
            } else {
                p.tryComplete(rows);
            }
        }
    }

    void close() {
        if (phase != Phase.CLOSED) {
            socket.close();
        }
    }

    private void onClosed() {
        Phase was = phase;
        phase = Phase.CLOSED;
        if (loopStats != null) {
            loopStats.serverClosed(this);
        }
        framer.close();
        if (was == Phase.STARTUP) {
            if (startup != null) {
                startup.connectionClosed();
            }
            return;
        }
        if (internalDone != null) {
            Promise<List<String[]>> p = internalDone;
            internalDone = null;
            p.tryFail(new Lost());
        }
        pool.connectionClosed(this);
        Peer p = peer;
        peer = null;
        if (p != null) {
            p.serverClosed(this);
        }
        ShardPeer sp = shardPeer;
        shardPeer = null;
        if (sp != null) {
            sp.shardClosed(this);
        }
    }

    // -- SHOW SERVERS (read on this connection's loop by LoopStats) -------------------------

    void loopStats(LoopStats stats) {
        this.loopStats = stats;
        stats.serverOpened(this);
    }

    /**
     * PgBouncer's server states: login, active (linked to a client, or running a query of its
     * session's), tested (PgFleet's own query for the pool: a check or a reset), used (idle past
     * healthcheck_delay: checked before its next use), idle; null once closed.
     */
    String statsState(long now) {
        switch (phase) {
            case STARTUP:
                return "login";
            case LINKED:
                return "active";
            case INTERNAL:
                return peer != null ? "active" : "tested";
            case IDLE:
                return dev.pgfleet.shared.health.HealthChecks.needsCheck(lastUsed, now, pool.healthcheckDelayNanos()) ? "used" : "idle";
            default:
                return null;
        }
    }

    boolean closeNeeded() {
        return closeNeeded;
    }

    /** RECONNECT: an idle one closes now, a busy one when released. */
    void reconnect() {
        if (phase == Phase.IDLE && peer == null) {
            close();
        } else if (phase != Phase.CLOSED) {
            closeNeeded = true;
        }
    }

    boolean closed() {
        return phase == Phase.CLOSED;
    }

    /** Idle in its pool (not linked, not logging in, not running a query of PgFleet's). */
    boolean idleInPool() {
        return phase == Phase.IDLE && peer == null;
    }

    /** SUSPEND: flushed, then not read until RESUME. */
    void suspend(boolean on) {
        if (phase == Phase.CLOSED) {
            return;
        }
        if (on) {
            flush();
            socket.pause();
        } else {
            socket.resume();
        }
    }

    void forEachPrepared(java.util.function.Consumer<String> action) {
        prepared.keySet().forEach(action);
    }

    dev.pgfleet.shared.admin.ProxyStats.ConnectionStats connectionStats(long now, String state, String database, String user) {
        io.vertx.core.net.SocketAddress remote = socket.remoteAddress();
        io.vertx.core.net.SocketAddress local = socket.localAddress();
        String tls = dev.pgfleet.shared.net.NetSockets.tlsDescription(socket);
        Peer p = peer;
        return new dev.pgfleet.shared.admin.ProxyStats.ConnectionStats(id, "S", user, database, state,
            remote == null ? target.host() : remote.hostAddress(), remote == null ? target.port() : remote.port(),
            local == null ? "" : local.hostAddress(), local == null ? 0 : local.port(), connectMillis,
            connectMillis + (lastUsed - createdAt) / 1_000_000, 0, closeNeeded, p instanceof ClientSession cs ? cs.id : 0,
            backendPid, tls == null ? "" : tls, "", prepared.size());
    }

    /** A server error during login becomes the client's error, SQLSTATE kept when there is one. */
    static PgException loginError(ServerTarget target, ServerError error) {
        String state = error.sqlState() != null ? error.sqlState() : SqlState.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
        return new PgException(state, "server " + target.host() + ":" + target.port() + ": "
            + (error.message() != null ? error.message() : "login failed"));
    }
}
