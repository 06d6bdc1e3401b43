package dev.pgfleet.proxy.sharding;

import dev.pgfleet.shared.auth.Md5Auth;
import dev.pgfleet.shared.auth.ScramClient;
import dev.pgfleet.shared.protocol.FrontendMessages;
import dev.pgfleet.testkit.TestUsers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Consumer;

/** A protocol-level client that keeps nothing it reads: for streams too large for a driver's result set. */
final class RawClient {

    private RawClient() {
    }

    /** Logs in as testkit's SCRAM user (md5 or SCRAM, as asked); returns after the first ReadyForQuery. */
    static void startup(DataOutputStream out, DataInputStream in, String database) throws IOException {
        send(out, b -> FrontendMessages.startupMessage(b, Map.of("user", TestUsers.SCRAM_USER, "database", database)));
        ScramClient scram = null;
        String serverFirst = null;
        while (true) {
            byte type = in.readByte();
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            if (type == 'E') {
                throw new IOException("login failed: " + new String(body, StandardCharsets.UTF_8));
            }
            if (type == 'Z') {
                return;
            }
            if (type != 'R') {
                continue;
            }
            int code = ((body[0] & 0xFF) << 24) | ((body[1] & 0xFF) << 16) | ((body[2] & 0xFF) << 8) | (body[3] & 0xFF);
            switch (code) {
                case 5 -> {
                    String r = Md5Auth.md5Response(TestUsers.SCRAM_PASSWORD, TestUsers.SCRAM_USER,
                        java.util.Arrays.copyOfRange(body, 4, 8));
                    send(out, b -> FrontendMessages.passwordMessage(b, r));
                }
                case 10 -> {
                    ScramClient c = new ScramClient();
                    scram = c;
                    send(out, b -> FrontendMessages.saslInitialResponse(b, "SCRAM-SHA-256", c.clientFirstMessage()));
                }
                case 11 -> {
                    serverFirst = new String(body, 4, body.length - 4, StandardCharsets.UTF_8);
                    String fin = scram.clientFinalMessage(serverFirst, TestUsers.SCRAM_PASSWORD);
                    send(out, b -> FrontendMessages.saslResponse(b, fin));
                }
                default -> {
                    // 0: ok; 12: SASL final (verified by the login's success)
                }
            }
        }
    }

    static void query(DataOutputStream out, String sql) throws IOException {
        send(out, b -> FrontendMessages.query(b, sql));
    }

    private static void send(DataOutputStream out, Consumer<ByteBuf> writer) throws IOException {
        ByteBuf b = Unpooled.buffer();
        writer.accept(b);
        out.write(ByteBufUtil.getBytes(b));
        out.flush();
        b.release();
    }
}
