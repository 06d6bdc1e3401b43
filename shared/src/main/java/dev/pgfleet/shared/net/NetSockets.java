package dev.pgfleet.shared.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.vertx.core.Handler;
import io.vertx.core.net.NetSocket;
import io.vertx.core.internal.net.NetSocketInternal;

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
}
