package dev.pgfleet.shared.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Malformed or out-of-order client messages: always ScramProtocolException, SQLSTATE 08P01. */
class ScramServerProtocolTest {

    static final ScramVerifier VERIFIER = ScramVerifier.fromPassword("pencil",
            Base64.getDecoder().decode(ScramRfc7677Test.SALT), 4096);
    static final String NONCE = ScramRfc7677Test.CLIENT_NONCE + ScramRfc7677Test.SERVER_NONCE;
    static final String PROOF = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

    static ScramServer server() {
        return new ScramServer("user", VERIFIER, false, ScramRfc7677Test.SERVER_NONCE);
    }

    static ScramServer afterFirst() {
        ScramServer s = server();
        s.handleClientFirst(ScramRfc7677Test.CLIENT_FIRST);
        return s;
    }

    static ScramProtocolException protocolError(ScramServer s, org.junit.jupiter.api.function.Executable call) {
        ScramProtocolException e = assertThrows(ScramProtocolException.class, call);
        assertEquals("08P01", e.sqlState());
        assertEquals(ScramServer.State.FAILED, s.state());
        return e;
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "",                                    // empty
            "n,,n=user",                           // missing r=
            "n,,r=abc",                            // missing n= (order: n before r)
            "n,,r=abc,n=user",                     // attributes out of order
            "n,,n=user,r=",                        // empty nonce
            "n,,n=user,r=a b",                     // non-printable nonce
            "n,,n=user,r=abc,",                    // trailing comma
            "n,,n=user,r=abc,1=x",                 // extension name not a letter
            "n,,n=user,rabc",                      // no '='
            "p=tls-server-end-point,,n=,r=abc",    // client requires channel binding
            "x,,n=,r=abc",                         // unknown gs2 flag
            "n,a=admin,n=,r=abc",                  // authzid
            "n,,m=ext,n=,r=abc",                   // mandatory extension
            "n;,n=,r=abc",                         // broken gs2 header
            "n,,n=,r=a\u0000bc",                   // embedded NUL
    })
    void malformedClientFirst(String message) {
        ScramServer s = server();
        protocolError(s, () -> s.handleClientFirst(message));
    }

    @Test
    void channelBindingRequiredIsRefusedWithPostgresDetail() {
        ScramServer s = server();
        ScramProtocolException e =
                protocolError(s, () -> s.handleClientFirst("p=tls-server-end-point,,n=,r=abc"));
        assertEquals("malformed SCRAM message", e.getMessage());
        assertTrue(e.detail().contains("without channel binding"), e.detail());
    }

    @Test
    void optionalExtensionsAndAnyUserNameAreAccepted() {
        ScramServer s = server();
        String first = s.handleClientFirst("n,,n=somebody else,r=abc,x=ignored");
        assertTrue(first.startsWith("r=abc" + ScramRfc7677Test.SERVER_NONCE + ","));
    }

    @Test
    void yFlagIsAcceptedBecauseWeNeverOfferPlus() {
        ScramServer s = new ScramServer("user", VERIFIER, false, "srv");
        s.handleClientFirst("y,,n=,r=abc");
        // c= must then repeat "y,," (eSws), not "n,," (biws).
        protocolError(s, () -> s.handleClientFinal("c=biws,r=abcsrv," + PROOF));
    }

    @Test
    void oversizedMessage() {
        ScramServer s = server();
        String huge = "n,,n=,r=" + "a".repeat(ScramServer.MAX_MESSAGE_LENGTH);
        ScramProtocolException e = protocolError(s, () -> s.handleClientFirst(huge));
        assertTrue(e.detail().contains("longer than"));
        ScramServer s2 = afterFirst();
        protocolError(s2, () -> s2.handleClientFinal("c=biws,r=" + "a".repeat(5000) + "," + PROOF));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "",                                                   // empty
            "r=" + "NONCE" + "," + PROOF,                         // missing c=
            "c=biws," + PROOF,                                    // missing r=
            "c=biws,r=NONCE",                                     // missing p=
            "c=biws,r=NONCE,x=ext",                               // missing p= after an extension
            "r=NONCE,c=biws," + PROOF,                            // out of order
            PROOF + ",c=biws,r=NONCE",                            // proof first
            "c=biws,r=NONCE," + PROOF + ",x=after",               // garbage after the proof
            "c=biws,r=rOprNGfwEbeRWgbNEkqO," + PROOF,             // nonce is only the client's
            "c=biws,r=NONCEx," + PROOF,                           // nonce altered
            "c=biws,r=otherclientnonce%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," + PROOF, // other client nonce
            "c=biws,r=NONCE,p=!!!notbase64!!!",                   // bad base64
            "c=biws,r=NONCE,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ",  // unpadded base64
            "c=biws,r=NONCE,p=AAAA",                              // proof of the wrong length
            "c=cD10bHMtc2VydmVyLWVuZC1wb2ludCws,r=NONCE," + PROOF, // channel binding data
            "c=eSws,r=NONCE," + PROOF,                            // flag differs from client-first
            "c=%%%,r=NONCE," + PROOF,                             // c= not base64
    })
    void malformedClientFinal(String template) {
        ScramServer s = afterFirst();
        protocolError(s, () -> s.handleClientFinal(template.replace("NONCE", NONCE)));
    }

    @Test
    void optionalExtensionBeforeProofIsIgnored() {
        // The proof covers client-final-message-without-proof, extension included: a modified
        // message must then fail as a wrong proof, not as a protocol error.
        ScramServer s = afterFirst();
        assertThrows(AuthenticationFailedException.class,
                () -> s.handleClientFinal("c=biws,r=" + NONCE + ",x=ext," + PROOF));
    }

    @Test
    void clientFinalBeforeClientFirst() {
        ScramServer s = server();
        protocolError(s, () -> s.handleClientFinal(ScramRfc7677Test.CLIENT_FINAL));
    }

    @Test
    void secondClientFirst() {
        ScramServer s = afterFirst();
        protocolError(s, () -> s.handleClientFirst(ScramRfc7677Test.CLIENT_FIRST));
    }

    @Test
    void anyCallAfterFailureOrSuccess() {
        ScramServer failed = server();
        assertThrows(ScramProtocolException.class, () -> failed.handleClientFirst("garbage"));
        protocolError(failed, () -> failed.handleClientFirst(ScramRfc7677Test.CLIENT_FIRST));

        ScramServer done = afterFirst();
        done.handleClientFinal(ScramRfc7677Test.CLIENT_FINAL);
        assertEquals(ScramServer.State.DONE, done.state());
        protocolError(done, () -> done.handleClientFinal(ScramRfc7677Test.CLIENT_FINAL));
    }

    @Test
    void mechanismCheck() {
        ScramServer.checkMechanism("SCRAM-SHA-256");
        ScramProtocolException e = assertThrows(ScramProtocolException.class,
                () -> ScramServer.checkMechanism("SCRAM-SHA-256-PLUS"));
        assertEquals("08P01", e.sqlState());
    }

    @Test
    void errorsNeverQuoteTheProof() {
        ScramServer s = afterFirst();
        String proof = "p=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=";
        AuthException e = assertThrows(AuthException.class,
                () -> s.handleClientFinal("c=biws,r=" + NONCE + "," + proof));
        assertFalse(e.toString().contains("QUJD"), e.toString());
    }
}
