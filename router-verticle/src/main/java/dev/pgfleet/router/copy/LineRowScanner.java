package dev.pgfleet.router.copy;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Finds the rows of text and csv COPY data: the lines ({@code CopyReadLineText}) and, within a
 * line, where the key field starts and ends ({@code CopyReadAttributesText},
 * {@code CopyReadAttributesCSV}), in one pass over each payload.
 *
 * <p>{@link StopBytes} skips the bytes that mean nothing in the current state (most of them)
 * and stops at the few that do: in text, the delimiter, backslash, {@code \n} and {@code \r};
 * in csv outside quotes, the delimiter, the quote, {@code \n} and {@code \r}; inside quotes, the
 * quote and the escape. The states that look at a single following byte (after a backslash, after
 * {@code \r}, after an escape inside quotes) survive the end of a payload.
 *
 * <p>Line ends follow PostgreSQL: the first line fixes the style ({@code \n}, {@code \r\n} or
 * {@code \r}); a different bare {@code \n} or {@code \r} later is "literal newline found in data"
 * (csv: "unquoted ..."). The end-of-data marker is a line holding just {@code \.}: the data ends
 * there and the rest is ignored. In text format a {@code \.} anywhere else is an error ("end-of-copy
 * marker is not alone on its line", as PostgreSQL 18 has it; older servers took data before it on
 * the line as a last row, and reported "end-of-copy marker corrupt" for data after it), and so is
 * one followed by a line end of another style. In csv, where a backslash is
 * data, a {@code \.} that is not the whole line is data, as is a {@code \.} at the very end without
 * a line end (PostgreSQL 17 and older; PostgreSQL 18 reads {@code \.} lines of csv as data too).
 * A last line without a line end is a row, as PostgreSQL reads it.
 */
final class LineRowScanner extends RowScanner {

    /** Where the scan is: skipping ordinary bytes, or just after a byte whose meaning depends on the next. */
    private static final int FIELD = 0;          // text: in a field; csv: in a field outside quotes
    private static final int QUOTED = 1;         // csv: inside quotes
    private static final int QUOTED_ESCAPE = 2;  // csv: after the escape character inside quotes (escape != quote)
    private static final int BACKSLASH = 3;      // text: after a backslash, the next byte is escaped
    private static final int HEX1 = 4;           // text: after \x, when the delimiter is a hex digit
    private static final int HEX2 = 5;           // text: after \x and one hex digit, same
    private static final int CR = 6;             // after \r while the line end style may be \r\n
    private static final int MARKER = 7;         // text: after \. (the line end must follow)
    private static final int MARKER_CR = 8;      // text: after \.\r when the style is \r\n
    private static final int DONE = 9;           // after the end-of-data line

    /** Line end styles ({@code EolType} in PostgreSQL). */
    private static final int EOL_UNKNOWN = 0;
    private static final int EOL_NL = 1;
    private static final int EOL_CR = 2;
    private static final int EOL_CRNL = 3;

    private final boolean csv;
    private final byte delimiter;
    private final byte quote;
    private final byte escape;
    private final byte[] nullString;
    /** Text format with an upper-case hex digit as delimiter: {@code \xA} followed by it reads it as a digit. */
    private final boolean delimiterIsHex;
    private final StopBytes fieldStop;
    private final StopBytes quotedStop;

    private boolean headerPending;
    private int state = FIELD;
    private int eol = EOL_UNKNOWN;

    // The current row, offsets from its first byte.
    private int field;
    private int keyStart;
    private int keyEnd;
    /** Offset of the {@code \r} that ended the line, while the next byte decides whether {@code \n} follows. */
    private int crOffset;
    /** Offset of a backslash being read (text). */
    private int backslashOffset;

    LineRowScanner(CopyRowReader.Options options, int columns, int keyColumn, CopyRowReader.Sink sink) {
        super(columns, keyColumn, sink);
        csv = options.format() == CopyRowReader.Format.CSV;
        delimiter = (byte) options.delimiter();
        quote = (byte) options.quote();
        escape = (byte) options.escape();
        nullString = options.nullString().getBytes(StandardCharsets.UTF_8);
        delimiterIsHex = !csv && KeyField.hex(delimiter) >= 0;
        headerPending = options.header();
        fieldStop = new StopBytes((byte) '\n', (byte) '\r', delimiter, csv ? quote : (byte) '\\');
        quotedStop = new StopBytes(quote, escape);
        startRow();
    }

    private void startRow() {
        field = 0;
        keyStart = keyColumn == 0 ? 0 : -1;
        keyEnd = -1;
    }

    @Override
    void scan(int from, int end) throws CopyFormatException {
        ByteBuf p = payload;
        int i = from;
        while (i < end) {
            switch (state) {
                case FIELD -> {
                    int j = fieldStop.indexIn(p, i, end);
                    if (j < 0) {
                        return;
                    }
                    byte c = p.getByte(j);
                    i = j + 1;
                    if (c == delimiter) {
                        delimiterAt(rowOffset(j));
                    } else if (c == '\n') {
                        if (eol == EOL_CR || eol == EOL_CRNL) {
                            throw eol == EOL_CR && csvMarkerBefore(j) ? styleMismatch() : literal("newline", "n");
                        }
                        eol = EOL_NL;
                        lineEnd(i, rowOffset(j));
                    } else if (c == '\r') {
                        if (eol == EOL_NL) {
                            throw csvMarkerBefore(j) ? styleMismatch() : literal("carriage return", "r");
                        }
                        if (eol == EOL_CR) {
                            lineEnd(i, rowOffset(j));
                        } else {
                            crOffset = rowOffset(j);
                            state = CR;
                        }
                    } else if (csv) {
                        state = QUOTED;
                    } else {
                        backslashOffset = rowOffset(j);
                        state = BACKSLASH;
                    }
                }
                case QUOTED -> {
                    int j = quotedStop.indexIn(p, i, end);
                    if (j < 0) {
                        return;
                    }
                    byte c = p.getByte(j);
                    i = j + 1;
                    // When the escape is the quote, "" closes the quotes and opens them again: the same bytes belong to the field.
                    state = c == quote ? FIELD : QUOTED_ESCAPE;
                }
                case QUOTED_ESCAPE -> {
                    byte c = p.getByte(i);
                    if (c == quote || c == escape) {
                        i++;
                    }
                    state = QUOTED;
                }
                case BACKSLASH -> {
                    byte c = p.getByte(i++);
                    state = FIELD;
                    if (c == '.') {
                        state = MARKER;
                    } else if (c == 'x' && delimiterIsHex) {
                        state = HEX1;
                    }
                }
                case HEX1 -> {
                    if (KeyField.hex(p.getByte(i)) >= 0) {
                        i++;
                        state = HEX2;
                    } else {
                        state = FIELD;
                    }
                }
                case HEX2 -> {
                    if (KeyField.hex(p.getByte(i)) >= 0) {
                        i++;
                    }
                    state = FIELD;
                }
                case CR -> {
                    state = FIELD;
                    if (p.getByte(i) == '\n') {
                        eol = EOL_CRNL;
                        i++;
                        lineEnd(i, crOffset);
                    } else {
                        if (eol == EOL_CRNL) {
                            throw p.getByte(i) == '\r' && crOffset == 2 && csvMarkerBefore(i - 1) ? styleMismatch()
                                    : literal("carriage return", "r");
                        }
                        eol = EOL_CR;
                        lineEnd(i, crOffset);
                    }
                }
                case MARKER -> {
                    byte c = p.getByte(i++);
                    if (eol == EOL_CRNL) {
                        if (c == '\n') {
                            throw styleMismatch();
                        }
                        if (c != '\r') {
                            throw notAlone();
                        }
                        state = MARKER_CR;
                    } else {
                        markerLineEnd(c, i);
                    }
                }
                case MARKER_CR -> {
                    byte c = p.getByte(i++);
                    markerLineEnd(c, i);
                }
                default -> {
                    // DONE: PostgreSQL reads on to CopyDone and ignores what follows the end-of-data line.
                    segStart = end;
                    return;
                }
            }
        }
    }

    /**
     * The byte after {@code \.} (after {@code \.\r} in {@code \r\n} style), as PostgreSQL 18's
     * {@code CopyReadLineText} checks it: a line end of the data's style, and nothing before the
     * marker on its line.
     */
    private void markerLineEnd(byte c, int end) throws CopyFormatException {
        if (c != '\r' && c != '\n') {
            throw notAlone();
        }
        if ((eol == EOL_NL || eol == EOL_CRNL) && c != '\n' || eol == EOL_CR && c != '\r') {
            throw styleMismatch();
        }
        if (backslashOffset != 0) {
            throw notAlone();
        }
        dropRow(end);
        state = DONE;
    }

    /**
     * Csv: whether the line so far, up to payload index {@code index}, is {@code \.}. PostgreSQL 17
     * and older take such a line for the end-of-data marker before looking at the line end, so a line
     * end of the wrong style after it is "end-of-copy marker does not match previous newline style".
     */
    private boolean csvMarkerBefore(int index) {
        return csv && rowOffset(index) == 2 && rowByte(0) == '\\' && rowByte(1) == '.';
    }

    /** The byte at {@code offset} of the current row, carried or in the payload (only on error paths). */
    private byte rowByte(int offset) {
        int carried = carried();
        return offset < carried ? carry.getByte(carry.readerIndex() + offset) : payload.getByte(segStart + offset - carried);
    }

    private static CopyFormatException notAlone() {
        return new CopyFormatException("end-of-copy marker is not alone on its line");
    }

    private static CopyFormatException styleMismatch() {
        return new CopyFormatException("end-of-copy marker does not match previous newline style");
    }

    private void delimiterAt(int offset) {
        if (field == keyColumn) {
            keyEnd = offset;
        }
        field++;
        if (field == keyColumn) {
            keyStart = offset + 1;
        }
    }

    /** A line ends before payload index {@code end}; its data (without the line end) is {@code length} bytes. */
    private void lineEnd(int end, int length) throws CopyFormatException {
        line(takeRow(end), length, true);
    }

    /**
     * A whole line: the csv end-of-data marker, the header or a row. {@code terminated}: it ended
     * with a line end, not with the data (a csv {@code \.} without one is data).
     */
    private void line(ByteBuf row, int length, boolean terminated) throws CopyFormatException {
        int base = row.readerIndex();
        if (csv && terminated && length == 2 && row.getByte(base) == '\\' && row.getByte(base + 1) == '.') {
            row.release();
            state = DONE;
            return;
        }
        if (headerPending) {
            headerPending = false;
            startRow();
            sink.header(row);
            return;
        }
        int fields = field + 1;
        if (columns < 0) {
            columns = fields;
        }
        if (fields < columns || keyColumn >= fields) {
            row.release();
            throw new CopyFormatException("missing data for column " + (fields + 1)
                    + " (the row has " + fields + " fields, expected " + Math.max(columns, keyColumn + 1) + ")");
        }
        if (fields > columns) {
            row.release();
            throw new CopyFormatException("extra data after last expected column"
                    + " (the row has " + fields + " fields, expected " + columns + ")");
        }
        int start = keyStart;
        int stop = keyEnd < 0 ? length : keyEnd;
        key.copy(row, base + start, stop - start);
        boolean keyNull;
        if (csv) {
            keyNull = !key.contains(quote) && key.rawEquals(nullString);
            if (!keyNull) {
                key.unquoteCsv(quote, escape);
            }
        } else {
            keyNull = key.rawEquals(nullString);
            if (!keyNull) {
                key.unescapeText();
            }
        }
        startRow();
        emit(row, keyNull);
    }

    @Override
    void finish() throws CopyFormatException {
        switch (state) {
            case DONE -> {
                return;
            }
            case QUOTED, QUOTED_ESCAPE -> throw new CopyFormatException("unterminated CSV quoted field");
            // PostgreSQL reads the byte after the end of data as '\0': not a line end.
            case MARKER, MARKER_CR -> throw notAlone();
            case CR -> {
                // PostgreSQL reads the byte after \r at the end of data as '\0': not \n.
                if (eol == EOL_CRNL) {
                    throw literal("carriage return", "r");
                }
                state = FIELD;
                line(takeRow(0), crOffset, true);
            }
            default -> {
                // FIELD, BACKSLASH, HEX1, HEX2: a last line without a line end.
                if (carry != null) {
                    int length = carried();
                    state = FIELD;
                    line(takeRow(0), length, false);
                }
            }
        }
    }

    private CopyFormatException literal(String what, String letter) {
        return csv
                ? new CopyFormatException("unquoted " + what + " found in data",
                        "Use quoted CSV field to represent " + what + ".")
                : new CopyFormatException("literal " + what + " found in data",
                        "Use \"\\" + letter + "\" to represent " + what + ".");
    }
}
