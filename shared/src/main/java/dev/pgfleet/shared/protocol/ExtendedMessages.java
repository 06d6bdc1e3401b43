package dev.pgfleet.shared.protocol;

import static dev.pgfleet.shared.protocol.Messages.begin;
import static dev.pgfleet.shared.protocol.Messages.cstring;
import static dev.pgfleet.shared.protocol.Messages.end;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/**
 * Reading and rewriting the extended-protocol messages that name prepared statements
 * (Parse, Bind, Describe, Close), for prepared statements in transaction pooling: the
 * proxy renames a client's statement to the name it has on the server connection.
 * Offsets are of the whole message (type byte first) in the buffer.
 */
public final class ExtendedMessages {

    private ExtendedMessages() {
    }

    private static final ByteBuf PARSE_COMPLETE = Unpooled.unreleasableBuffer(
        Unpooled.directBuffer(5).writeByte('1').writeInt(4)).asReadOnly();
    private static final ByteBuf CLOSE_COMPLETE = Unpooled.unreleasableBuffer(
        Unpooled.directBuffer(5).writeByte('3').writeInt(4)).asReadOnly();

    public static ByteBuf parseComplete() {
        return PARSE_COMPLETE.duplicate();
    }

    public static ByteBuf closeComplete() {
        return CLOSE_COMPLETE.duplicate();
    }

    /** The first string of the body: Parse's statement name, Bind's portal name. */
    public static String firstName(ByteBuf buf, int offset, int length) {
        int end = offset + length;
        int nul = buf.indexOf(offset + 5, end, (byte) 0);
        if (nul < 0) {
            throw new PgException(SqlState.PROTOCOL_VIOLATION, "invalid string in message");
        }
        return buf.toString(offset + 5, nul - offset - 5, StandardCharsets.UTF_8);
    }

    /** Whether the first string of the body is empty (the unnamed statement or portal). */
    public static boolean firstNameEmpty(ByteBuf buf, int offset) {
        return buf.getByte(offset + 5) == 0;
    }

    /** Parse: statement name, query text and the parameter types (raw, as a key). */
    public record Parse(String name, String query, byte[] parameterTypes) {
    }

    public static Parse decodeParse(ByteBuf buf, int offset, int length) {
        int end = offset + length;
        int[] next = new int[1];
        String name = Messages.readCString(buf, offset + 5, end, next);
        String query = Messages.readCString(buf, next[0], end, next);
        if (next[0] + 2 > end) {
            throw new PgException(SqlState.PROTOCOL_VIOLATION, "invalid Parse message");
        }
        int count = buf.getUnsignedShort(next[0]);
        if (next[0] + 2 + count * 4 != end) {
            throw new PgException(SqlState.PROTOCOL_VIOLATION, "invalid Parse message: parameter types do not match the length");
        }
        byte[] types = new byte[2 + count * 4];
        buf.getBytes(next[0], types);
        return new Parse(name, query, types);
    }

    public static void parse(ByteBuf out, String name, String query, byte[] parameterTypes) {
        int at = begin(out, PgProtocol.PARSE_REQUEST);
        cstring(out, name);
        cstring(out, query);
        out.writeBytes(parameterTypes);
        end(out, at);
    }

    /** Bind's statement name (the second string). */
    public static String bindStatement(ByteBuf buf, int offset, int length) {
        int end = offset + length;
        int portalEnd = buf.indexOf(offset + 5, end, (byte) 0);
        if (portalEnd < 0) {
            throw new PgException(SqlState.PROTOCOL_VIOLATION, "invalid Bind message");
        }
        int[] next = new int[1];
        return Messages.readCString(buf, portalEnd + 1, end, next);
    }

    /** The same Bind with its statement name replaced. */
    public static void renameBind(ByteBuf out, ByteBuf buf, int offset, int length, String statement) {
        int end = offset + length;
        int portalEnd = buf.indexOf(offset + 5, end, (byte) 0);
        int stmtEnd = buf.indexOf(portalEnd + 1, end, (byte) 0);
        int at = begin(out, PgProtocol.BIND_REQUEST);
        out.writeBytes(buf, offset + 5, portalEnd + 1 - (offset + 5));
        cstring(out, statement);
        out.writeBytes(buf, stmtEnd + 1, end - (stmtEnd + 1));
        end(out, at);
    }

    /** Describe and Close: 'S' (statement) or 'P' (portal), then the name. */
    public static byte target(ByteBuf buf, int offset) {
        return buf.getByte(offset + 5);
    }

    public static String targetName(ByteBuf buf, int offset, int length) {
        int[] next = new int[1];
        return Messages.readCString(buf, offset + 6, offset + length, next);
    }

    public static void describeStatement(ByteBuf out, String name) {
        int at = begin(out, PgProtocol.DESCRIBE_REQUEST);
        out.writeByte('S');
        cstring(out, name);
        end(out, at);
    }

    public static void closeStatement(ByteBuf out, String name) {
        int at = begin(out, PgProtocol.CLOSE_REQUEST);
        out.writeByte('S');
        cstring(out, name);
        end(out, at);
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

    /** Where a Parse message's query text starts (after the statement name). */
    public static int parseQueryStart(ByteBuf buf, int offset, int length) {
        int nul = buf.indexOf(offset + 5, offset + length, (byte) 0);
        return nul < 0 ? offset + length : nul + 1;
    }

    /** The SQL text of a Query message. */
    public static String queryText(ByteBuf buf, int offset, int length) {
        int[] next = new int[1];
        return Messages.readCString(buf, offset + 5, offset + length, next);
    }
}
