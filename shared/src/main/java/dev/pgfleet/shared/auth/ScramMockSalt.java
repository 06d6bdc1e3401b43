package dev.pgfleet.shared.auth;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Deterministic salts for users PgFleet does not know, as PostgreSQL's scram_mock_salt(): the
 * salt is a keyed hash of the user name, so that repeated attempts for an unknown user see the
 * same salt, as they would for a real one, and the exchange cannot tell "no such user" apart.
 *
 * <p>The key is random per process by default ({@link #processDefault()}). In a fleet every node
 * should share one secret ({@link #fromSecret(byte[])}): otherwise a client connecting to two nodes
 * sees one salt for a stored verifier but two different salts for an unknown user.
 */
public final class ScramMockSalt {

    private static final ScramMockSalt PROCESS_DEFAULT = new ScramMockSalt(Scram.randomBytes(32));

    private final byte[] secret;

    private ScramMockSalt(byte[] secret) {
        this.secret = secret;
    }

    /** The per-process salt source, with a random secret drawn at class initialisation. */
    public static ScramMockSalt processDefault() {
        return PROCESS_DEFAULT;
    }

    /** A salt source keyed by {@code secret} (at least 16 bytes; shared across the fleet). */
    public static ScramMockSalt fromSecret(byte[] secret) {
        if (secret == null || secret.length < 16) {
            throw new IllegalArgumentException("mock salt secret must be at least 16 bytes");
        }
        return new ScramMockSalt(secret.clone());
    }

    /** HMAC-SHA-256(secret, UTF-8 user name), truncated to PostgreSQL's 16-byte salt length. */
    public byte[] saltFor(String username) {
        byte[] mac = Scram.hmac(secret, username.getBytes(StandardCharsets.UTF_8));
        return Arrays.copyOf(mac, Scram.SALT_LENGTH);
    }

    @Override
    public String toString() {
        return "ScramMockSalt[secret redacted]";
    }
}
