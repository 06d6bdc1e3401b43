package dev.pgfleet.proxy;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * A RowDescription, read: per column its name, type and format, and the message's bytes to send
 * on (whole, cut to its first columns, or with other format codes).
 */
final class RowShape {

    /** The message, {@code 'T'} at index 0. */
    private final byte[] message;
    /** Per column: where its field starts in {@link #message} (its name) and where its format code is. */
    private final int[] fieldStart;
    private final int[] formatAt;
    final int[] types;
    final int[] formats;

    private RowShape(byte[] message, int[] fieldStart, int[] formatAt, int[] types, int[] formats) {
        this.message = message;
        this.fieldStart = fieldStart;
        this.formatAt = formatAt;
        this.types = types;
        this.formats = formats;
    }

    static RowShape read(ByteBuf buf, int offset, int length) {
        byte[] m = new byte[length];
        buf.getBytes(offset, m);
        int n = ((m[5] & 0xFF) << 8) | (m[6] & 0xFF);
        int[] fieldStart = new int[n];
        int[] formatAt = new int[n];
        int[] types = new int[n];
        int[] formats = new int[n];
        int pos = 7;
        for (int i = 0; i < n; i++) {
            fieldStart[i] = pos;
            while (m[pos] != 0) {
                pos++;
            }
            pos++;   // the name's terminator; then table oid (4), column (2), type (4), size (2), modifier (4), format (2)
            types[i] = buf.getInt(offset + pos + 6);
            formatAt[i] = pos + 16;
            formats[i] = buf.getUnsignedShort(offset + pos + 16);
            pos += 18;
        }
        return new RowShape(m, fieldStart, formatAt, types, formats);
    }

    /** A shape of no columns (a NoData). */
    static RowShape empty() {
        return new RowShape(new byte[] {'T', 0, 0, 0, 6, 0, 0}, new int[0], new int[0], new int[0], new int[0]);
    }

    int columns() {
        return types.length;
    }

    String name(int column) {
        int end = fieldStart[column];
        while (message[end] != 0) {
            end++;
        }
        return new String(message, fieldStart[column], end - fieldStart[column], StandardCharsets.UTF_8);
    }

    /** The RowDescription of the first {@code visible} columns, with {@code formats} when not null. */
    void write(ByteBuf out, int visible, int[] formats) {
        int end = visible == types.length ? message.length : fieldStart[visible];
        int at = out.writerIndex();
        out.writeByte('T').writeInt(end - 1).writeShort(visible);
        out.writeBytes(message, 7, end - 7);
        if (formats != null) {
            for (int i = 0; i < visible; i++) {
                out.setShort(at + formatAt[i], formats[i]);
            }
        }
    }

    /** Whether the column types are those of {@code other} (the shards of a cross-shard query must agree). */
    int firstDifference(RowShape other) {
        if (other.types.length != types.length) {
            return Math.min(other.types.length, types.length);
        }
        for (int i = 0; i < types.length; i++) {
            if (types[i] != other.types[i]) {
                return i;
            }
        }
        return -1;
    }
}
