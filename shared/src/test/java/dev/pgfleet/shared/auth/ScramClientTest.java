package dev.pgfleet.shared.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScramClientTest {

    static final String CLIENT_NONCE = ScramRfc7677Test.CLIENT_NONCE;
    static final String SERVER_FIRST = ScramRfc7677Test.SERVER_FIRST;

    static ScramClient started() {
        ScramClient c = new ScramClient("user", CLIENT_NONCE);
        c.clientFirstMessage();
        return c;
    }

    static ScramClient finalSent() {
        ScramClient c = started();
        c.clientFinalMessage(SERVER_FIRST, "pencil");
        return c;
    }

    @Test
    void clientFirstLooksLikeLibpqs() {
        String first = new ScramClient().clientFirstMessage();
        assertTrue(first.matches("n,,n=,r=[A-Za-z0-9+/]{24}"), first);
        assertFalse(first.equals(new ScramClient().clientFirstMessage()));
    }

    @Test
    void iterationCountAboveTheCapIsRefused() {
        ScramClient c = started();
        String first = "r=" + CLIENT_NONCE + "srv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i="
                + (ScramClient.MAX_ITERATIONS + 1);
        ScramProtocolException e = assertThrows(ScramProtocolException.class, () -> c.parseServerFirst(first));
        assertEquals("08P01", e.sqlState());
        assertTrue(e.getMessage().contains("iteration count"), e.getMessage());
        assertEquals(ScramClient.State.FAILED, c.state());

        ScramClient huge = started();
        assertThrows(ScramProtocolException.class, () -> huge.parseServerFirst(
                "r=" + CLIENT_NONCE + "srv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999999999999999"));
        assertThrows(ScramProtocolException.class,
                () -> ScramClient.saltedPassword("pw", new byte[] {1}, ScramClient.MAX_ITERATIONS + 1));
    }

    @Test
    void iterationCountAtTheCapIsAccepted() {
        ScramClient c = started();
        ScramClient.ServerFirst f = c.parseServerFirst(
                "r=" + CLIENT_NONCE + "srv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=" + ScramClient.MAX_ITERATIONS);
        assertEquals(ScramClient.MAX_ITERATIONS, f.iterations());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "r=someoneelse%hvYDpWUa2RaTCAfuxFIlj,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", // not our nonce
            "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",              // nothing appended
            "r=xrOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",             // ours, not as prefix
            "r=rOprNGfwEbeRWgbNEkqOsrv,i=4096",                                       // salt missing
            "r=rOprNGfwEbeRWgbNEkqOsrv,s=,i=4096",                                    // salt empty
            "r=rOprNGfwEbeRWgbNEkqOsrv,s=not*base64,i=4096",                          // salt not base64
            "r=rOprNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==",                   // i missing
            "r=rOprNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",               // i zero
            "r=rOprNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1",              // i negative
            "r=rOprNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4k",              // i not a number
            "s=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqOsrv,i=4096",            // out of order
            "m=ext,r=rOprNGfwEbeRWgbNEkqOsrv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",      // mandatory ext
            "",
    })
    void badServerFirstIsRefused(String serverFirst) {
        ScramClient c = started();
        ScramProtocolException e =
                assertThrows(ScramProtocolException.class, () -> c.parseServerFirst(serverFirst));
        assertEquals("08P01", e.sqlState());
    }

    @Test
    void badServerSignatureIsRefused() {
        ScramClient c = finalSent();
        AuthenticationFailedException e = assertThrows(AuthenticationFailedException.class,
                () -> c.verifyServerFinal("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
        assertEquals("incorrect server signature", e.getMessage());
        assertEquals(ScramClient.State.FAILED, c.state());
    }

    @Test
    void malformedServerSignatureIsRefused() {
        assertThrows(ScramProtocolException.class, () -> finalSent().verifyServerFinal("v=AAAA"));
        assertThrows(ScramProtocolException.class, () -> finalSent().verifyServerFinal("v=%%%"));
        assertThrows(ScramProtocolException.class, () -> finalSent().verifyServerFinal("x=1"));
    }

    @Test
    void serverErrorIsSurfaced() {
        ScramClient c = finalSent();
        AuthenticationFailedException e =
                assertThrows(AuthenticationFailedException.class, () -> c.verifyServerFinal("e=invalid-proof"));
        assertEquals("28P01", e.sqlState());
        assertEquals("invalid-proof", e.detail());
        assertTrue(e.getMessage().contains("invalid-proof"));
    }

    @Test
    void callsOutOfOrder() {
        ScramClient fresh = new ScramClient();
        assertThrows(ScramProtocolException.class, () -> fresh.parseServerFirst(SERVER_FIRST));
        ScramClient twice = new ScramClient();
        twice.clientFirstMessage();
        assertThrows(ScramProtocolException.class, twice::clientFirstMessage);
        ScramClient early = started();
        assertThrows(ScramProtocolException.class,
                () -> early.verifyServerFinal(ScramRfc7677Test.SERVER_FINAL));
    }

    @Test
    void serverFirstFromAnotherClientIsRejected() {
        ScramClient a = started();
        ScramClient b = started();
        ScramClient.ServerFirst fa = a.parseServerFirst(SERVER_FIRST);
        b.parseServerFirst(SERVER_FIRST);
        assertThrows(IllegalArgumentException.class, () -> b.clientFinalMessage(fa, new byte[32]));
    }
}
