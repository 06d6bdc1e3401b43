package dev.pgfleet.router.copy;

import io.netty.buffer.ByteBuf;

/**
 * What the format scanners share: the bytes of the row being read, which start at
 * {@link #segStart} in the current payload, after whatever of the row earlier payloads held
 * ({@link #carry}); and handing a finished row (or header) to the sink.
 *
 * <p>A subclass scans {@code [from, end)} of {@link #payload}, calls {@link #takeRow} at each
 * row's end and keeps its own state across payloads; what is left from {@link #segStart} at the
 * end of a payload is copied to the carry.
 */
abstract class RowScanner {

    /**
     * The largest row: PostgreSQL reads a row into one buffer, which cannot grow past
     * {@code MaxAllocSize} (1 GB - 1, {@code src/include/utils/memutils.h}).
     */
    static final int MAX_ROW_BYTES = 0x3fffffff;

    final CopyRowReader.Sink sink;
    final int keyColumn;
    /** Fields per row: the COPY's column count, or -1 until the first row fixes it. */
    int columns;
    final KeyField key = new KeyField();
    long rows;

    /** The payload being fed, null between feeds. */
    ByteBuf payload;
    /** Where the current row's bytes start in {@link #payload}. */
    int segStart;
    /** The current row's bytes from earlier payloads, or null. */
    ByteBuf carry;

    RowScanner(int columns, int keyColumn, CopyRowReader.Sink sink) {
        this.columns = columns;
        this.keyColumn = keyColumn;
        this.sink = sink;
    }

    final void feed(ByteBuf p) throws CopyFormatException {
        feed(p, p.readerIndex(), p.writerIndex());
    }

    /** {@code p[from, end)}: the payload in place, without a slice of it. */
    final void feed(ByteBuf p, int from, int end) throws CopyFormatException {
        payload = p;
        segStart = from;
        try {
            scan(from, end);
            if (segStart < end) {
                carryRest(end);
            }
        } finally {
            payload = null;
        }
    }

    /** Reads {@code [from, end)} of {@link #payload}. */
    abstract void scan(int from, int end) throws CopyFormatException;

    /** CopyDone: whatever is carried is the last row, or an error. */
    abstract void finish() throws CopyFormatException;

    /** How many bytes of the current row are before {@code index} of the payload. */
    final int rowOffset(int index) {
        return carried() + index - segStart;
    }

    final int carried() {
        return carry == null ? 0 : carry.readableBytes();
    }

    /**
     * The current row's bytes, up to {@code end} of the payload (or the carry alone when there is
     * no payload, at CopyDone), owned by the caller; the next row starts at {@code end}.
     */
    final ByteBuf takeRow(int end) throws CopyFormatException {
        ByteBuf row;
        if (carry == null) {
            row = payload.retainedSlice(segStart, end - segStart);
        } else {
            if (payload != null && end > segStart) {
                if ((long) carry.readableBytes() + end - segStart > MAX_ROW_BYTES) {
                    throw tooLarge();
                }
                carry.writeBytes(payload, segStart, end - segStart);
            }
            row = carry;
            carry = null;
        }
        segStart = end;
        return row;
    }

    /** Drops the current row's bytes up to {@code end} (the end-of-data line, the binary trailer). */
    final void dropRow(int end) {
        release();
        segStart = end;
    }

    /** Copies what is left of the payload to the carry: a row continues in the next payload. */
    private void carryRest(int end) throws CopyFormatException {
        int length = end - segStart;
        if ((long) carried() + length > MAX_ROW_BYTES) {
            throw tooLarge();
        }
        if (carry == null) {
            carry = payload.alloc().buffer(Math.max(length * 2, 256));
        }
        carry.writeBytes(payload, segStart, length);
        segStart = end;
    }

    static CopyFormatException tooLarge() {
        return new CopyFormatException("COPY row is larger than 1 GB, the largest PostgreSQL reads");
    }

    /** Hands a row to the sink with the key as {@link #key} holds it, or null for NULL. */
    final void emit(ByteBuf row, boolean keyNull) {
        rows++;
        sink.row(row, keyNull ? null : key);
    }

    final void release() {
        if (carry != null) {
            ByteBuf c = carry;
            carry = null;
            c.release();
        }
    }
}
