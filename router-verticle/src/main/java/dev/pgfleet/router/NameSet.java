package dev.pgfleet.router;

import java.util.Collection;
import java.util.Locale;

/**
 * An immutable set of lower-case ASCII names, each with an id, looked up by a region of a
 * {@link CharSequence} without making a substring. The hash is the one {@link SqlLexer} computes
 * while it reads a token ({@link #hashStep}), so a lookup costs one probe or two.
 */
final class NameSet {
    private final String[] names;
    private final int[] ids;
    private final int[] hashes;
    private final int mask;

    NameSet(Collection<String> lowerCaseNames) {
        int capacity = Integer.highestOneBit(Math.max(4, lowerCaseNames.size() * 3)) << 1;
        names = new String[capacity];
        ids = new int[capacity];
        hashes = new int[capacity];
        mask = capacity - 1;
        int id = 0;
        for (String raw : lowerCaseNames) {
            String name = raw.toLowerCase(Locale.ROOT);
            int h = hash(name);
            int i = spread(h) & mask;
            while (names[i] != null) {
                if (names[i].equals(name)) {
                    throw new IllegalArgumentException("duplicate name " + name);
                }
                i = (i + 1) & mask;
            }
            names[i] = name;
            ids[i] = id++;
            hashes[i] = h;
        }
    }

    /** One step of the hash: {@code 31 * h + c}, as {@link String#hashCode()}. */
    static int hashStep(int h, char c) {
        return 31 * h + c;
    }

    /** ASCII lower case; PostgreSQL folds unquoted identifiers to lower case. */
    static char fold(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
    }

    static int hash(CharSequence s) {
        int h = 0;
        for (int i = 0; i < s.length(); i++) {
            h = hashStep(h, fold(s.charAt(i)));
        }
        return h;
    }

    private static int spread(int h) {
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        return h ^ (h >>> 13);
    }

    /**
     * The id (insertion order) of {@code s[start, end)}, or -1.
     *
     * @param hash {@link #hashStep} over the region's characters, folded when {@code fold} is set
     * @param fold compare ignoring ASCII case (an unquoted identifier); otherwise exactly (a quoted one)
     */
    int find(CharSequence s, int start, int end, int hash, boolean fold) {
        int len = end - start;
        int i = spread(hash) & mask;
        String name;
        while ((name = names[i]) != null) {
            if (hashes[i] == hash && name.length() == len && matches(name, s, start, fold)) {
                return ids[i];
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    private static boolean matches(String name, CharSequence s, int start, boolean fold) {
        for (int k = 0; k < name.length(); k++) {
            char c = s.charAt(start + k);
            if (fold) {
                c = fold(c);
            }
            if (c != name.charAt(k)) {
                return false;
            }
        }
        return true;
    }
}
