package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.protocol.FrontendMessages;
import dev.pgfleet.testkit.TestUsers;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * client_login_timeout: a client that does not finish its login in time is closed and frees its
 * max_client_conn slot. After its startup packet it gets PostgreSQL's authentication_timeout
 * error (FATAL 57014 "canceling authentication due to timeout"); before one, only the close
 * (PostgreSQL's startup packet timeout says nothing either).
 */
class LoginTimeoutTest {

    @Test
    void slowLoginsAreClosedAndFreeTheirSlots() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("transaction", 2, "client_login_timeout = 1000\nmax_client_conn = 2\n")) {
            // Sends nothing at all: closed without a word.
            try (RawClient silent = new RawClient(proxy.port)) {
                assertNull(silent.readOrEnd(), "closed, no message");
            }
            try (RawClient startupOnly = new RawClient(proxy.port); RawClient midScram = new RawClient(proxy.port)) {
                // Both hold a max_client_conn slot (2) from their startup packet on.
                startupOnly.startup(TestUsers.SCRAM_USER, TestUsers.DATABASE);
                assertEquals('R', startupOnly.read().type());
                midScram.startup(TestUsers.SCRAM_USER, TestUsers.DATABASE);
                assertEquals('R', midScram.read().type());
                midScram.send(b -> FrontendMessages.saslInitialResponse(b, "SCRAM-SHA-256", "n,,n=,r=fyko+d2lbbFgONRv9qkxdawL"));
                assertEquals('R', midScram.read().type());   // AuthenticationSASLContinue; the client goes quiet

                for (RawClient raw : List.of(startupOnly, midScram)) {
                    RawClient.Message e = raw.readOrEnd();
                    assertEquals('E', e == null ? '-' : e.type());
                    assertEquals("FATAL", e.error().severity());
                    assertEquals("57014", e.error().sqlState());
                    assertEquals("canceling authentication due to timeout", e.error().message());
                    assertTrue(raw.closedByServer());
                }
            }
            // The slots are free again: two real clients at once (max_client_conn = 2).
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (proxy.runtime.clientCount() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            List<Connection> both = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    both.add(proxy.connectScram());
                }
                for (Connection c : both) {
                    try (ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
                        assertTrue(rs.next());
                    }
                }
            } finally {
                for (Connection c : both) {
                    c.close();
                }
            }
        }
    }

    @Test
    void aClientThatLogsInInTimeStaysConnected() throws Exception {
        try (ProxyFixture proxy = ProxyFixture.start("session", 2, "client_login_timeout = 3000\n");
                  Connection c = proxy.connectScram()) {
            // Well past the login timeout: the session is logged in, the timer no longer applies.
            try (ResultSet rs = c.createStatement().executeQuery("SELECT pg_sleep(3.5), 1")) {
                assertTrue(rs.next());
            }
            try (ResultSet rs = c.createStatement().executeQuery("SELECT 2")) {
                assertTrue(rs.next());
                assertEquals(2, rs.getInt(1));
            }
        }
    }
}
