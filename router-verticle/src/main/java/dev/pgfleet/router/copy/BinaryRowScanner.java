package dev.pgfleet.router.copy;

import io.netty.buffer.ByteBuf;

/**
 * Finds the rows of binary COPY data ("Binary Format" of the COPY reference page;
 * {@code ReceiveCopyBinaryHeader} and {@code NextCopyFrom} in {@code copyfromparse.c}):
 * <pre>
 * header:  "PGCOPY\n\377\r\n\0"  int32 flags  int32 extension length  extension bytes
 * row:     int16 field count, then per field: int32 length (-1: NULL), that many bytes
 * trailer: int16 -1
 * </pre>
 * Lengths are read in place when all their bytes are in the payload and byte by byte when they
 * are split between payloads; field bytes are skipped, never looked at, except the key's.
 */
final class BinaryRowScanner extends RowScanner {

    /** The signature, flags and extension length: the fixed part of the header. */
    private static final int FIXED_HEADER = 19;
    private static final byte[] SIGNATURE = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0};
    /** Flag bit 16: the data has OIDs, which PostgreSQL 12 and later reject. */
    private static final int FLAG_OIDS = 1 << 16;

    private static final int HEADER = 0;
    private static final int EXTENSION = 1;
    private static final int FIELD_COUNT = 2;
    private static final int FIELD_LENGTH = 3;
    private static final int FIELD_BYTES = 4;
    private static final int DONE = 5;

    private int state = HEADER;
    private final byte[] header = new byte[FIXED_HEADER];
    private int headerBytes;
    /** Bytes still to skip: of the extension or of the current field. */
    private int remaining;
    /** An int16 or int32 being read across payloads: its bytes so far and their count. */
    private int partial;
    private int partialBytes;

    private int pos;
    private int end;

    // The current row.
    private int fieldCount;
    private int field;
    private int keyStart;
    private int keyLength;

    BinaryRowScanner(int columns, int keyColumn, CopyRowReader.Sink sink) {
        super(columns, keyColumn, sink);
    }

    @Override
    void scan(int from, int stop) throws CopyFormatException {
        ByteBuf p = payload;
        pos = from;
        end = stop;
        while (pos < end) {
            switch (state) {
                case FIELD_LENGTH -> {
                    if (!readInt(p, 4)) {
                        return;
                    }
                    fieldLength(partial);
                }
                case FIELD_BYTES -> {
                    int take = Math.min(remaining, end - pos);
                    pos += take;
                    remaining -= take;
                    if (remaining == 0) {
                        nextField();
                    }
                }
                case FIELD_COUNT -> {
                    if (!readInt(p, 2)) {
                        return;
                    }
                    fieldCount((short) partial);
                }
                case HEADER -> readHeader(p);
                case EXTENSION -> {
                    int take = Math.min(remaining, end - pos);
                    pos += take;
                    remaining -= take;
                    if (remaining == 0) {
                        sink.header(takeRow(pos));
                        state = FIELD_COUNT;
                    }
                }
                default -> throw new CopyFormatException("received copy data after EOF marker");
            }
        }
    }

    private void readHeader(ByteBuf p) throws CopyFormatException {
        while (pos < end && headerBytes < FIXED_HEADER) {
            header[headerBytes++] = p.getByte(pos++);
            if (headerBytes == SIGNATURE.length) {
                for (int k = 0; k < SIGNATURE.length; k++) {
                    if (header[k] != SIGNATURE[k]) {
                        throw new CopyFormatException("COPY file signature not recognized");
                    }
                }
            }
        }
        if (headerBytes < FIXED_HEADER) {
            return;
        }
        int flags = intAt(11);
        if ((flags & FLAG_OIDS) != 0) {
            throw new CopyFormatException("invalid COPY file header (WITH OIDS)");
        }
        if (((flags & ~FLAG_OIDS) >>> 16) != 0) {
            throw new CopyFormatException("unrecognized critical flags in COPY file header");
        }
        int extension = intAt(15);
        if (extension < 0) {
            throw new CopyFormatException("invalid COPY file header (missing length)");
        }
        if (extension > MAX_ROW_BYTES) {
            throw tooLarge();
        }
        remaining = extension;
        state = EXTENSION;
        if (extension == 0) {
            sink.header(takeRow(pos));
            state = FIELD_COUNT;
        }
    }

    private int intAt(int i) {
        return (header[i] & 0xff) << 24 | (header[i + 1] & 0xff) << 16 | (header[i + 2] & 0xff) << 8 | header[i + 3] & 0xff;
    }

    /** Reads a big-endian int of {@code size} bytes into {@link #partial}; false when the payload ends first. */
    private boolean readInt(ByteBuf p, int size) {
        if (partialBytes == 0 && end - pos >= size) {
            partial = size == 2 ? p.getShort(pos) : p.getInt(pos);
            pos += size;
            return true;
        }
        if (partialBytes == 0) {
            partial = 0;
        }
        while (partialBytes < size) {
            if (pos == end) {
                return false;
            }
            partial = partial << 8 | p.getByte(pos++) & 0xff;
            partialBytes++;
        }
        partialBytes = 0;
        if (size == 2) {
            partial = (short) partial;
        }
        return true;
    }

    private void fieldCount(int count) throws CopyFormatException {
        if (count == -1) {
            // The trailer: not a row. After it PostgreSQL wants CopyDone and nothing else.
            dropRow(pos);
            state = DONE;
            return;
        }
        if (columns < 0) {
            columns = count;
        }
        if (count != columns) {
            throw new CopyFormatException("row field count is " + count + ", expected " + columns);
        }
        if (keyColumn >= count) {
            throw new CopyFormatException("row field count is " + count + ", expected at least " + (keyColumn + 1));
        }
        fieldCount = count;
        field = 0;
        keyLength = -1;
        state = FIELD_LENGTH;
    }

    private void fieldLength(int length) throws CopyFormatException {
        if (length < -1) {
            throw new CopyFormatException("invalid field size");
        }
        if (length > MAX_ROW_BYTES) {
            throw tooLarge();
        }
        if (field == keyColumn) {
            keyStart = rowOffset(pos);
            keyLength = length;
        }
        if (length <= 0) {
            nextField();
        } else {
            remaining = length;
            state = FIELD_BYTES;
        }
    }

    private void nextField() throws CopyFormatException {
        if (++field < fieldCount) {
            state = FIELD_LENGTH;
            return;
        }
        state = FIELD_COUNT;
        ByteBuf row = takeRow(pos);
        if (keyLength >= 0) {
            key.copy(row, row.readerIndex() + keyStart, keyLength);
        }
        emit(row, keyLength < 0);
    }

    @Override
    void finish() throws CopyFormatException {
        switch (state) {
            case DONE -> {
                return;
            }
            case HEADER -> throw new CopyFormatException(headerBytes < SIGNATURE.length
                    ? "COPY file signature not recognized"
                    : headerBytes < 15 ? "invalid COPY file header (missing flags)" : "invalid COPY file header (missing length)");
            case EXTENSION -> throw new CopyFormatException("invalid COPY file header (wrong length)");
            case FIELD_COUNT -> {
                // The end of data without the trailer is accepted by PostgreSQL, and so is one byte of a
                // field count: CopyGetInt16 reads fewer than two bytes as the end of the data.
                release();
                return;
            }
            default -> {
                // a row cut short
            }
        }
        throw new CopyFormatException("unexpected EOF in COPY data");
    }
}
