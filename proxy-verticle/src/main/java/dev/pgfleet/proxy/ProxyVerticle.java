package dev.pgfleet.proxy;

import dev.pgfleet.shared.config.General;
import dev.pgfleet.shared.net.NetSockets;
import dev.pgfleet.shared.protocol.FrontendMessages;
import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data plane of one event loop: accepts clients on the shared port (Vert.x spreads
 * connections over the instances), and opens server connections on the same loop.
 * Deploy one instance per event loop through {@link ProxyRuntime#deploy}.
 */
public final class ProxyVerticle extends VerticleBase {

    private static final Logger log = LoggerFactory.getLogger(ProxyVerticle.class);

    private final ProxyRuntime runtime;
    private NetServer server;
    /** admin_port's listener (the console only), or null when admin_port is 0. */
    private NetServer adminServer;
    private NetClient client;
    private ServerConnector connector;
    /** Client TLS (tls_certificate, tls_private_key), or null when off. */
    private io.netty.handler.ssl.SslContext clientTls;
    private long maintenance;
    private long waitSweep;
    /** This loop's counters and connections; touched on this loop only. */
    private final LoopStats stats = new LoopStats();

    public ProxyVerticle(ProxyRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public Future<?> start() {
        General general = runtime.config().general();
        Context ctx = context;
        client = vertx.createNetClient(new NetClientOptions()
            .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, general.connectTimeout().toMillis()))
            .setTcpNoDelay(true)
            .setTcpKeepAlive(true));
        connector = new ServerConnector(ctx, client, general.maxMessageSize(), stats);
        if (general.clientTlsEnabled()) {
            // Each instance has its own context: the handshake runs in PgFleet's SslHandler
            // (NetSockets.startTls), not through the NetServer, of which only one per port has TLS.
            try {
                javax.net.ssl.KeyManagerFactory keys = new PemKeyCertOptions()
                    .setCertPath(general.tlsCertificate().get())
                    .setKeyPath(general.tlsPrivateKey().get())
                    .getKeyManagerFactory(vertx);
                clientTls = io.netty.handler.ssl.SslContextBuilder.forServer(keys)
                    .protocols("TLSv1.3", "TLSv1.2")
                    .build();
            } catch (Exception e) {
                return Future.failedFuture(new IllegalArgumentException("tls_certificate/tls_private_key: " + e.getMessage(), e));
            }
        }
        server = vertx.createNetServer(new NetServerOptions()
            .setHost(general.host())
            .setPort(general.port())
            .setTcpNoDelay(true)
            .setTcpKeepAlive(true)
            .setReuseAddress(true));
        server.connectHandler(socket -> new ClientSession(this, ctx, socket).start());
        runtime.register(this);
        // Pool upkeep on this loop: close idle connections past idle_timeout or server_lifetime
        // (this loop's idle ones only: a connection is touched on its own loop), keep min_pool_size.
        maintenance = vertx.setPeriodic(1000, id -> maintain(ctx));
        armWaitSweep();
        Future<?> adminListening = Future.succeededFuture();
        if (general.adminPort() > 0) {
            adminServer = vertx.createNetServer(new NetServerOptions()
                .setHost(general.host())
                .setPort(general.adminPort())
                .setTcpNoDelay(true)
                .setReuseAddress(true));
            adminServer.connectHandler(socket -> new ClientSession(this, ctx, socket, true).start());
            adminListening = adminServer.listen();
        }
        return Future.all(server.listen().onSuccess(s -> log.debug("listening on {}:{}", general.host(), s.actualPort())),
            adminListening);
    }

    /**
     * query_wait_timeout: one sweep of this loop's waiters per period, not a timer per wait;
     * a tenth of the timeout (10 ms to 1 s) bounds how late the error comes.
     */
    private void armWaitSweep() {
        Context ctx = context;
        long waitTimeout = runtime.queryWaitTimeoutMillis();
        if (waitTimeout > 0) {
            long timeoutNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(waitTimeout);
            waitSweep = vertx.setPeriodic(Math.max(10, Math.min(1000, waitTimeout / 10)), id -> {
                long now = System.nanoTime();
                for (ServerPool pool : runtime.pools().values()) {
                    pool.expireWaiters(NetSockets.eventLoop(ctx), now, timeoutNanos);
                }
            });
        }
    }

    /** A new configuration changed query_wait_timeout: the sweep follows. On this verticle's loop. */
    void queryWaitTimeoutChanged() {
        if (waitSweep != 0) {
            vertx.cancelTimer(waitSweep);
            waitSweep = 0;
        }
        armWaitSweep();
    }

    private void maintain(Context ctx) {
        long now = System.nanoTime();
        for (ServerPool pool : runtime.pools().values()) {
            for (ServerConnection c : pool.expiredIdle(NetSockets.eventLoop(ctx), now)) {
                c.close();
            }
            if (pool.belowMinimum() && !runtime.holds(pool)) {   // not while PAUSE or SUSPEND holds it
                pool.acquire(ctx, connector::open).onSuccess(ServerConnection::release)
                    .onFailure(err -> log.debug("min_pool_size for {}: {}", pool.name(), err.toString()));
            }
        }
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(maintenance);
        if (waitSweep != 0) {
            vertx.cancelTimer(waitSweep);
        }
        runtime.unregister(this);
        return Future.join(server.close(), client.close(), adminServer == null ? Future.succeededFuture() : adminServer.close());
    }

    /**
     * Stops accepting clients; sessions already here go on. (NetServer.close() would close
     * every connection at once; shutdown(timeout) unbinds now and leaves the connections to
     * us until the timeout, after which Vert.x closes what is left.)
     */
    Future<Void> stopListening(java.time.Duration grace) {
        if (adminServer != null) {
            adminServer.shutdown(grace.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        }
        return server.shutdown(grace.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    io.vertx.core.Context loopContext() {
        return context;
    }

    ProxyRuntime runtime() {
        return runtime;
    }

    LoopStats stats() {
        return stats;
    }

    ServerConnector connector() {
        return connector;
    }

    io.netty.handler.ssl.SslContext clientTls() {
        return clientTls;
    }

    /**
     * A CancelRequest with one of our keys: sent on to the server running that client's
     * query now, with the server's own key, over a new connection (as PostgreSQL expects).
     * A key that matches nothing is ignored, as PostgreSQL does.
     */
    void cancel(int pid, int secret) {
        ClientSession session = runtime.cancels().lookup(pid, secret);
        if (session == null) {
            return;
        }
        session.context().runOnContext(v -> {
            ServerConnection target = session.cancelTarget();
            if (target == null) {
                return;
            }
            ServerTarget t = target.target();
            int serverPid = target.backendPid();
            int serverSecret = target.backendSecret();
            client.connect(t.port(), t.host()).onSuccess(sock -> {
                io.netty.buffer.ByteBuf req = Unpooled.buffer(16);
                FrontendMessages.cancelRequest(req, serverPid, serverSecret);
                sock.write(Buffer.buffer(io.netty.buffer.ByteBufUtil.getBytes(req))).onComplete(ar -> sock.close());
            }).onFailure(err -> log.warn("cancel request to {}:{} failed: {}", t.host(), t.port(), err.toString()));
        });
    }
}
