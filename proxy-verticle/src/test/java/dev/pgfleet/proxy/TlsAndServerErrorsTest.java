package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.protocol.FrontendMessages;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.SelfSignedCertificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** TLS toward clients, and servers that misbehave during login. */
class TlsAndServerErrorsTest {

    private static String tlsGeneral(SelfSignedCertificate cert) {
        return "tls_certificate = \"" + cert.certificatePath() + "\"\ntls_private_key = \"" + cert.privateKeyPath() + "\"\n";
    }

    @Test
    void pgjdbcOverTls() throws Exception {
        SelfSignedCertificate cert = SelfSignedCertificate.create("localhost");
        try (ProxyFixture proxy = ProxyFixture.start(5, tlsGeneral(cert))) {
            Properties p = new Properties();
            p.setProperty("user", TestUsers.SCRAM_USER);
            p.setProperty("password", TestUsers.SCRAM_PASSWORD);
            p.setProperty("sslmode", "require");
            String url = "jdbc:postgresql://127.0.0.1:" + proxy.port + "/" + TestUsers.DATABASE + "?gssEncMode=disable";
            try (Connection c = DriverManager.getConnection(url, p);
                      ResultSet rs = c.createStatement().executeQuery("SELECT 'secure'")) {
                assertTrue(rs.next());
                assertEquals("secure", rs.getString(1));
            }
        }
    }

    @Test
    void plaintextPipelinedAfterSslRequestIsRefused() throws Exception {
        SelfSignedCertificate cert = SelfSignedCertificate.create("localhost");
        try (ProxyFixture proxy = ProxyFixture.start(5, tlsGeneral(cert)); RawClient raw = new RawClient(proxy.port)) {
            // SSLRequest and a StartupMessage in one write, as an attacker injecting plaintext
            // ahead of the handshake would (CVE-2021-23214): PgFleet must not answer 'S'.
            ByteBuf b = Unpooled.buffer();
            FrontendMessages.sslRequest(b);
            FrontendMessages.startupMessage(b, Map.of("user", TestUsers.SCRAM_USER, "database", TestUsers.DATABASE));
            raw.send(ByteBufUtil.getBytes(b));
            RawClient.Message m = raw.read();
            assertEquals('E', m.type());
            assertEquals("08P01", m.error().sqlState());
            assertTrue(raw.closedByServer());
        }
    }

    /**
     * A "server" that answers every StartupMessage with an ErrorResponse that has no SQLSTATE
     * (only S and M fields), then closes. PgFleet must turn it into a clear error for the
     * client and carry on.
     */
    @Test
    void serverErrorWithoutSqlStateDoesNotCrashAnything() throws Exception {
        Vertx vertx = Vertx.vertx();
        NetServer bad = vertx.createNetServer().connectHandler(sock -> sock.handler(buf -> {
            ByteBuf out = Unpooled.buffer();
            out.writeByte('E');
            int at = out.writerIndex();
            out.writeInt(0);
            out.writeByte('S').writeBytes("FATAL\0".getBytes()).writeByte('M').writeBytes("no code here\0".getBytes()).writeByte(0);
            out.setInt(at, out.writerIndex() - at);
            sock.write(Buffer.buffer(ByteBufUtil.getBytes(out))).onComplete(ar -> sock.close());
        }));
        int badPort = bad.listen(0, "127.0.0.1").await().actualPort();
        try (ProxyFixture proxy = ProxyFixture.start(5, null, TestPostgres.cluster().primary(), badPort)) {
            SQLException e = assertThrows(SQLException.class, proxy::connectScram);
            assertNotEquals(null, e.getSQLState());
            assertTrue(e.getMessage().contains("no code here"), e.getMessage());
            // Again: the failure freed the pool slot and nothing is stuck.
            SQLException again = assertThrows(SQLException.class, proxy::connectScram);
            assertEquals(e.getSQLState(), again.getSQLState());
        } finally {
            vertx.close().await();
        }
    }

    @Test
    void unreachableServerGivesAConnectionError() {
        int deadPort = ProxyFixture.freePort();
        try (ProxyFixture proxy = ProxyFixture.start(5, null, TestPostgres.cluster().primary(), deadPort)) {
            SQLException e = assertThrows(SQLException.class, proxy::connectScram);
            assertEquals("08001", e.getSQLState());
        }
    }
}
