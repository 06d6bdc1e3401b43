package dev.pgfleet.proxy;

import dev.pgfleet.shared.protocol.FrontendMessages;
import dev.pgfleet.shared.protocol.ServerError;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Map;
import java.util.function.Consumer;

/** A bare socket speaking (or abusing) the protocol, to test what real clients never send. */
final class RawClient implements AutoCloseable {

  record Message(char type, byte[] body) {
    ServerError error() {
      ByteBuf b = Unpooled.buffer().writeByte(type).writeInt(body.length + 4).writeBytes(body);
      return ServerError.decode(b, 0, b.readableBytes());
    }
  }

  final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;

  RawClient(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(10_000);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  void send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  void send(Consumer<ByteBuf> writer) throws IOException {
    ByteBuf b = Unpooled.buffer();
    writer.accept(b);
    send(ByteBufUtil.getBytes(b));
  }

  void startup(String user, String database) throws IOException {
    send(b -> FrontendMessages.startupMessage(b, Map.of("user", user, "database", database)));
  }

  int readByte() throws IOException {
    return in.read();
  }

  Message read() throws IOException {
    char type = (char) in.readUnsignedByte();
    int len = in.readInt();
    byte[] body = new byte[len - 4];
    in.readFully(body);
    return new Message(type, body);
  }

  /** Reads until an ErrorResponse, which it returns. */
  Message readUntilError() throws IOException {
    while (true) {
      Message m = read();
      if (m.type() == 'E') {
        return m;
      }
    }
  }

  /** True when the server closed the connection (EOF) within the socket timeout. */
  boolean closedByServer() throws IOException {
    try {
      while (true) {
        if (in.read() < 0) {
          return true;
        }
      }
    } catch (EOFException | java.net.SocketException e) {
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
