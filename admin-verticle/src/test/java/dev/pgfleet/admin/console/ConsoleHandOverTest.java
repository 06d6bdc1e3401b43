package dev.pgfleet.admin.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.auth.Md5Auth;
import dev.pgfleet.shared.protocol.FrontendMessages;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The bytes a client sends behind its password, in the same write, reach the console: the
 * hand-over takes what the proxy's framer had not read yet (md5, so the exchange is one message).
 */
class ConsoleHandOverTest {

    @Test
    void queryPipelinedBehindThePasswordIsAnswered() throws Exception {
        try (ConsoleFixture fx = ConsoleFixture.start(true, "transaction", 5, "auth_type = \"md5\"",
                ConsoleService.DEFAULT_STATS_PERIOD, 1);
             Socket s = new Socket("127.0.0.1", fx.port)) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            DataInputStream in = new DataInputStream(s.getInputStream());
            ByteBuf b = Unpooled.buffer();
            FrontendMessages.startupMessage(b, Map.of("user", ConsoleFixture.ADMIN, "database", "pgfleet"));
            write(out, b);
            assertEquals('R', in.readByte());
            int len = in.readInt();
            assertEquals(5, in.readInt(), "md5");
            byte[] salt = in.readNBytes(len - 8);
            b = Unpooled.buffer();
            FrontendMessages.passwordMessage(b, Md5Auth.md5Response(ConsoleFixture.ADMIN_PASSWORD, ConsoleFixture.ADMIN, salt));
            FrontendMessages.query(b, "SHOW VERSION; SHOW MEM");
            FrontendMessages.terminate(b);
            write(out, b);
            List<String> seen = new ArrayList<>();
            while (true) {
                int type = in.read();
                if (type < 0) {
                    break;
                }
                byte[] body = in.readNBytes(in.readInt() - 4);
                if (type == 'C' || type == 'D') {
                    seen.add((char) type + ":" + new String(body, StandardCharsets.UTF_8).replace('\0', ' ').trim());
                } else if (type == 'Z' || type == 'E') {
                    seen.add(String.valueOf((char) type));
                }
            }
            assertEquals("Z", seen.get(0), "the greeting ends with ReadyForQuery: " + seen);
            assertTrue(seen.get(1).startsWith("D:") && seen.get(1).contains("PgBouncer 1.24.1 (PgFleet"), seen.toString());
            assertEquals(List.of("C:SHOW"), seen.subList(2, 3), seen.toString());
            assertEquals(List.of("C:SHOW", "Z"), seen.subList(seen.size() - 2, seen.size()),
                    "SHOW MEM, then ReadyForQuery: " + seen);
        }
    }

    private static void write(OutputStream out, ByteBuf b) throws Exception {
        byte[] bytes = new byte[b.readableBytes()];
        b.readBytes(bytes);
        out.write(bytes);
        out.flush();
    }
}
