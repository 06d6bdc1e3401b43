package dev.pgfleet.shared.auth;

/**
 * Reads the comma-separated {@code x=value} attributes of a SCRAM message in order (RFC 5802
 * section 7), with PostgreSQL's error texts (read_attribute_value / read_any_attr in auth-scram.c).
 * Stricter than PostgreSQL in one point: a trailing comma must be followed by an attribute.
 */
final class ScramAttributes {

    private final String message;
    private final String what;
    private int pos;

    /**
     * @param message the message, one char per byte
     * @param what    its name in error details, e.g. "client-final-message"
     */
    ScramAttributes(String message, int start, String what) {
        this.message = message;
        this.pos = start;
        this.what = what;
    }

    int position() {
        return pos;
    }

    boolean atEnd() {
        return pos >= message.length();
    }

    char peek() {
        return atEnd() ? '\0' : message.charAt(pos);
    }

    /** Reads attribute {@code name}: it must be the next one. */
    String read(char name) {
        if (atEnd() || message.charAt(pos) != name) {
            String found = atEnd() ? "end of message" : String.valueOf(message.charAt(pos));
            throw ScramProtocolException.malformed(
                    "Expected attribute \"" + name + "\" but found \"" + printable(found) + "\" in " + what + ".");
        }
        return value(name);
    }

    /** Reads whatever attribute comes next; its name is then {@link #lastName()}. */
    String readAny() {
        if (atEnd()) {
            throw ScramProtocolException.malformed("Attribute expected, but found end of " + what + ".");
        }
        char c = message.charAt(pos);
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
            throw ScramProtocolException.malformed(
                    "Attribute expected, but found invalid character \"" + printable(String.valueOf(c))
                            + "\" in " + what + ".");
        }
        return value(c);
    }

    private char lastName;

    char lastName() {
        return lastName;
    }

    private String value(char name) {
        pos++;
        if (atEnd() || message.charAt(pos) != '=') {
            throw ScramProtocolException.malformed(
                    "Expected character \"=\" for attribute \"" + name + "\" in " + what + ".");
        }
        pos++;
        int end = message.indexOf(',', pos);
        String value;
        if (end < 0) {
            value = message.substring(pos);
            pos = message.length();
        } else {
            value = message.substring(pos, end);
            pos = end + 1;
            if (atEnd()) {
                throw ScramProtocolException.malformed("Attribute expected after trailing comma in " + what + ".");
            }
        }
        lastName = name;
        return value;
    }

    /** Error details may quote a character of the peer's message: keep them printable ASCII. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7F) {
                b.append(c);
            } else {
                b.append(String.format("0x%02x", (int) c));
            }
        }
        return b.toString();
    }
}
