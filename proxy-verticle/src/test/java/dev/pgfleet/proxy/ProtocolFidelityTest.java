package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.protocol.FrontendMessages;
import dev.pgfleet.testkit.TestPostgres;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a client sees through PgFleet where PostgreSQL's own behaviour is the reference:
 * Terminate after a query, a server's own FATAL, empty or unknown input, plaintext pipelined
 * behind SSLRequest. Bare sockets (RawClient), pool of 1 so "the same server connection" is
 * visible as the same backend pid.
 */
class ProtocolFidelityTest {

    static ProxyFixture session;
    static ProxyFixture transaction;

    @BeforeAll
    static void start() throws Exception {
        TestPostgres.reset();
        // One proxy verticle: every client on the same loop, so the pool's one connection goes to
        // the next client as it is (another loop would close it to open its own).
        session = ProxyFixture.startInstances("session", 1, null, 1);
        transaction = ProxyFixture.startInstances("transaction", 1, null, 1);
    }

    @AfterAll
    static void stop() {
        session.close();
        transaction.close();
    }

    private static ProxyFixture proxy(String mode) {
        return mode.equals("session") ? session : transaction;
    }

    private static byte[] bytes(java.util.function.Consumer<ByteBuf> writer) {
        ByteBuf b = Unpooled.buffer();
        writer.accept(b);
        return ByteBufUtil.getBytes(b);
    }

    /** The first column of the first DataRow of a simple query's answer. */
    private static String scalar(RawClient raw, String sql) throws IOException {
        raw.send(b -> FrontendMessages.query(b, sql));
        RawClient.Message row = raw.readUntil('D');
        raw.readUntil('Z');
        return firstColumn(row);
    }

    private static String firstColumn(RawClient.Message row) {
        java.nio.ByteBuffer body = java.nio.ByteBuffer.wrap(row.body());
        body.getShort();
        int len = body.getInt();
        return new String(row.body(), body.position(), len, StandardCharsets.UTF_8);
    }

    /** Messages until the server closes the connection. */
    private static List<RawClient.Message> readToEnd(RawClient raw) throws IOException {
        List<RawClient.Message> got = new ArrayList<>();
        for (RawClient.Message m = raw.readOrEnd(); m != null; m = raw.readOrEnd()) {
            got.add(m);
        }
        return got;
    }

    private static String types(List<RawClient.Message> messages) {
        StringBuilder sb = new StringBuilder();
        messages.forEach(m -> sb.append(m.type()));
        return sb.toString();
    }

    // -- defect 7: Terminate behind a query --------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void terminateAfterAQueryStillGetsTheAnswer(String mode) throws Exception {
        ProxyFixture proxy = proxy(mode);
        String pid;
        try (RawClient raw = new RawClient(proxy.port)) {
            raw.md5Login();
            pid = scalar(raw, "SELECT pg_backend_pid()");
            // One write, as a client that sends its last query and leaves: PostgreSQL answers, then closes.
            raw.send(bytes(b -> {
                FrontendMessages.query(b, "SELECT pg_sleep(0.5), 42");
                FrontendMessages.terminate(b);
            }));
            List<RawClient.Message> got = readToEnd(raw);
            assertEquals("TDCZ", types(got), "answer before the close");
            java.nio.ByteBuffer row = java.nio.ByteBuffer.wrap(got.get(1).body());
            row.getShort();
            row.position(row.position() + 4 + row.getInt(row.position()));   // pg_sleep's empty value
            int len = row.getInt();
            assertEquals("42", new String(got.get(1).body(), row.position(), len, StandardCharsets.US_ASCII));
        }
        // The pool of 1 got its clean server connection back (not closed): the next client has it.
        try (RawClient raw = new RawClient(proxy.port)) {
            raw.md5Login();
            assertEquals(pid, scalar(raw, "SELECT pg_backend_pid()"));
        }
    }

    // -- defect 9: one FATAL, the server's ---------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void serverTerminatedGivesOnlyTheServersFatal(String mode) throws Exception {
        try (RawClient raw = new RawClient(proxy(mode).port)) {
            raw.md5Login();
            raw.send(b -> FrontendMessages.query(b, "SELECT pg_terminate_backend(pg_backend_pid())"));
            List<RawClient.Message> got = readToEnd(raw);
            List<String> errors = new ArrayList<>();
            for (RawClient.Message m : got) {
                if (m.type() == 'E') {
                    errors.add(m.error().severity() + " " + m.error().sqlState());
                }
            }
            assertEquals(List.of("FATAL 57P01"), errors, "messages " + types(got));
        }
    }

    // -- defect 10: nothing valid before the close -------------------------------------------

    @Test
    void connectAndCloseBeforeStartupIsSilent() throws Exception {
        try (RawClient raw = new RawClient(session.port)) {
            raw.socket.shutdownOutput();
            assertEquals(-1, raw.readByte(), "no bytes, only the close");
        }
    }

    @Test
    void terminateInsteadOfStartupIsSilent() throws Exception {
        // node-postgres: connect(); end() before the connection is up sends Terminate first.
        try (RawClient raw = new RawClient(session.port)) {
            raw.send(FrontendMessages::terminate);
            raw.socket.shutdownOutput();
            assertEquals(-1, raw.readByte(), "no ErrorResponse, only the close");
        }
        try (RawClient raw = new RawClient(transaction.port)) {
            raw.send(FrontendMessages::terminate);
            assertEquals(-1, raw.readByte(), "no ErrorResponse, only the close");
        }
    }

    @Test
    void closeInTheMiddleOfTheStartupPacketIsSilent() throws Exception {
        byte[] startup = bytes(b -> FrontendMessages.startupMessage(b, Map.of("user", "u", "database", "d")));
        try (RawClient raw = new RawClient(session.port)) {
            raw.send(java.util.Arrays.copyOf(startup, 10));
            raw.socket.shutdownOutput();
            assertEquals(-1, raw.readByte(), "no ErrorResponse, only the close");
        }
    }

    // -- defect 11: unknown message types after login ----------------------------------------

    private static void assertInvalidType(RawClient raw, List<RawClient.Message> got) {
        assertEquals(1, got.stream().filter(m -> m.type() == 'E').count(), types(got));
        RawClient.Message e = got.get(got.size() - 1);
        assertEquals('E', e.type(), types(got));
        assertEquals("FATAL", e.error().severity());
        assertEquals("08P01", e.error().sqlState());
        assertEquals("invalid frontend message type 90", e.error().message());
    }

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void unknownMessageTypeIsFatal(String mode) throws Exception {
        // Idle (transaction mode: no server connection linked).
        try (RawClient raw = new RawClient(proxy(mode).port)) {
            raw.md5Login();
            raw.send(new byte[] {'Z', 0, 0, 0, 4});
            assertInvalidType(raw, readToEnd(raw));
        }
        // Inside a transaction (a server connection linked in every mode).
        try (RawClient raw = new RawClient(proxy(mode).port)) {
            raw.md5Login();
            raw.send(b -> FrontendMessages.query(b, "BEGIN"));
            raw.readUntil('Z');
            raw.send(new byte[] {'Z', 0, 0, 0, 4});
            assertInvalidType(raw, readToEnd(raw));
        }
        // Behind a query in the same write: the query is answered first, as PostgreSQL reads in order.
        try (RawClient raw = new RawClient(proxy(mode).port)) {
            raw.md5Login();
            raw.send(bytes(b -> {
                FrontendMessages.query(b, "SELECT 1");
                b.writeByte('Z').writeInt(4);
            }));
            List<RawClient.Message> got = readToEnd(raw);
            assertEquals("TDCZE", types(got));
            assertInvalidType(raw, got);
        }
    }

    @Test
    void unknownMessageTypeWhileWaitingForACheckoutIsFatal() throws Exception {
        // The pool's one connection is held by a transaction: the second client's query waits.
        try (RawClient holder = new RawClient(transaction.port); RawClient raw = new RawClient(transaction.port)) {
            holder.md5Login();
            holder.send(b -> FrontendMessages.query(b, "BEGIN"));
            holder.readUntil('Z');
            raw.md5Login();
            raw.send(bytes(b -> {
                FrontendMessages.query(b, "SELECT 1");
                b.writeByte('Z').writeInt(4);
            }));
            holder.send(b -> FrontendMessages.query(b, "COMMIT"));
            holder.readUntil('Z');
            List<RawClient.Message> got = readToEnd(raw);
            assertEquals("TDCZE", types(got));
            assertInvalidType(raw, got);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void copyDoneAndFailOutsideCopyAreIgnored(String mode) throws Exception {
        try (RawClient raw = new RawClient(proxy(mode).port)) {
            raw.md5Login();
            raw.send(new byte[] {'c', 0, 0, 0, 4});
            raw.send(b -> b.writeByte('f').writeInt(4 + 2).writeBytes("x\0".getBytes(StandardCharsets.US_ASCII)));
            assertEquals("7", scalar(raw, "SELECT 7"));
        }
    }

    // -- defect 12: plaintext pipelined behind SSLRequest with TLS off -----------------------

    @Test
    void plaintextPipelinedAfterSslRequestIsRefusedWithTlsOff() throws Exception {
        assertRefusedAfter(FrontendMessages::sslRequest, "received unencrypted data after SSL request");
    }

    @Test
    void plaintextPipelinedAfterGssEncRequestIsRefused() throws Exception {
        assertRefusedAfter(FrontendMessages::gssEncRequest, "received unencrypted data after GSSAPI encryption request");
    }

    private static void assertRefusedAfter(java.util.function.Consumer<ByteBuf> request, String message) throws Exception {
        try (RawClient raw = new RawClient(session.port)) {
            raw.send(bytes(b -> {
                request.accept(b);
                FrontendMessages.startupMessage(b, Map.of("user", dev.pgfleet.testkit.TestUsers.MD5_USER,
                    "database", dev.pgfleet.testkit.TestUsers.DATABASE));
            }));
            // PostgreSQL answers 'N', then refuses what was already buffered (ProcessStartupPacket).
            assertEquals('N', raw.readByte());
            List<RawClient.Message> got = readToEnd(raw);
            assertEquals("E", types(got), "no authentication request");
            assertEquals("08P01", got.get(0).error().sqlState());
            assertEquals(message, got.get(0).error().message());
        }
    }
}
