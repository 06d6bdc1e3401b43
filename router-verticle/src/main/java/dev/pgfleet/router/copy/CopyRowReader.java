package dev.pgfleet.router.copy;

import io.netty.buffer.ByteBuf;
import java.util.Objects;

/**
 * Reads the data stream of {@code COPY table (columns) FROM STDIN} (the payloads of the client's
 * CopyData messages, up to CopyDone) and finds its rows: each row's bytes, exactly as the client
 * sent them, and the value of one column, the sharding key. The proxy sends each row to its key's
 * shard; every shard gets the header.
 *
 * <p>The three COPY file formats are read as PostgreSQL's {@code copyfromparse.c} reads them:
 * <ul>
 *   <li>text: a row is a line ({@code \n}, {@code \r\n} or {@code \r}, fixed by the first line),
 *       fields are split by the delimiter, a backslash escapes the byte after it (so an escaped
 *       newline or delimiter is data), {@code \N} (the null string) is NULL, a line {@code \.}
 *       ends the data;</li>
 *   <li>csv: the same lines, but a line end or delimiter inside quotes is data, quotes are doubled
 *       (or escaped by the escape character) inside quotes, an unquoted null string (empty by
 *       default) is NULL and a quoted one is not, a line {@code \.} ends the data;</li>
 *   <li>binary: the 19-byte header plus extension, then rows of an int16 field count and, per field,
 *       an int32 length ({@code -1} is NULL) and the bytes; the trailer is a field count of
 *       {@code -1}.</li>
 * </ul>
 * A {@code HEADER} line (text, csv) or the binary header goes to {@link Sink#header}; the
 * end-of-data line and the binary trailer go nowhere (the proxy ends each shard's COPY itself).
 *
 * <p>Payloads are not owned by the reader: {@link #feed} reads one, hands out rows that lie
 * wholly inside it as retained slices of it, copies a row it ends in the middle of into a carry
 * buffer (from the payload's allocator) and keeps no reference to it after returning. Every
 * {@code ByteBuf} passed to the sink belongs to the sink, which must release it. A reader that
 * failed, or that is abandoned before {@link #end} (CopyFail, a lost client), must be
 * {@link #close closed} so that a carried partial row is released.
 *
 * <p>The data is read as bytes: the client encoding must be one in which every byte below 0x80
 * stands for itself (UTF-8, LATIN1 and all of PostgreSQL's server encodings; not SJIS, BIG5, GBK,
 * UHC or GB18030, where PostgreSQL reads multibyte characters specially). Key text is decoded as
 * UTF-8. Not supported: the csv {@code FORCE_NULL} and {@code FORCE_NOT_NULL} options and the
 * {@code DEFAULT} marker (the key's NULL-ness does not take them into account).
 *
 * <p>Not thread safe: one reader per COPY, used on its connection's event loop.
 */
public final class CopyRowReader implements AutoCloseable {

    /** The COPY file format, the {@code FORMAT} option of COPY. */
    public enum Format { TEXT, CSV, BINARY }

    /**
     * The COPY options that decide how rows and fields are found, with PostgreSQL's defaults in the
     * factories: text has delimiter tab and null string {@code \N}; csv has delimiter comma, quote
     * {@code "}, escape equal to the quote and the empty null string. Quote and escape mean nothing
     * in text format; in binary format nothing but the format counts. All characters are single
     * bytes below 0x80, as PostgreSQL requires ("COPY delimiter must be a single one-byte
     * character").
     */
    public record Options(Format format, char delimiter, char quote, char escape, String nullString, boolean header) {

        public Options {
            Objects.requireNonNull(format, "format");
            if (format != Format.BINARY) {
                Objects.requireNonNull(nullString, "nullString");
                checkOneByte("delimiter", delimiter);
                if (delimiter == '\n' || delimiter == '\r') {
                    throw new IllegalArgumentException("COPY delimiter cannot be newline or carriage return");
                }
                if (nullString.indexOf('\n') >= 0 || nullString.indexOf('\r') >= 0) {
                    throw new IllegalArgumentException("COPY null representation cannot use newline or carriage return");
                }
                if (nullString.indexOf(delimiter) >= 0) {
                    throw new IllegalArgumentException("COPY delimiter character must not appear in the NULL specification");
                }
            }
            // PostgreSQL's ProcessCopyOptions: in text format these would be read as escapes or the end marker.
            if (format == Format.TEXT && "\\.abcdefghijklmnopqrstuvwxyz0123456789".indexOf(delimiter) >= 0) {
                throw new IllegalArgumentException("COPY delimiter cannot be \"" + delimiter + "\"");
            }
            if (format == Format.CSV) {
                checkOneByte("quote", quote);
                checkOneByte("escape", escape);
                if (delimiter == quote) {
                    throw new IllegalArgumentException("COPY delimiter and quote must be different");
                }
            }
        }

        /** Text format: delimiter tab, null string {@code \N}, no header. */
        public static Options text() {
            return new Options(Format.TEXT, '\t', '"', '"', "\\N", false);
        }

        /** CSV format: delimiter comma, quote and escape {@code "}, the empty null string, no header. */
        public static Options csv() {
            return new Options(Format.CSV, ',', '"', '"', "", false);
        }

        /** Binary format. */
        public static Options binary() {
            return new Options(Format.BINARY, '\t', '"', '"', "", false);
        }

        /** These options with {@code HEADER} on or off (text and csv; binary always has its header). */
        public Options withHeader(boolean on) {
            return new Options(format, delimiter, quote, escape, nullString, on);
        }

        /** These options with another delimiter. */
        public Options withDelimiter(char c) {
            return new Options(format, c, quote, escape, nullString, header);
        }

        /** These options with another quote and escape character (csv). */
        public Options withQuote(char q, char e) {
            return new Options(format, delimiter, q, e, nullString, header);
        }

        /** These options with another null string (text, csv). */
        public Options withNull(String s) {
            return new Options(format, delimiter, quote, escape, s, header);
        }

        private static void checkOneByte(String what, char c) {
            if (c == 0 || c >= 0x80) {
                throw new IllegalArgumentException("COPY " + what + " must be a single one-byte character");
            }
        }
    }

    /** Where the rows go. Called from {@link #feed} and {@link #end}, on the caller's thread. */
    public interface Sink {
        /**
         * The header: CSV/TEXT HEADER line (terminator included; only with {@code HEADER}), or binary
         * signature+flags+extension. Sent once to every shard. The sink owns {@code bytes}.
         */
        void header(ByteBuf bytes);

        /**
         * One row, its bytes exactly as received (terminator included); key: null when the key
         * field is NULL. The sink owns {@code rowBytes}. The key is the reader's and valid only
         * until this call returns.
         */
        void row(ByteBuf rowBytes, Key key);
    }

    /**
     * The key field of the current row: text() for TEXT/CSV (de-escaped as PostgreSQL reads it),
     * binary bytes for BINARY. Valid until {@link Sink#row} returns. {@link #binary()} is also the
     * de-escaped bytes for TEXT/CSV, and {@link #text()} the binary bytes decoded as UTF-8 (which is
     * what a text column's binary form is); the binary view is not to be released.
     */
    public interface Key {
        CharSequence text();

        ByteBuf binary();
    }

    private final RowScanner scanner;
    private CopyFormatException failure;
    private boolean ended;

    /**
     * A reader for a COPY whose column count is not known: the first row fixes it (every row of a
     * COPY has the table's column count, so a row that differs from the first is an error either
     * way).
     *
     * @param keyColumn 0-based index of the sharding key among the row's fields
     */
    public CopyRowReader(Options options, int keyColumn, Sink sink) {
        this(options, -1, keyColumn, sink);
    }

    /**
     * A reader for a COPY of {@code columns} columns (the length of the statement's column list),
     * so that a first row with the wrong field count is already an error.
     *
     * @param columns the number of fields of each row, or -1 for "fixed by the first row"
     * @param keyColumn 0-based index of the sharding key among the row's fields
     */
    public CopyRowReader(Options options, int columns, int keyColumn, Sink sink) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(sink, "sink");
        if (keyColumn < 0 || (columns >= 0 && keyColumn >= columns) || columns < -1) {
            throw new IllegalArgumentException("key column " + keyColumn + " of " + columns);
        }
        scanner = options.format() == Format.BINARY
                ? new BinaryRowScanner(columns, keyColumn, sink)
                : new LineRowScanner(options, columns, keyColumn, sink);
    }

    /** One CopyData payload; the reader does not keep a reference after returning unless it copies a partial row. */
    public void feed(ByteBuf payload) throws CopyFormatException {
        feed(payload, payload.readerIndex(), payload.readableBytes());
    }

    /**
     * As {@link #feed(ByteBuf)}, for the {@code length} bytes at {@code offset} of {@code buf} (a
     * CopyData message's payload inside the client's buffer: no slice is made of it).
     */
    public void feed(ByteBuf buf, int offset, int length) throws CopyFormatException {
        checkUsable();
        try {
            scanner.feed(buf, offset, offset + length);
        } catch (CopyFormatException e) {
            fail(e);
            throw e;
        } catch (RuntimeException | Error e) {
            // a sink that failed: the reader's state is no longer that of the data, so it is done
            ended = true;
            scanner.release();
            throw e;
        }
    }

    /**
     * CopyDone: the end of the data. What is left is read as PostgreSQL reads the end of the data:
     * a last text or csv line without a line end is a row (handed to the sink here); an
     * unterminated csv quoted field, a {@code \.} without a line end (text) and a partial binary
     * row or header are errors; the binary trailer (-1) may have been seen or not. Releases the
     * carry either way.
     */
    public void end() throws CopyFormatException {
        checkUsable();
        ended = true;
        try {
            scanner.finish();
        } catch (CopyFormatException e) {
            fail(e);
            throw e;
        } finally {
            scanner.release();
        }
    }

    /** The rows handed to the sink so far (not the header). */
    public long rows() {
        return scanner.rows;
    }

    /** Releases a carried partial row, if any; the reader cannot be used afterwards. Idempotent. */
    @Override
    public void close() {
        ended = true;
        scanner.release();
    }

    private void checkUsable() throws CopyFormatException {
        if (failure != null) {
            throw new CopyFormatException(failure.getMessage());
        }
        if (ended) {
            throw new IllegalStateException("COPY data already ended");
        }
    }

    private void fail(CopyFormatException e) {
        failure = e;
        scanner.release();
    }
}
