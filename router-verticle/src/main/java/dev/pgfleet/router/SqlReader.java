package dev.pgfleet.router;

import io.netty.buffer.ByteBuf;

/**
 * The proxy's byte-level reading of SQL, in place in the client's message and allocating nothing:
 * where the first keyword is, whether a word is a given keyword, and whether a string can change
 * session state at all. It decides, for every Query and Parse, whether the SQL needs reading
 * further: by {@link QueryClassifier} (routing, hints, PgFleet's commands) or {@link SessionCommands}
 * (what a SET, RESET, DISCARD or DEALLOCATE does), both on {@link SqlLexer}. So the session holds
 * no SQL scanning of its own.
 */
public final class SqlReader {

    private SqlReader() {
    }

    /**
     * Where the first keyword of a simple Query's SQL starts (after white space, semicolons and
     * comments), or -1. Reads bytes in place and allocates nothing: the proxy looks at every
     * Query for the few commands it must see (SET, RESET, DISCARD, DEALLOCATE, PREPARE...).
     */
    public static int firstKeyword(ByteBuf buf, int offset, int length) {
        return firstKeywordFrom(buf, offset + 5, offset + length);
    }

    /** As {@link #firstKeyword}, for SQL starting at {@code from}: a Parse's query text. */
    public static int firstKeywordFrom(ByteBuf buf, int from, int end) {
        int i = from;
        while (i < end) {
            byte b = buf.getByte(i);
            if (b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == ';') {
                i++;
            } else if (b == '-' && i + 1 < end && buf.getByte(i + 1) == '-') {
                while (i < end && buf.getByte(i) != '\n') {
                    i++;
                }
            } else if (b == '/' && i + 1 < end && buf.getByte(i + 1) == '*') {
                int depth = 1;
                i += 2;
                while (i + 1 < end && depth > 0) {
                    if (buf.getByte(i) == '*' && buf.getByte(i + 1) == '/') {
                        depth--;
                        i += 2;
                    } else if (buf.getByte(i) == '/' && buf.getByte(i + 1) == '*') {
                        depth++;
                        i += 2;
                    } else {
                        i++;
                    }
                }
            } else {
                return i;
            }
        }
        return -1;
    }

    /**
     * Whether the word at {@code index} is {@code keyword} (upper case ASCII), in any case,
     * and not the start of a longer word.
     */
    public static boolean isKeyword(ByteBuf buf, int index, int end, String keyword) {
        int n = keyword.length();
        if (index < 0 || index + n > end) {
            return false;
        }
        for (int k = 0; k < n; k++) {
            int b = buf.getByte(index + k);
            if (b >= 'a' && b <= 'z') {
                b -= 32;
            }
            if (b != keyword.charAt(k)) {
                return false;
            }
        }
        if (index + n == end) {
            return true;
        }
        int next = buf.getByte(index + n);
        return !(next >= 'a' && next <= 'z' || next >= 'A' && next <= 'Z' || next >= '0' && next <= '9' || next == '_');
    }

    /** The index just after the word at {@code index}, then after white space. */
    public static int nextWord(ByteBuf buf, int index, int end) {
        int i = index;
        while (i < end) {
            int b = buf.getByte(i);
            if (!(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_')) {
                break;
            }
            i++;
        }
        while (i < end) {
            int b = buf.getByte(i);
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
                break;
            }
            i++;
        }
        return i;
    }

    /** Stops at a byte that may start or end a word of {@link #mayChangeSession}: t, T, d, D. */
    private static final io.netty.util.ByteProcessor NOT_T_OR_D = b -> (b | 0x20) != 't' && (b | 0x20) != 'd';

    /**
     * Whether the bytes {@code [from, end)} contain "set" (SET, RESET, set_config, and also OFFSET),
     * "discard" or "deallocate", in any case: what a string must hold to change session state. A
     * byte scan without allocation, so that only such strings are lexed (router's SessionCommands).
     */
    public static boolean mayChangeSession(ByteBuf buf, int from, int end) {
        int i = from;
        while (i < end) {
            int at = buf.forEachByte(i, end - i, NOT_T_OR_D);
            if (at < 0) {
                return false;
            }
            int b = buf.getByte(at) | 0x20;
            if (b == 't') {
                if (at - 2 >= from && (buf.getByte(at - 1) | 0x20) == 'e' && (buf.getByte(at - 2) | 0x20) == 's') {
                    return true;
                }
            } else if (at + 3 < end) {
                int c1 = buf.getByte(at + 1) | 0x20;
                int c2 = buf.getByte(at + 2) | 0x20;
                int c3 = buf.getByte(at + 3) | 0x20;
                if (c1 == 'i' && c2 == 's' && c3 == 'c' || c1 == 'e' && c2 == 'a' && c3 == 'l') {
                    return true;
                }
            }
            i = at + 1;
        }
        return false;
    }

    /**
     * Where the statement name of {@code DEALLOCATE [PREPARE] name} (or the word ALL) starts when
     * the SQL's first word, at {@code keyword}, is DEALLOCATE; -1 when it is not.
     */
    public static int deallocateTarget(ByteBuf buf, int keyword, int end) {
        if (!isKeyword(buf, keyword, end, "DEALLOCATE")) {
            return -1;
        }
        int w = nextWord(buf, keyword, end);
        return isKeyword(buf, w, end, "PREPARE") ? nextWord(buf, w, end) : w;
    }

    /** The name written from {@code index} to the end of the SQL: a quoted name unquoted, a trailing semicolon dropped. */
    public static String nameAt(ByteBuf buf, int index, int end) {
        String rest = buf.toString(index, end - index, java.nio.charset.StandardCharsets.UTF_8).trim();
        rest = rest.endsWith(";") ? rest.substring(0, rest.length() - 1).trim() : rest;
        if (rest.startsWith("\"") && rest.endsWith("\"") && rest.length() > 1) {
            rest = rest.substring(1, rest.length() - 1).replace("\"\"", "\"");
        }
        return rest;
    }

    /** Whether the word at {@code keyword} starts a command whose Parse must reach a server: SET, RESET, DISCARD, DEALLOCATE. */
    public static boolean isSessionCommand(ByteBuf buf, int keyword, int end) {
        return isKeyword(buf, keyword, end, "SET") || isKeyword(buf, keyword, end, "RESET")
            || isKeyword(buf, keyword, end, "DISCARD") || isKeyword(buf, keyword, end, "DEALLOCATE");
    }
}
