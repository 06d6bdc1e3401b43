package dev.pgfleet.proxy;

import dev.pgfleet.shared.auth.Md5Auth;
import dev.pgfleet.shared.config.AuthType;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.UserConfig;
import dev.pgfleet.shared.net.NetSockets;
import dev.pgfleet.shared.protocol.BackendMessages;
import dev.pgfleet.shared.protocol.MessageFramer;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.PgProtocol;
import dev.pgfleet.shared.protocol.SqlState;
import dev.pgfleet.shared.protocol.StartupPacket;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client's way in, up to a {@link Login}: the startup packets (SSLRequest and the TLS
 * handshake, GSSENCRequest, CancelRequest, StartupMessage with protocol negotiation), admission
 * (shutdown, max_client_conn), and authentication (md5 or SCRAM-SHA-256) against the pool's user,
 * or against the admin's credentials for the console. The session moves through its states as
 * this tells it; what the client sends after its password waits in the framer.
 */
final class Handshake {

    private static final Logger log = LoggerFactory.getLogger(Handshake.class);

    /** PostgreSQL's PG_MAX_AUTH_TOKEN_LENGTH (65535) plus the message header. */
    private static final int MAX_AUTH_MESSAGE_LENGTH = 65535 + 4;

    /**
     * What the handshake ends in: who logged in to which pool, and how.
     *
     * @param console the admin console's login (database pgfleet or pgbouncer, or admin_port)
     */
    record Login(StartupPacket startup, PoolConfig pool, UserConfig user, boolean tls, boolean console) {
    }

    private final ClientSession session;
    private final ProxyVerticle verticle;
    private final ProxyRuntime runtime;
    private final MessageFramer framer;
    /** Accepted on admin_port: only the admin console is served. */
    private final boolean consoleOnly;
    private boolean consoleLogin;
    private boolean tls;
    private boolean startupPacketSeen;
    private StartupPacket startup;
    private PoolConfig poolConfig;
    private UserConfig user;
    private ClientAuthenticator auth;

    Handshake(ClientSession session, MessageFramer framer, boolean consoleOnly) {
        this.session = session;
        this.verticle = session.verticle;
        this.runtime = session.runtime;
        this.framer = framer;
        this.consoleOnly = consoleOnly;
    }

    /** Whether any startup packet (SSLRequest included) has been read. */
    boolean startupPacketSeen() {
        return startupPacketSeen;
    }

    /** The StartupMessage, once read; null before. */
    StartupPacket startup() {
        return startup;
    }

    boolean tls() {
        return tls;
    }

    /** The pool and user the startup packet names, known before authentication ends (null if none). */
    PoolConfig pool() {
        return poolConfig;
    }

    UserConfig user() {
        return user;
    }

    int onStartupPacket(ByteBuf buf, int offset, int length) {
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
                session.writeClient(BackendMessages.sslNo());
                session.flushClient();
                if (pipelined) {
                    // PostgreSQL answers 'N' first, then refuses what it had buffered (ProcessStartupPacket).
                    throw unencryptedData("SSL request");
                }
                return MessageFramer.CONSUME;
            }
            if (pipelined) {
                throw unencryptedData("SSL request");
            }
            session.enter(ClientSession.State.TLS_HANDSHAKE);
            tls = true;
            ByteBuf yes = session.channel.alloc().buffer(1).writeByte('S');
            NetSockets.startTls(session.socket, verticle.clientTls(), yes, err -> {
                if (err != null) {
                    log.debug("client {}: TLS handshake failed: {}", session.socket.remoteAddress(), err.toString());
                    session.close();
                } else if (session.state == ClientSession.State.TLS_HANDSHAKE) {
                    session.enter(ClientSession.State.STARTUP);
                    framer.resume();
                }
            });
            return MessageFramer.CONSUME;
        }
        if (packet.isGssEncRequest()) {
            session.writeClient(BackendMessages.sslNo());
            session.flushClient();
            if (pipelined) {
                throw unencryptedData("GSSAPI encryption request");
            }
            return MessageFramer.CONSUME;
        }
        if (packet.isCancelRequest()) {
            verticle.cancel(packet.cancelProcessId(), packet.cancelSecretKey());
            session.close();
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
        session.admitted = true;
        beginAuthentication();
        return MessageFramer.CONSUME;
    }

    private static PgException unencryptedData(String request) {
        return new PgException(SqlState.PROTOCOL_VIOLATION, "received unencrypted data after " + request,
            "This could be either a client-software bug or evidence of an attempted man-in-the-middle attack.", true);
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
            ByteBuf out = session.channel.alloc().buffer(64);
            BackendMessages.negotiateProtocolVersion(out, 0, unknown);
            session.writeClient(out);
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
        sendChallenge();
    }

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
        sendChallenge();
    }

    private void sendChallenge() {
        ByteBuf out = session.channel.alloc().buffer(64);
        auth.begin(out);
        session.writeClient(out);
        session.flushClient();
        session.enter(ClientSession.State.AUTH);
    }

    int onAuthMessage(byte type, ByteBuf buf, int offset, int length) {
        if (type != PgProtocol.PASSWORD_REQUEST) {
            // The exchange is strict: nothing else is taken while authenticating.
            throw new PgException(SqlState.PROTOCOL_VIOLATION,
                "expected password response, got message type " + (char) type);
        }
        ByteBuf out = session.channel.alloc().buffer(128);
        boolean done;
        try {
            done = auth.onPasswordMessage(buf, offset, length, out);
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
        if (!done) {
            session.writeClient(out);
            session.flushClient();
            return MessageFramer.CONSUME;
        }
        auth = null;
        framer.onlyType((byte) 0);
        framer.maxMessageLength(runtime.config().general().maxMessageSize());
        BackendMessages.authenticationOk().readBytes(out, 9);
        session.writeClient(out);
        if (consoleLogin) {
            if (!dev.pgfleet.shared.admin.AdminConsole.isConsoleDatabase(startup.database())) {
                throw new PgException(SqlState.INVALID_CATALOG_NAME, "database \"" + startup.database() + "\" does not exist",
                    "admin_port serves only the admin console: database \"pgfleet\" (or \"pgbouncer\").", true);
            }
            if (runtime.console() == null) {
                throw new PgException(SqlState.CANNOT_CONNECT_NOW, "the admin console is not running");
            }
        } else if (poolConfig == null) {
            throw new PgException(SqlState.INVALID_CATALOG_NAME, "database \"" + startup.database() + "\" does not exist");
        }
        session.loggedIn(new Login(startup, poolConfig, user, tls, consoleLogin));
        return MessageFramer.CONSUME;
    }
}
