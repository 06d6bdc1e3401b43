package dev.pgfleet.proxy;

import dev.pgfleet.shared.auth.Md5Auth;
import dev.pgfleet.shared.config.AuthType;
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
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.net.NetSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: startup (SSLRequest, GSSENCRequest, CancelRequest,
 * StartupMessage), authentication, then forwarding to the server connection it holds
 * (session mode: from login to disconnect). Lives on one event loop with that server
 * connection, so forwarding takes no lock and copies nothing.
 */
final class ClientSession implements MessageFramer.Listener, ServerConnection.Peer {

    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

    /** PostgreSQL's PG_MAX_AUTH_TOKEN_LENGTH (65535) plus the message header. */
    private static final int MAX_AUTH_MESSAGE_LENGTH = 65535 + 4;

    private enum State { STARTUP, TLS_HANDSHAKE, AUTH, CONNECTING, READY, CONSOLE, CLOSED }

    private final ProxyVerticle verticle;
    private final ProxyRuntime runtime;
    private final Context context;
    /** The context's event loop, which keys the pools' per-loop idle lists. */
    private final io.netty.channel.EventLoop loop;
    private final NetSocket socket;
    private final ChannelHandlerContext channel;
    private final MessageFramer framer;
    private State state = State.STARTUP;
    /** Accepted on admin_port: only the admin console is served. */
    private final boolean consoleOnly;
    /** Authenticating as the admin, for the console (database pgfleet or pgbouncer, or admin_port). */
    private boolean consoleLogin;
    private boolean tls;
    private boolean admitted;
    private StartupPacket startup;
    private PoolConfig poolConfig;
    private UserConfig user;
    private ClientAuthenticator auth;
    private ServerPool pool;
    /** The pools this session may use (primary, replicas) and how to choose. */
    private PoolRouting routing;
    /** SET SERVER ROLE: null for auto (the classifier decides). */
    private dev.pgfleet.router.Route roleOverride;
    /**
     * A PgFleet command that came as an extended-protocol batch (pgjdbc sends everything that
     * way): until Sync each message gets its response from PgFleet. Null when not answering.
     */
    private LocalReply localReply;

    /** The answer to a PgFleet command: a tag, and for SHOW one text column and value. */
    private record LocalReply(String tag, String column, String value) {
    }

    /** SET PRIMARY READS: null for the pool's primary_reads_enabled. */
    private Boolean primaryReadsOverride;

    /**
     * The shard chosen for this client's transactions on a sharded pool: {@code SET SHARD},
     * {@code SET SHARDING KEY} or the startup option {@code -c pgfleet.shard=n}; -1 for none (shard 0).
     * In session mode the shard the session is bound to.
     */
    private int selectedShard = -1;
    /** The checkout this session waits on, if any: cancelled if the client leaves. */
    private ServerPool.Checkout acquiring;
    /** Transaction mode's checkout, one per session: a wait for a server connection allocates nothing. */
    private final ServerPool.Checkout transactionCheckout = new ServerPool.Checkout() {
        @Override
        public boolean handed(ServerConnection conn) {
            if (acquiring != this || state == State.CLOSED) {
                return false;
            }
            acquiring = null;
            if (hasSettings(conn)) {
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
    /** The pools this client counts in (see ServerPool#attach): usually one, a few with replicas. */
    private ServerPool[] attached = new ServerPool[2];
    private int attachedCount;
    /** Where the current Query's or Parse's first SQL keyword starts (-1: none), and its SQL ends. */
    private int keyword = -1;
    private int keywordEnd;
    private ServerConnection server;
    private int cancelPid;
    private int cancelSecret;
    private boolean serverNeedsFlush;
    private boolean clientNeedsFlush;
    /** Session, transaction or statement pooling, from the user's or the pool's pool_mode. */
    private PoolMode mode;
    /** What the client expects its session to have set (lower-case names). */
    private Map<String, String> settings;
    /** The client ran something that may change its settings: read them back at the end. */
    private boolean settingsDirty;
    /** Custom ("prefix.name") settings the client has SET, read back by name. */
    private final java.util.Set<String> customSettings = new java.util.LinkedHashSet<>();
    /** The settings of the client's startup packet (and the user's config): what RESET returns to. */
    private Map<String, String> startupSettings;
    /** ParameterStatus the client was last told, by lower-case name: {reported name, value}. */
    private final Map<String, String[]> told = new java.util.HashMap<>();
    /** Startup settings to put back when the server's ReadyForQuery comes (held until then); null if none. */
    private StartupRestore restore;
    /** Session mode: the client's named statements that reset something, looked up at Bind (usually empty). */
    private final Map<String, dev.pgfleet.router.SessionCommands.Effects> resettingStatements = new java.util.HashMap<>();
    /** Transaction mode: the client's named statements, by the client's name. */
    private final Map<String, PreparedStatements.Statement> statements = new java.util.HashMap<>();
    /** Transaction mode: the client's unnamed statement (its last Parse("")), null when it has none. */
    private PreparedStatements.Unnamed unnamed;
    /**
     * Transaction mode: the named portals the client bound in this transaction. Only those
     * may be executed, described or closed on the server: a portal is per server connection,
     * and one that outlives its transaction (a cursor WITH HOLD) is another client's.
     */
    private final java.util.Set<String> portals = new java.util.HashSet<>();
    /** Transaction mode: requests sent and not yet answered, to match responses. */
    private final RequestQueue requests = new RequestQueue();
    /** Client input waits (framer STOP) while a server connection is being obtained or tidied. */
    private boolean waiting;
    /** After an error PgFleet raised itself: drop the client's messages up to Sync. */
    private boolean discardToSync;
    private long idleInTransactionTimer;
    /** client_login_timeout, from the connection to the end of the greeting; 0 when not armed. */
    private long loginTimer;
    /** Whether any startup packet (SSLRequest included) has been read. */
    private boolean startupPacketSeen;
    /**
     * Terminate (or a message PgFleet refuses) arrived behind requests the server still answers:
     * PostgreSQL answers everything sent before it, then closes, so the close waits for the last
     * ReadyForQuery and the client's later input is not read.
     */
    private boolean terminating;
    /** The FATAL to send at that close (an invalid message type), or null for a plain close. */
    private PgException closingError;
    /** Checkouts tried for the current login or transaction (see ServerConnection.Lost). */
    private int checkoutAttempts;
    /** A server connection found dead before any of the client's messages reached it: tried again this often. */
    private static final int MAX_CHECKOUT_ATTEMPTS = 3;
    /** Draining: client input held until every ReadyForQuery owed has come (see onSessionMessage). */
    private boolean drainHeld;
    /** For log_client_disconnections: when the client came, and why it went (null: it closed). */
    private String closeReason;
    /** This loop's counters of the session's pool (see PoolCounters); null until the pool is known. */
    private PoolCounters counters;
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
        this.consoleOnly = consoleOnly;
        this.verticle = verticle;
        this.runtime = verticle.runtime();
        this.context = context;
        this.loop = NetSockets.eventLoop(context);
        this.socket = socket;
        this.channel = NetSockets.context(socket);
        this.framer = new MessageFramer(MessageFramer.Mode.STARTUP, runtime.config().general().maxMessageSize(), this);
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
        if (!startupPacketSeen && framer.buffered() == 0 && buf.readableBytes() >= 4
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
                return onStartupPacket(buf, offset, length);
            case AUTH:
                return onAuthMessage(type, buf, offset, length);
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
        if (discardToSync) {
            return discardUntilSync(type, buf, offset, length);
        }
        if (localReply != null) {
            return answerExtended(type);
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
        if (type == PgProtocol.QUERY_REQUEST || type == PgProtocol.PARSE_REQUEST) {
            // The SQL's first keyword, found once for every check below.
            int from = type == PgProtocol.QUERY_REQUEST ? offset + 5 : ExtendedMessages.parseQueryStart(buf, offset, length);
            keywordEnd = offset + length - 1;
            keyword = ExtendedMessages.firstKeywordFrom(buf, from, keywordEnd);
            int own = pgfleetCommand(type, buf, offset, length);
            if (own != -1) {
                return own;
            }
            int local = localCommand(type, buf, offset, length);
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
            int answered = answerWithoutServer(type, buf, offset, length);
            if (answered != -1) {
                return answered;
            }
            PoolRouting.View route;   // the newest table's, read once per transaction
            if (poolConfig.shards().size() == 1) {
                route = routing.view;
            } else {
                int shard = shardFor(type, buf, offset, length);
                if (shard < 0) {
                    PgException e = new PgException(SqlState.INVALID_PARAMETER_VALUE, "shard hint out of range: pool \""
                        + poolConfig.name() + "\" has shards 0 to " + (shardCount() - 1), null, false);
                    return type == PgProtocol.QUERY_REQUEST ? answerLocally(e, null) : refuseExtended(e);
                }
                route = shardRouting(shard).view;
            }
            pool = route.splitting || roleOverride != null ? route.pick(routeFor(type, buf, offset, length),
                primaryReadsOverride != null ? primaryReadsOverride : route.primaryReads) : route.primary;
            acquireForTransaction();
            if (server == null || waiting || discardToSync) {
                // Not at once (the common case when the pool has an idle connection on this loop
                // with the right settings is at once): the message waits in the framer.
                return discardToSync ? discardUntilSync(type, buf, offset, length) : MessageFramer.STOP;
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

    private int onSessionModeMessage(byte type, ByteBuf buf, int offset, int length) {
        switch (type) {
            case PgProtocol.QUERY_REQUEST:
                // The session's server connection keeps what the client sets; only a RESET needs PgFleet
                // (startup values come back). A byte scan decides whether the SQL is read at all.
                if (ExtendedMessages.mayChangeSession(buf, offset + 5, offset + length - 1)) {
                    noteEffects(dev.pgfleet.router.SessionCommands.scan(
                        dev.pgfleet.shared.protocol.AsciiSql.ofQuery(buf, offset, length)));
                }
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
                sessionModeParse(buf, offset, length);
                server.extendedSent();
                return MessageFramer.FORWARD;
            case PgProtocol.BIND_REQUEST:
                counters.binds++;
                if (!resettingStatements.isEmpty()) {
                    dev.pgfleet.router.SessionCommands.Effects fx =
                        resettingStatements.get(ExtendedMessages.bindStatement(buf, offset, length));
                    if (fx != null) {
                        noteEffects(fx);
                    }
                }
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
     * Session mode: a Parse that resets something takes effect when executed: at once for the
     * unnamed statement (its Bind follows in the same batch), at each Bind for a named one.
     */
    private void sessionModeParse(ByteBuf buf, int offset, int length) {
        int from = ExtendedMessages.parseQueryStart(buf, offset, length);
        boolean named = !ExtendedMessages.firstNameEmpty(buf, offset);
        dev.pgfleet.router.SessionCommands.Effects fx = ExtendedMessages.mayChangeSession(buf, from, offset + length)
            ? dev.pgfleet.router.SessionCommands.scan(dev.pgfleet.shared.protocol.AsciiSql.ofParse(buf, offset, length))
            : dev.pgfleet.router.SessionCommands.Effects.NONE;
        if (!named) {
            noteEffects(fx);
        } else if (fx.resetsSomething()) {
            if (resettingStatements.size() < 1000) {
                resettingStatements.put(ExtendedMessages.firstName(buf, offset, length), fx);
            }
        } else if (!resettingStatements.isEmpty()) {
            resettingStatements.remove(ExtendedMessages.firstName(buf, offset, length));
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
                noteSessionCommand(buf);
                // "A simple Query message also destroys the unnamed statement" (PostgreSQL docs, Extended Query).
                unnamed = null;
                s.unnamed(null);
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
                s.extendedSent();
                if (!ExtendedMessages.firstNameEmpty(buf, offset) && !portals.contains(ExtendedMessages.firstName(buf, offset, length))) {
                    return refuse(noSuchPortal(ExtendedMessages.firstName(buf, offset, length)));
                }
                requests.add(RequestQueue.EXECUTE, false);
                return MessageFramer.FORWARD;
            case PgProtocol.PARSE_REQUEST:
                return onParse(buf, offset, length);
            case PgProtocol.BIND_REQUEST:
                return onBind(buf, offset, length);
            case PgProtocol.DESCRIBE_REQUEST:
                return onDescribe(buf, offset, length);
            case PgProtocol.CLOSE_REQUEST:
                return onClose(buf, offset, length);
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

    private int onParse(ByteBuf buf, int offset, int length) {
        server.extendedSent();
        counters.clientParses++;
        if (ExtendedMessages.firstNameEmpty(buf, offset)) {
            // Kept as sent, to parse again wherever a later Bind or Describe of it lands; what its SQL
            // does to settings counts at its Binds, which may come in a later transaction. A client that
            // parses the same message again (a driver's unnamed statement per execution) keeps the one
            // it has: no copy, no allocation, and a connection holding it holds the same statement.
            PreparedStatements.Unnamed u = unnamed;
            if (u == null || !u.sameMessage(buf, offset, length)) {
                byte[] message = new byte[length];
                buf.getBytes(offset, message);
                u = new PreparedStatements.Unnamed(message, sessionEffects(buf));
                unnamed = u;
            }
            server.unnamed(u);
            requests.add(RequestQueue.PARSE, false, u);
            counters.serverParses++;
            return MessageFramer.FORWARD;
        }
        ExtendedMessages.Parse parse = ExtendedMessages.decodeParse(buf, offset, length);
        PreparedStatements.Statement st = routing.statements.statement(parse.query(), parse.parameterTypes());
        statements.put(parse.name(), st);
        framer.flushRun();
        if (server.hasPrepared(st.serverName())) {
            // Already on this server connection: answer the client's Parse ourselves, in order.
            counters.preparedHits++;
            requests.addSynthetic(ExtendedMessages.parseComplete());
            server.emitSynthetic();
        } else {
            prepareOnServer(st, false);
        }
        return MessageFramer.CONSUME;
    }

    private int onBind(ByteBuf buf, int offset, int length) {
        server.extendedSent();
        counters.binds++;
        String name = ExtendedMessages.bindStatement(buf, offset, length);
        if (name.isEmpty()) {
            if (unnamed == null) {
                return refuse(noUnnamedStatement());
            }
            notePortal(buf, offset, length);
            noteEffects(unnamed.sessionEffects());
            if (server.unnamed() != unnamed) {
                framer.flushRun();
                prepareUnnamedOnServer();
            }
            requests.add(RequestQueue.BIND, false);
            return MessageFramer.FORWARD;
        }
        PreparedStatements.Statement st = clientStatement(name);
        if (st == null) {
            // A name the client never prepared: it must not reach a pgfleet_N of another client.
            return refuse(noSuchStatement(name));
        }
        notePortal(buf, offset, length);
        noteEffects(st.sessionEffects());   // what its SQL does to settings happens now, when it runs
        framer.flushRun();
        if (!server.hasPrepared(st.serverName())) {
            prepareOnServer(st, true);
        }
        ByteBuf out = server.alloc(length + st.serverName().length());
        ExtendedMessages.renameBind(out, buf, offset, length, st.serverName());
        writeServer(out);
        requests.add(RequestQueue.BIND, false, st);
        return MessageFramer.CONSUME;
    }

    /** A named portal the Bind creates: this client's until the transaction ends. */
    private void notePortal(ByteBuf buf, int offset, int length) {
        if (!ExtendedMessages.firstNameEmpty(buf, offset)) {
            portals.add(ExtendedMessages.firstName(buf, offset, length));
        }
    }

    /** The client's statement of that name, moved to the pool's current one if its result type changed. */
    private PreparedStatements.Statement clientStatement(String name) {
        PreparedStatements.Statement st = statements.get(name);
        if (st != null && st.retired()) {
            st = routing.statements.statement(st.query(), st.parameterTypes());
            statements.put(name, st);
        }
        return st;
    }

    private int onDescribe(ByteBuf buf, int offset, int length) {
        server.extendedSent();
        String name = ExtendedMessages.targetName(buf, offset, length);
        if (ExtendedMessages.target(buf, offset) != 'S') {
            if (!name.isEmpty() && !portals.contains(name)) {
                return refuse(noSuchPortal(name));
            }
            requests.add(RequestQueue.DESCRIBE_PORTAL, false);
            return MessageFramer.FORWARD;
        }
        if (name.isEmpty()) {
            if (unnamed == null) {
                return refuse(noUnnamedStatement());
            }
            if (server.unnamed() != unnamed) {
                framer.flushRun();
                prepareUnnamedOnServer();
            }
            requests.add(RequestQueue.DESCRIBE_STATEMENT, false);
            return MessageFramer.FORWARD;
        }
        PreparedStatements.Statement st = clientStatement(name);
        if (st == null) {
            return refuse(noSuchStatement(name));
        }
        framer.flushRun();
        if (!server.hasPrepared(st.serverName())) {
            prepareOnServer(st, true);
        }
        ByteBuf out = server.alloc(st.serverName().length() + 8);
        ExtendedMessages.describeStatement(out, st.serverName());
        writeServer(out);
        requests.add(RequestQueue.DESCRIBE_STATEMENT, false, st);
        return MessageFramer.CONSUME;
    }

    /**
     * Close: statements are PgFleet's to forget (a pool statement stays on the server for the
     * other clients), and so is a portal the client did not bind. "It is not an error to issue
     * Close against a nonexistent statement or portal name" (PostgreSQL docs, Close), so those
     * get CloseComplete from PgFleet, in order. Only the client's own portals reach the server.
     */
    private int onClose(ByteBuf buf, int offset, int length) {
        server.extendedSent();
        String name = ExtendedMessages.targetName(buf, offset, length);
        if (ExtendedMessages.target(buf, offset) == 'S') {
            if (name.isEmpty()) {
                unnamed = null;
            } else {
                statements.remove(name);
            }
        } else if (name.isEmpty() || portals.remove(name)) {
            requests.add(RequestQueue.CLOSE, false);
            return MessageFramer.FORWARD;
        }
        framer.flushRun();
        requests.addSynthetic(ExtendedMessages.closeComplete());
        server.emitSynthetic();
        return MessageFramer.CONSUME;
    }

    /** Parses a pool statement on this server connection, closing the least recently used one past the limit. */
    private void prepareOnServer(PreparedStatements.Statement st, boolean hideParseComplete) {
        String evicted = server.addPrepared(st.serverName(), runtime.preparedStatementsCacheSize());
        counters.preparedMisses++;
        counters.serverParses++;
        if (evicted != null) {
            counters.preparedEvictions++;
            ByteBuf close = server.alloc(evicted.length() + 8);
            ExtendedMessages.closeStatement(close, evicted);
            writeServer(close);
            requests.add(RequestQueue.CLOSE, true, evicted);
        }
        ByteBuf parse = server.alloc(st.query().length() * 3 + st.serverName().length() + st.parameterTypes().length + 8);
        ExtendedMessages.parse(parse, st.serverName(), st.query(), st.parameterTypes());
        writeServer(parse);
        requests.add(RequestQueue.PARSE, hideParseComplete, st);
    }

    /** The client's unnamed statement, parsed again on this server connection (its ParseComplete hidden). */
    private void prepareUnnamedOnServer() {
        byte[] message = unnamed.parse();
        counters.serverParses++;
        ByteBuf parse = server.alloc(message.length);
        parse.writeBytes(message);
        writeServer(parse);
        server.unnamed(unnamed);
        requests.add(RequestQueue.PARSE, true, unnamed);
    }

    @Override
    public void unnamedStatementLost(PreparedStatements.Unnamed statement) {
        if (unnamed == statement) {
            unnamed = null;
        }
    }

    private static PgException noUnnamedStatement() {
        return new PgException(SqlState.INVALID_SQL_STATEMENT_NAME, "unnamed prepared statement does not exist", null, false);
    }

    private static PgException noSuchStatement(String name) {
        return new PgException(SqlState.INVALID_SQL_STATEMENT_NAME, "prepared statement \"" + name + "\" does not exist",
            null, false);
    }

    private static PgException noSuchPortal(String name) {
        return new PgException(SqlState.INVALID_CURSOR_NAME, "portal \"" + name + "\" does not exist", null, false);
    }

    /**
     * A statement does not exist for PostgreSQL when this client did not create it: PgFleet says
     * so itself, and the name reaches no server. With a server connection linked, the server
     * still has to fail here (its transaction aborts, the requests before keep their answers, in
     * order): it gets a Describe of {@link #REFUSED_NAME}, and its error is replaced by this one.
     * Then, as PostgreSQL after an error, the client's messages up to Sync are dropped.
     */
    private int refuse(PgException error) {
        countError(error.sqlState());
        ByteBuf out = channel.alloc().buffer(128);
        BackendMessages.errorResponse(out, error);
        discardToSync = true;
        if (server == null) {
            writeClient(out);
            clientNeedsFlush = true;
            return MessageFramer.CONSUME;
        }
        framer.flushRun();
        ByteBuf describe = server.alloc(REFUSED_NAME.length() + 8);
        ExtendedMessages.describeStatement(describe, REFUSED_NAME);
        writeServer(describe);
        server.extendedSent();
        requests.addRefused(out);
        return MessageFramer.CONSUME;
    }

    /**
     * A statement name no server connection has: clients' protocol-level names are renamed to
     * pgfleet_N, and SQL PREPARE truncates names to NAMEDATALEN - 1 (63) bytes, so a longer name
     * is never created.
     */
    private static final String REFUSED_NAME = "pgfleet_refused_" + "x".repeat(64);

    /**
     * Transaction mode with no server connection linked (so no transaction open and nothing in
     * flight): what PgFleet can answer alone. Sync gets ReadyForQuery 'I'; a Parse of a statement
     * the pool has prepared successfully gets ParseComplete (prepared on a server just in time at
     * Bind, as ever), and a Describe of one the pool has described gets that description; names
     * the client did not create get their errors, a Close gets CloseComplete. (Bind, the hot
     * path, is not looked at here: it needs a server connection but for a bad name, which
     * onBind refuses as well.) So a client that
     * prepares (pgbench -M prepared, PQprepare) does not wait for a server connection that
     * other clients hold.
     *
     * @return CONSUME when answered, -1 to take a server connection
     */
    private int answerWithoutServer(byte type, ByteBuf buf, int offset, int length) {
        switch (type) {
            case PgProtocol.SYNC_REQUEST -> {
                ByteBuf out = channel.alloc().buffer(6);
                BackendMessages.readyForQuery(out, PgProtocol.TX_IDLE);
                writeClient(out);
                clientNeedsFlush = true;
                return MessageFramer.CONSUME;
            }
            case PgProtocol.FLUSH_REQUEST -> {
                clientNeedsFlush = true;
                return MessageFramer.CONSUME;
            }
            case PgProtocol.PARSE_REQUEST -> {
                if (ExtendedMessages.firstNameEmpty(buf, offset) || sessionCommandKeyword(buf)) {
                    return -1;
                }
                ExtendedMessages.Parse parse = ExtendedMessages.decodeParse(buf, offset, length);
                PreparedStatements.Statement st = routing.statements.statement(parse.query(), parse.parameterTypes());
                if (!st.prepared()) {
                    return -1;
                }
                statements.put(parse.name(), st);
                counters.clientParses++;
                counters.preparedHits++;
                writeClient(ExtendedMessages.parseComplete());
                clientNeedsFlush = true;
                return MessageFramer.CONSUME;
            }
            case PgProtocol.DESCRIBE_REQUEST -> {
                String name = ExtendedMessages.targetName(buf, offset, length);
                if (ExtendedMessages.target(buf, offset) != 'S') {
                    return name.isEmpty() ? -1 : refuse(noSuchPortal(name));   // no portal outlives a transaction
                }
                if (name.isEmpty()) {
                    return unnamed == null ? refuse(noUnnamedStatement()) : -1;
                }
                PreparedStatements.Statement st = clientStatement(name);
                if (st == null) {
                    return refuse(noSuchStatement(name));
                }
                byte[] description = st.description();
                if (description == null) {
                    return -1;
                }
                writeClient(channel.alloc().buffer(description.length).writeBytes(description));
                clientNeedsFlush = true;
                return MessageFramer.CONSUME;
            }
            case PgProtocol.EXECUTE_REQUEST -> {
                return ExtendedMessages.firstNameEmpty(buf, offset) ? -1
                    : refuse(noSuchPortal(ExtendedMessages.firstName(buf, offset, length)));
            }
            case PgProtocol.CLOSE_REQUEST -> {
                if (ExtendedMessages.target(buf, offset) == 'S') {
                    String name = ExtendedMessages.targetName(buf, offset, length);
                    if (name.isEmpty()) {
                        unnamed = null;
                    } else {
                        statements.remove(name);
                    }
                }
                writeClient(ExtendedMessages.closeComplete());
                clientNeedsFlush = true;
                return MessageFramer.CONSUME;
            }
            default -> {
                return -1;
            }
        }
    }

    /** Whether the current Parse's SQL starts with a command whose Parse must reach a server (see noteSessionCommand). */
    private boolean sessionCommandKeyword(ByteBuf buf) {
        int k = keyword;
        int end = keywordEnd;
        return ExtendedMessages.isKeyword(buf, k, end, "SET") || ExtendedMessages.isKeyword(buf, k, end, "RESET")
            || ExtendedMessages.isKeyword(buf, k, end, "DISCARD") || ExtendedMessages.isKeyword(buf, k, end, "DEALLOCATE");
    }

    private void writeServer(ByteBuf buf) {
        server.write(buf);
        serverNeedsFlush = true;
    }

    /**
     * Commands of a simple Query that PgFleet answers itself in transaction mode, without a
     * server: DEALLOCATE (the client's statement names are PgFleet's to forget), and SQL-level
     * PREPARE/EXECUTE, refused with a clear error because a statement prepared that way would
     * stay on one server connection while the client moves between them.
     *
     * @return CONSUME when answered here, -1 to go on
     */
    private int localCommand(byte type, ByteBuf buf, int offset, int length) {
        boolean query = type == PgProtocol.QUERY_REQUEST;
        int end = keywordEnd;
        int k = keyword;
        if (k < 0) {
            return -1;
        }
        if (ExtendedMessages.isKeyword(buf, k, end, "PREPARE") || ExtendedMessages.isKeyword(buf, k, end, "EXECUTE")) {
            PgException refused = new PgException(SqlState.FEATURE_NOT_SUPPORTED,
                "SQL-level PREPARE and EXECUTE are not supported in transaction pooling mode",
                "Use protocol-level prepared statements (your driver's prepared statements), which PgFleet supports, "
                    + "or pool_mode = \"session\".", false);
            return query ? answerLocally(refused, null) : refuseExtended(refused);
        }
        if (!query || !ExtendedMessages.isKeyword(buf, k, end, "DEALLOCATE")) {
            return -1;
        }
        int w = ExtendedMessages.nextWord(buf, k, end);
        if (ExtendedMessages.isKeyword(buf, w, end, "PREPARE")) {
            w = ExtendedMessages.nextWord(buf, w, end);
        }
        String tag;
        if (ExtendedMessages.isKeyword(buf, w, end, "ALL")) {
            statements.clear();
            tag = "DEALLOCATE ALL";
        } else {
            String rest = buf.toString(w, end - w, java.nio.charset.StandardCharsets.UTF_8).trim();
            rest = rest.endsWith(";") ? rest.substring(0, rest.length() - 1).trim() : rest;
            if (rest.startsWith("\"") && rest.endsWith("\"") && rest.length() > 1) {
                rest = rest.substring(1, rest.length() - 1).replace("\"\"", "\"");
            }
            if (statements.remove(rest) == null) {
                return answerLocally(new PgException("26000", "prepared statement \"" + rest + "\" does not exist", null, false), null);
            }
            tag = "DEALLOCATE";
        }
        return answerLocally(null, tag);
    }

    /**
     * Where the transaction that starts with this message goes: SET SERVER ROLE if the client
     * set one, else a comment hint, else the classifier's verdict on the SQL (the Query, the
     * Parse, or the text of the named statement a Bind uses); anything else to the primary.
     * The SQL is decoded only here, when read/write splitting is on.
     */
    private dev.pgfleet.router.Route routeFor(byte type, ByteBuf buf, int offset, int length) {
        if (roleOverride != null) {
            return roleOverride;
        }
        if (type == PgProtocol.BIND_REQUEST) {
            PreparedStatements.Statement st = statements.get(ExtendedMessages.bindStatement(buf, offset, length));
            if (st != null) {
                return st.route(runtime.classifier());   // a prepared statement is classified once
            }
        }
        CharSequence sql = sqlOf(type, buf, offset, length);
        if (sql == null) {
            return dev.pgfleet.router.Route.PRIMARY;
        }
        return runtime.classifier().classify(sql).effectiveRoute();
    }

    /**
     * The SQL of a Query or Parse, as a view of the bytes when they are ASCII (a classification
     * cache hit copies nothing); null for other messages.
     */
    private static CharSequence sqlOf(byte type, ByteBuf buf, int offset, int length) {
        if (type == PgProtocol.QUERY_REQUEST) {
            return dev.pgfleet.shared.protocol.AsciiSql.ofQuery(buf, offset, length);
        }
        if (type == PgProtocol.PARSE_REQUEST) {
            return dev.pgfleet.shared.protocol.AsciiSql.ofParse(buf, offset, length);
        }
        return null;
    }

    /** The startup option ({@code options=-c pgfleet.shard=n}) that picks the client's shard. */
    private static final String SHARD_OPTION = "pgfleet.shard";

    private int shardCount() {
        return poolConfig.shards().size();
    }

    /** The routing of one shard of this client's pool (shard 0: the session's own). */
    private PoolRouting shardRouting(int shard) {
        PoolRouting r = shard == 0 ? null : runtime.routing(poolConfig.name(), user.username(), shard);
        return r != null ? r : routing;
    }

    /** A shard number as SET SHARD or the startup option give it; -1 when not a shard of this pool. */
    private int parseShard(String value) {
        try {
            int n = Integer.parseInt(value.trim());
            return n >= 0 && n < shardCount() ? n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * The shard a sharding key names: an integer key by PostgreSQL's bigint hash partitioning,
     * any other by its text hash, with MODULUS = the pool's number of shards (pg_bigint_hash).
     */
    private int shardOfKey(String key) {
        try {
            return dev.pgfleet.router.ShardHash.bigintRemainder(Long.parseLong(key.trim()), shardCount());
        } catch (NumberFormatException e) {
            return dev.pgfleet.router.ShardHash.textRemainder(key, shardCount());
        }
    }

    /**
     * The shard of the transaction this message starts, on a sharded pool: a comment hint
     * ({@code /* shard_id: n *}{@code /}, {@code /* sharding_key: k *}{@code /}), else the client's
     * selection, else shard 0. -1 for a hint naming no shard of the pool.
     */
    private int shardFor(byte type, ByteBuf buf, int offset, int length) {
        CharSequence sql;
        if (type == PgProtocol.BIND_REQUEST) {
            PreparedStatements.Statement st = statements.get(ExtendedMessages.bindStatement(buf, offset, length));
            sql = st != null ? st.query() : null;
        } else {
            sql = sqlOf(type, buf, offset, length);
        }
        if (sql != null) {
            dev.pgfleet.router.Classification c = runtime.classifier().classify(sql);
            if (c.shardHint() >= 0) {
                return c.shardHint() < shardCount() ? c.shardHint() : -1;
            }
            if (c.shardingKeyHint() != null) {
                return shardOfKey(c.shardingKeyHint());
            }
        }
        return Math.max(selectedShard, 0);
    }

    /**
     * PgFleet's own commands (SET/SHOW SERVER ROLE, SET/SHOW PRIMARY READS, SET SHARD,
     * SET SHARDING KEY, SHOW SHARD), answered here:
     * only a Query starting with SET or SHOW is looked at.
     *
     * @return CONSUME when answered, -1 otherwise
     */
    private int pgfleetCommand(byte type, ByteBuf buf, int offset, int length) {
        boolean query = type == PgProtocol.QUERY_REQUEST;
        int end = keywordEnd;
        int k = keyword;
        if (!ExtendedMessages.isKeyword(buf, k, end, "SET") && !ExtendedMessages.isKeyword(buf, k, end, "SHOW")) {
            return -1;
        }
        String sql = query ? ExtendedMessages.queryText(buf, offset, length) : ExtendedMessages.decodeParse(buf, offset, length).query();
        dev.pgfleet.router.PgFleetCommand cmd = runtime.classifier().classify(sql).command();
        if (cmd == null || !requests.isEmpty()) {
            return -1;
        }
        LocalReply reply;
        switch (cmd.type()) {
            case SET_SERVER_ROLE -> {
                roleOverride = cmd.role();
                reply = new LocalReply("SET", null, null);
            }
            case SET_PRIMARY_READS -> {
                primaryReadsOverride = "default".equalsIgnoreCase(cmd.value()) ? null
                    : cmd.value().equalsIgnoreCase("on") || cmd.value().equalsIgnoreCase("true");
                reply = new LocalReply("SET", null, null);
            }
            case SHOW_SERVER_ROLE -> reply = new LocalReply("SHOW", "server_role",
                roleOverride == null ? "auto" : roleOverride.name().toLowerCase(java.util.Locale.ROOT));
            case SHOW_PRIMARY_READS -> reply = new LocalReply("SHOW", "primary_reads",
                (primaryReadsOverride != null ? primaryReadsOverride : routing.view.primaryReads) ? "on" : "off");
            case SET_SHARD, SET_SHARDING_KEY -> {
                int n = cmd.type() == dev.pgfleet.router.PgFleetCommand.Type.SET_SHARD ? cmd.shard() : shardOfKey(cmd.value());
                PgException refused = null;
                if (n >= shardCount()) {
                    refused = new PgException(SqlState.INVALID_PARAMETER_VALUE, "shard " + n + " does not exist: pool \""
                        + poolConfig.name() + "\" has shards 0 to " + (shardCount() - 1), null, false);
                }
                if (refused != null) {
                    return query ? answerLocally(refused, null) : refuseExtended(refused);
                }
                selectedShard = n;   // the next transactions'; -1 ('any'): shard 0
                reply = new LocalReply("SET", null, null);
            }
            case SHOW_SHARD -> reply = new LocalReply("SHOW", "shard", selectedShard < 0 ? "any" : Integer.toString(selectedShard));
            case INVALID -> {
                PgException e = new PgException("22023", cmd.value(), null, false);
                return query ? answerLocally(e, null) : refuseExtended(e);
            }
            default -> {
                return -1;
            }
        }
        if (query) {
            return reply.column() == null ? answerLocally(null, reply.tag()) : answerRow(reply.column(), reply.value());
        }
        localReply = reply;
        return answerExtended(type);
    }

    /** The responses to a PgFleet command sent as Parse/Bind/Describe/Execute/Sync. */
    private int answerExtended(byte type) {
        LocalReply r = localReply;
        ByteBuf out = channel.alloc().buffer(64);
        switch (type) {
            case PgProtocol.PARSE_REQUEST -> out.writeBytes(ExtendedMessages.parseComplete());
            case PgProtocol.BIND_REQUEST -> out.writeByte('2').writeInt(4);
            case PgProtocol.DESCRIBE_REQUEST -> {
                if (r.column() == null) {
                    out.writeByte('n').writeInt(4);
                } else {
                    BackendMessages.rowDescriptionText(out, List.of(r.column()));
                }
            }
            case PgProtocol.EXECUTE_REQUEST -> {
                if (r.column() != null) {
                    BackendMessages.dataRowText(out, List.of(r.value()));
                }
                BackendMessages.commandComplete(out, r.tag());
            }
            case PgProtocol.SYNC_REQUEST -> {
                BackendMessages.readyForQuery(out, server != null ? server.txStatus() : PgProtocol.TX_IDLE);
                localReply = null;
            }
            case PgProtocol.CLOSE_REQUEST -> out.writeBytes(ExtendedMessages.closeComplete());
            default -> {
                // Flush: nothing to say.
            }
        }
        writeClient(out);
        clientNeedsFlush = true;
        return MessageFramer.CONSUME;
    }

    private int answerRow(String column, String value) {
        if (!requests.isEmpty()) {
            return -1;
        }
        ByteBuf out = channel.alloc().buffer(128);
        BackendMessages.rowDescriptionText(out, List.of(column));
        BackendMessages.dataRowText(out, List.of(value));
        BackendMessages.commandComplete(out, "SHOW");
        BackendMessages.readyForQuery(out, server != null ? server.txStatus() : PgProtocol.TX_IDLE);
        writeClient(out);
        clientNeedsFlush = true;
        return MessageFramer.CONSUME;
    }

    /**
     * An extended-protocol batch PgFleet refuses: the error now, then (as PostgreSQL after an
     * error) the client's messages up to Sync are dropped and Sync gets ReadyForQuery.
     */
    private int refuseExtended(PgException error) {
        if (!requests.isEmpty()) {
            return -1;   // responses to earlier requests are still coming: let the server answer in order
        }
        countError(error.sqlState());
        ByteBuf out = channel.alloc().buffer(256);
        BackendMessages.errorResponse(out, error);
        writeClient(out);
        clientNeedsFlush = true;
        discardToSync = true;
        return MessageFramer.CONSUME;
    }

    /** Answers a Query without the server: an error or a command tag, then ReadyForQuery. */
    private int answerLocally(PgException error, String tag) {
        if (!requests.isEmpty()) {
            // Responses to earlier requests are still coming: let the server answer in order.
            return -1;
        }
        ByteBuf out = channel.alloc().buffer(128);
        if (error != null) {
            countError(error.sqlState());
            BackendMessages.errorResponse(out, error);
        } else {
            BackendMessages.commandComplete(out, tag);
        }
        BackendMessages.readyForQuery(out, server != null ? server.txStatus() : PgProtocol.TX_IDLE);
        writeClient(out);
        clientNeedsFlush = true;
        return MessageFramer.CONSUME;
    }

    /**
     * A Query or Parse that may change session state: every statement of its SQL is read (router's
     * SessionCommands), but only when its bytes hold "set", "discard" or "deallocate", so that the
     * common query costs a byte scan and no allocation. A named Parse takes effect at its Binds.
     */
    private void noteSessionCommand(ByteBuf buf) {
        noteEffects(sessionEffects(buf));
    }

    /** What the current Query's or Parse's SQL does to session state (NONE, allocating nothing, for most SQL). */
    private dev.pgfleet.router.SessionCommands.Effects sessionEffects(ByteBuf buf) {
        int k = keyword;
        int end = keywordEnd;
        if (k < 0 || !ExtendedMessages.mayChangeSession(buf, k, end)) {
            return dev.pgfleet.router.SessionCommands.Effects.NONE;
        }
        int nul = buf.indexOf(k, end + 1, (byte) 0);
        return dev.pgfleet.router.SessionCommands.scan(dev.pgfleet.shared.protocol.AsciiSql.of(buf, k, nul < 0 ? end : nul));
    }

    /**
     * What a statement about to run does to session state: settings to read back after the
     * transaction (and custom names to read by name), prepared statements the server drops, and
     * startup settings a RESET takes away, put back before its ReadyForQuery reaches the client.
     */
    private void noteEffects(dev.pgfleet.router.SessionCommands.Effects fx) {
        if (fx == dev.pgfleet.router.SessionCommands.Effects.NONE) {
            return;
        }
        if (fx.settings()) {
            settingsDirty = true;
        }
        for (String name : fx.customNames()) {
            if (customSettings.size() < 100) {
                customSettings.add(name);
            }
        }
        if (mode != PoolMode.SESSION && server != null) {
            if (fx.discardAll()) {
                server.forgetPrepared();
            }
            if (fx.deallocate()) {
                // DEALLOCATE that reaches the server drops PgFleet's names there.
                server.forgetPrepared();
                statements.clear();
            }
        }
        if (server != null && (restore != null || fx.resetsSomething())) {
            if (restore == null) {
                restore = new StartupRestore();
            }
            restore.apply(fx.changes());
            server.holdNextReady();
        }
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
            ByteBuf out = channel.alloc().buffer(6);
            BackendMessages.readyForQuery(out, PgProtocol.TX_IDLE);
            writeClient(out);
            clientNeedsFlush = true;
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

    private int onStartupPacket(ByteBuf buf, int offset, int length) {
        StartupPacket packet = StartupPacket.decode(buf, offset, length);
        startupPacketSeen = true;
        // Bytes the client sent behind SSLRequest (or GSSENCRequest) before reading our answer would
        // be taken as if they came through the encryption it asked for (CVE-2021-23214 in
        // PostgreSQL, the same class in poolers): refused whether TLS is on or not, as PostgreSQL does.
        boolean pipelined = offset + length < buf.writerIndex() || framer.buffered() > 0;
        if (packet.isSslRequest()) {
            if (tls) {
                throw new PgException(SqlState.PROTOCOL_VIOLATION, "SSLRequest after TLS is established");
            }
            if (verticle.clientTls() == null) {
                writeClient(BackendMessages.sslNo());
                flushClient();
                if (pipelined) {
                    // PostgreSQL answers 'N' first, then refuses what it had buffered (ProcessStartupPacket).
                    throw unencryptedData("SSL request");
                }
                return MessageFramer.CONSUME;
            }
            if (pipelined) {
                throw unencryptedData("SSL request");
            }
            state = State.TLS_HANDSHAKE;
            tls = true;
            ByteBuf yes = channel.alloc().buffer(1).writeByte('S');
            NetSockets.startTls(socket, verticle.clientTls(), yes, err -> {
                if (err != null) {
                    log.debug("client {}: TLS handshake failed: {}", socket.remoteAddress(), err.toString());
                    close();
                } else if (state == State.TLS_HANDSHAKE) {
                    state = State.STARTUP;
                    framer.resume();
                }
            });
            return MessageFramer.CONSUME;
        }
        if (packet.isGssEncRequest()) {
            writeClient(BackendMessages.sslNo());
            flushClient();
            if (pipelined) {
                throw unencryptedData("GSSAPI encryption request");
            }
            return MessageFramer.CONSUME;
        }
        if (packet.isCancelRequest()) {
            verticle.cancel(packet.cancelProcessId(), packet.cancelSecretKey());
            close();
            return MessageFramer.CONSUME;
        }
        startup = packet;
        framer.mode(MessageFramer.Mode.MESSAGE);
        framer.interceptAll(true);
        // While authenticating: 'p' only, and no longer than PostgreSQL's PG_MAX_AUTH_TOKEN_LENGTH.
        framer.onlyType(PgProtocol.PASSWORD_REQUEST);
        framer.maxMessageLength(MAX_AUTH_MESSAGE_LENGTH);
        negotiateProtocol(packet);
        if (packet.parameters().containsKey("replication")) {
            throw new PgException(SqlState.FEATURE_NOT_SUPPORTED, "replication connections are not supported by PgFleet");
        }
        if (runtime.shuttingDown()) {
            throw new PgException(SqlState.CANNOT_CONNECT_NOW, "PgFleet is shutting down");
        }
        if (!runtime.admitClient()) {
            throw new PgException(SqlState.TOO_MANY_CONNECTIONS, "no more connections allowed (max_client_conn)");
        }
        admitted = true;
        beginAuthentication();
        return MessageFramer.CONSUME;
    }

    private static PgException unencryptedData(String request) {
        return new PgException(SqlState.PROTOCOL_VIOLATION, "received unencrypted data after " + request,
            "This could be either a client-software bug or evidence of an attempted man-in-the-middle attack.", true);
    }

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
        if (startup == null || state == State.TLS_HANDSHAKE) {
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

    /**
     * A client asking for protocol 3.x with x above 0, or for "_pq_." options, gets
     * NegotiateProtocolVersion and continues with 3.0, as PostgreSQL does.
     */
    private void negotiateProtocol(StartupPacket packet) {
        List<String> unknown = new ArrayList<>();
        for (String name : packet.parameters().keySet()) {
            if (name.startsWith("_pq_.")) {
                unknown.add(name);
            }
        }
        if (packet.minorVersion() > 0 || !unknown.isEmpty()) {
            ByteBuf out = channel.alloc().buffer(64);
            BackendMessages.negotiateProtocolVersion(out, 0, unknown);
            writeClient(out);
        }
    }

    private void beginAuthentication() {
        String username = startup.user();
        if (consoleOnly || dev.pgfleet.shared.admin.AdminConsole.isConsoleDatabase(startup.database())) {
            beginConsoleAuthentication(username);
            return;
        }
        poolConfig = runtime.config().pool(startup.database()).orElse(null);
        user = poolConfig != null ? poolConfig.user(username).orElse(null) : runtime.anyUser(username).orElse(null);
        String secret = user == null ? null : user.password();
        boolean md5 = user != null ? user.authType() == AuthType.MD5 : runtime.config().general().authType() == AuthType.MD5;
        if (secret != null && Md5Auth.isMd5Hash(secret)) {
            md5 = true;   // an md5 hash can only answer md5
        }
        auth = md5 ? ClientAuthenticator.md5(username, secret)
            : ClientAuthenticator.scram(username, user == null ? null : runtime.verifier(user));
        ByteBuf out = channel.alloc().buffer(64);
        auth.begin(out);
        writeClient(out);
        flushClient();
        state = State.AUTH;
    }

    private int onAuthMessage(byte type, ByteBuf buf, int offset, int length) {
        if (type != PgProtocol.PASSWORD_REQUEST) {
            // The exchange is strict: nothing else is taken while authenticating.
            throw new PgException(SqlState.PROTOCOL_VIOLATION,
                "expected password response, got message type " + (char) type);
        }
        ByteBuf out = channel.alloc().buffer(128);
        boolean done;
        try {
            done = auth.onPasswordMessage(buf, offset, length, out);
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
        if (!done) {
            writeClient(out);
            flushClient();
            return MessageFramer.CONSUME;
        }
        auth = null;
        framer.onlyType((byte) 0);
        framer.maxMessageLength(runtime.config().general().maxMessageSize());
        BackendMessages.authenticationOk().readBytes(out, 9);
        writeClient(out);
        if (consoleLogin) {
            return consoleAuthenticated();
        }
        if (poolConfig == null) {
            throw new PgException(SqlState.INVALID_CATALOG_NAME, "database \"" + startup.database() + "\" does not exist");
        }
        flushClient();
        state = State.CONNECTING;
        connectServer();
        return MessageFramer.CONSUME;
    }

    // -- the admin console's hand-over ----------------------------------------------------

    /**
     * The console's login: the [general] admin_username and admin_password, by auth_type (md5
     * always for an md5 hash). Any other user runs the same exchange against nothing and gets the
     * same 28P01 as any failed login, so the console's user cannot be told from a wrong password.
     */
    private void beginConsoleAuthentication(String username) {
        consoleLogin = true;
        dev.pgfleet.shared.config.General general = runtime.config().general();
        boolean admin = username.equals(general.adminUsername());
        String secret = admin ? general.adminPassword() : null;
        boolean md5 = general.authType() == AuthType.MD5 || secret != null && Md5Auth.isMd5Hash(secret);
        auth = md5 ? ClientAuthenticator.md5(username, secret)
            : ClientAuthenticator.scram(username, admin ? runtime.adminVerifier() : null);
        ByteBuf out = channel.alloc().buffer(64);
        auth.begin(out);
        writeClient(out);
        flushClient();
        state = State.AUTH;
    }

    /** AuthenticationOk is written: the connection goes to the console once this read is framed. */
    private int consoleAuthenticated() {
        if (!dev.pgfleet.shared.admin.AdminConsole.isConsoleDatabase(startup.database())) {
            throw new PgException(SqlState.INVALID_CATALOG_NAME, "database \"" + startup.database() + "\" does not exist",
                "admin_port serves only the admin console: database \"pgfleet\" (or \"pgbouncer\").", true);
        }
        if (runtime.console() == null) {
            throw new PgException(SqlState.CANNOT_CONNECT_NOW, "the admin console is not running");
        }
        state = State.CONSOLE;   // what the client pipelined behind its password waits in the framer
        return MessageFramer.CONSUME;
    }

    /**
     * Gives the socket, the unread bytes and the max_client_conn slot to the console; this
     * session ends without closing the socket (it is not a data-plane client from here on).
     */
    private void handOverToConsole() {
        ByteBuf rest = framer.detach();
        boolean slot = admitted;
        admitted = false;
        String tlsName = tls ? tlsDescription() : "";
        release();
        java.util.concurrent.atomic.AtomicBoolean gone = new java.util.concurrent.atomic.AtomicBoolean(!slot);
        runtime.console().open(new dev.pgfleet.shared.admin.AdminConsole.Client(socket, startup.parameters(), rest, tlsName,
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
                fatal(new PgException(SqlState.INVALID_CATALOG_NAME, "database \"" + startup.database() + "\" does not exist"));
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
        mode = user.poolMode() != null ? user.poolMode() : poolConfig.poolMode();
        Map<String, String> asked = SessionSettings.fromStartup(startup.parameters(), user.statementTimeout().toMillis());
        String startupShard = asked.remove(SHARD_OPTION);   // PgFleet's, not the server's
        if (startupShard != null) {
            int n = parseShard(startupShard);
            if (n < 0) {
                fatal(new PgException(SqlState.INVALID_PARAMETER_VALUE, "invalid value for " + SHARD_OPTION + ": \""
                    + startupShard + "\": pool \"" + poolConfig.name() + "\" has shards 0 to " + (shardCount() - 1)));
                return;
            }
            selectedShard = n;
        }
        settings = runtime.intern(asked);
        startupSettings = settings;
        if (mode == PoolMode.SESSION) {
            PoolRouting bound = shardRouting(Math.max(selectedShard, 0));
            selectedShard = Math.max(selectedShard, 0);
            pool = bound.forSession();   // bound for the whole session: by default_role, health-aware
            acquire(true).onComplete(ar -> {
                if (state != State.CONNECTING) {
                    return;
                }
                if (ar.failed()) {
                    fatal(asPgException(ar.cause()));
                    return;
                }
                server = ar.result();
                server.link(this, null);
                counters.serverAssignments++;
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
        if (known != null && (knowsReportedValues(known) || pool.serverParameters() == null)) {
            greet(known);
            return;
        }
        // Nothing known yet (no server of the pool reached), or a startup value the server reports
        // in another form (DateStyle=ISO is "ISO, MDY"): a connection that applies the client's
        // settings tells, once per pool and value, so the greeting says what PostgreSQL would.
        acquire(true).onComplete(ar -> {
            if (ar.succeeded()) {
                learnReported(ar.result());
                ar.result().release();
            }
            if (state != State.CONNECTING) {
                return;
            }
            if (ar.failed()) {
                fatal(asPgException(ar.cause()));
            } else {
                greet(ar.result().pool().serverParameters());   // possibly another server's, after a reroute
            }
        });
    }

    /**
     * A server connection for this session with the session's settings applied: an idle one,
     * a new one, or the next one free (waiting at most query_wait_timeout).
     */
    private Future<ServerConnection> acquire(boolean login) {
        checkoutAttempts = 0;
        return acquireAttempt(login);
    }

    private Future<ServerConnection> acquireAttempt(boolean login) {
        checkoutAttempts++;
        attach(pool);
        Promise<ServerConnection> waited = NetSockets.promise(context);
        ServerPool.Checkout checkout = new ServerPool.PromiseCheckout(waited);
        startWait();
        acquiring = checkout;
        pool.acquire(context, verticle.connector()::open, checkout);
        return waited.future().recover(err -> Future.failedFuture(waitError(err, login)))
            .compose(this::withSettings)
            .recover(err -> err instanceof ServerConnection.Lost && checkoutAttempts < MAX_CHECKOUT_ATTEMPTS && state != State.CLOSED
                ? acquireAttempt(login)   // only PgFleet's SET reached that server (killed while idle): take another
                : Future.failedFuture(err))
            .andThen(ar -> {
                acquiring = null;
                endWait();
            });
    }

    /** Whether every reported startup value of this client is known in the form the server reports it. */
    private boolean knowsReportedValues(Map<String, String> serverParameters) {
        for (Map.Entry<String, String> e : serverParameters.entrySet()) {
            String key = e.getKey().toLowerCase(java.util.Locale.ROOT);
            String mine = settings.get(key);
            if (mine != null && !mine.equals(e.getValue()) && pool.reportedSetting(key, mine) == null) {
                return false;
            }
        }
        return true;
    }

    /** Records how {@code conn}, which has this session's settings, reports them. */
    private void learnReported(ServerConnection conn) {
        for (Map.Entry<String, String> e : conn.parameters().entrySet()) {
            String key = e.getKey().toLowerCase(java.util.Locale.ROOT);
            String mine = settings.get(key);
            if (mine != null) {
                pool.learnReportedSetting(key, mine, e.getValue());
            }
        }
    }

    /** A failed checkout as the client sees it: query_wait_timeout is 57014, as a cancelled statement. */
    private Throwable waitError(Throwable err, boolean login) {
        return err instanceof ServerPool.WaitTimeout
            ? new PgException(SqlState.QUERY_CANCELED, "no server connection available within query_wait_timeout ("
                + runtime.queryWaitTimeoutMillis() + " ms)", null, login)
            : err;
    }

    /** {@code conn} with this session's settings applied (at once when it has them already). */
    private Future<ServerConnection> withSettings(ServerConnection conn) {
        if (state == State.CLOSED) {
            conn.release();
            return Future.failedFuture("client left");
        }
        if (hasSettings(conn)) {
            return Future.succeededFuture(conn);
        }
        String sql = SessionSettings.syncSql(settings, conn.applied());
        Map<String, String> wanted = settings;
        return conn.runInternal(sql).transform(ar -> {
            if (ar.failed()) {
                conn.release();
                return Future.failedFuture(ar.cause());
            }
            conn.applied(wanted);
            return Future.succeededFuture(conn);
        });
    }

    /** Whether {@code conn} has this session's settings; sessions share equal settings maps (interned), so usually by reference. */
    private boolean hasSettings(ServerConnection conn) {
        Map<String, String> applied = conn.applied();
        if (applied == settings) {
            return true;
        }
        if (applied.equals(settings)) {
            conn.applied(settings);
            return true;
        }
        return false;
    }

    /** Counts this client in the pool's share for its event loop, once per pool it uses. */
    private void attach(ServerPool p) {
        for (int i = 0; i < attachedCount; i++) {
            if (attached[i] == p) {
                return;
            }
        }
        if (attachedCount == attached.length) {
            attached = java.util.Arrays.copyOf(attached, attachedCount * 2);
        }
        attached[attachedCount++] = p;
        p.attach(loop);
    }

    /** Transaction mode: the client started a transaction; its input waits until a server is linked. */
    private void acquireForTransaction() {
        checkoutAttempts = 0;
        acquireForTransactionAttempt();
    }

    private void acquireForTransactionAttempt() {
        checkoutAttempts++;
        attach(pool);
        ServerConnection idle = pool.pollIdle(loop);
        if (idle != null && hasSettings(idle)) {
            // The common case: an idle connection of this loop with the same settings, no Future.
            server = idle;
            server.link(this, requests);
            counters.serverAssignments++;
            return;
        }
        waiting = true;
        if (idle != null) {
            withSettings(idle).onComplete(ar -> acquiredForTransaction(ar.result(), ar.cause()));
        } else {
            startWait();
            acquiring = transactionCheckout;
            pool.acquire(context, verticle.connector()::open, transactionCheckout);
        }
    }

    /** The end of a transaction's checkout: {@code conn}, or the {@code failure} to report. */
    private void acquiredForTransaction(ServerConnection conn, Throwable failure) {
        if (log.isTraceEnabled()) {
            log.trace("[{}] acquired for transaction: {}", System.identityHashCode(this), failure == null ? "ok" : failure.toString());
        }
        if (state == State.CLOSED) {
            if (conn != null) {
                conn.release();
            }
            return;
        }
        endWait();
        waiting = false;
        if (failure instanceof ServerConnection.Lost && checkoutAttempts < MAX_CHECKOUT_ATTEMPTS) {
            // Only PgFleet's settings sync reached that server (killed while idle in the pool), nothing
            // of the client's: take another connection. The client's message still waits in the framer.
            acquireForTransactionAttempt();
            if (server != null) {
                framer.resume();   // an idle connection with the right settings, at once
                onReadComplete();
            }
            return;
        }
        if (failure != null) {
            PgException e = asPgException(failure);
            if (e.fatal()) {
                fatal(e);
                return;
            }
            // The client stays usable: the error, then its messages up to Sync are dropped.
            countError(e.sqlState());
            ByteBuf out = channel.alloc().buffer(128);
            BackendMessages.errorResponse(out, e);
            writeClient(out);
            flushClient();
            discardToSync = true;
        } else {
            if (runtime.control().flags() != 0 && runtime.control().holds(poolConfig.name())) {
                // PAUSE came while this client waited for a connection: it goes on waiting, for RESUME.
                conn.release();
                hold(false);
                return;
            }
            server = conn;
            server.link(this, requests);
            counters.serverAssignments++;
        }
        framer.resume();
        onReadComplete();
    }

    private static PgException asPgException(Throwable t) {
        return t instanceof PgException pe ? pe
            : new PgException(SqlState.CONNECTION_FAILURE, "no server connection: " + t.getMessage());
    }

    /**
     * After login every type is read but CopyData, the one a client sends in bulk (COPY FROM
     * STDIN), which passes unread: so an unknown type never slips through inside a forwarded run.
     */
    private static final boolean[] SESSION_MESSAGES = MessageFramer.typeTable(true, PgProtocol.COPY_DATA);

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
        for (Map.Entry<String, String> e : serverParameters.entrySet()) {
            // The client's own startup values for reported settings, as its session will have them.
            String key = e.getKey().toLowerCase(java.util.Locale.ROOT);
            String mine = settings.get(key);
            String value = e.getValue();
            if (mode != PoolMode.SESSION && mine != null) {
                String reported = pool.reportedSetting(key, mine);
                value = reported != null ? reported : mine;
            }
            BackendMessages.parameterStatus(out, e.getKey(), value);
            told.put(key, new String[] {e.getKey(), value});
        }
        BackendMessages.backendKeyData(out, cancelPid, cancelSecret);
        BackendMessages.readyForQuery(out, PgProtocol.TX_IDLE);
        writeClient(out);
        flushClient();
        cancelLoginTimer();
        state = State.READY;
        ClientLog.login(runtime.config().general(), startup, socket, tls);
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
        } else if (!portals.isEmpty()) {
            portals.clear();   // portals end with their transaction (WITH HOLD cursors stay, but not the client's)
        }
        if (mode == PoolMode.SESSION) {
            return;   // session mode keeps the server connection until the client leaves
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
        if (!settingsDirty) {
            server = null;
            releaseAfterTransaction(s, readyAt);
            leaveIfDraining();
            return;
        }
        settingsDirty = false;
        waiting = true;
        s.runInternal(SessionSettings.captureSql(customSettings)).onComplete(ar -> {
            waiting = false;
            if (ar.succeeded()) {
                Map<String, String> now = new java.util.LinkedHashMap<>();
                for (String[] row : ar.result()) {
                    if (row[1] != null) {
                        now.put(row[0].toLowerCase(java.util.Locale.ROOT), row[1]);
                    }
                }
                settings = runtime.intern(now);
                s.applied(settings);
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
    public boolean serverParameter(String name, String value) {
        if (restore != null) {
            restore.reported(name, value);   // the client is told the final value once the restore is done
            return false;
        }
        told.put(name.toLowerCase(java.util.Locale.ROOT), new String[] {name, value});
        return true;
    }

    /**
     * The ReadyForQuery of a request that reset something: the startup settings it took away are
     * set again on the same server connection first (inside the client's transaction when one is
     * open; not after an error, when the transaction rolls back anyway), then the client gets the
     * ParameterStatus that differ from what it was told, and the ReadyForQuery.
     */
    @Override
    public void readyHeld(ByteBuf ready, byte txStatus) {
        StartupRestore r = restore;
        ServerConnection s = server;
        String sql = r == null || txStatus == PgProtocol.TX_FAILED ? "" : r.sql(startupSettings);
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
        restore = null;
        if (state == State.CLOSED || server == null) {
            ready.release();
            return;
        }
        if (r != null && !r.reported.isEmpty()) {
            ByteBuf out = channel.alloc().buffer(128);
            for (Map.Entry<String, String[]> e : r.reported.entrySet()) {
                String[] was = told.get(e.getKey());
                String[] now = e.getValue();
                if (was == null || !was[1].equals(now[1])) {
                    BackendMessages.parameterStatus(out, now[0], now[1]);
                    told.put(e.getKey(), now);
                }
            }
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
        boolean idle = server == null || server.clean() && !waiting;
        if (idle || late) {
            fatal(adminShutdown());
        }
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

    private void fatal(PgException e) {
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

    private void writeClient(ByteBuf buf) {
        countSent(buf.readableBytes());
        NetSockets.write(channel, buf);
    }

    private void flushClient() {
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
        ClientLog.disconnect(runtime.config().general(), startup, socket, tls, closeReason, connectMillis);
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
        if (acquiring != null && pool != null) {
            pool.cancelWait(acquiring);
        }
        for (int i = 0; i < attachedCount; i++) {
            attached[i].detach(loop);
        }
        attachedCount = 0;
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
    private void hold(boolean atLogin) {
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
        return poolConfig != null ? poolConfig.name() : startup != null ? startup.database() : "";
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

    private void countError(String sqlState) {
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

    private void startWait() {
        if (waitStart == 0) {
            waitStart = System.nanoTime();
        }
    }

    private void endWait() {
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
        String app = settings != null ? settings.get("application_name")
            : startup != null ? startup.parameters().get("application_name") : null;
        ServerConnection s = server;
        return new dev.pgfleet.shared.admin.ProxyStats.ConnectionStats(id, "C", startup != null ? startup.user() : "",
            startup != null ? startup.database() : "", st, remote == null ? "" : remote.hostAddress(),
            remote == null ? 0 : remote.port(), local == null ? "" : local.hostAddress(), local == null ? 0 : local.port(),
            connectMillis, request, waitedMicros(now), false, s != null ? s.id : 0, cancelPid, tls ? tlsDescription() : "",
            app == null ? "" : app, statements.size());
    }

    /** "TLSv1.3/TLS_AES_256_GCM_SHA384", as the client's handshake agreed (PgFleet's own SslHandler). */
    private String tlsDescription() {
        String d = NetSockets.tlsDescription(socket);
        return d == null ? "TLS" : d;
    }
}
