package dev.pgfleet.shared.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * The SQL text of a message as a {@link CharSequence} without copying it, when it is plain
 * ASCII (almost all SQL is): the router hashes and compares it against its cache straight
 * from the network buffer. Valid only while the message's buffer is; whoever keeps the text
 * calls {@link #toString()}.
 */
public final class AsciiSql implements CharSequence {

    private final ByteBuf buf;
    private final int start;
    private final int length;

    private AsciiSql(ByteBuf buf, int start, int length) {
        this.buf = buf;
        this.start = start;
        this.length = length;
    }

    /**
     * The bytes {@code [start, end)} as text: a view when they are ASCII, else decoded as UTF-8
     * (a String).
     */
    public static CharSequence of(ByteBuf buf, int start, int end) {
        int n = end - start;
        if (buf.forEachByte(start, n, b -> b >= 0) != -1) {
            return buf.toString(start, n, StandardCharsets.UTF_8);
        }
        return new AsciiSql(buf, start, n);
    }

    /** A Query's SQL (up to its terminating NUL). */
    public static CharSequence ofQuery(ByteBuf buf, int offset, int length) {
        int from = offset + 5;
        int nul = buf.indexOf(from, offset + length, (byte) 0);
        return of(buf, from, nul < 0 ? offset + length : nul);
    }

    /** A Parse's SQL (after the statement name, up to its NUL). */
    public static CharSequence ofParse(ByteBuf buf, int offset, int length) {
        int from = ExtendedMessages.parseQueryStart(buf, offset, length);
        int nul = buf.indexOf(from, offset + length, (byte) 0);
        return of(buf, from, nul < 0 ? offset + length : nul);
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public char charAt(int index) {
        if (index < 0 || index >= length) {
            throw new IndexOutOfBoundsException(index);
        }
        return (char) buf.getByte(start + index);
    }

    @Override
    public CharSequence subSequence(int from, int to) {
        if (from < 0 || to > length || from > to) {
            throw new IndexOutOfBoundsException("[" + from + ", " + to + ") of " + length);
        }
        return new AsciiSql(buf, start + from, to - from);
    }

    @Override
    public String toString() {
        return buf.toString(start, length, StandardCharsets.US_ASCII);
    }
}
