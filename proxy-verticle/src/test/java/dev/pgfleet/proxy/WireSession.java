package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pgfleet.shared.auth.Md5Auth;
import dev.pgfleet.shared.protocol.ExtendedMessages;
import dev.pgfleet.shared.protocol.FrontendMessages;
import dev.pgfleet.shared.protocol.ServerError;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A logged-in protocol session over {@link RawClient} (md5 user), for what a test must see
 * message by message: every ParameterStatus, a multi-statement simple Query sent as one
 * message (as psql sends it), an extended batch with the unnamed statement.
 */
final class WireSession implements AutoCloseable {

    /** What one Query or Sync returned: text rows of the last result, the first error, the status. */
    record Result(List<String[]> rows, ServerError error, char status, List<String[]> parameterStatus) {
        String value() {
            if (error != null) {
                throw new AssertionError("server error: " + error);
            }
            return rows.isEmpty() ? null : rows.get(rows.size() - 1)[0];
        }
    }

    final RawClient raw;
    /** ParameterStatus as the client was told, last value per name. */
    final Map<String, String> parameters = new LinkedHashMap<>();

    private WireSession(RawClient raw) {
        this.raw = raw;
    }

    /** Logs in to {@code port} as the md5 user, with these extra startup parameters. */
    static WireSession login(int port, String user, String password, String database, Map<String, String> extra)
        throws IOException {
        RawClient raw = new RawClient(port);
        WireSession s = new WireSession(raw);
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", user);
        params.put("database", database);
        params.putAll(extra);
        raw.send(b -> FrontendMessages.startupMessage(b, params));
        RawClient.Message req = raw.read();
        if (req.type() == 'E') {
            throw new AssertionError("login: " + req.error());
        }
        assertEquals('R', req.type());
        ByteBuf body = Unpooled.wrappedBuffer(req.body());
        int code = body.readInt();
        if (code == 5) {
            byte[] salt = new byte[4];
            body.readBytes(salt);
            raw.send(b -> FrontendMessages.passwordMessage(b, Md5Auth.md5Response(password, user, salt)));
        } else if (code == 3) {
            raw.send(b -> FrontendMessages.passwordMessage(b, password));
        } else if (code != 0) {
            throw new AssertionError("unexpected authentication request " + code);
        }
        s.readResult();
        return s;
    }

    Result simple(String sql) throws IOException {
        raw.send(b -> FrontendMessages.query(b, sql));
        return readResult();
    }

    /** Parse (unnamed), Bind with text parameters, Describe portal, Execute, Sync. */
    Result extended(String sql, String... params) throws IOException {
        raw.send(b -> {
            ExtendedMessages.parse(b, "", sql, new byte[2]);
            bindExecuteSync(b, params);
        });
        return readResult();
    }

    /** Parse (unnamed) and Sync alone: the statement is to be run by a later batch. */
    Result parseUnnamed(String sql) throws IOException {
        raw.send(b -> {
            ExtendedMessages.parse(b, "", sql, new byte[2]);
            FrontendMessages.sync(b);
        });
        return readResult();
    }

    /** Bind of the unnamed statement with text parameters, Describe portal, Execute, Sync. */
    Result bindUnnamed(String... params) throws IOException {
        raw.send(b -> bindExecuteSync(b, params));
        return readResult();
    }

    private static void bindExecuteSync(ByteBuf b, String... params) {
        int at = b.writerIndex();
        b.writeByte('B').writeInt(0);
        b.writeByte(0).writeByte(0);   // unnamed portal, unnamed statement
        b.writeShort(0);               // parameter formats: all text
        b.writeShort(params.length);
        for (String p : params) {
            byte[] v = p.getBytes(StandardCharsets.UTF_8);
            b.writeInt(v.length).writeBytes(v);
        }
        b.writeShort(0);               // result formats: all text
        b.setInt(at + 1, b.writerIndex() - at - 1);
        b.writeByte('D').writeInt(6).writeByte('P').writeByte(0);
        b.writeByte('E').writeInt(9).writeByte(0).writeInt(0);
        FrontendMessages.sync(b);
    }

    /** Reads up to ReadyForQuery. */
    Result readResult() throws IOException {
        List<String[]> rows = new ArrayList<>();
        List<String[]> reported = new ArrayList<>();
        ServerError error = null;
        while (true) {
            RawClient.Message m = raw.read();
            switch (m.type()) {
                case 'T' -> rows.clear();
                case 'D' -> rows.add(dataRow(m.body()));
                case 'S' -> {
                    String[] kv = cstrings(m.body());
                    parameters.put(kv[0], kv[1]);
                    reported.add(kv);
                }
                case 'E' -> {
                    if (error == null) {
                        error = m.error();
                    }
                }
                case 'Z' -> {
                    return new Result(rows, error, (char) m.body()[0], reported);
                }
                default -> {
                }
            }
        }
    }

    private static String[] dataRow(byte[] body) {
        ByteBuf b = Unpooled.wrappedBuffer(body);
        int n = b.readUnsignedShort();
        String[] cols = new String[n];
        for (int i = 0; i < n; i++) {
            int len = b.readInt();
            if (len >= 0) {
                cols[i] = b.readCharSequence(len, StandardCharsets.UTF_8).toString();
            }
        }
        return cols;
    }

    private static String[] cstrings(byte[] body) {
        String all = new String(body, StandardCharsets.UTF_8);
        String[] parts = all.split("\0", -1);
        return new String[] {parts[0], parts[1]};
    }

    @Override
    public void close() throws IOException {
        try {
            raw.send(FrontendMessages::terminate);
        } catch (IOException | RuntimeException ignored) {
            // already closed
        }
        raw.close();
    }
}
