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
