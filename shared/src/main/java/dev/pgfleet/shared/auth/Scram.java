package dev.pgfleet.shared.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * SCRAM-SHA-256 primitives (RFC 5802 section 3, RFC 7677) and the constants PostgreSQL uses
 * (src/include/common/scram-common.h).
 */
final class Scram {

    private Scram() {
    }

    static final String MECHANISM = "SCRAM-SHA-256";
    /** SHA-256 output length: StoredKey, ServerKey, proofs and signatures are this long. */
    static final int KEY_LENGTH = 32;
    /** PostgreSQL's SCRAM_SHA_256_DEFAULT_ITERATIONS (scram_iterations default). */
    static final int DEFAULT_ITERATIONS = 4096;
    /** PostgreSQL's SCRAM_DEFAULT_SALT_LEN. */
    static final int SALT_LENGTH = 16;
    /** PostgreSQL's SCRAM_RAW_NONCE_LEN: 18 random bytes, 24 base64 characters. */
    static final int RAW_NONCE_LENGTH = 18;
    /**
     * Largest SCRAM message we parse. Real ones are under 200 bytes (a 24-character nonce, a
     * 44-character proof, "n=" with at most a 63-byte role name); 4096 leaves room for extensions
     * while bounding the work an unauthenticated peer can make us do.
     */
    static final int MAX_MESSAGE_LENGTH = 4096;

    /** base64("n,,") and base64("y,,"): the c= value of a client-final-message without binding. */
    static final String GS2_N_B64 = "biws";
    static final String GS2_Y_B64 = "eSws";

    private static final String HMAC = "HmacSHA256";
    private static final byte[] CLIENT_KEY = "Client Key".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER_KEY = "Server Key".getBytes(StandardCharsets.US_ASCII);

    static final SecureRandom RANDOM = new SecureRandom();

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    static String randomNonce() {
        return Base64.getEncoder().encodeToString(randomBytes(RAW_NONCE_LENGTH));
    }

    static Mac hmac(byte[] key) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(key, HMAC));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required by every Java platform", e);
        }
    }

    static byte[] hmac(byte[] key, byte[] data) {
        return hmac(key).doFinal(data);
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    /**
     * Hi() of RFC 5802 section 2.2, i.e. PBKDF2-HMAC-SHA-256 with a single output block. This is the
     * expensive step ({@code iterations} HMACs): never run it on an event loop.
     */
    static byte[] hi(byte[] password, byte[] salt, int iterations) {
        if (iterations < 1) {
            throw new IllegalArgumentException("iteration count must be positive");
        }
        Mac mac = hmac(password);
        mac.update(salt);
        byte[] u = mac.doFinal(new byte[] {0, 0, 0, 1}); // INT(1)
        byte[] result = u.clone();
        for (int i = 1; i < iterations; i++) {
            u = mac.doFinal(u);
            for (int j = 0; j < result.length; j++) {
                result[j] ^= u[j];
            }
        }
        return result;
    }

    static byte[] clientKey(byte[] saltedPassword) {
        return hmac(saltedPassword, CLIENT_KEY);
    }

    static byte[] serverKey(byte[] saltedPassword) {
        return hmac(saltedPassword, SERVER_KEY);
    }

    static byte[] xor(byte[] a, byte[] b) {
        byte[] r = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = (byte) (a[i] ^ b[i]);
        }
        return r;
    }

    static String b64(byte[] data) {
        return Base64.getEncoder().encodeToString(data);
    }

    /**
     * Strict base64 (RFC 4648 alphabet, padded): {@link Base64.Decoder} alone accepts missing
     * padding. Returns null when {@code s} is not valid base64.
     */
    static byte[] b64DecodeOrNull(String s) {
        if (s.length() % 4 != 0) {
            return null;
        }
        try {
            return Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** RFC 5802 "printable": %x21-2B / %x2D-7E, i.e. visible ASCII except ','. */
    static boolean isPrintable(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x21 || c > 0x7E || c == ',') {
                return false;
            }
        }
        return true;
    }

    /** The bytes of a message held as one char per byte (see {@link ScramServer}). */
    static byte[] latin1(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
