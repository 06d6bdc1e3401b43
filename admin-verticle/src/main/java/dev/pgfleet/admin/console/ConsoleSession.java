package dev.pgfleet.admin.console;

import dev.pgfleet.shared.admin.AdminConsole;
import dev.pgfleet.shared.admin.ProxyStats.ConnectionStats;
import dev.pgfleet.shared.net.NetSockets;
import dev.pgfleet.shared.protocol.MessageFramer;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.PgProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.vertx.core.Future;
import io.vertx.core.net.NetSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One console client after its login: the v3 protocol's simple Query (several statements
 * per Query) and enough of the extended protocol for pgjdbc (Parse, Bind, Describe, Execute,
 * Close, Sync and Flush of parameterless statements, text or binary results). Not a data-plane
 * session: it shares only shared's framer and socket helpers with ClientSession.
 *
 * <p>Messages are read into a queue and answered in order, one at a time: an answer may wait for
 * the event bus (STATS, a PAUSE that returns once done), and what the client pipelined behind it
 * waits its turn, as PostgreSQL answers a pipeline in order.
 */
final class ConsoleSession implements MessageFramer.Listener {

    private static final Logger log = LoggerFactory.getLogger(ConsoleSession.class);

    /** Console statements are short; a message above this is a protocol violation. */
    private static final int MAX_MESSAGE_LENGTH = 1 << 20;
    /** Messages read ahead of their answers before the socket is paused. */
    private static final int MAX_QUEUED = 256;
    /** Console client ids are above the proxy's, so that SHOW CLIENTS' ids stay unique. */
    private static final long ID_BASE = 1L << 30;

    private final ConsoleService service;
    private final AdminConsole.Client client;
    private final NetSocket socket;
    private final ChannelHandlerContext channel;
    private final MessageFramer framer;
    private final long id;
    /** The socket's event loop: answers from the event bus continue there. */
    private io.vertx.core.Context context;
    private final long connectedAt = System.currentTimeMillis();
    private volatile long requestAt = connectedAt;
    private volatile String state = "active";

    /** Messages read, not yet answered (copies: the read buffer is the framer's). */
    private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
    private boolean busy;
    private boolean paused;
    private boolean closed;
    /** After an error in the extended protocol: messages are skipped up to Sync. */
    private boolean discardToSync;
    private final Map<String, ConsoleSql.Statement> statements = new HashMap<>();
    private final Map<String, Portal> portals = new HashMap<>();

    /** A bound statement; its result formats, per column (empty: all text). */
    private record Portal(ConsoleSql.Statement statement, short[] formats) {
    }

    ConsoleSession(ConsoleService service, AdminConsole.Client client, int n) {
        this.service = service;
        this.client = client;
        this.socket = client.socket();
        this.channel = NetSockets.context(socket);
        this.id = ID_BASE + n;
        this.framer = new MessageFramer(MessageFramer.Mode.MESSAGE, MAX_MESSAGE_LENGTH, this);
        framer.interceptAll(true);
    }

    /** Greets as PgBouncer's console does (after the proxy's AuthenticationOk), then reads. */
    void start() {
        context = io.vertx.core.Vertx.currentContext();
        ByteBuf out = channel.alloc().buffer(256);
        ConsoleWire.parameterStatus(out, "server_version", ConsoleService.PGBOUNCER_VERSION + "/pgfleet-" + service.version());
        ConsoleWire.parameterStatus(out, "client_encoding", "UTF8");
        ConsoleWire.parameterStatus(out, "server_encoding", "UTF8");
        ConsoleWire.parameterStatus(out, "DateStyle", "ISO");
        ConsoleWire.parameterStatus(out, "TimeZone", "GMT");
        ConsoleWire.parameterStatus(out, "standard_conforming_strings", "on");
        ConsoleWire.parameterStatus(out, "is_superuser", "on");
        String app = client.parameters().get("application_name");
        if (app != null) {
            ConsoleWire.parameterStatus(out, "application_name", app);
        }
        // A key no CancelRequest can match: the console has nothing to cancel.
        ConsoleWire.backendKeyData(out, (int) id, java.util.concurrent.ThreadLocalRandom.current().nextInt());
        ConsoleWire.readyForQuery(out);
        NetSockets.write(channel, out);
        NetSockets.flush(channel);
        NetSockets.onBytes(socket, this::onBytes, v -> { });
        socket.closeHandler(v -> ended());
        socket.exceptionHandler(err -> {
            log.debug("console client {}: {}", socket.remoteAddress(), err.toString());
            close();
        });
        if (client.buffered() != null) {
            onBytes(client.buffered());
        }
    }

    private void onBytes(ByteBuf buf) {
        if (closed) {
            buf.release();
            return;
        }
        try {
            framer.feed(buf);
        } catch (PgException e) {
            fatal(e.sqlState(), e.getMessage());
            return;
        }
        pump();
    }

    @Override
    public int onMessage(byte type, ByteBuf buf, int offset, int length) {
        queue.add(buf.copy(offset, length));
        if (queue.size() >= MAX_QUEUED && !paused) {
            paused = true;
            socket.pause();
        }
        return MessageFramer.CONSUME;
    }

    @Override
    public void forward(ByteBuf run) {
        run.release();   // every type is intercepted: nothing is forwarded
    }

    /** Answers queued messages until one waits for the event bus. */
    private void pump() {
        while (!busy && !closed && !queue.isEmpty()) {
            ByteBuf msg = queue.poll();
            Future<Void> done;
            try {
                done = handle(msg);
            } catch (RuntimeException e) {
                log.warn("console client {}: internal error", socket.remoteAddress(), e);
                msg.release();
                fatal("XX000", "internal error in PgFleet's console");
                return;
            }
            if (done != null) {
                busy = true;
                done.onComplete(ar -> onContext(() -> {
                    msg.release();
                    busy = false;
                    if (ar.failed()) {
                        log.warn("console client {}: internal error", socket.remoteAddress(), ar.cause());
                        fatal("XX000", "internal error in PgFleet's console");
                        return;
                    }
                    pump();
                }));
                NetSockets.flush(channel);
                return;
            }
            msg.release();
        }
        if (paused && queue.size() < MAX_QUEUED / 2) {
            paused = false;
            socket.resume();
        }
        NetSockets.flush(channel);
    }

    private void onContext(Runnable r) {
        if (context == null || io.vertx.core.Vertx.currentContext() == context) {
            r.run();
        } else {
            context.runOnContext(v -> r.run());
        }
    }

    /** One message; null when answered at once, else a future completed once answered. */
    private Future<Void> handle(ByteBuf msg) {
        byte type = msg.getByte(0);
        if (type == PgProtocol.TERMINATE_REQUEST) {
            close();
            return null;
        }
        if (discardToSync && type != PgProtocol.SYNC_REQUEST) {
            return null;
        }
        requestAt = System.currentTimeMillis();
        switch (type) {
            case PgProtocol.QUERY_REQUEST:
                return query(ConsoleWire.cstring(msg, 5));
            case PgProtocol.PARSE_REQUEST:
                parse(msg);
                return null;
            case PgProtocol.BIND_REQUEST:
                bind(msg);
                return null;
            case PgProtocol.DESCRIBE_REQUEST:
                describe(msg);
                return null;
            case PgProtocol.EXECUTE_REQUEST:
                return execute(msg);
            case PgProtocol.CLOSE_REQUEST:
                closeStatementOrPortal(msg);
                return null;
            case PgProtocol.SYNC_REQUEST:
                discardToSync = false;
                portals.remove("");
                ByteBuf out = channel.alloc().buffer(6);
                ConsoleWire.readyForQuery(out);
                NetSockets.write(channel, out);
                return null;
            case PgProtocol.FLUSH_REQUEST:
                NetSockets.flush(channel);
                return null;
            default:
                // FunctionCall, COPY messages: the console has nothing of the kind.
                extendedError("0A000", "message type '" + (char) type + "' is not supported by PgFleet's console");
                return null;
        }
    }

    // -- simple query ---------------------------------------------------------------------

    /** Each statement in turn; an error ends the Query (PostgreSQL skips the rest). */
    private Future<Void> query(String sql) {
        List<ConsoleSql.Statement> list = ConsoleSql.parse(sql);
        Future<Boolean> chain = Future.succeededFuture(true);
        boolean allEmpty = list.stream().allMatch(ConsoleSql.Statement::empty);
        if (allEmpty) {
            ByteBuf out = channel.alloc().buffer(16);
            ConsoleWire.emptyQueryResponse(out);
            ConsoleWire.readyForQuery(out);
            NetSockets.write(channel, out);
            return null;
        }
        for (ConsoleSql.Statement st : list) {
            if (st.empty()) {
                continue;
            }
            chain = chain.compose(ok -> {
                if (!ok) {
                    return Future.succeededFuture(false);
                }
                return run(st).map(r -> {
                    write(r, true, null);
                    return r.error == null;
                });
            });
        }
        return chain.map(ok -> {
            ByteBuf out = channel.alloc().buffer(6);
            ConsoleWire.readyForQuery(out);
            NetSockets.write(channel, out);
            return null;
        });
    }

    private Future<Result> run(ConsoleSql.Statement st) {
        state = "active";
        io.vertx.core.Promise<Result> answered = io.vertx.core.Promise.promise();
        service.execute(st, this).onComplete(ar -> onContext(() -> answered.handle(ar)));
        return answered.future();
    }

    /** A result: RowDescription (simple protocol only), DataRows, NOTICEs, then CommandComplete; or ErrorResponse. */
    private void write(Result r, boolean withDescription, short[] formats) {
        ByteBuf out = channel.alloc().buffer(256);
        if (r.error != null) {
            ConsoleWire.errorResponse(out, r.error);
            NetSockets.write(channel, out);
            return;
        }
        for (String n : r.notices) {
            ConsoleWire.notice(out, n);
        }
        if (r.hasRows()) {
            if (withDescription) {
                ConsoleWire.rowDescription(out, r.columns, formats);
            }
            for (List<String> row : r.rows) {
                ConsoleWire.dataRow(out, r.columns, row, formats);
            }
        }
        ConsoleWire.commandComplete(out, r.tag);   // "SHOW" without a count, as PgBouncer's console
        NetSockets.write(channel, out);
    }

    // -- extended protocol ----------------------------------------------------------------

    private void parse(ByteBuf msg) {
        int[] at = {5};
        String name = ConsoleWire.cstring(msg, at);
        String sql = ConsoleWire.cstring(msg, at);
        List<ConsoleSql.Statement> list = ConsoleSql.parse(sql).stream().filter(s -> !s.empty()).toList();
        if (list.size() > 1) {
            extendedError("42601", "cannot insert multiple commands into a prepared statement");
            return;
        }
        if (!name.isEmpty() && statements.containsKey(name)) {
            extendedError("42P05", "prepared statement \"" + name + "\" already exists");
            return;
        }
        statements.put(name, list.isEmpty() ? new ConsoleSql.Statement("", List.of(), "", null) : list.get(0));
        ByteBuf out = channel.alloc().buffer(5);
        ConsoleWire.empty(out, PgProtocol.PARSE_COMPLETE_RESPONSE);
        NetSockets.write(channel, out);
    }

    private void bind(ByteBuf msg) {
        int[] at = {5};
        String portal = ConsoleWire.cstring(msg, at);
        String name = ConsoleWire.cstring(msg, at);
        ConsoleSql.Statement st = statements.get(name);
        if (st == null) {
            extendedError("26000", "prepared statement \"" + name + "\" does not exist");
            return;
        }
        int pos = at[0];
        int paramFormats = msg.getShort(pos);
        pos += 2 + 2 * paramFormats;
        int params = msg.getShort(pos);
        pos += 2;
        if (params != 0) {
            extendedError("08P01", "bind message supplies " + params + " parameters, but the console's statements take none");
            return;
        }
        int resultFormats = msg.getShort(pos);
        pos += 2;
        short[] formats = new short[resultFormats];
        for (int i = 0; i < resultFormats; i++) {
            formats[i] = msg.getShort(pos);
            pos += 2;
        }
        portals.put(portal, new Portal(st, formats));
        ByteBuf out = channel.alloc().buffer(5);
        ConsoleWire.empty(out, PgProtocol.BIND_COMPLETE_RESPONSE);
        NetSockets.write(channel, out);
    }

    private void describe(ByteBuf msg) {
        byte kind = msg.getByte(5);
        String name = ConsoleWire.cstring(msg, 6);
        ByteBuf out = channel.alloc().buffer(256);
        List<Result.Column> columns;
        short[] formats = null;
        if (kind == 'S') {
            ConsoleSql.Statement st = statements.get(name);
            if (st == null) {
                out.release();
                extendedError("26000", "prepared statement \"" + name + "\" does not exist");
                return;
            }
            ConsoleWire.parameterDescription(out);
            columns = ConsoleService.columnsOf(st);
        } else {
            Portal p = portals.get(name);
            if (p == null) {
                out.release();
                extendedError("34000", "portal \"" + name + "\" does not exist");
                return;
            }
            columns = ConsoleService.columnsOf(p.statement());
            formats = p.formats();
        }
        if (columns == null) {
            ConsoleWire.empty(out, PgProtocol.NO_DATA_RESPONSE);
        } else {
            ConsoleWire.rowDescription(out, columns, formats);
        }
        NetSockets.write(channel, out);
    }

    private Future<Void> execute(ByteBuf msg) {
        String name = ConsoleWire.cstring(msg, 5);
        Portal p = portals.get(name);
        if (p == null) {
            extendedError("34000", "portal \"" + name + "\" does not exist");
            return null;
        }
        if (p.statement().empty()) {
            ByteBuf out = channel.alloc().buffer(5);
            ConsoleWire.emptyQueryResponse(out);
            NetSockets.write(channel, out);
            return null;
        }
        return run(p.statement()).map(r -> {
            write(r, false, p.formats());
            if (r.error != null) {
                discardToSync = true;
            }
            return null;
        });
    }

    private void closeStatementOrPortal(ByteBuf msg) {
        byte kind = msg.getByte(5);
        String name = ConsoleWire.cstring(msg, 6);
        if (kind == 'S') {
            statements.remove(name);
        } else {
            portals.remove(name);
        }
        ByteBuf out = channel.alloc().buffer(5);
        ConsoleWire.empty(out, PgProtocol.CLOSE_COMPLETE_RESPONSE);
        NetSockets.write(channel, out);
    }

    private void extendedError(String sqlState, String message) {
        ByteBuf out = channel.alloc().buffer(128);
        ConsoleWire.errorResponse(out, new Result.Error(sqlState, message, null, null));
        NetSockets.write(channel, out);
        discardToSync = true;
    }

    // -- the connection -------------------------------------------------------------------

    private void fatal(String sqlState, String message) {
        if (closed) {
            return;
        }
        ByteBuf out = channel.alloc().buffer(128);
        ConsoleWire.fatal(out, sqlState, message);
        NetSockets.write(channel, out);
        NetSockets.flush(channel);
        close();
    }

    void close() {
        if (!closed) {
            socket.close();
            ended();
        }
    }

    private void ended() {
        if (closed) {
            return;
        }
        closed = true;
        framer.close();
        ByteBuf b;
        while ((b = queue.poll()) != null) {
            b.release();
        }
        client.closed().run();
        service.ended(this);
    }

    /** This client as a SHOW CLIENTS row. */
    ConnectionStats stats() {
        InetSocketAddress remote = address(socket.remoteAddress());
        InetSocketAddress local = address(socket.localAddress());
        String app = client.parameters().getOrDefault("application_name", "");
        return new ConnectionStats(id, "C", client.parameters().getOrDefault("user", ""),
                client.parameters().getOrDefault("database", ""), state,
                remote == null ? "" : remote.getAddress().getHostAddress(), remote == null ? 0 : remote.getPort(),
                local == null ? "" : local.getAddress().getHostAddress(), local == null ? 0 : local.getPort(),
                connectedAt, requestAt, 0, false, 0, 0, client.tls(), app, statements.size());
    }

    private static InetSocketAddress address(io.vertx.core.net.SocketAddress a) {
        if (a == null || a.hostAddress() == null) {
            return null;
        }
        return new InetSocketAddress(a.hostAddress(), a.port());
    }

    static String utf8(ByteBuf b, int from, int to) {
        return b.toString(from, to - from, StandardCharsets.UTF_8);
    }
}
