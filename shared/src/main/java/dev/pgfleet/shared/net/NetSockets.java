package dev.pgfleet.shared.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetSocket;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.net.NetSocketInternal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * The one place PgFleet touches {@code io.vertx.core.internal}: reading and writing a
 * socket's Netty {@link ByteBuf}s directly.
 *
 * <p>{@code NetSocket.handler(Buffer)} copies every inbound buffer, and a write from another
 * connection's read handler is flushed at once. Here reads hand over the pooled ByteBuf
 * itself, and writes go to the channel unflushed: the caller flushes once at the end of
 * the read cycle ({@link #flush}), as PgBouncer does with one send per batch.
 */
public final class NetSockets {

    private NetSockets() {
    }

    /** The Netty event loop that runs {@code context}'s tasks (PgFleet keys per-loop state by it). */
    public static io.netty.channel.EventLoop eventLoop(io.vertx.core.Context context) {
        return ((io.vertx.core.internal.ContextInternal) context).nettyEventLoop();
    }

    /**
     * A promise whose listeners run on {@code context}, whichever thread completes it (a
     * connection released on one loop completes a waiter of another: the waiter's code runs on
     * its own loop).
     */
    public static <T> io.vertx.core.Promise<T> promise(io.vertx.core.Context context) {
        return ((io.vertx.core.internal.ContextInternal) context).promise();
    }

    /** A failed future whose listeners run on {@code context}. */
    public static <T> io.vertx.core.Future<T> failedFuture(io.vertx.core.Context context, Throwable failure) {
        return ((io.vertx.core.internal.ContextInternal) context).failedFuture(failure);
    }

    /**
     * Reads deliver the ByteBuf as it came (the handler owns it and must release it), and
     * {@code readComplete} runs when a read cycle ends.
     */
    public static void onBytes(NetSocket socket, Handler<ByteBuf> handler, Handler<Void> readComplete) {
        NetSocketInternal s = (NetSocketInternal) socket;
        s.messageHandler(msg -> {
            if (msg instanceof ByteBuf buf) {
                handler.handle(buf);
            } else {
                io.netty.util.ReferenceCountUtil.release(msg);
            }
        });
        s.readCompletionHandler(readComplete);
    }

    /**
     * Calls {@code handler} with the channel's writability whenever it changes (Netty's
     * high and low water marks), for back-pressure on writes made with {@link #write}.
     */
    public static void onWritabilityChanged(NetSocket socket, Handler<Boolean> handler) {
        ChannelHandlerContext ctx = context(socket);
        ctx.pipeline().addBefore(ctx.name(), "pgfleet-writability", new io.netty.channel.ChannelInboundHandlerAdapter() {
            @Override
            public void channelWritabilityChanged(ChannelHandlerContext c) throws Exception {
                handler.handle(c.channel().isWritable());
                super.channelWritabilityChanged(c);
            }
        });
    }

    /**
     * Starts a server-side TLS handshake on the socket, below Vert.x's handler: {@code answer}
     * (PostgreSQL's 'S' to SSLRequest) goes out in plaintext first, then every byte in either
     * direction passes through the SslHandler. Not {@code NetSocket.upgradeToSsl}: Vert.x 5.0
     * gives only the first of the NetServers that share a port (one per event loop) an SSL
     * context manager, so on the other loops that upgrade fails with a NullPointerException.
     *
     * @param onHandshake called on the socket's event loop with null on success, else the cause
     */
    public static void startTls(NetSocket socket, io.netty.handler.ssl.SslContext ssl, ByteBuf answer,
                                                            Handler<Throwable> onHandshake) {
        ChannelHandlerContext ctx = context(socket);
        ctx.writeAndFlush(answer, ctx.voidPromise());
        io.netty.handler.ssl.SslHandler handler = ssl.newHandler(ctx.alloc());
        // Closest to the wire: writes made on Vert.x's context are encrypted on their way out.
        ctx.pipeline().addFirst("pgfleet-tls", handler);
        handler.handshakeFuture().addListener(f -> onHandshake.handle(f.isSuccess() ? null : f.cause()));
    }

    /**
     * The socket's TLS session as "TLSv1.3/TLS_AES_256_GCM_SHA384", or null without TLS. Reads
     * whichever SslHandler the pipeline has: PgFleet's own on client sockets ({@link #startTls}, which
     * {@code NetSocket.sslSession()} does not see), Vert.x's on server connections.
     */
    public static String tlsDescription(NetSocket socket) {
        io.netty.handler.ssl.SslHandler h = channel(socket).pipeline().get(io.netty.handler.ssl.SslHandler.class);
        if (h == null) {
            return null;
        }
        javax.net.ssl.SSLSession session = h.engine().getSession();
        return session.getProtocol() + "/" + session.getCipherSuite();
    }

    public static ChannelHandlerContext context(NetSocket socket) {
        return ((NetSocketInternal) socket).channelHandlerContext();
    }

    public static Channel channel(NetSocket socket) {
        return context(socket).channel();
    }

    /** Writes without flushing; takes ownership of buf. Call on the socket's event loop. */
    public static void write(ChannelHandlerContext ctx, ByteBuf buf) {
        ctx.write(buf, ctx.voidPromise());
    }

    public static void flush(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    /** Netty's view of the outbound buffer: false once it is above the high water mark. */
    public static boolean writable(ChannelHandlerContext ctx) {
        return ctx.channel().isWritable();
    }

    /**
     * The event loops of {@code vertx}, as executors: the liveness check (admin's /health) runs a
     * task on each to see that none is stuck. Vert.x's public API has no way to reach every loop.
     */
    public static List<Executor> eventLoops(Vertx vertx) {
        List<Executor> loops = new ArrayList<>();
        ((VertxInternal) vertx).nettyEventLoopGroup().forEach(loops::add);
        return loops;
    }
}
