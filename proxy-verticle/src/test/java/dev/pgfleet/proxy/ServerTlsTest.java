package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.net.SelfSignedCertificate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** PgFleet to server over TLS, with a real PostgreSQL that has ssl = on. */
class ServerTlsTest {

    static PgServer tlsServer;
    static PgServer plainServer;

    @BeforeAll
    static void enableSslOnOneShard() throws Exception {
        tlsServer = TestPostgres.shards().get(1);
        plainServer = TestPostgres.shards().get(0);
        SelfSignedCertificate cert = SelfSignedCertificate.create("localhost");
        Path dir = tlsServer.dataDir();
        Path key = dir.resolve("pgfleet-test.key");
        Path crt = dir.resolve("pgfleet-test.crt");
        Files.copy(Path.of(cert.privateKeyPath()), key, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(Path.of(cert.certificatePath()), crt, StandardCopyOption.REPLACE_EXISTING);
        // PostgreSQL wants the key owned by the server's user and not readable by others.
        Files.setOwner(key, Files.getOwner(dir));
        Files.setOwner(crt, Files.getOwner(dir));
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        try (Connection c = tlsServer.connectSuperuser("postgres")) {
            c.createStatement().execute("ALTER SYSTEM SET ssl_cert_file = 'pgfleet-test.crt'");
            c.createStatement().execute("ALTER SYSTEM SET ssl_key_file = 'pgfleet-test.key'");
            c.createStatement().execute("ALTER SYSTEM SET ssl = on");
            c.createStatement().execute("SELECT pg_reload_conf()");
        }
        // The reload is asynchronous: wait until new sessions see ssl = on.
        long deadline = System.currentTimeMillis() + 10_000;
        while (true) {
            try (Connection c = tlsServer.connectSuperuser("postgres");
                      java.sql.ResultSet rs = c.createStatement().executeQuery("SHOW ssl")) {
                rs.next();
                if ("on".equals(rs.getString(1))) {
                    break;
                }
            }
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("ssl still off 10 s after pg_reload_conf()");
            }
            Thread.sleep(20);
        }
    }

    @AfterAll
    static void disableSsl() throws Exception {
        try (Connection c = tlsServer.connectSuperuser("postgres")) {
            c.createStatement().execute("ALTER SYSTEM RESET ssl");
            c.createStatement().execute("SELECT pg_reload_conf()");
        }
    }

    private static boolean sessionUsesSsl(ProxyFixture proxy) throws SQLException {
        try (Connection c = proxy.connectScram(); ResultSet rs = c.createStatement().executeQuery(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
            assertTrue(rs.next());
            return rs.getBoolean(1);
        }
    }

    @Test
    void requireEncryptsTheServerConnection() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start(2, "server_tls_mode = \"require\"", tlsServer, tlsServer.port())) {
            assertTrue(sessionUsesSsl(proxy));
        }
    }

    @Test
    void preferFallsBackToPlaintext() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start(2, "server_tls_mode = \"prefer\"", plainServer, plainServer.port())) {
            assertEquals(false, sessionUsesSsl(proxy));
        }
        try (ProxyFixture proxy = ProxyFixture.start(2, "server_tls_mode = \"prefer\"", tlsServer, tlsServer.port())) {
            assertTrue(sessionUsesSsl(proxy));
        }
    }

    @Test
    void requireAgainstAServerWithoutTlsFails() {
        try (ProxyFixture proxy = ProxyFixture.start(2, "server_tls_mode = \"require\"", plainServer, plainServer.port())) {
            SQLException e = assertThrows(SQLException.class, proxy::connectScram);
            assertTrue(e.getMessage().contains("does not support TLS"), e.getMessage());
        }
    }

    @Test
    void verifyFullRefusesAnUntrustedCertificate() {
        try (ProxyFixture proxy = ProxyFixture.start(2, "server_tls_mode = \"verify-full\"", tlsServer, tlsServer.port())) {
            SQLException e = assertThrows(SQLException.class, proxy::connectScram);
            assertTrue(e.getMessage().contains("TLS"), e.getMessage());
        }
    }
}
