package dev.pgfleet.shared.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScramVerifierTest {

    @Test
    void encodesAndParsesThePgAuthidFormat() {
        ScramVerifier v = ScramVerifier.fromPassword("pencil",
                Base64.getDecoder().decode(ScramRfc7677Test.SALT), 4096);
        String encoded = v.encode();
        assertTrue(encoded.startsWith("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"), encoded);
        ScramVerifier parsed = ScramVerifier.parse(encoded);
        assertEquals(encoded, parsed.encode());
        assertEquals(4096, parsed.iterations());
    }

    @Test
    void toStringDoesNotLeakKeys() {
        ScramVerifier v = ScramVerifier.fromPassword("pencil");
        String storedKey = v.encode().split("\\$")[2].split(":")[0];
        assertFalse(v.toString().contains(storedKey));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "md5abcdef",
            "SCRAM-SHA-256$",
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==",
            "SCRAM-SHA-256$x:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "SCRAM-SHA-256$0:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "SCRAM-SHA-256$4096:$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:*",
    })
    void malformedVerifiersAreRejectedWithoutQuotingThem(String secret) {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ScramVerifier.parse(secret));
        assertFalse(e.getMessage().contains("AAAAAAAA"));
    }

    @Test
    void saslPrep() {
        assertEquals("pa ss", SaslPrep.prepareOrNull("pa ss"));            // ASCII: unchanged
        assertEquals("\u0007bell", SaslPrep.prepareOrNull("\u0007bell")); // even controls, as PostgreSQL
        assertEquals("IX", SaslPrep.prepareOrNull("I\u00adX"));            // RFC 4013: soft hyphen removed
        assertEquals("a", SaslPrep.prepareOrNull("\u00aa"));               // NFKC
        assertEquals("IX", SaslPrep.prepareOrNull("\u2168"));              // NFKC
        assertEquals("a b", SaslPrep.prepareOrNull("a\u00a0b"));           // non-ASCII space to SPACE
        assertEquals(null, SaslPrep.prepareOrNull("\u00e9\u0007"));        // prohibited: raw bytes used
        assertEquals(null, SaslPrep.prepareOrNull("\u0627\u0031"));        // RandALCat not last
        assertEquals(null, SaslPrep.prepareOrNull("\u00ad"));              // empty after mapping
        assertEquals(null, SaslPrep.prepareOrNull("\ue000x\u00e9"));       // private use
    }
}
