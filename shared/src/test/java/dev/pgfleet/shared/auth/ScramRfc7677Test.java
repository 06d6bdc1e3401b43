package dev.pgfleet.shared.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** RFC 7677 section 3, user "user", password "pencil": both sides must reproduce it exactly. */
class ScramRfc7677Test {

    static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    static final String SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    static final String SALT = "W22ZaJ0SNY7soEsUEjb6gQ==";
    static final String CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    static final String SERVER_FIRST =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    static final String CLIENT_FINAL = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    @Test
    void clientReproducesTheRfcProof() {
        ScramClient client = new ScramClient("user", CLIENT_NONCE);
        assertEquals(CLIENT_FIRST, client.clientFirstMessage());
        ScramClient.ServerFirst first = client.parseServerFirst(SERVER_FIRST);
        assertEquals(4096, first.iterations());
        byte[] salted = ScramClient.saltedPassword("pencil", first.salt(), first.iterations());
        assertEquals(CLIENT_FINAL, client.clientFinalMessage(first, salted));
        client.verifyServerFinal(SERVER_FINAL);
        assertEquals(ScramClient.State.DONE, client.state());
    }

    @Test
    void serverReproducesTheRfcSignature() {
        ScramVerifier verifier =
                ScramVerifier.fromPassword("pencil", Base64.getDecoder().decode(SALT), 4096);
        ScramServer server = new ScramServer("user", verifier, false, SERVER_NONCE);
        assertEquals(SERVER_FIRST, server.handleClientFirst(CLIENT_FIRST));
        assertEquals(SERVER_FINAL, server.handleClientFinal(CLIENT_FINAL));
        assertEquals(ScramServer.State.DONE, server.state());
    }

    @Test
    void serverAcceptsTheRfcExchangeFromAParsedVerifier() {
        ScramVerifier derived =
                ScramVerifier.fromPassword("pencil", Base64.getDecoder().decode(SALT), 4096);
        ScramVerifier parsed = ScramVerifier.parse(derived.encode());
        ScramServer server = new ScramServer("user", parsed, false, SERVER_NONCE);
        byte[] serverFirst = server.handleClientFirst(CLIENT_FIRST.getBytes(StandardCharsets.US_ASCII));
        assertEquals(SERVER_FIRST, new String(serverFirst, StandardCharsets.US_ASCII));
        assertEquals(SERVER_FINAL, server.handleClientFinal(CLIENT_FINAL));
    }
}
