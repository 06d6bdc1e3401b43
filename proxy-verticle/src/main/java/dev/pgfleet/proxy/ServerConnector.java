package dev.pgfleet.proxy;

import dev.pgfleet.shared.config.ServerTlsMode;
import dev.pgfleet.shared.net.NetSockets;
import dev.pgfleet.shared.protocol.FrontendMessages;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Opens server connections for one event loop: TCP connect, TLS negotiation as the pool's
 * {@code server_tls_mode} says (SSLRequest first, as libpq does), then the login.
 */
final class ServerConnector {

    private final Context context;
    private final NetClient client;
    private final int maxMessageLength;
    private final LoopStats stats;

    ServerConnector(Context context, NetClient client, int maxMessageLength, LoopStats stats) {
        this.context = context;
        this.client = client;
        this.maxMessageLength = maxMessageLength;
        this.stats = stats;
    }

    Context context() {
        return context;
    }

    NetClient client() {
        return client;
    }

    Future<ServerConnection> open(ServerPool pool) {
        ServerTarget target = pool.target();
        long[] counts = stats.serverCounters(pool);
        counts[LoopStats.CONNECTS]++;
        return client.connect(target.port(), target.host())
            .recover(err -> Future.failedFuture(new PgException(SqlState.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
                "cannot connect to server " + target.host() + ":" + target.port() + ": " + err.getMessage())))
            .compose(socket -> negotiateTls(socket, target))
            .compose(socket -> login(socket, pool, target))
            .onFailure(err -> counts[LoopStats.CONNECT_ERRORS]++);
    }

    private Future<NetSocket> negotiateTls(NetSocket socket, ServerTarget target) {
        ServerTlsMode mode = target.tlsMode();
        if (mode == null || mode == ServerTlsMode.DISABLE) {
            return Future.succeededFuture(socket);
        }
        Promise<NetSocket> promise = NetSockets.promise(context);
        socket.handler(buf -> {
            socket.handler(null);
            // One byte answers SSLRequest. Anything more was sent before the handshake: a server
            // (or someone in between) injecting plaintext (CVE-2021-23222), so refuse it.
            if (buf.length() != 1) {
                fail(socket, promise, "server sent unencrypted data after the SSL response");
            } else if (buf.getByte(0) == 'S') {
                socket.upgradeToSsl(sslOptions(mode), target.host())
                    .onSuccess(v -> promise.tryComplete(socket))
                    .onFailure(err -> fail(socket, promise, "TLS handshake with server failed: " + err.getMessage()));
            } else if (buf.getByte(0) == 'N' && mode == ServerTlsMode.PREFER) {
                promise.tryComplete(socket);
            } else if (buf.getByte(0) == 'N') {
                fail(socket, promise, "server " + target.host() + ":" + target.port() + " does not support TLS, and server_tls_mode is "
                    + mode.configName());
            } else {
                fail(socket, promise, "server sent an invalid answer to SSLRequest");
            }
        });
        socket.closeHandler(v -> promise.tryFail(new PgException(SqlState.CONNECTION_FAILURE,
            "server " + target.host() + ":" + target.port() + " closed the connection during TLS negotiation")));
        ByteBuf req = Unpooled.buffer(8);
        FrontendMessages.sslRequest(req);
        socket.write(Buffer.buffer(io.netty.buffer.ByteBufUtil.getBytes(req)));
        return promise.future();
    }

    private static ClientSSLOptions sslOptions(ServerTlsMode mode) {
        ClientSSLOptions options = new ClientSSLOptions();
        if (mode == ServerTlsMode.VERIFY_FULL) {
            // The JVM's trust store, and the host name checked against the certificate.
            options.setHostnameVerificationAlgorithm("HTTPS");
        } else {
            // require/prefer: encryption without authentication, as libpq's sslmode=require.
            options.setTrustAll(true).setHostnameVerificationAlgorithm("");
        }
        return options;
    }

    private static void fail(NetSocket socket, Promise<NetSocket> promise, String message) {
        promise.tryFail(new PgException(SqlState.CONNECTION_FAILURE, message));
        socket.close();
    }

    private Future<ServerConnection> login(NetSocket socket, ServerPool pool, ServerTarget target) {
        socket.closeHandler(null);
        Promise<ServerConnection> promise = NetSockets.promise(context);
        ServerConnection conn = new ServerConnection(context, socket, pool, target, maxMessageLength);
        conn.loopStats(stats);
        ServerStartup startup = new ServerStartup(conn, promise);
        conn.start(startup);
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", target.user());
        params.put("database", target.database());
        startup.begin(params);
        return promise.future();
    }
}
