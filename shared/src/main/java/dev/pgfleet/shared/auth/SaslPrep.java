package dev.pgfleet.shared.auth;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;

/**
 * SASLprep (RFC 4013, a profile of stringprep RFC 3454) applied to passwords before SCRAM key
 * derivation, following PostgreSQL's pg_saslprep (src/common/saslprep.c): when preparation fails
 * (prohibited character, bidi rule broken, empty result) PostgreSQL silently falls back to the raw
 * password bytes, on the server when it builds the verifier and in libpq alike, so we do the same.
 *
 * <p>What is simplified, and why it practically never matters:
 * <ul>
 *   <li>Normalization, "unassigned" and the bidi categories use the JDK's Unicode tables
 *       ({@link Normalizer} NFKC, {@link Character#getType}, {@link Character#getDirectionality}),
 *       which are a newer Unicode version than stringprep's Unicode 3.2. A password containing a
 *       code point assigned after Unicode 3.2 is prepared here but falls back to raw bytes in
 *       PostgreSQL, so it would not match. PostgreSQL's own tables are not copied.</li>
 *   <li>PostgreSQL checks the prohibited table on the mapped input rather than on the NFKC output;
 *       we check the output, as RFC 3454 says. Only exotic compatibility characters differ.</li>
 *   <li>A Java string with an unpaired surrogate cannot be "invalid UTF-8"; its raw bytes are
 *       Java's UTF-8 encoding, where the lone surrogate becomes '?'.</li>
 * </ul>
 * ASCII passwords, by far the common case, are returned unchanged, exactly as PostgreSQL does.
 */
final class SaslPrep {

    private SaslPrep() {
    }

    /** The bytes to feed to Hi(): the SASLprep'ed password in UTF-8, or the raw UTF-8 bytes. */
    static byte[] passwordBytes(String password) {
        String prepared = prepareOrNull(password);
        return (prepared != null ? prepared : password).getBytes(StandardCharsets.UTF_8);
    }

    /** The prepared string, or null where PostgreSQL would fall back to the raw bytes. */
    static String prepareOrNull(String input) {
        if (isAscii(input)) {
            return input; // pg_saslprep: "An ASCII string requires no further processing."
        }
        // 1) Map: non-ASCII spaces (C.1.2) to SPACE, "commonly mapped to nothing" (B.1) removed.
        StringBuilder mapped = new StringBuilder(input.length());
        for (int i = 0; i < input.length(); ) {
            int cp = input.codePointAt(i);
            i += Character.charCount(cp);
            if (isNonAsciiSpace(cp)) {
                mapped.append(' ');
            } else if (!isMappedToNothing(cp)) {
                mapped.appendCodePoint(cp);
            }
        }
        if (mapped.length() == 0) {
            return null; // PostgreSQL: "don't allow empty password"
        }
        // 2) Normalize with NFKC.
        String out = Normalizer.normalize(mapped, Normalizer.Form.NFKC);
        // 3) Prohibit, 4) bidi check (RFC 3454 section 6).
        boolean hasRandAL = false;
        boolean hasL = false;
        int[] cps = out.codePoints().toArray();
        for (int cp : cps) {
            if (isProhibited(cp) || Character.getType(cp) == Character.UNASSIGNED) {
                return null;
            }
            hasRandAL |= isRandAL(cp);
            hasL |= Character.getDirectionality(cp) == Character.DIRECTIONALITY_LEFT_TO_RIGHT;
        }
        if (hasRandAL && (hasL || !isRandAL(cps[0]) || !isRandAL(cps[cps.length - 1]))) {
            return null;
        }
        return out;
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    private static boolean isRandAL(int cp) {
        byte d = Character.getDirectionality(cp);
        return d == Character.DIRECTIONALITY_RIGHT_TO_LEFT
                || d == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC;
    }

    /** RFC 3454 table C.1.2. */
    private static boolean isNonAsciiSpace(int cp) {
        return cp == 0x00A0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200B)
                || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

    /** RFC 3454 table B.1. */
    private static boolean isMappedToNothing(int cp) {
        return cp == 0x00AD || cp == 0x034F || cp == 0x1806 || (cp >= 0x180B && cp <= 0x180D)
                || (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || (cp >= 0xFE00 && cp <= 0xFE0F)
                || cp == 0xFEFF;
    }

    /** RFC 4013 section 2.3: tables C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8, C.9. */
    private static boolean isProhibited(int cp) {
        return isNonAsciiSpace(cp)
                // C.2.1 ASCII control, C.2.2 non-ASCII control
                || cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F)
                || cp == 0x06DD || cp == 0x070F || cp == 0x180E || cp == 0x200C || cp == 0x200D
                || cp == 0x2028 || cp == 0x2029 || (cp >= 0x2060 && cp <= 0x2063)
                || cp == 0xFEFF || (cp >= 0x1D173 && cp <= 0x1D17A)
                // C.3 private use
                || (cp >= 0xE000 && cp <= 0xF8FF) || (cp >= 0xF0000 && cp <= 0xFFFFD)
                || (cp >= 0x100000 && cp <= 0x10FFFD)
                // C.4 non-character code points
                || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE
                // C.5 surrogates
                || (cp >= 0xD800 && cp <= 0xDFFF)
                // C.6 inappropriate for plain text (with FFFC of C.2.2)
                || (cp >= 0xFFF9 && cp <= 0xFFFD)
                // C.7 inappropriate for canonical representation
                || (cp >= 0x2FF0 && cp <= 0x2FFB)
                // C.8 change display properties or deprecated
                || cp == 0x0340 || cp == 0x0341 || cp == 0x200E || cp == 0x200F
                || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x206A && cp <= 0x206F)
                // C.9 tagging characters
                || cp == 0xE0001 || (cp >= 0xE0020 && cp <= 0xE007F);
    }
}
