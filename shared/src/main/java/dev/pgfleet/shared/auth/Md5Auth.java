package dev.pgfleet.shared.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * PostgreSQL's MD5 password authentication (protocol chapter, AuthenticationMD5Password;
 * src/common/md5_common.c pg_md5_encrypt):
 * <ul>
 *   <li>stored hash: {@code "md5" + hex(md5(password + username))}, as in pg_authid;</li>
 *   <li>client response to a 4-byte salt: {@code "md5" + hex(md5(hex(md5(password + username)) + salt))}.</li>
 * </ul>
 * Strings are hashed as UTF-8 bytes; no SASLprep (PostgreSQL applies none to MD5).
 * All methods are cheap and thread-safe.
 */
public final class Md5Auth {

    private Md5Auth() {
    }

    /** "md5" followed by 32 lowercase hex digits: PostgreSQL's MD5_PASSWD_LEN. */
    public static final int MD5_PASSWORD_LENGTH = 35;
    public static final int SALT_LENGTH = 4;

    /** Hash compared with when the user is unknown, so that verify() costs the same. */
    private static final String UNKNOWN_USER_HASH = "md5" + HexFormat.of().formatHex(Scram.randomBytes(16));

    /** The pg_authid form {@code md5<hex>} of a password. */
    public static String md5Hash(String password, String username) {
        Objects.requireNonNull(password, "password");
        return "md5" + md5Hex(utf8(password), utf8(username));
    }

    /**
     * True if {@code secret} is an MD5 hash as PostgreSQL stores it ("md5" + 32 hex digits), the
     * same test PostgreSQL applies (get_password_type). A plaintext password that happens to
     * look like this is treated as a hash, as PostgreSQL and PgBouncer do.
     */
    public static boolean isMd5Hash(String secret) {
        if (secret == null || secret.length() != MD5_PASSWORD_LENGTH || !secret.startsWith("md5")) {
            return false;
        }
        for (int i = 3; i < MD5_PASSWORD_LENGTH; i++) {
            char c = secret.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) { // MD5_PASSWD_CHARSET: lowercase
                return false;
            }
        }
        return true;
    }

    /**
     * The PasswordMessage a client sends in answer to AuthenticationMD5Password.
     *
     * @param passwordOrMd5Hash a plaintext password, or an "md5..." hash used as is
     * @param salt4             the 4-byte salt from AuthenticationMD5Password
     */
    public static String md5Response(String passwordOrMd5Hash, String username, byte[] salt4) {
        Objects.requireNonNull(passwordOrMd5Hash, "password");
        if (salt4 == null || salt4.length != SALT_LENGTH) {
            throw new IllegalArgumentException("MD5 salt must be 4 bytes");
        }
        String hash = isMd5Hash(passwordOrMd5Hash)
                ? passwordOrMd5Hash
                : md5Hash(passwordOrMd5Hash, username);
        return "md5" + md5Hex(hash.substring(3).getBytes(StandardCharsets.US_ASCII), salt4);
    }

    /**
     * Server side: checks a client's PasswordMessage in constant time.
     *
     * @param storedPasswordOrMd5Hash the configured plaintext password or "md5..." hash, or null
     *                                for an unknown user (then the same work is done and false
     *                                returned, so the answer time does not reveal the user exists)
     * @throws IllegalArgumentException if the stored secret is a SCRAM verifier: MD5 cannot be
     *                                  checked against it (PostgreSQL then switches to SCRAM)
     */
    public static boolean verify(String storedPasswordOrMd5Hash, String username, byte[] salt4,
            String clientResponse) {
        if (ScramVerifier.isVerifier(storedPasswordOrMd5Hash)) {
            throw new IllegalArgumentException("cannot verify an MD5 response against a SCRAM verifier");
        }
        boolean known = storedPasswordOrMd5Hash != null;
        String expected = md5Response(known ? storedPasswordOrMd5Hash : UNKNOWN_USER_HASH,
                username, salt4);
        byte[] given = clientResponse == null ? new byte[0] : utf8(clientResponse);
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII), given) & known;
    }

    /** A fresh random salt for AuthenticationMD5Password. */
    public static byte[] randomSalt() {
        return Scram.randomBytes(SALT_LENGTH);
    }

    private static String md5Hex(byte[] a, byte[] b) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            md5.update(a);
            md5.update(b);
            return HexFormat.of().formatHex(md5.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is required by every Java platform", e);
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
