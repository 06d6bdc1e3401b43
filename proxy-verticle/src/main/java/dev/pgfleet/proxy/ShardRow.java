package dev.pgfleet.proxy;

import dev.pgfleet.router.merge.PgValues;
import io.netty.buffer.ByteBuf;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One DataRow of a shard in a cross-shard merge: the message (a retained slice, {@code 'D'} at its
 * index 0) and where each value is in it. Owned by the merge, which releases it once sent or dropped.
 */
final class ShardRow {

    final ByteBuf message;
    /** Per column: the index of its value in {@link #message}, and its length (-1: NULL). */
    final int[] starts;
    final int[] lengths;
    /** The decoded ORDER BY values, filled by the merge the first time it compares the row. */
    Object[] sortValues;

    private ShardRow(ByteBuf message, int[] starts, int[] lengths) {
        this.message = message;
        this.starts = starts;
        this.lengths = lengths;
    }

    /** The DataRow {@code buf[offset, offset + length)}, retained. */
    static ShardRow of(ByteBuf buf, int offset, int length) {
        int n = buf.getUnsignedShort(offset + 5);
        int[] starts = new int[n];
        int[] lengths = new int[n];
        int pos = 7;
        for (int i = 0; i < n; i++) {
            int len = buf.getInt(offset + pos);
            starts[i] = pos + 4;
            lengths[i] = len;
            pos += 4 + Math.max(len, 0);
        }
        return new ShardRow(buf.retainedSlice(offset, length), starts, lengths);
    }

    int columns() {
        return starts.length;
    }

    boolean isNull(int column) {
        return lengths[column] < 0;
    }

    /** The value of {@code column} as PgValues decodes it (null for NULL). */
    Object value(int column, int type, boolean binary) {
        if (lengths[column] < 0) {
            return null;
        }
        return PgValues.decode(type, binary, message, starts[column], lengths[column]);
    }

    /** The value's bytes (null for NULL). */
    byte[] bytes(int column) {
        if (lengths[column] < 0) {
            return null;
        }
        byte[] b = new byte[lengths[column]];
        message.getBytes(starts[column], b);
        return b;
    }

    /** Bytes this row holds, for the memory limit. */
    int size() {
        return message.readableBytes() + 48 + 8 * starts.length;
    }

    /** The DataRow of the first {@code visible} columns (the message itself, retained, when that is all of them). */
    ByteBuf visible(io.netty.buffer.ByteBufAllocator alloc, int visible) {
        if (visible == starts.length) {
            return message.retainedSlice();
        }
        int end = visible == 0 ? 7 : starts[visible - 1] + Math.max(lengths[visible - 1], 0);
        ByteBuf out = alloc.buffer(end);
        out.writeByte('D').writeInt(end - 1).writeShort(visible);
        out.writeBytes(message, 7, end - 7);
        return out;
    }

    void release() {
        message.release();
    }

    /**
     * A value as a key of a hash set or map: equal when PostgreSQL's equality says so for the
     * types PgValues knows (numeric 1.0 and 1.00, float -0 and 0), byte-equal otherwise.
     */
    static Object key(Object decoded, byte[] raw) {
        if (decoded == null) {
            return raw == null ? null : ByteBuffer.wrap(raw);
        }
        if (decoded instanceof BigDecimal d) {
            return d.signum() == 0 ? BigDecimal.ZERO : d.stripTrailingZeros();
        }
        if (decoded instanceof Double d) {
            return d == 0.0 ? 0.0 : d;
        }
        return decoded;
    }

    /** Several values as one key. */
    record Key(Object[] values) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(values, k.values);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(values);
        }
    }
}
