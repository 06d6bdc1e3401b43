package dev.pgfleet.shared.auth;

import java.util.Objects;

/**
 * A SCRAM-SHA-256 verifier: what PostgreSQL stores in pg_authid.rolpassword,
 * {@code SCRAM-SHA-256$<iterations>:<salt b64>$<StoredKey b64>:<ServerKey b64>}.
 *
 * <p>With it the server side of an exchange costs a few HMACs. Building one from a plaintext
 * password ({@link #fromPassword(String, byte[], int)}) runs PBKDF2 and is expensive: do it once
 * per (user, password), off the event loop, and cache the result.
 *
 * <p>A verifier is sensitive (it allows an offline dictionary attack, and the ServerKey lets its
 * holder impersonate the server): {@link #toString()} does not print it, {@link #encode()} does.
 */
public final class ScramVerifier {

    /** The prefix PostgreSQL uses for SCRAM-SHA-256 secrets in pg_authid. */
    public static final String PREFIX = "SCRAM-SHA-256$";
    /** PostgreSQL's default scram_iterations. */
    public static final int DEFAULT_ITERATIONS = Scram.DEFAULT_ITERATIONS;
    /** PostgreSQL's salt length for new secrets. */
    public static final int DEFAULT_SALT_LENGTH = Scram.SALT_LENGTH;

    private final int iterations;
    private final byte[] salt;
    private final byte[] storedKey;
    private final byte[] serverKey;

    ScramVerifier(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) {
        this.iterations = iterations;
        this.salt = salt;
        this.storedKey = storedKey;
        this.serverKey = serverKey;
    }

    /**
     * Derives the verifier of {@code password} (SASLprep'ed as PostgreSQL does). Expensive:
     * {@code iterations} HMAC-SHA-256 computations.
     */
    public static ScramVerifier fromPassword(String password, byte[] salt, int iterations) {
        Objects.requireNonNull(password, "password");
        if (salt == null || salt.length == 0) {
            throw new IllegalArgumentException("salt must not be empty");
        }
        if (iterations < 1) {
            throw new IllegalArgumentException("iteration count must be positive");
        }
        byte[] saltedPassword = Scram.hi(SaslPrep.passwordBytes(password), salt, iterations);
        byte[] storedKey = Scram.sha256(Scram.clientKey(saltedPassword));
        byte[] serverKey = Scram.serverKey(saltedPassword);
        return new ScramVerifier(iterations, salt.clone(), storedKey, serverKey);
    }

    /** As PostgreSQL's CREATE ROLE ... PASSWORD: a random 16-byte salt and 4096 iterations. */
    public static ScramVerifier fromPassword(String password) {
        return fromPassword(password, Scram.randomBytes(DEFAULT_SALT_LENGTH), DEFAULT_ITERATIONS);
    }

    /** True if {@code secret} is in the SCRAM-SHA-256 format (it may still be malformed). */
    public static boolean isVerifier(String secret) {
        return secret != null && secret.startsWith(PREFIX);
    }

    /**
     * Parses a verifier in pg_authid format.
     *
     * @throws IllegalArgumentException if malformed; the message never quotes the secret
     */
    public static ScramVerifier parse(String secret) {
        if (!isVerifier(secret)) {
            throw invalid("does not start with " + PREFIX);
        }
        String rest = secret.substring(PREFIX.length());
        int dollar = rest.indexOf('$');
        if (dollar < 0) {
            throw invalid("missing '$' between salt and keys");
        }
        String[] iterSalt = rest.substring(0, dollar).split(":", -1);
        String[] keys = rest.substring(dollar + 1).split(":", -1);
        if (iterSalt.length != 2 || keys.length != 2) {
            throw invalid("expected <iterations>:<salt>$<StoredKey>:<ServerKey>");
        }
        int iterations;
        try {
            iterations = Integer.parseInt(iterSalt[0]);
        } catch (NumberFormatException e) {
            throw invalid("iteration count is not a number");
        }
        if (iterations < 1) {
            throw invalid("iteration count must be positive");
        }
        byte[] salt = Scram.b64DecodeOrNull(iterSalt[1]);
        if (salt == null || salt.length == 0) {
            throw invalid("salt is not valid base64");
        }
        byte[] storedKey = Scram.b64DecodeOrNull(keys[0]);
        if (storedKey == null || storedKey.length != Scram.KEY_LENGTH) {
            throw invalid("StoredKey is not 32 bytes of base64");
        }
        byte[] serverKey = Scram.b64DecodeOrNull(keys[1]);
        if (serverKey == null || serverKey.length != Scram.KEY_LENGTH) {
            throw invalid("ServerKey is not 32 bytes of base64");
        }
        return new ScramVerifier(iterations, salt, storedKey, serverKey);
    }

    private static IllegalArgumentException invalid(String why) {
        return new IllegalArgumentException("invalid SCRAM-SHA-256 verifier: " + why);
    }

    public int iterations() {
        return iterations;
    }

    public byte[] salt() {
        return salt.clone();
    }

    String saltBase64() {
        return Scram.b64(salt);
    }

    byte[] storedKey() {
        return storedKey;
    }

    byte[] serverKey() {
        return serverKey;
    }

    /** The pg_authid text form. Sensitive: do not log it. */
    public String encode() {
        return PREFIX + iterations + ":" + Scram.b64(salt) + "$" + Scram.b64(storedKey) + ":"
                + Scram.b64(serverKey);
    }

    @Override
    public String toString() {
        return "ScramVerifier[SCRAM-SHA-256, iterations=" + iterations + ", keys redacted]";
    }
}
