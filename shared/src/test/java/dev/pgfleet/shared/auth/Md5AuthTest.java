package dev.pgfleet.shared.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Md5AuthTest {

    // Computed independently: md5("md5_pw" + "app_md5"), then md5(hex + bytes 01 02 03 04).
    static final String HASH = "md53399c226a3b97214c46ecd8b8013eec5";
    static final byte[] SALT = {1, 2, 3, 4};
    static final String RESPONSE = "md53578a8d2ac6c8fe9ca3267413f41f44f";

    @Test
    void storedHashAsPostgres() {
        assertEquals(HASH, Md5Auth.md5Hash("md5_pw", "app_md5"));
        assertTrue(Md5Auth.isMd5Hash(HASH));
        assertFalse(Md5Auth.isMd5Hash("md5_pw"));
        assertFalse(Md5Auth.isMd5Hash(HASH.toUpperCase().replace("MD5", "md5"))); // lowercase only
    }

    @Test
    void clientResponseFromPasswordOrHash() {
        assertEquals(RESPONSE, Md5Auth.md5Response("md5_pw", "app_md5", SALT));
        assertEquals(RESPONSE, Md5Auth.md5Response(HASH, "app_md5", SALT));
        assertNotEquals(RESPONSE, Md5Auth.md5Response("md5_pw", "app_md5", new byte[] {1, 2, 3, 5}));
    }

    @Test
    void verify() {
        assertTrue(Md5Auth.verify("md5_pw", "app_md5", SALT, RESPONSE));
        assertTrue(Md5Auth.verify(HASH, "app_md5", SALT, RESPONSE));
        assertFalse(Md5Auth.verify("other", "app_md5", SALT, RESPONSE));
        assertFalse(Md5Auth.verify("md5_pw", "someone", SALT, RESPONSE)); // user is salted in
        assertFalse(Md5Auth.verify(HASH, "app_md5", new byte[] {4, 3, 2, 1}, RESPONSE));
        assertFalse(Md5Auth.verify(HASH, "app_md5", SALT, RESPONSE.substring(0, 34)));
        assertFalse(Md5Auth.verify(HASH, "app_md5", SALT, null));
        assertFalse(Md5Auth.verify(null, "app_md5", SALT, RESPONSE)); // unknown user
        assertThrows(IllegalArgumentException.class,
                () -> Md5Auth.verify(ScramVerifier.fromPassword("x").encode(), "u", SALT, RESPONSE));
    }

    @Test
    void randomSalt() {
        assertEquals(4, Md5Auth.randomSalt().length);
        assertThrows(IllegalArgumentException.class, () -> Md5Auth.md5Response("pw", "u", new byte[3]));
    }
}
