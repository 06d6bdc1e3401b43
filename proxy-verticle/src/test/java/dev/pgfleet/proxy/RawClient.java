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

    /** Logs in as testkit's md5 user; returns after the first ReadyForQuery. */
    void md5Login() throws IOException {
        md5Start(Map.of());
        md5Password();
        readUntil('Z');
    }

    /** The md5 user's startup packet with these extra parameters; reads the md5 request (its salt). */
    void md5Start(Map<String, String> parameters) throws IOException {
        Map<String, String> all = new java.util.LinkedHashMap<>(parameters);
        all.put("user", dev.pgfleet.testkit.TestUsers.MD5_USER);
        all.put("database", dev.pgfleet.testkit.TestUsers.DATABASE);
        send(b -> FrontendMessages.startupMessage(b, all));
        Message req = read();
        if (req.type() != 'R') {
            throw new IOException("expected an authentication request, got " + req.type());
        }
        md5Salt = java.util.Arrays.copyOfRange(req.body(), 4, 8);
    }

    private byte[] md5Salt;

    /** Answers the md5 request read by {@link #md5Start}; the login's answers are left to read. */
    void md5Password() throws IOException {
        String response = dev.pgfleet.shared.auth.Md5Auth.md5Response(dev.pgfleet.testkit.TestUsers.MD5_PASSWORD,
                dev.pgfleet.testkit.TestUsers.MD5_USER, md5Salt);
        send(b -> FrontendMessages.passwordMessage(b, response));
    }

    /** Reads up to and including a message of this type; fails on an ErrorResponse first. */
    Message readUntil(char type) throws IOException {
        while (true) {
            Message m = read();
            if (m.type() == type) {
                return m;
            }
            if (m.type() == 'E') {
                throw new IOException("error instead of '" + type + "': " + m.error());
            }
        }
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

    /** The next message, or null when the server closed the connection instead. */
    Message readOrEnd() throws IOException {
        int type = in.read();
        if (type < 0) {
            return null;
        }
        int len = in.readInt();
        byte[] body = new byte[len - 4];
        in.readFully(body);
        return new Message((char) type, body);
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
