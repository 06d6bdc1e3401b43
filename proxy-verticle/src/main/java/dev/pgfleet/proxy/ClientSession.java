package dev.pgfleet.proxy;

import dev.pgfleet.shared.config.AuthType;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.UserConfig;
import dev.pgfleet.shared.auth.Md5Auth;
import dev.pgfleet.shared.net.NetSockets;
import dev.pgfleet.shared.protocol.BackendMessages;
import dev.pgfleet.shared.protocol.MessageFramer;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.PgProtocol;
import dev.pgfleet.shared.protocol.SqlState;
import dev.pgfleet.shared.protocol.StartupPacket;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
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

  /** Startup parameters that are not run-time settings to bring to the server. */
  private static final List<String> NOT_SETTINGS = List.of("user", "database", "options", "replication");

  /** PostgreSQL's PG_MAX_AUTH_TOKEN_LENGTH (65535) plus the message header. */
  private static final int MAX_AUTH_MESSAGE_LENGTH = 65535 + 4;

  private enum State { STARTUP, TLS_HANDSHAKE, AUTH, CONNECTING, READY, CLOSED }

  private final ProxyVerticle verticle;
  private final ProxyRuntime runtime;
  private final ContextInternal context;
  private final NetSocket socket;
  private final ChannelHandlerContext channel;
  private final MessageFramer framer;
  private State state = State.STARTUP;
  private boolean tls;
  private boolean admitted;
  private StartupPacket startup;
  private PoolConfig poolConfig;
  private UserConfig user;
  private ClientAuthenticator auth;
  private ServerPool pool;
  private Future<ServerConnection> acquiring;
  private ServerConnection server;
  private int cancelPid;
  private int cancelSecret;
  private boolean serverNeedsFlush;
  private boolean clientNeedsFlush;

  ClientSession(ProxyVerticle verticle, ContextInternal context, NetSocket socket) {
    this.verticle = verticle;
    this.runtime = verticle.runtime();
    this.context = context;
    this.socket = socket;
    this.channel = NetSockets.context(socket);
    this.framer = new MessageFramer(MessageFramer.Mode.STARTUP, runtime.config().general().maxMessageSize(), this);
  }

  void start() {
    runtime.sessionStarted(this);
    NetSockets.onBytes(socket, this::onBytes, v -> onReadComplete());
    NetSockets.onWritabilityChanged(socket, this::clientWritabilityChanged);
    socket.closeHandler(v -> onClosed());
    socket.exceptionHandler(err -> {
      log.debug("client {}: {}", socket.remoteAddress(), err.toString());
      socket.close();
    });
  }

  ContextInternal context() {
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
    try {
      framer.feed(buf);
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
  }

  @Override
  public int onMessage(byte type, ByteBuf buf, int offset, int length) {
    switch (state) {
      case READY:
        return onSessionMessage(type);
      case STARTUP:
        return onStartupPacket(buf, offset, length);
      case AUTH:
        return onAuthMessage(type, buf, offset, length);
      case CONNECTING:
      case TLS_HANDSHAKE:
        // Nothing is read until the server connection is ready; it waits in the framer.
        return MessageFramer.STOP;
      default:
        return MessageFramer.CONSUME;
    }
  }

  /** The hot path: only the message types that say where the server stands are read. */
  private int onSessionMessage(byte type) {
    switch (type) {
      case PgProtocol.QUERY_REQUEST:
      case PgProtocol.SYNC_REQUEST:
      case PgProtocol.FUNCTION_CALL_REQUEST:
        server.requestSent();
        return MessageFramer.FORWARD;
      case PgProtocol.TERMINATE_REQUEST:
        // Terminate ends the client, not the pooled server connection.
        close();
        return MessageFramer.CONSUME;
      default:
        server.extendedSent();
        return MessageFramer.FORWARD;
    }
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
    if (packet.isSslRequest()) {
      if (tls) {
        throw new PgException(SqlState.PROTOCOL_VIOLATION, "SSLRequest after TLS is established");
      }
      if (verticle.serverSslOptions() == null) {
        writeClient(BackendMessages.sslNo());
        flushClient();
        return MessageFramer.CONSUME;
      }
      if (offset + length < buf.writerIndex() || framer.buffered() > 0) {
        // Bytes the client sent before our 'S' would be read as if they came through TLS
        // (CVE-2021-23214 in PostgreSQL, the same class in poolers): refuse them.
        throw new PgException(SqlState.PROTOCOL_VIOLATION, "received unencrypted data after SSL request",
          "This could be either a client-software bug or evidence of an attempted man-in-the-middle attack.", true);
      }
      state = State.TLS_HANDSHAKE;
      tls = true;
      socket.upgradeToSsl(verticle.serverSslOptions(), Buffer.buffer(new byte[] {'S'}))
        .onSuccess(v -> {
          if (state == State.TLS_HANDSHAKE) {
            state = State.STARTUP;
            framer.resume();
          }
        })
        .onFailure(err -> {
          log.debug("client {}: TLS handshake failed: {}", socket.remoteAddress(), err.toString());
          close();
        });
      return MessageFramer.CONSUME;
    }
    if (packet.isGssEncRequest()) {
      writeClient(BackendMessages.sslNo());
      flushClient();
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
    if (poolConfig == null) {
      throw new PgException(SqlState.INVALID_CATALOG_NAME, "database \"" + startup.database() + "\" does not exist");
    }
    flushClient();
    state = State.CONNECTING;
    connectServer();
    return MessageFramer.CONSUME;
  }

  // -- the server connection ------------------------------------------------------------

  private void connectServer() {
    pool = runtime.pool(poolConfig, user);
    acquiring = pool.acquire(context, verticle.connector()::open);
    acquiring.compose(conn -> {
      if (state != State.CONNECTING) {
        conn.resetAndRelease(null);
        return Future.failedFuture("client left");
      }
      server = conn;
      String set = settingsToApply(conn.parameters());
      return set.isEmpty() ? Future.succeededFuture(conn) : conn.runInternal(set).map(conn);
    }).onComplete(ar -> {
      acquiring = null;
      if (state != State.CONNECTING) {
        return;
      }
      if (ar.failed()) {
        fatal(ar.cause() instanceof PgException pe ? pe
          : new PgException(SqlState.CONNECTION_FAILURE, "no server connection: " + ar.cause().getMessage()));
        return;
      }
      linked(ar.result());
    });
  }

  private void linked(ServerConnection conn) {
    conn.link(this);
    cancelPid = runtime.cancels().register(this);
    cancelSecret = runtime.cancels().newSecret();
    ByteBuf out = channel.alloc().buffer(512);
    for (Map.Entry<String, String> e : conn.parameters().entrySet()) {
      BackendMessages.parameterStatus(out, e.getKey(), e.getValue());
    }
    BackendMessages.backendKeyData(out, cancelPid, cancelSecret);
    BackendMessages.readyForQuery(out, PgProtocol.TX_IDLE);
    writeClient(out);
    flushClient();
    state = State.READY;
    // From here only these are read; everything else passes unread.
    framer.interceptAll(false);
    for (byte t : new byte[] {PgProtocol.QUERY_REQUEST, PgProtocol.SYNC_REQUEST, PgProtocol.FUNCTION_CALL_REQUEST,
      PgProtocol.TERMINATE_REQUEST, PgProtocol.PARSE_REQUEST, PgProtocol.BIND_REQUEST, PgProtocol.EXECUTE_REQUEST,
      PgProtocol.DESCRIBE_REQUEST, PgProtocol.CLOSE_REQUEST, PgProtocol.FLUSH_REQUEST}) {
      framer.intercept(t, true);
    }
    framer.resume();
  }

  /**
   * The client's startup parameters (and its options' -c settings) that the server
   * connection does not have yet, as one SET string; reported settings already equal are
   * skipped. Names and values are quoted, so a client cannot inject SQL through them.
   */
  private String settingsToApply(Map<String, String> serverParams) {
    StringBuilder sql = new StringBuilder();
    Map<String, String> wanted = new java.util.LinkedHashMap<>();
    startup.parameters().forEach((k, v) -> {
      if (!NOT_SETTINGS.contains(k) && !k.startsWith("_pq_.")) {
        wanted.put(k, v);
      }
    });
    wanted.putAll(StartupOptions.parse(startup.parameters().get("options")));
    for (Map.Entry<String, String> e : wanted.entrySet()) {
      String current = null;
      for (Map.Entry<String, String> p : serverParams.entrySet()) {
        if (p.getKey().equalsIgnoreCase(e.getKey())) {
          current = p.getValue();
        }
      }
      if (e.getValue().equals(current)) {
        continue;
      }
      sql.append("SET \"").append(e.getKey().replace("\"", "\"\"")).append("\" TO '")
        .append(e.getValue().replace("'", "''")).append("';");
    }
    return sql.toString();
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
  public void serverReady(byte txStatus) {
    // Session mode keeps the server connection until the client leaves.
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
      fatal(new PgException(SqlState.CONNECTION_FAILURE, "server closed the connection unexpectedly"));
    }
  }

  /** What a CancelRequest naming this session should reach: the server running its query. */
  ServerConnection cancelTarget() {
    return server;
  }

  // -- shutdown and close ---------------------------------------------------------------

  /** Graceful shutdown: a session between transactions goes now; the rest when late. */
  void terminateIfIdle(boolean late) {
    if (state == State.CLOSED) {
      return;
    }
    boolean idle = server == null || server.clean();
    if (idle || late) {
      fatal(new PgException(SqlState.ADMIN_SHUTDOWN, "terminating connection due to administrator command"));
    }
  }

  private void fatal(PgException e) {
    if (state == State.CLOSED) {
      return;
    }
    ByteBuf out = channel.alloc().buffer(128);
    BackendMessages.errorResponse(out, e);
    writeClient(out);
    flushClient();
    close();
  }

  private void writeClient(ByteBuf buf) {
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
    framer.close();
    if (cancelPid != 0) {
      runtime.cancels().unregister(cancelPid, this);
    }
    ServerConnection s = server;
    server = null;
    if (s != null) {
      s.resetAndRelease(runtime.config().general().serverResetQuery());
    }
    if (admitted) {
      runtime.clientGone();
    }
    runtime.sessionEnded(this);
  }
}
