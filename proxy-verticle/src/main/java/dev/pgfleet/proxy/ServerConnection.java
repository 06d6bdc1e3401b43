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
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.NetSocket;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection to a PostgreSQL server, owned by a {@link ServerPool} and borrowed by one
 * client session at a time. Lives on one event loop.
 *
 * <p>While linked, what the server sends is forwarded to the session unread, except
 * ReadyForQuery (to know when the server is idle and in which transaction state) and
 * ParameterStatus (to know the server's settings). While not linked, everything the server
 * sends is read and dropped: a notice, or the FATAL error before a server closes.
 */
final class ServerConnection implements MessageFramer.Listener {

  private static final Logger log = LoggerFactory.getLogger(ServerConnection.class);

  /** The session a server connection is linked to. */
  interface Peer {

    /** A run of server messages for the client; the peer owns it. */
    void serverBytes(ByteBuf run);

    /** ReadyForQuery was forwarded: every request sent so far is answered. */
    void serverReady(byte txStatus);

    /** The server connection closed under the session. */
    void serverClosed(ServerConnection conn);

    /** Writes made to the client from this read cycle should be flushed. */
    void serverReadComplete();

    /** The server's outbound buffer crossed a water mark: pause or resume the client. */
    void serverWritabilityChanged(boolean writable);
  }

  private enum Phase { STARTUP, IDLE, LINKED, INTERNAL, CLOSED }

  private final ContextInternal context;
  private final NetSocket socket;
  private final ChannelHandlerContext channel;
  private final ServerPool pool;
  private final ServerTarget target;
  private final MessageFramer framer;
  private final Map<String, String> parameters = new HashMap<>();
  private final long createdAt = System.nanoTime();
  private ServerStartup startup;
  private Phase phase = Phase.STARTUP;
  private Peer peer;
  private Promise<Void> internalDone;
  private Phase afterInternal;
  private ServerError internalError;
  private int backendPid;
  private int backendSecret;
  private byte txStatus = PgProtocol.TX_IDLE;
  private int pendingReady;
  private boolean unsynced;
  private long lastUsed = System.nanoTime();

  ServerConnection(ContextInternal context, NetSocket socket, ServerPool pool, ServerTarget target, int maxMessageLength) {
    this.context = context;
    this.socket = socket;
    this.channel = NetSockets.context(socket);
    this.pool = pool;
    this.target = target;
    this.framer = new MessageFramer(MessageFramer.Mode.MESSAGE, maxMessageLength, this);
    framer.interceptAll(true);
  }

  /** Starts reading: the startup exchange runs first, then the connection serves sessions. */
  void start(ServerStartup startup) {
    this.startup = startup;
    NetSockets.onBytes(socket, this::onBytes, v -> {
      Peer p = peer;
      if (p != null) {
        p.serverReadComplete();
      }
    });
    NetSockets.onWritabilityChanged(socket, writable -> {
      Peer p = peer;
      if (p != null) {
        p.serverWritabilityChanged(writable);
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

  // -- the startup exchange hands over here ---------------------------------------------

  /** Called by ServerStartup when ReadyForQuery ends the login. */
  void startupDone(int pid, int secret) {
    this.backendPid = pid;
    this.backendSecret = secret;
    this.startup = null;
    this.phase = Phase.IDLE;
    // While linked only these two need reading; everything else is forwarded unread.
    framer.interceptAll(false);
    framer.intercept(PgProtocol.READY_FOR_QUERY_RESPONSE, true);
    framer.intercept(PgProtocol.PARAMETER_STATUS_RESPONSE, true);
    framer.intercept(PgProtocol.ERROR_RESPONSE, true);
  }

  void write(ByteBuf buf) {
    NetSockets.write(channel, buf);
  }

  void flush() {
    NetSockets.flush(channel);
  }

  boolean writable() {
    return NetSockets.writable(channel);
  }

  NetSocket socket() {
    return socket;
  }

  @Override
  public int onMessage(byte type, ByteBuf buf, int offset, int length) {
    if (phase == Phase.STARTUP) {
      return startup.onMessage(type, buf, offset, length);
    }
    switch (type) {
      case PgProtocol.READY_FOR_QUERY_RESPONSE:
        return onReadyForQuery(buf, offset, length);
      case PgProtocol.PARAMETER_STATUS_RESPONSE: {
        ParameterStatus p = ParameterStatus.decode(buf, offset, length);
        parameters.put(p.name(), p.value());
        return peer != null ? MessageFramer.FORWARD : MessageFramer.CONSUME;
      }
      case PgProtocol.ERROR_RESPONSE:
        if (phase == Phase.INTERNAL) {
          internalError = ServerError.decode(buf, offset, length);
          return MessageFramer.CONSUME;
        }
        if (peer != null) {
          return MessageFramer.FORWARD;
        }
        {
          // Not linked: the FATAL a server sends before it closes (admin shutdown, terminate).
          log.debug("server {} while not linked: {}", target, ServerError.decode(buf, offset, length));
        }
        return MessageFramer.CONSUME;
      default:
        return peer != null ? MessageFramer.FORWARD : MessageFramer.CONSUME;
    }
  }

  private int onReadyForQuery(ByteBuf buf, int offset, int length) {
    byte status = buf.getByte(offset + 5);
    txStatus = status;
    if (pendingReady > 0) {
      pendingReady--;
    }
    if (phase == Phase.INTERNAL) {
      if (pendingReady == 0) {
        internalFinished();
      }
      return MessageFramer.CONSUME;
    }
    Peer p = peer;
    if (p == null) {
      return MessageFramer.CONSUME;
    }
    // Forward what came before and the ReadyForQuery itself, then tell the session, which
    // may unlink (transaction mode) before anything else is read.
    framer.flushRun();
    p.serverBytes(buf.retainedSlice(offset, length));
    p.serverReady(status);
    return MessageFramer.CONSUME;
  }

  @Override
  public void forward(ByteBuf run) {
    Peer p = peer;
    if (p != null) {
      p.serverBytes(run);
    } else {
      run.release();
    }
  }

  // -- used by sessions -----------------------------------------------------------------

  void link(Peer peer) {
    this.peer = peer;
    this.phase = Phase.LINKED;
    this.lastUsed = System.nanoTime();
  }

  void unlink() {
    this.peer = null;
    // The session may have paused reading for its own back-pressure.
    socket.resume();
    if (phase == Phase.LINKED) {
      phase = Phase.IDLE;
    }
    this.lastUsed = System.nanoTime();
  }

  /** The session sent a message that ReadyForQuery answers (Query, Sync, FunctionCall). */
  void requestSent() {
    pendingReady++;
    unsynced = false;
  }

  /** The session sent an extended-protocol message: until Sync, the server holds state. */
  void extendedSent() {
    unsynced = true;
  }

  /** Idle, outside a transaction, every request answered: it can serve another client. */
  boolean clean() {
    return phase != Phase.CLOSED && pendingReady == 0 && !unsynced && txStatus == PgProtocol.TX_IDLE;
  }

  boolean usable() {
    return phase == Phase.IDLE && socket != null && !framer.stopped();
  }

  byte txStatus() {
    return txStatus;
  }

  Map<String, String> parameters() {
    return parameters;
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

  ContextInternal context() {
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
    unlink();
    if (!clean()) {
      close();
      return;
    }
    if (resetQuery == null || resetQuery.isEmpty()) {
      pool.release(this);
      return;
    }
    runInternal(resetQuery).onComplete(ar -> {
      if (ar.succeeded() && usable()) {
        pool.release(this);
      } else {
        close();
      }
    });
  }

  /**
   * Runs a simple query of PgFleet's own (a reset, the SETs that bring a session's
   * parameters), reading and dropping its results. Fails with the server's error, if any.
   * The connection must be clean; afterwards it is back in the phase it was in.
   */
  Future<Void> runInternal(String sql) {
    if (!clean() || phase == Phase.INTERNAL) {
      return context.failedFuture(new IllegalStateException("server connection busy"));
    }
    afterInternal = phase;
    phase = Phase.INTERNAL;
    internalError = null;
    internalDone = context.promise();
    ByteBuf q = channel.alloc().buffer(sql.length() * 3 + 6);
    FrontendMessages.query(q, sql);
    requestSent();
    write(q);
    flush();
    return internalDone.future();
  }

  private void internalFinished() {
    Promise<Void> p = internalDone;
    internalDone = null;
    phase = afterInternal;
    if (p != null) {
      if (internalError != null) {
        p.tryFail(new PgException(internalError.sqlState() != null ? internalError.sqlState() : SqlState.INTERNAL_ERROR,
          internalError.message() != null ? internalError.message() : "error from server", internalError.detail(), true));
      } else {
        p.tryComplete();
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
    framer.close();
    if (was == Phase.STARTUP) {
      if (startup != null) {
        startup.connectionClosed();
      }
      return;
    }
    if (internalDone != null) {
      Promise<Void> p = internalDone;
      internalDone = null;
      p.tryFail(new PgException(SqlState.CONNECTION_FAILURE, "server connection closed"));
    }
    pool.connectionClosed(this);
    Peer p = peer;
    peer = null;
    if (p != null) {
      p.serverClosed(this);
    }
  }

  /** A server error during login becomes the client's error, SQLSTATE kept when there is one. */
  static PgException loginError(ServerTarget target, ServerError error) {
    String state = error.sqlState() != null ? error.sqlState() : SqlState.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
    return new PgException(state, "server " + target.host() + ":" + target.port() + ": "
      + (error.message() != null ? error.message() : "login failed"));
  }
}
