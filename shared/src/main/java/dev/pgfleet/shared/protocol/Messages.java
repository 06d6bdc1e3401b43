package dev.pgfleet.shared.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Writing messages: remember where the message starts, write the type and a zero length,
 * write the body, back-patch the length (as vertx-sql-client's codec does).
 */
final class Messages {

    private Messages() {
    }

    /** Writes the type byte and a placeholder length; returns the index of the length. */
    static int begin(ByteBuf out, byte type) {
        out.writeByte(type);
        int lengthIndex = out.writerIndex();
        out.writeInt(0);
        return lengthIndex;
    }

    /** Startup-layout messages have no type byte. */
    static int beginUntyped(ByteBuf out) {
        int lengthIndex = out.writerIndex();
        out.writeInt(0);
        return lengthIndex;
    }

    static void end(ByteBuf out, int lengthIndex) {
        out.setInt(lengthIndex, out.writerIndex() - lengthIndex);
    }

    static void cstring(ByteBuf out, String s) {
        out.writeCharSequence(s, StandardCharsets.UTF_8);
        out.writeByte(0);
    }

    /** Reads a NUL-terminated UTF-8 string at index; returns it, and stores the next index in next[0]. */
    static String readCString(ByteBuf buf, int index, int limit, int[] next) {
        int nul = buf.indexOf(index, limit, (byte) 0);
        if (nul < 0) {
            throw new PgException(SqlState.PROTOCOL_VIOLATION, "invalid string in message");
        }
        next[0] = nul + 1;
        return buf.toString(index, nul - index, StandardCharsets.UTF_8);
    }
}
