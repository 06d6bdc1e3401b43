package dev.pgfleet.shared.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import org.junit.jupiter.api.Test;

class ScramRoundTripTest {

    /** Runs a full exchange; returns normally only if both sides are satisfied. */
    static void exchange(ScramServer server, String clientPassword) {
        ScramClient client = new ScramClient();
        String serverFirst = server.handleClientFirst(client.clientFirstMessage());
        ScramClient.ServerFirst parsed = client.parseServerFirst(serverFirst);
        byte[] salted = ScramClient.saltedPassword(clientPassword, parsed.salt(), parsed.iterations());
        String serverFinal = server.handleClientFinal(client.clientFinalMessage(parsed, salted));
        client.verifyServerFinal(serverFinal);
        assertEquals(ScramServer.State.DONE, server.state());
        assertEquals(ScramClient.State.DONE, client.state());
    }

    @Test
    void plaintextPassword() {
        exchange(ScramServer.forPlaintextPassword("app", "s3cret"), "s3cret");
    }

    @Test
    void cachedPlaintextVerifierServesManyConnections() {
        ScramVerifier cached = ScramServer.verifierForPlaintext("app", "s3cret");
        exchange(ScramServer.forVerifier("app", cached), "s3cret");
        exchange(ScramServer.forVerifier("app", cached), "s3cret");
    }

    @Test
    void storedVerifierInPgAuthidFormat() {
        String stored = ScramVerifier.fromPassword("s3cret").encode();
        assertTrue(stored.startsWith("SCRAM-SHA-256$4096:"));
        exchange(ScramServer.forVerifier("app", ScramVerifier.parse(stored)), "s3cret");
    }

    @Test
    void bytesApiRoundTrip() {
        ScramServer server = ScramServer.forPlaintextPassword("app", "s3cret");
        ScramClient client = new ScramClient();
        byte[] serverFirst = server.handleClientFirst(client.clientFirstMessage().getBytes());
        String clientFinal = client.clientFinalMessage(new String(serverFirst), "s3cret");
        client.verifyServerFinal(new String(server.handleClientFinal(clientFinal.getBytes())));
    }

    @Test
    void nonAsciiUserNameInClientFirstIsKeptByteForByte() {
        // PostgreSQL ignores n=, but it is part of the AuthMessage: it must survive byte for byte.
        ScramVerifier v = ScramVerifier.fromPassword("pencil",
                Base64.getDecoder().decode(ScramRfc7677Test.SALT), 4096);
        ScramClient client = new ScramClient("caf\u00e9", "abcdefghijklmnop");
        String clientFirst = client.clientFirstMessage();
        ScramServer server = new ScramServer("app", v, false, "SERVERNONCE");
        byte[] serverFirst = server.handleClientFirst(clientFirst.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String clientFinal = client.clientFinalMessage(new String(serverFirst), "pencil");
        client.verifyServerFinal(server.handleClientFinal(clientFinal));
    }

    @Test
    void nonAsciiPasswordIsSaslPrepped() {
        // U+00AA FEMININE ORDINAL INDICATOR normalises to "a" under NFKC: both derive the same key.
        ScramVerifier v = ScramVerifier.fromPassword("p\u00aass", new byte[] {1, 2, 3}, 4096);
        exchange(ScramServer.forVerifier("app", v), "pass");
    }

    @Test
    void wrongPasswordFailsWith28P01() {
        ScramServer server = ScramServer.forPlaintextPassword("app", "s3cret");
        AuthenticationFailedException e =
                assertThrows(AuthenticationFailedException.class, () -> exchange(server, "wrong"));
        assertEquals("28P01", e.sqlState());
        assertEquals("password authentication failed for user \"app\"", e.getMessage());
        assertEquals(ScramServer.State.FAILED, server.state());
        assertTrue(!e.toString().contains("wrong") && !e.toString().contains("s3cret"));
    }

    @Test
    void unknownUserLooksRealAndFailsLikeAWrongPassword() {
        ScramServer real = ScramServer.forVerifier("alice", ScramVerifier.fromPassword("pw"));
        ScramServer mock1 = ScramServer.forUnknownUser("mallory");
        ScramServer mock2 = ScramServer.forUnknownUser("mallory");
        ScramServer mockOther = ScramServer.forUnknownUser("trudy");

        String realFirst = real.handleClientFirst("n,,n=,r=clientnonce");
        String mockFirst1 = mock1.handleClientFirst("n,,n=,r=clientnonce");
        String mockFirst2 = mock2.handleClientFirst("n,,n=,r=clientnonce");
        String otherFirst = mockOther.handleClientFirst("n,,n=,r=clientnonce");

        String shape = "r=clientnonce[A-Za-z0-9+/]{24},s=[A-Za-z0-9+/]{22}==,i=4096";
        for (String m : new String[] {realFirst, mockFirst1, mockFirst2, otherFirst}) {
            assertTrue(m.matches(shape), m);
        }
        assertEquals(salt(mockFirst1), salt(mockFirst2)); // deterministic per user name
        assertNotEquals(salt(mockFirst1), salt(otherFirst));
        assertNotEquals(mockFirst1, mockFirst2); // server nonces still fresh

        AuthenticationFailedException wrong = assertThrows(AuthenticationFailedException.class,
                () -> exchange(ScramServer.forVerifier("mallory", ScramVerifier.fromPassword("pw")), "bad"));
        AuthenticationFailedException mock = assertThrows(AuthenticationFailedException.class,
                () -> exchange(ScramServer.forUnknownUser("mallory"), "anything"));
        assertEquals(wrong.getClass(), mock.getClass());
        assertEquals(wrong.getMessage(), mock.getMessage());
        assertEquals(wrong.sqlState(), mock.sqlState());
        assertEquals(wrong.detail(), mock.detail());
    }

    @Test
    void fleetWideMockSecretGivesTheSameSaltOnEveryNode() {
        byte[] secret = "0123456789abcdef0123456789abcdef".getBytes();
        ScramMockSalt nodeA = ScramMockSalt.fromSecret(secret);
        ScramMockSalt nodeB = ScramMockSalt.fromSecret(secret);
        assertArrayEquals(nodeA.saltFor("mallory"), nodeB.saltFor("mallory"));
        assertEquals(16, nodeA.saltFor("mallory").length);
        String first = ScramServer.forUnknownUser("mallory", nodeA).handleClientFirst("n,,n=,r=x");
        assertEquals(Base64.getEncoder().encodeToString(nodeB.saltFor("mallory")), salt(first));
    }

    private static String salt(String serverFirst) {
        return serverFirst.split(",")[1].substring(2);
    }
}
