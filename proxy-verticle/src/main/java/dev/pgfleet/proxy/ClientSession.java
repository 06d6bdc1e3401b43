package dev.pgfleet.proxy;

import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.PoolMode;
import dev.pgfleet.shared.config.UserConfig;
import dev.pgfleet.shared.net.NetSockets;
import dev.pgfleet.shared.protocol.BackendMessages;
import dev.pgfleet.shared.protocol.ExtendedMessages;
import dev.pgfleet.shared.protocol.MessageFramer;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.PgProtocol;
import dev.pgfleet.shared.protocol.SqlState;
import dev.pgfleet.shared.protocol.StartupPacket;
import dev.pgfleet.router.Classification;
import dev.pgfleet.router.SqlReader;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.net.NetSocket;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection, from its first byte to its close: the state machine (STARTUP,
 * TLS_HANDSHAKE, AUTH, CONNECTING, READY, CONSOLE, CLOSED) and the hot path of its messages, which
 * it forwards to the server connection it holds (session mode: from login to disconnect;
 * transaction mode: per transaction). The rest is delegated: {@link Handshake} (startup, TLS,
 * authentication), {@link LocalReplies}, {@link StatementRenamer}, {@link SettingsTracker},
 * {@link RouteChoice} (shard and role), {@link Checkout}, and a {@link Binding} for a request
 * spread over several shards. Lives on one event loop with its server connections, so
 * forwarding takes no lock and copies nothing.
 */
final class ClientSession implements MessageFramer.Listener, ServerConnection.Peer {


    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

    enum State { STARTUP, TLS_HANDSHAKE, AUTH, CONNECTING, READY, CONSOLE, CLOSED }

    /**
     * What a client's current request is bound to when it is not the session's one server
     * connection (which the session drives itself, the hot path): several shards' connections
     * ({@link ShardFanOut}: INSERT and COPY split between shards). The admin console is a binding
     * of another kind: the session hands the client over to it at login. While bound, every client
     * message goes to the binding; it ends with {@link ClientSession#unbind}.
     */
    interface Binding {

        /** A client message (COPY data included): a {@link MessageFramer} verdict. */
        int clientMessage(byte type, ByteBuf buf, int offset, int length);

        /** The client left: whatever the binding holds is let go (mid-request: nothing of it commits). */
        void clientClosed();

        /** The client's socket drained. */
        default void clientWritable() {
        }
    }

    final ProxyVerticle verticle;
    final ProxyRuntime runtime;
    final Context context;
    /** The context's event loop, which keys the pools' per-loop idle lists. */
    final io.netty.channel.EventLoop loop;
    final NetSocket socket;
    final ChannelHandlerContext channel;
    final MessageFramer framer;
    State state = State.STARTUP;

    // The parts of a session, each its own class (docs/ARCHITECTURE.md, "The session").
    private final Handshake handshake;
    final LocalReplies replies = new LocalReplies(this);
    final StatementRenamer statements = new StatementRenamer(this);
    final SettingsTracker settings = new SettingsTracker(this);
    final RouteChoice routeChoice = new RouteChoice(this);
    private final Checkout checkout = new Checkout(this);

    /** Holds a max_client_conn slot (see ProxyRuntime#admitClient). */
    boolean admitted;
    /** From the handshake's end: who logged in, to which pool. */
    private Handshake.Login login;
    PoolConfig poolConfig;
    UserConfig user;
    ServerPool pool;
    /** The pools this session may use (primary, replicas) and how to choose. */
    PoolRouting routing;
    /** Where the current Query's or Parse's first SQL keyword starts (-1: none), and its SQL ends. */
    int keyword = -1;
    int keywordEnd;
    ServerConnection server;
    /** A request bound to several shards (see Binding), or null. */
    private Binding binding;
    /** A transaction block over several shards (a pool with two_phase_commit), or null. */
    private ShardTransaction shardTx;
    /** A statement that moves the transaction to another shard (or ends it there) waits for the current shard's answers. */
    private boolean switchHeld;
    /** A move to another shard failed (no connection, its BEGIN failed): the statement that asked gets this error. */
    private PgException switchFailed;
    private int cancelPid;
    private int cancelSecret;
    private boolean serverNeedsFlush;
    boolean clientNeedsFlush;
    /** The pool has several shards: each transaction's shard is chosen (RouteChoice), each statement's key checked. */
    boolean sharded;
    /** Session, transaction or statement pooling, from the user's or the pool's pool_mode. */
    PoolMode mode;
    /** Transaction mode: requests sent and not yet answered, to match responses. */
    final RequestQueue requests = new RequestQueue();
    /** Client input waits (framer STOP) while a server connection is being obtained or tidied. */
    boolean waiting;
    /** After an error PgFleet raised itself: drop the client's messages up to Sync. */
    boolean discardToSync;
    private long idleInTransactionTimer;
    /** client_login_timeout, from the connection to the end of the greeting; 0 when not armed. */
    private long loginTimer;
    /**
     * Terminate (or a message PgFleet refuses) arrived behind requests the server still answers:
     * PostgreSQL answers everything sent before it, then closes, so the close waits for the last
     * ReadyForQuery and the client's later input is not read.
     */
    private boolean terminating;
    /** The FATAL to send at that close (an invalid message type), or null for a plain close. */
    private PgException closingError;
    /** Draining: client input held until every ReadyForQuery owed has come (see onSessionMessage). */
    private boolean drainHeld;
    /** For log_client_disconnections: when the client came, and why it went (null: it closed). */
    private String closeReason;
    /** This loop's counters of the session's pool (see PoolCounters); null until the pool is known. */
    PoolCounters counters;
    /** Bytes read and written before the pool was known, added to its counters then. */
    private long receivedBeforeLogin;
    private long sentBeforeLogin;
    /**
     * System.nanoTime() of: the request the server answers now, the transaction's first request,
     * the start of a wait for a checkout, the last request, the last ReadyForQuery (0: none). The
     * clocks read per request and per wait; a transaction reuses its first request's.
     */
    private long queryStart;
    private long xactStart;
    private long waitStart;
    private long lastRequest;
    private long readyAt;
    /** Held by PAUSE or SUSPEND at login (not at a transaction's start): RESUME goes on with the login. */
    private boolean heldAtLogin;
    private static final java.util.concurrent.atomic.AtomicLong IDS = new java.util.concurrent.atomic.AtomicLong();
    /** SHOW CLIENTS' id (PgFleet's own numbering, per process). */
    final long id = IDS.incrementAndGet();

    private final long connectMillis = System.currentTimeMillis();
    private final long connectNanos = System.nanoTime();

    ClientSession(ProxyVerticle verticle, Context context, NetSocket socket) {
        this(verticle, context, socket, false);
    }

    ClientSession(ProxyVerticle verticle, Context context, NetSocket socket, boolean consoleOnly) {
        this.verticle = verticle;
        this.runtime = verticle.runtime();
        this.context = context;
        this.loop = NetSockets.eventLoop(context);
        this.socket = socket;
        this.channel = NetSockets.context(socket);
        this.framer = new MessageFramer(MessageFramer.Mode.STARTUP, runtime.config().general().maxMessageSize(), this);
        this.handshake = new Handshake(this, framer, consoleOnly);
    }

    void start() {
        runtime.sessionStarted(this);
        verticle.stats().clientOpened(this);
        long loginTimeout = runtime.config().general().clientLoginTimeout().toMillis();
        if (loginTimeout > 0) {
            loginTimer = context.owner().setTimer(loginTimeout, t -> loginTimedOut());
        }
        NetSockets.onBytes(socket, this::onBytes, v -> onReadComplete());
        NetSockets.onWritabilityChanged(socket, this::clientWritabilityChanged);
        socket.closeHandler(v -> onClosed());
        socket.exceptionHandler(err -> {
            log.debug("client {}: {}", socket.remoteAddress(), err.toString());
            socket.close();
        });
        if (runtime.control().suspended()) {
            socket.pause();   // SUSPEND: nothing is read until RESUME
        }
    }

    Context context() {
        return context;
    }

    int cancelSecret() {
        return cancelSecret;
    }

    // -- reading from the client ----------------------------------------------------------

    private void onBytes(ByteBuf buf) {
        if (state == State.CLOSED) {
            buf.release();
            return;
        }
        countReceived(buf.readableBytes());
        if (!handshake.startupPacketSeen() && framer.buffered() == 0 && buf.readableBytes() >= 4
            && buf.getInt(buf.readerIndex()) == PgProtocol.TERMINATE_REQUEST << 24) {
            // Terminate ('X', length 4) before any startup packet, as node-postgres sends on connect();
            // end(). PostgreSQL reads it as a startup length of 0x58000000 and closes without a word
            // (its "invalid length of startup packet" is a COMMERROR: logged, not sent).
            buf.release();
            close();
            return;
        }
        try {
            framer.feed(buf);
            if (state == State.CONSOLE) {
                handOverToConsole();
            }
        } catch (PgException e) {
            fatal(e);
        } catch (RuntimeException e) {
            log.error("client {}: internal error", socket.remoteAddress(), e);
            fatal(new PgException(SqlState.INTERNAL_ERROR, "internal error in PgFleet"));
        }
    }

    private void onReadComplete() {
        if (serverNeedsFlush && server != null) {
            serverNeedsFlush = false;
            server.flush();
        }
        if (clientNeedsFlush) {
            // Answers PgFleet made itself, or synthetic responses written while reading the client.
            clientNeedsFlush = false;
            flushClient();
        }
    }

    @Override
    public int onMessage(byte type, ByteBuf buf, int offset, int length) {
        switch (state) {
            case READY:
                return onSessionMessage(type, buf, offset, length);
            case STARTUP:
                return handshake.onStartupPacket(buf, offset, length);
            case AUTH:
                return handshake.onAuthMessage(type, buf, offset, length);
            case CONNECTING:
            case TLS_HANDSHAKE:
            case CONSOLE:
                // Nothing is read until the server connection is ready; it waits in the framer.
                return MessageFramer.STOP;
            default:
                return MessageFramer.CONSUME;
        }
    }

    /** The hot path: only the message types that say where the server stands are read. */
    private int onSessionMessage(byte type, ByteBuf buf, int offset, int length) {
        if (idleInTransactionTimer != 0) {
            context.owner().cancelTimer(idleInTransactionTimer);
            idleInTransactionTimer = 0;
        }
        if (log.isTraceEnabled()) {
            log.trace("[{}] FE=> {} (server {}, waiting {}, discard {}) {}", System.identityHashCode(this), (char) type,
                server != null, waiting, discardToSync,
                buf.toString(offset + 5, Math.min(length - 5, 60), java.nio.charset.StandardCharsets.UTF_8).replace('\0', '|'));
        }
        if (terminating) {
            return MessageFramer.CONSUME;   // after Terminate PostgreSQL reads nothing more
        }
        if (!FRONTEND_MESSAGES[type & 0xFF]) {
            // As PostgreSQL's SocketBackend: FATAL, whatever the state (and after the answers to what came before).
            return closeAfterAnswers(new PgException(SqlState.PROTOCOL_VIOLATION, "invalid frontend message type " + (type & 0xFF)));
        }
        if (type == PgProtocol.TERMINATE_REQUEST) {
            // Terminate ends the client, not the pooled server connection.
            closeReason = "client close request";
            return closeAfterAnswers(null);
        }
        if (binding != null) {
            return binding.clientMessage(type, buf, offset, length);
        }
        if (discardToSync) {
            return discardUntilSync(type, buf, offset, length);
        }
        if (replies.answering()) {
            return replies.answerExtended(type, type == PgProtocol.DESCRIBE_REQUEST && buf.getByte(offset + 5) == 'S');
        }
        if (waiting) {
            return MessageFramer.STOP;
        }
        if (mode == PoolMode.SESSION) {
            return onSessionModeMessage(type, buf, offset, length);
        }
        if (server == null && (type == PgProtocol.COPY_DONE || type == PgProtocol.COPY_FAIL_REQUEST)) {
            return MessageFramer.CONSUME;   // outside COPY PostgreSQL ignores them: no server connection for that
        }
        if (type == PgProtocol.BIND_REQUEST && routeChoice.localStatements != null) {
            int local = routeChoice.bindLocal(buf, offset, length);
            if (local != -1) {
                return local;
            }
        }
        if (type == PgProtocol.QUERY_REQUEST || type == PgProtocol.PARSE_REQUEST) {
            findKeyword(type, buf, offset, length);   // once, for every check below
            int own = routeChoice.command(type, buf, offset, length, keyword, keywordEnd);
            if (own != -1) {
                return own;
            }
            int local = statements.sqlCommand(type, buf, keyword, keywordEnd);
            if (local != -1) {
                return local;
            }
        }
        if (server == null) {
            if (runtime.control().flags() != 0) {
                // Draining, PAUSE, SUSPEND: one volatile read here when none is in force.
                int controlled = controlled();
                if (controlled != -1) {
                    return controlled;
                }
            }
            int answered = replies.withoutServer(type, buf, offset, length);
            if (answered != -1) {
                return answered;
            }
            ServerPool picked = routeChoice.pick(type, buf, offset, length);
            if (picked == null) {
                return MessageFramer.CONSUME;   // refused: a shard hint naming no shard of the pool
            }
            pool = picked;
            checkout.forTransaction();
            if (server == null || waiting || discardToSync) {
                // Not at once (the common case when the pool has an idle connection on this loop
                // with the right settings is at once): the message waits in the framer.
                return discardToSync ? discardUntilSync(type, buf, offset, length) : MessageFramer.STOP;
            }
        }
        if (sharded) {
            // Also right after the checkout above: a deferred BEGIN goes first.
            int shardChecked = shardedInTransaction(type, buf, offset, length);
            if (shardChecked != -1) {
                return shardChecked;
            }
        }
        if (server.awaitingReady() && runtime.shuttingDown()) {
            // Draining: nothing is pipelined past a ReadyForQuery still to come, which may end the
            // transaction; then the client leaves with nothing of its next transaction sent.
            drainHeld = true;
            return MessageFramer.STOP;
        }
        return onTransactionModeMessage(type, buf, offset, length);
    }

    /** Where the SQL of this Query or Parse starts its first keyword ({@link #keyword}, -1: none) and ends ({@link #keywordEnd}). */
    private void findKeyword(byte type, ByteBuf buf, int offset, int length) {
        int from = type == PgProtocol.QUERY_REQUEST ? offset + 5 : ExtendedMessages.parseQueryStart(buf, offset, length);
        keywordEnd = offset + length - 1;
        keyword = SqlReader.firstKeywordFrom(buf, from, keywordEnd);
    }

    private int onSessionModeMessage(byte type, ByteBuf buf, int offset, int length) {
        if (sharded && (type == PgProtocol.QUERY_REQUEST || type == PgProtocol.PARSE_REQUEST)) {
            // SET SHARD, SET SHARDING KEY and SHOW SHARD are PgFleet's in session mode too.
            findKeyword(type, buf, offset, length);
            int own = routeChoice.command(type, buf, offset, length, keyword, keywordEnd);
            if (own != -1) {
                return own;
            }
        }
        switch (type) {
            case PgProtocol.QUERY_REQUEST:
                // The session's server connection keeps what the client sets; only a RESET needs PgFleet
                // (startup values come back). A byte scan decides whether the SQL is read at all.
                settings.sessionModeQuery(buf, offset, length);
                requestStarting(server);
                server.requestSent();
                return MessageFramer.FORWARD;
            case PgProtocol.SYNC_REQUEST:
            case PgProtocol.FUNCTION_CALL_REQUEST:
                requestStarting(server);
                server.requestSent();
                return MessageFramer.FORWARD;
            case PgProtocol.COPY_DONE:
            case PgProtocol.COPY_FAIL_REQUEST:
                return MessageFramer.FORWARD;   // COPY's, or ignored by the server outside COPY
            case PgProtocol.PARSE_REQUEST:
                counters.clientParses++;
                counters.serverParses++;
                settings.sessionModeParse(buf, offset, length);
                server.extendedSent();
                return MessageFramer.FORWARD;
            case PgProtocol.BIND_REQUEST:
                counters.binds++;
                settings.sessionModeBind(buf, offset, length);
                server.extendedSent();
                return MessageFramer.FORWARD;
            default:
                server.extendedSent();
                return MessageFramer.FORWARD;
        }
    }

    /**
     * Terminate, or a FATAL of PgFleet's ({@code error}) for a message it refuses: at once when
     * the server owes the client nothing, else after the ReadyForQuery of the last request sent
     * before it (PostgreSQL handles messages in order).
     */
    private int closeAfterAnswers(PgException error) {
        if (server != null && server.awaitingReady()) {
            terminating = true;
            closingError = error;
            return MessageFramer.CONSUME;
        }
        if (error != null) {
            fatal(error);
        } else {
            close();
        }
        return MessageFramer.CONSUME;
    }

    private void finishTerminating() {
        if (closingError != null) {
            fatal(closingError);
        } else {
            flushClient();
            close();
        }
    }

    /**
     * Transaction (and statement) mode, with a server connection linked: each request is
     * queued so its response can be matched, and named prepared statements are renamed to
     * the pool's server-side names, prepared just in time on this server connection.
     */
    private int onTransactionModeMessage(byte type, ByteBuf buf, int offset, int length) {
        ServerConnection s = server;
        switch (type) {
            case PgProtocol.QUERY_REQUEST:
                settings.noteEffects(settings.sessionEffects(buf, keyword, keywordEnd));
                statements.query(s);
                requests.add(RequestQueue.QUERY, false);
                requestStarting(s);
                s.requestSent();
                return MessageFramer.FORWARD;
            case PgProtocol.SYNC_REQUEST:
                requests.add(RequestQueue.SYNC, false);
                requestStarting(s);
                s.requestSent();
                return MessageFramer.FORWARD;
            case PgProtocol.EXECUTE_REQUEST:
                return statements.onExecute(buf, offset, length);
            case PgProtocol.PARSE_REQUEST:
                return statements.onParse(buf, offset, length);
            case PgProtocol.BIND_REQUEST:
                return statements.onBind(buf, offset, length);
            case PgProtocol.DESCRIBE_REQUEST:
                return statements.onDescribe(buf, offset, length);
            case PgProtocol.CLOSE_REQUEST:
                return statements.onClose(buf, offset, length);
            case PgProtocol.FUNCTION_CALL_REQUEST:
                requests.add(RequestQueue.FUNCTION_CALL, false);
                requestStarting(s);
                s.requestSent();
                return MessageFramer.FORWARD;
            default:
                // Flush, and COPY messages if they were intercepted.
                return MessageFramer.FORWARD;
        }
    }

    /**
     * Session mode, SET SHARD or SET SHARDING KEY: the session moves to a connection of that
     * shard, taken as at login (its startup settings applied; what the client SET on the old one
     * stays there). Only between transactions: false when the server connection is busy.
     */
    boolean moveToShard(PoolRouting shard) {
        ServerConnection old = server;
        if (old == null || !old.clean()) {
            return false;
        }
        server = null;
        old.resetAndRelease(runtime.config().general().serverResetQuery());
        pool = shard.forSession();
        waiting = true;
        checkout.acquire(pool, false).onComplete(ar -> {
            waiting = false;
            if (state != State.READY) {
                if (ar.succeeded()) {
                    ar.result().release();
                }
                return;
            }
            if (ar.failed()) {
                fatal(Checkout.asPgException(ar.cause()));
                return;
            }
            bindForSession(ar.result());
            resumeReading();
        });
        return true;
    }

    /**
     * A sharded pool's message with a server connection linked: the deferred BEGIN goes first
     * (the connection was just taken for this message, at once or after a wait), and a statement
     * is checked against the transaction's shard. -1: go on.
     */
    private int shardedInTransaction(byte type, ByteBuf buf, int offset, int length) {
        if (routeChoice.deferredStatus() != PgProtocol.TX_IDLE) {
            return beginDeferred();
        }
        if (type == PgProtocol.QUERY_REQUEST || type == PgProtocol.PARSE_REQUEST || type == PgProtocol.BIND_REQUEST) {
            if (shardTx != null) {
                int ended = endShardTransaction(type, buf, offset, length);
                if (ended != -1) {
                    return ended;
                }
            }
            return routeChoice.checkInTransaction(type, buf, offset, length);
        }
        return -1;
    }

    /**
     * Inside a transaction on a pool with two_phase_commit: this statement's key is on shard
     * {@code to}, the transaction is on {@code from}. The transaction goes on there: {@code from}'s
     * connection is parked in the {@link ShardTransaction}, and {@code to}'s is linked (taken from its
     * primary and begun as the client's block began, the first time). Only between requests: while
     * the current shard owes a ReadyForQuery the statement waits; in the middle of an extended-protocol
     * batch (messages sent since Sync) it is refused, as the batch's answers must come in order.
     *
     * @return a framer verdict, or -1 to go on with the message on the connection linked now
     */
    int switchShard(int from, int to) {
        ServerConnection a = server;
        if (a.awaitingReady()) {
            switchHeld = true;   // resumed by the ReadyForQuery (serverReady)
            return MessageFramer.STOP;
        }
        if (!requests.isEmpty() || a.unsynced()) {
            return statements.refuse(new PgException(SqlState.FEATURE_NOT_SUPPORTED, "the transaction is on shard " + from
                + " and this statement's sharding key is on shard " + to + ": inside a transaction block a batch "
                + "(the messages up to Sync) must not span shards", null, false));
        }
        if (a.txStatus() == PgProtocol.TX_FAILED) {
            return -1;   // the server answers with 25P02 itself
        }
        if (shardTx == null) {
            shardTx = new ShardTransaction(this, poolConfig.shards().size(), routeChoice.transactionBegin());
        }
        ShardTransaction tx = shardTx;
        tx.park(from, a);
        server = null;
        ServerConnection b = tx.take(to);
        if (b != null) {
            linked(b);
            routeChoice.movedTo(to);
            return -1;
        }
        waiting = true;
        checkoutShard(to).compose(c -> c.runInternal(tx.begin).map(c).recover(err -> {
            c.release();
            return Future.failedFuture(err);
        })).onComplete(ar -> {
            waiting = false;
            if (state != State.READY || shardTx != tx) {
                if (ar.succeeded()) {
                    ar.result().close();   // the client left: nothing of its transaction stays
                }
                return;
            }
            if (ar.succeeded()) {
                tx.park(to, ar.result());
                linked(tx.take(to));
                routeChoice.movedTo(to);
            } else {
                // Back on the transaction's shard, where the statement fails (and the transaction with it).
                linked(tx.take(from));
                PgException e = Checkout.asPgException(ar.cause());
                switchFailed = new PgException(e.sqlState(), e.getMessage(), e.detail(), false);
            }
            resumeReading();
        });
        return MessageFramer.STOP;
    }

    /** The error of a failed move to another shard, for the statement that asked (see switchShard); null if none. */
    PgException takeSwitchFailure() {
        PgException e = switchFailed;
        switchFailed = null;
        return e;
    }

    /**
     * COMMIT or ROLLBACK of a transaction over several shards: ended on every shard
     * ({@link ShardTransaction#end}), and answered here. A statement that would end or split the
     * transaction on one shard only (a savepoint, PREPARE TRANSACTION, AND CHAIN, COMMIT inside a
     * multi-statement Query) is refused with 0A000 and fails the transaction. -1: not one of these.
     */
    private int endShardTransaction(byte type, ByteBuf buf, int offset, int length) {
        CharSequence sql = routeChoice.statementSql(type, buf, offset, length);
        if (sql == null) {
            return -1;
        }
        Classification c = runtime.classifier().classify(sql);
        Classification.TransactionControl tc = c.transactionControl();
        boolean ends = (tc == Classification.TransactionControl.COMMIT || tc == Classification.TransactionControl.ROLLBACK)
            && c.statementCount() == 1 && !c.startsTransaction();
        if (!ends) {
            if (tc != Classification.TransactionControl.NONE || c.endsTransaction()) {
                return routeChoice.failTransaction(type, new PgException(SqlState.FEATURE_NOT_SUPPORTED, "the transaction "
                    + "is on shards " + shardTx.shardList() + " of pool \"" + poolConfig.name() + "\": inside a transaction "
                    + "over several shards only COMMIT and ROLLBACK (as statements of their own) end it, and savepoints "
                    + "are not supported", null, false));
            }
            return -1;
        }
        ServerConnection a = server;
        if (a.awaitingReady()) {
            switchHeld = true;
            return MessageFramer.STOP;
        }
        if (!requests.isEmpty() || a.unsynced()) {
            return statements.refuse(new PgException(SqlState.FEATURE_NOT_SUPPORTED, "inside a transaction over several "
                + "shards, COMMIT and ROLLBACK must start a batch (the messages up to Sync) of their own", null, false));
        }
        if (type == PgProtocol.PARSE_REQUEST) {
            statements.rememberParse(buf, offset, length);   // pgjdbc names its COMMIT and binds it again later
        }
        ShardTransaction tx = shardTx;
        tx.park(routeChoice.currentShard(), a);
        server = null;
        waiting = true;
        tx.end(tc == Classification.TransactionControl.COMMIT, (tag, error) -> {
            if (shardTx == tx) {
                shardTx = null;
            }
            waiting = false;
            if (state != State.READY) {
                return;
            }
            statements.transactionEnded();
            if (error != null) {
                replies.refuse(type, error);
            } else {
                replies.replyStatement(type, new LocalReplies.LocalReply(tag, null, null));
            }
            flushIfNeeded();
            leaveIfDraining();
            if (state == State.READY) {
                resumeReading();
            }
        });
        return MessageFramer.CONSUME;
    }

    /**
     * The transaction's first keyed statement has its shard's connection: the BEGIN PgFleet answered
     * runs there first (its answers hidden), then the statement goes on.
     */
    private int beginDeferred() {
        String begin = routeChoice.takePendingBegin();
        waiting = true;
        ServerConnection s = server;
        s.runInternal(begin).onComplete(ar -> {
            waiting = false;
            if (state != State.READY || server != s) {
                return;
            }
            if (ar.failed()) {
                // The BEGIN itself failed (its options): the client learns it now, its transaction is gone.
                PgException e = Checkout.asPgException(ar.cause());
                server = null;
                s.release();
                countError(e.sqlState());
                ByteBuf out = channel.alloc().buffer(128);
                BackendMessages.errorResponse(out, new PgException(e.sqlState(), e.getMessage(), e.detail(), false));
                writeClient(out);
                flushClient();
                discardToSync = true;
            }
            resumeReading();
        });
        return MessageFramer.STOP;
    }

    void writeServer(ByteBuf buf) {
        server.write(buf);
        serverNeedsFlush = true;
    }

    /** Whether the current Parse's SQL starts with a command whose Parse must reach a server (see SettingsTracker#noteEffects). */
    boolean sessionCommandKeyword(ByteBuf buf) {
        return SqlReader.isSessionCommand(buf, keyword, keywordEnd);
    }

    /**
     * idle_client_in_transaction_timeout: a client that leaves a transaction open and sends
     * nothing holds a server connection others wait for; past the limit it is disconnected
     * with PostgreSQL's own SQLSTATE for idle_in_transaction_session_timeout (25P03).
     */
    private void armIdleInTransaction() {
        long timeout = runtime.config().general().idleClientInTransactionTimeout().toMillis();
        if (timeout <= 0) {
            return;
        }
        if (idleInTransactionTimer != 0) {
            context.owner().cancelTimer(idleInTransactionTimer);
        }
        idleInTransactionTimer = context.owner().setTimer(timeout, t -> {
            idleInTransactionTimer = 0;
            if (state == State.READY && server != null && server.txStatus() != PgProtocol.TX_IDLE) {
                fatal(new PgException("25P03", "terminating connection due to idle-in-transaction timeout"));
            }
        });
    }

    /** After an error PgFleet raised itself, the client's messages up to Sync are dropped, as PostgreSQL does. */
    private int discardUntilSync(byte type, ByteBuf buf, int offset, int length) {
        if (server != null) {
            // The server failed too (see refuse) and skips to the Sync itself: the Sync goes to it.
            if (type != PgProtocol.SYNC_REQUEST) {
                return MessageFramer.CONSUME;
            }
            discardToSync = false;
            return onTransactionModeMessage(type, buf, offset, length);
        }
        if (type == PgProtocol.SYNC_REQUEST || type == PgProtocol.QUERY_REQUEST || type == PgProtocol.FUNCTION_CALL_REQUEST) {
            discardToSync = false;
            replies.ready();
        }
        return MessageFramer.CONSUME;
    }

    @Override
    public void forward(ByteBuf run) {
        ServerConnection s = server;
        if (s == null) {
            run.release();
            return;
        }
        s.write(run);
        serverNeedsFlush = true;
        if (!s.writable()) {
            // Back-pressure: read no more from the client until the server drains.
            socket.pause();
        }
    }

    // -- startup --------------------------------------------------------------------------

    /**
     * client_login_timeout (PgBouncer's name; PostgreSQL's authentication_timeout). After the
     * startup packet the client gets PostgreSQL's error for it; before one (or during the TLS
     * handshake, where a plaintext error cannot go) it is closed without a word, as PostgreSQL's
     * startup packet timeout does. Either way its max_client_conn slot is freed (release).
     */
    private void loginTimedOut() {
        loginTimer = 0;
        if (state == State.READY || state == State.CLOSED) {
            return;
        }
        if (handshake.startup() == null || state == State.TLS_HANDSHAKE) {
            close();
        } else {
            fatal(new PgException(SqlState.QUERY_CANCELED, "canceling authentication due to timeout"));
        }
    }

    private void cancelLoginTimer() {
        if (loginTimer != 0) {
            context.owner().cancelTimer(loginTimer);
            loginTimer = 0;
        }
    }

    /** The handshake moves the session through STARTUP, TLS_HANDSHAKE and AUTH. */
    void enter(State next) {
        state = next;
    }

    boolean closed() {
        return state == State.CLOSED;
    }

    /**
     * The handshake is done (AuthenticationOk is written): the console's login goes to the console
     * once this read is framed (what the client pipelined behind its password waits in the
     * framer); a pool's login takes its server connection or its greeting.
     */
    void loggedIn(Handshake.Login done) {
        login = done;
        if (done.console()) {
            state = State.CONSOLE;
            return;
        }
        poolConfig = done.pool();
        user = done.user();
        flushClient();
        state = State.CONNECTING;
        connectServer();
    }

    /** The StartupMessage (null before it is read). */
    private StartupPacket startup() {
        return handshake.startup();
    }

    private boolean tls() {
        return handshake.tls();
    }

    // -- the admin console's hand-over ----------------------------------------------------

    /**
     * Gives the socket, the unread bytes and the max_client_conn slot to the console; this
     * session ends without closing the socket (it is not a data-plane client from here on).
     */
    private void handOverToConsole() {
        ByteBuf rest = framer.detach();
        boolean slot = admitted;
        admitted = false;
        String tlsName = tls() ? tlsDescription() : "";
        release();
        java.util.concurrent.atomic.AtomicBoolean gone = new java.util.concurrent.atomic.AtomicBoolean(!slot);
        runtime.console().open(new dev.pgfleet.shared.admin.AdminConsole.Client(socket, startup().parameters(), rest, tlsName,
            () -> {
                if (gone.compareAndSet(false, true)) {
                    runtime.clientGone();
                }
            }));
    }

    // -- the server connection ------------------------------------------------------------

    /**
     * After authentication. Session mode takes its server connection now, for good. Transaction
     * and statement modes greet the client with the parameters the pool's servers reported (one
     * connection is opened for that if the pool has none yet) and take a server connection only
     * when a transaction starts.
     */
    private void connectServer() {
        if (routing == null) {
            PoolRouting r = runtime.routing(poolConfig.name(), user.username());
            if (r == null || !r.sessionStarted()) {
                // Removed by a reload while this client authenticated: as for a database that does not exist.
                fatal(new PgException(SqlState.INVALID_CATALOG_NAME, "database \"" + startup().database() + "\" does not exist"));
                return;
            }
            routing = r;   // once: a login held by PAUSE comes back here at RESUME
        }
        if (counters == null) {
            countIn(verticle.stats().counters(routing));
        }
        ProxyControl control = runtime.control();
        if (control.disabled(poolConfig.name())) {
            // PgBouncer's words for a DISABLEd database; PostgreSQL's SQLSTATE for one not accepting connections.
            fatal(new PgException("55000", "database does not allow connections: " + poolConfig.name()));
            return;
        }
        if (control.flags() != 0 && control.holds(poolConfig.name())) {
            hold(true);   // new clients of a paused database wait for RESUME (PgBouncer)
            return;
        }
        pool = routing.view.primary;
        sharded = poolConfig.shards().size() > 1;
        mode = user.poolMode() != null ? user.poolMode() : poolConfig.poolMode();
        Map<String, String> asked = SessionSettings.fromStartup(startup().parameters(), user.statementTimeout().toMillis());
        PgException badShard = routeChoice.startupOption(asked);
        if (badShard != null) {
            fatal(badShard);
            return;
        }
        settings.start(asked);
        if (mode == PoolMode.SESSION) {
            pool = routeChoice.sessionShard().forSession();   // bound for the whole session: by default_role, health-aware
            checkout.acquire(pool, true).onComplete(ar -> {
                if (state != State.CONNECTING) {
                    return;
                }
                if (ar.failed()) {
                    fatal(Checkout.asPgException(ar.cause()));
                    return;
                }
                bindForSession(ar.result());
                greet(server.parameters());
            });
            return;
        }
        // Greeted with what a server of the pool reported at login: the primary's, or, while it
        // has not been reached (down since PgFleet started), any other server's.
        Map<String, String> known = pool.serverParameters();
        List<ServerPool> servers = routing.view.servers;
        for (int i = 0; known == null && i < servers.size(); i++) {
            known = servers.get(i).serverParameters();
        }
        if (known != null && (settings.knowsReportedValues(known, pool) || pool.serverParameters() == null)) {
            greet(known);
            return;
        }
        // Nothing known yet (no server of the pool reached), or a startup value the server reports
        // in another form (DateStyle=ISO is "ISO, MDY"): a connection that applies the client's
        // settings tells, once per pool and value, so the greeting says what PostgreSQL would.
        ServerPool greeting = pool;
        checkout.acquire(greeting, true).onComplete(ar -> {
            if (ar.succeeded()) {
                settings.learnReported(ar.result(), greeting);
                ar.result().release();
            }
            if (state != State.CONNECTING) {
                return;
            }
            if (ar.failed()) {
                fatal(Checkout.asPgException(ar.cause()));
            } else {
                greet(ar.result().pool().serverParameters());   // possibly another server's, after a reroute
            }
        });
    }

    /**
     * After login every type is read but CopyData, the one a client sends in bulk (COPY FROM
     * STDIN), which passes unread: so an unknown type never slips through inside a forwarded run.
     */
    private static final boolean[] SESSION_MESSAGES = MessageFramer.typeTable(true, PgProtocol.COPY_DATA);
    private static final boolean[] ALL_MESSAGES = MessageFramer.typeTable(true);

    /** The frontend message types PostgreSQL accepts after login (postgres.c, SocketBackend). */
    private static final boolean[] FRONTEND_MESSAGES = MessageFramer.typeTable(false, PgProtocol.QUERY_REQUEST,
        PgProtocol.PARSE_REQUEST, PgProtocol.BIND_REQUEST, PgProtocol.EXECUTE_REQUEST, PgProtocol.DESCRIBE_REQUEST,
        PgProtocol.CLOSE_REQUEST, PgProtocol.SYNC_REQUEST, PgProtocol.FLUSH_REQUEST, PgProtocol.FUNCTION_CALL_REQUEST,
        PgProtocol.TERMINATE_REQUEST, PgProtocol.COPY_DATA, PgProtocol.COPY_DONE, PgProtocol.COPY_FAIL_REQUEST);

    /** Ends the login: ParameterStatus, our own BackendKeyData, ReadyForQuery. */
    private void greet(Map<String, String> serverParameters) {
        cancelPid = runtime.cancels().register(this);
        cancelSecret = runtime.cancels().newSecret();
        ByteBuf out = channel.alloc().buffer(512);
        settings.greeting(out, serverParameters, pool);   // the client's own startup values, as its session will have them
        BackendMessages.backendKeyData(out, cancelPid, cancelSecret);
        BackendMessages.readyForQuery(out, PgProtocol.TX_IDLE);
        writeClient(out);
        flushClient();
        cancelLoginTimer();
        state = State.READY;
        ClientLog.login(runtime.config().general(), startup(), socket, tls());
        // From here only these are read; everything else (COPY data) passes unread.
        framer.interceptTable(SESSION_MESSAGES);
        framer.resume();
    }

    @Override
    public void serverBytes(ByteBuf run) {
        writeClient(run);
        clientNeedsFlush = true;
        if (!NetSockets.writable(channel) && server != null) {
            server.socket().pause();
        }
    }

    @Override
    public boolean allowReady(byte txStatus) {
        if (mode == PoolMode.STATEMENT && txStatus != PgProtocol.TX_IDLE) {
            // As PgBouncer: statement pooling cannot keep a transaction open across statements.
            // The error replaces the ReadyForQuery, so the client sees it on the statement itself.
            fatal(new PgException(SqlState.FEATURE_NOT_SUPPORTED, "transaction blocks not allowed in statement pooling mode"));
            return false;
        }
        return true;
    }

    @Override
    public void serverReady(byte txStatus) {
        if (log.isTraceEnabled()) {
            log.trace("[{}] ready {}", System.identityHashCode(this), (char) txStatus);
        }
        requestEnded(txStatus);
        if (terminating && !server.awaitingReady()) {
            finishTerminating();   // the last answer before Terminate is out: now the close
            return;
        }
        if (txStatus != PgProtocol.TX_IDLE) {
            armIdleInTransaction();
        } else {
            statements.transactionEnded();
        }
        if (mode == PoolMode.SESSION) {
            return;   // session mode keeps the server connection until the client leaves
        }
        if (shardTx != null && txStatus == PgProtocol.TX_IDLE) {
            // The shard's transaction ended without PgFleet's COMMIT or ROLLBACK (a function, a
            // procedure's COMMIT): the other shards' parts cannot follow it; they roll back.
            log.warn("client {}: the transaction on shard {} ended on its own; shards {} roll back", socket.remoteAddress(),
                routeChoice.currentShard(), shardTx.shardList());
            shardTx.abandon();
            shardTx = null;
        }
        if (switchHeld && !server.awaitingReady()) {
            // A statement that moves (or ends) the transaction over several shards waited for this answer.
            switchHeld = false;
            context.runOnContext(v -> {
                if (state == State.READY && !waiting && binding == null) {
                    framer.resume();
                    onReadComplete();
                }
            });
        }
        if (txStatus == PgProtocol.TX_IDLE && requests.isEmpty() && server.clean()) {
            endOfTransaction();
        } else if (drainHeld && !server.awaitingReady()) {
            // Still in the transaction: the held messages belong to it and go on (next turn of the
            // loop, outside the server's read).
            drainHeld = false;
            context.runOnContext(v -> {
                if (state == State.READY && !waiting) {
                    framer.resume();
                    onReadComplete();
                }
            });
        }
    }

    /**
     * The transaction is over and every request answered: the server connection goes back to
     * the pool. If the client ran SET, RESET or DISCARD, its settings are read back first
     * (they survive only if the transaction committed, which the server knows best).
     */
    private void endOfTransaction() {
        // Unlinked, the server's read-complete no longer reaches us: flush the answer now.
        if (clientNeedsFlush) {
            clientNeedsFlush = false;
            flushClient();
        }
        ServerConnection s = server;
        if (!settings.takeDirty()) {
            server = null;
            releaseAfterTransaction(s, readyAt);
            leaveIfDraining();
            return;
        }
        waiting = true;
        s.runInternal(settings.captureSql()).onComplete(ar -> {
            waiting = false;
            if (ar.succeeded()) {
                settings.captured(ar.result(), s);
            }
            if (server == s) {
                server = null;
                releaseAfterTransaction(s, System.nanoTime());
            }
            leaveIfDraining();
            if (state == State.READY) {
                framer.resume();
                onReadComplete();
            }
        });
    }

    /**
     * Back to the pool between transactions: as it is, or, with server_reset_query_always (as
     * PgBouncer), after server_reset_query, for what PgFleet cannot see (a function that sets a
     * setting inside, set_config with a computed name). What PgFleet tracks is applied again on
     * the next checkout, since the reset leaves the connection with no settings of a client.
     */
    private void releaseAfterTransaction(ServerConnection s, long now) {
        if (runtime.config().general().serverResetQueryAlways()) {
            s.resetAndRelease(runtime.config().general().serverResetQuery());
        } else {
            s.release(now);
        }
    }

    @Override
    public void unnamedStatementLost(PreparedStatements.Unnamed statement) {
        statements.unnamedStatementLost(statement);
    }

    @Override
    public boolean serverParameter(String name, String value) {
        return settings.serverParameter(name, value);
    }

    /**
     * The ReadyForQuery of a request that reset something: the startup settings it took away are
     * set again on the same server connection first (inside the client's transaction when one is
     * open; not after an error, when the transaction rolls back anyway), then the client gets the
     * ParameterStatus that differ from what it was told, and the ReadyForQuery.
     */
    @Override
    public void readyHeld(ByteBuf ready, byte txStatus) {
        StartupRestore r = settings.restore();
        ServerConnection s = server;
        String sql = r == null || txStatus == PgProtocol.TX_FAILED ? "" : settings.restoreSql(r);
        if (sql.isEmpty() || s == null) {
            releaseHeldReady(r, ready, txStatus);
            return;
        }
        waiting = true;
        s.runInternal(sql, true).onComplete(ar -> {
            if (ar.failed()) {
                log.debug("client {}: restoring startup settings failed: {}", socket.remoteAddress(), ar.cause().toString());
            }
            waiting = false;
            releaseHeldReady(r, ready, txStatus);
        });
    }

    private void releaseHeldReady(StartupRestore r, ByteBuf ready, byte txStatus) {
        settings.restoreDone();
        if (state == State.CLOSED || server == null) {
            ready.release();
            return;
        }
        if (r != null && !r.reported.isEmpty()) {
            ByteBuf out = channel.alloc().buffer(128);
            settings.reportRestored(r, out);
            writeClient(out);
        }
        if (txStatus != PgProtocol.TX_IDLE && !allowReady(txStatus)) {
            ready.release();
            return;
        }
        writeClient(ready);
        flushClient();
        serverReady(txStatus);
        if (!waiting && state == State.READY) {
            framer.resume();
            onReadComplete();
        }
    }

    @Override
    public void serverReadComplete() {
        if (clientNeedsFlush) {
            clientNeedsFlush = false;
            flushClient();
        }
    }

    // Writability can change inside a flush made from a read-complete callback; a resume there
    // would find the socket still "in read" and leave its queued messages unread (and
    // auto-read off). So resume on the next turn of the loop.

    @Override
    public void serverWritabilityChanged(boolean writable) {
        if (writable) {
            context.runOnContext(v -> socket.resume());
        }
    }

    private void clientWritabilityChanged(boolean writable) {
        ServerConnection s = server;
        if (writable && s != null) {
            context.runOnContext(v -> s.socket().resume());
        } else if (writable && binding != null) {
            binding.clientWritable();
        }
    }

    boolean clientWritable() {
        return NetSockets.writable(channel);
    }

    // -- bindings: requests spread over several shards ----------------------------------------

    /** The request goes to {@code b}, which takes the client's messages until it unbinds. */
    void bind(Binding b) {
        binding = b;
    }

    /** The request bound to {@code b} is over: {@code reply} (its answer, ReadyForQuery included) goes to the client. */
    void unbind(Binding b, ByteBuf reply) {
        if (binding != b || state == State.CLOSED) {
            reply.release();
            return;
        }
        binding = null;
        interceptCopyData(false);
        writeClient(reply);
        flushClient();
        context.runOnContext(v -> {
            if (state == State.READY && binding == null && !waiting) {
                resumeReading();
            }
        });
    }

    /** A connection of shard {@code shard}'s primary with this session's settings (for a binding). */
    Future<ServerConnection> checkoutShard(int shard) {
        return checkout.acquireFor(routeChoice.shardRouting(shard).view.primary);
    }

    /** While a COPY is split, every CopyData is read; otherwise CopyData passes unread. */
    void interceptCopyData(boolean on) {
        framer.interceptTable(on ? ALL_MESSAGES : SESSION_MESSAGES);
    }

    void flushIfNeeded() {
        if (clientNeedsFlush) {
            clientNeedsFlush = false;
            flushClient();
        }
    }

    @Override
    public void serverClosed(ServerConnection conn) {
        if (conn == server) {
            server = null;
            if (conn.forwardedFatal()) {
                // The server said why (57P01 after pg_terminate_backend, a crash's PANIC): that FATAL is
                // the client's one error, as with PostgreSQL itself; a second one of ours would be read
                // by some drivers as the answer to their next query.
                flushClient();
                close();
                return;
            }
            fatal(new PgException(SqlState.CONNECTION_FAILURE, "server closed the connection unexpectedly"));
        }
    }

    /** What a CancelRequest naming this session should reach: the server running its query. */
    ServerConnection cancelTarget() {
        return server;
    }

    // -- shutdown and close ---------------------------------------------------------------

    /**
     * Graceful shutdown: a session with nothing on a server goes now (between transactions, or
     * still waiting for a checkout: nothing of it was sent); the rest when late. A session in a
     * transaction is also told at its end ({@link #leaveIfDraining}), so it cannot start another.
     */
    void terminateIfIdle(boolean late) {
        if (state == State.CLOSED) {
            return;
        }
        boolean idle = shardTx == null && (server == null || server.clean() && !waiting);   // not mid-COMMIT over shards
        if (idle || late) {
            fatal(adminShutdown());
        }
    }

    /** Session mode: {@code conn} is the session's until it ends (responses forwarded, not matched to requests). */
    private void bindForSession(ServerConnection conn) {
        server = conn;
        conn.link(this, null);
        counters.serverAssignments++;
    }

    /** A server connection for the transaction: linked, its responses come to this session. */
    void linked(ServerConnection conn) {
        server = conn;
        conn.link(this, requests);
        counters.serverAssignments++;
    }

    /** The client's input goes on after a wait (a checkout, a settings read-back, RESUME). */
    void resumeReading() {
        framer.resume();
        onReadComplete();
    }

    /** Whether PAUSE or SUSPEND holds the session's database now. */
    boolean heldByControl() {
        return runtime.control().flags() != 0 && runtime.control().holds(poolConfig.name());
    }

    /** Transaction mode, at the end of a transaction: draining, the client goes before its next one. */
    private void leaveIfDraining() {
        if (runtime.shuttingDown()) {
            fatal(adminShutdown());
        }
    }

    /** PostgreSQL's own words for a backend ended by a smart or fast shutdown. */
    private static PgException adminShutdown() {
        return new PgException(SqlState.ADMIN_SHUTDOWN, "terminating connection due to administrator command");
    }

    void fatal(PgException e) {
        if (state == State.CLOSED) {
            return;
        }
        closeReason = e.sqlState() + " " + e.getMessage();
        if (counters == null && poolConfig != null && user != null) {
            PoolRouting known = runtime.routing(poolConfig.name(), user.username());
            if (known != null) {
                countIn(verticle.stats().counters(known));   // a failed login of a known pool
            }
        }
        countError(e.sqlState());
        ByteBuf out = channel.alloc().buffer(128);
        BackendMessages.errorResponse(out, e);
        writeClient(out);
        flushClient();
        close();
    }

    void writeClient(ByteBuf buf) {
        countSent(buf.readableBytes());
        NetSockets.write(channel, buf);
    }

    void flushClient() {
        NetSockets.flush(channel);
    }

    void close() {
        if (state != State.CLOSED) {
            socket.close();
            release();
        }
    }

    private void onClosed() {
        release();
    }

    private void release() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        ClientLog.disconnect(runtime.config().general(), startup(), socket, tls(), closeReason, connectMillis);
        framer.close();
        if (idleInTransactionTimer != 0) {
            context.owner().cancelTimer(idleInTransactionTimer);
        }
        cancelLoginTimer();
        if (cancelPid != 0) {
            runtime.cancels().unregister(cancelPid, this);
        }
        ServerConnection s = server;
        server = null;
        requests.clear();
        checkout.close();
        if (shardTx != null) {
            shardTx.abandon();   // nothing of the client's transaction commits
            shardTx = null;
        }
        if (binding != null) {
            Binding b = binding;
            binding = null;
            b.clientClosed();
        }
        if (s != null) {
            if (mode == PoolMode.SESSION) {
                s.resetAndRelease(runtime.config().general().serverResetQuery());
            } else {
                s.release();
            }
        }
        if (admitted) {
            runtime.clientGone();
        }
        if (routing != null) {
            routing.sessionEnded();   // the last client of a pool a reload removed closes its server connections
        }
        runtime.sessionEnded(this);
        verticle.stats().clientClosed(this);
        runtime.control().unhold(this);
    }

    // -- admin commands (called on this session's loop) -------------------------------------

    /** Draining ends the session; PAUSE and SUSPEND hold it; -1: go on. */
    private int controlled() {
        if (runtime.shuttingDown()) {
            // Draining: a new transaction is refused before anything of it reaches a server.
            fatal(adminShutdown());
            return MessageFramer.CONSUME;
        }
        if (runtime.control().holds(poolConfig.name())) {
            hold(false);
            return MessageFramer.STOP;   // the message waits in the framer
        }
        return -1;
    }

    /** Waits for RESUME, counted as waiting (cl_waiting, wait time). */
    void hold(boolean atLogin) {
        heldAtLogin = atLogin;
        startWait();
        ProxyControl control = runtime.control();
        control.hold(this);
        if (!control.holds(poolConfig.name()) && control.unhold(this)) {
            context.runOnContext(v -> resumeHeld());   // RESUME came in between
        }
    }

    /** RESUME: the held login or transaction goes on. */
    void resumeHeld() {
        if (state == State.CLOSED) {
            return;
        }
        endWait();
        if (heldAtLogin) {
            heldAtLogin = false;
            connectServer();
            return;
        }
        framer.resume();
        onReadComplete();
    }

    /** The database the client asked for. */
    String database() {
        return poolConfig != null ? poolConfig.name() : startup() != null ? startup().database() : "";
    }

    /** KILL, KILL_CLIENT: FATAL 57P01; with {@code closeServer} its server connection closes too. */
    void kill(boolean closeServer) {
        ServerConnection s = server;
        fatal(adminShutdown());
        if (closeServer && s != null) {
            s.close();
        }
    }

    /** Whether it waits for a server connection (or for RESUME). */
    boolean waitingForServer() {
        return waitStart != 0;
    }

    /** SUSPEND: flushed, then not read until RESUME. */
    void suspend(boolean on) {
        if (state == State.CLOSED) {
            return;
        }
        if (on) {
            flushClient();
            socket.pause();
        } else {
            socket.resume();
        }
    }

    // -- counters and SHOW CLIENTS (LoopStats reads these on this session's loop) ---------

    private void countIn(PoolCounters c) {
        counters = c;
        c.bytesReceived += receivedBeforeLogin;
        c.bytesSent += sentBeforeLogin;
    }

    private void countReceived(int n) {
        PoolCounters c = counters;
        if (c != null) {
            c.bytesReceived += n;
        } else {
            receivedBeforeLogin += n;
        }
    }

    private void countSent(int n) {
        PoolCounters c = counters;
        if (c != null) {
            c.bytesSent += n;
        } else {
            sentBeforeLogin += n;
        }
    }

    void countError(String sqlState) {
        if (counters != null) {
            counters.error(sqlState);
        }
    }

    @Override
    public void serverError(String sqlState) {
        countError(sqlState);
    }

    /** A request that ReadyForQuery answers goes to {@code s}: a query starts unless one runs (pipelined). */
    private void requestStarting(ServerConnection s) {
        if (!s.awaitingReady()) {
            long now = System.nanoTime();
            queryStart = now;
            lastRequest = now;
            if (xactStart == 0) {
                xactStart = now;
            }
        }
    }

    /**
     * A ReadyForQuery for the client: its query ended (a pipelined next one starts now, as the
     * server runs them in turn), and at 'I' its transaction (PgBouncer's xact_count, query_count).
     */
    private void requestEnded(byte txStatus) {
        long now = System.nanoTime();
        readyAt = now;
        PoolCounters c = counters;
        if (queryStart != 0) {
            c.queryEnded(now - queryStart);
            queryStart = server != null && server.awaitingReady() ? now : 0;
        }
        if (txStatus == PgProtocol.TX_IDLE && xactStart != 0) {
            c.xactEnded(now - xactStart);
            xactStart = 0;
        }
    }

    void startWait() {
        if (waitStart == 0) {
            waitStart = System.nanoTime();
        }
    }

    void endWait() {
        if (waitStart != 0) {
            if (counters != null) {
                counters.waitMicros += (System.nanoTime() - waitStart) / 1000;
            }
            waitStart = 0;
        }
    }

    PoolRouting statsRouting() {
        return routing;
    }

    /** SHOW CLIENTS' state: waiting for a checkout, logging in, linked, or idle between transactions. */
    String statsState() {
        if (waitStart != 0) {
            return "waiting";
        }
        if (state != State.READY) {
            return "login";
        }
        return server != null ? "active" : "idle";
    }

    long waitedMicros(long now) {
        return waitStart == 0 ? 0 : (now - waitStart) / 1000;
    }

    dev.pgfleet.shared.admin.ProxyStats.ConnectionStats connectionStats(long now, String st) {
        io.vertx.core.net.SocketAddress remote = socket.remoteAddress();
        io.vertx.core.net.SocketAddress local = socket.localAddress();
        long request = connectMillis + ((lastRequest != 0 ? lastRequest : connectNanos) - connectNanos) / 1_000_000;
        String app = settings.settings() != null ? settings.get("application_name")
            : startup() != null ? startup().parameters().get("application_name") : null;
        ServerConnection s = server;
        return new dev.pgfleet.shared.admin.ProxyStats.ConnectionStats(id, "C", startup() != null ? startup().user() : "",
            startup() != null ? startup().database() : "", st, remote == null ? "" : remote.hostAddress(),
            remote == null ? 0 : remote.port(), local == null ? "" : local.hostAddress(), local == null ? 0 : local.port(),
            connectMillis, request, waitedMicros(now), false, s != null ? s.id : 0, cancelPid, tls() ? tlsDescription() : "",
            app == null ? "" : app, statements.count());
    }

    /** "TLSv1.3/TLS_AES_256_GCM_SHA384", as the client's handshake agreed (PgFleet's own SslHandler). */
    private String tlsDescription() {
        String d = NetSockets.tlsDescription(socket);
        return d == null ? "TLS" : d;
    }
}