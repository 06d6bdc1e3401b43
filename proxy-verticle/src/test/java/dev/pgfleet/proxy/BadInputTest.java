package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.protocol.FrontendMessages;
import dev.pgfleet.shared.protocol.PgProtocol;
import dev.pgfleet.testkit.TestUsers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Clients that misbehave get an ErrorResponse with the right SQLSTATE and a close, and
 * PgFleet goes on serving everyone else: checked after every case with a real client.
 */
class BadInputTest {

    static ProxyFixture proxy;

    @BeforeAll
    static void start() {
        proxy = ProxyFixture.start(5);
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    @AfterEach
    void othersStillServed() throws SQLException {
        try (Connection c = proxy.connectScram(); ResultSet rs = c.createStatement().executeQuery("SELECT 7")) {
            assertTrue(rs.next());
            assertEquals(7, rs.getInt(1));
        }
    }

    private static void assertFatal(RawClient raw, String sqlState) throws IOException {
        RawClient.Message m = raw.readUntilError();
        assertEquals(sqlState, m.error().sqlState(), String.valueOf(m.error()));
        assertTrue(raw.closedByServer(), "connection should be closed after the error");
    }

    @Test
    void oversizedStartupPacket() throws IOException {
        try (RawClient raw = new RawClient(proxy.port)) {
            byte[] packet = new byte[10_001];
            java.nio.ByteBuffer.wrap(packet).putInt(10_001).putInt(PgProtocol.PROTOCOL_3_0);
            raw.send(packet);
            assertFatal(raw, "08P01");
        }
    }

    @Test
    void garbageInsteadOfStartupPacket() throws IOException {
        try (RawClient raw = new RawClient(proxy.port)) {
            raw.send("GET / HTTP/1.1\r\nHost: example\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertFatal(raw, "08P01");
        }
    }

    @Test
    void unsupportedProtocolMajorVersion() throws IOException {
        try (RawClient raw = new RawClient(proxy.port)) {
            raw.send(b -> FrontendMessages.startupMessage(b, 2 << 16, Map.of("user", "x")));
            assertFatal(raw, "0A000");
        }
    }

    @Test
    void negativeLengthDuringAuthentication() throws IOException {
        try (RawClient raw = new RawClient(proxy.port)) {
            raw.startup(TestUsers.SCRAM_USER, TestUsers.DATABASE);
            assertEquals('R', raw.read().type());
            raw.send(new byte[] {'p', (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
            assertFatal(raw, "08P01");
        }
    }

    @Test
    void negativeLengthAfterLogin() throws IOException {
        try (RawClient raw = new RawClient(proxy.port)) {
            raw.md5Login();
            raw.send(new byte[] {'Q', (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xF0});
            assertFatal(raw, "08P01");
        }
    }

    @Test
    void oversizedMessageAfterLoginIsRefusedBeforeItArrives() throws IOException {
        try (RawClient raw = new RawClient(proxy.port)) {
            raw.md5Login();
            // Declares 1 GiB and sends only the header: the limit is checked on the header alone.
            raw.send(new byte[] {'Q', 0x40, 0, 0, 0});
            assertFatal(raw, "08P01");
        }
    }

    @Test
    void queryDuringScramExchangeClosesTheConnection() throws IOException {
        try (RawClient raw = new RawClient(proxy.port)) {
            raw.startup(TestUsers.SCRAM_USER, TestUsers.DATABASE);
            assertEquals('R', raw.read().type());
            raw.send(b -> FrontendMessages.query(b, "SELECT 1"));
            assertFatal(raw, "08P01");
        }
    }

    @Test
    void secondStartupMessageDuringMd5ClosesTheConnection() throws IOException {
        try (RawClient raw = new RawClient(proxy.port)) {
            raw.startup(TestUsers.MD5_USER, TestUsers.DATABASE);
            assertEquals('R', raw.read().type());
            // Trying to log in as someone else in the middle of the exchange.
            raw.startup(TestUsers.SCRAM_USER, TestUsers.DATABASE);
            assertFatal(raw, "08P01");
        }
    }

    @Test
    void scramClientFirstWithoutNonceIsRefused() throws IOException {
        try (RawClient raw = new RawClient(proxy.port)) {
            raw.startup(TestUsers.SCRAM_USER, TestUsers.DATABASE);
            assertEquals('R', raw.read().type());
            raw.send(b -> FrontendMessages.saslInitialResponse(b, "SCRAM-SHA-256", "n,,n="));
            assertFatal(raw, "08P01");
        }
    }

    @Test
    void saslDataLengthBeyondTheMessageIsRefused() throws IOException {
        try (RawClient raw = new RawClient(proxy.port)) {
            raw.startup(TestUsers.SCRAM_USER, TestUsers.DATABASE);
            assertEquals('R', raw.read().type());
            raw.send(b -> {
                b.writeByte('p');
                int at = b.writerIndex();
                b.writeInt(0);
                b.writeBytes("SCRAM-SHA-256\0".getBytes(StandardCharsets.US_ASCII));
                b.writeInt(5000);   // claims 5000 bytes of data, sends 10
                b.writeBytes("n,,n=,r=ab".getBytes(StandardCharsets.US_ASCII));
                b.setInt(at, b.writerIndex() - at);
            });
            assertFatal(raw, "08P01");
        }
    }

    @Test
    void gssEncRequestGetsNThenLoginWorks() throws IOException {
        try (RawClient raw = new RawClient(proxy.port)) {
            raw.send(FrontendMessages::gssEncRequest);
            assertEquals('N', raw.readByte());
            raw.md5Login();
        }
    }

    @Test
    void sslRequestWithoutTlsConfiguredGetsN() throws IOException {
        try (RawClient raw = new RawClient(proxy.port)) {
            raw.send(FrontendMessages::sslRequest);
            assertEquals('N', raw.readByte());
            raw.md5Login();
        }
    }

    @Test
    void protocol32IsNegotiatedDownTo30() throws IOException {
        try (RawClient raw = new RawClient(proxy.port)) {
            raw.send(b -> FrontendMessages.startupMessage(b, (3 << 16) | 2,
                Map.of("user", TestUsers.MD5_USER, "database", TestUsers.DATABASE, "_pq_.something", "on")));
            RawClient.Message v = raw.read();
            assertEquals('v', v.type());
            java.nio.ByteBuffer body = java.nio.ByteBuffer.wrap(v.body());
            assertEquals(0, body.getInt(), "newest minor version supported");
            assertEquals(1, body.getInt(), "one unrecognized option");
            assertEquals('R', raw.read().type());
        }
    }
}
