package dev.pgfleet.router.copy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The sharding key field of the current row, one instance per reader reused for every row: its
 * bytes are copied out of the row (a key is short, and the copy keeps it readable whatever the
 * sink does with the row's buffer), then de-escaped in place as PostgreSQL's
 * {@code CopyReadAttributesText} or {@code CopyReadAttributesCSV} would. The text is decoded only
 * when asked for.
 */
final class KeyField implements CopyRowReader.Key {

    private byte[] bytes = new byte[64];
    private int length;
    private String text;
    /** {@link #text()} of an ASCII field: a view of the bytes, so a COPY's keys (digits, mostly) cost no String each. */
    private final CharSequence ascii = new AsciiView();
    /** {@link #binary()}: one read-only view of {@link #bytes}, made again only when the array grows. */
    private ByteBuf view;

    /** Copies {@code length} bytes of {@code row} at {@code index} as the new raw field. */
    void copy(ByteBuf row, int index, int len) {
        if (bytes.length < len) {
            bytes = new byte[Math.max(len, bytes.length * 2)];
            view = null;
        }
        row.getBytes(index, bytes, 0, len);
        length = len;
        text = null;
    }

    /** Whether the raw field is exactly {@code marker} (the null string, compared before de-escaping as PostgreSQL does). */
    boolean rawEquals(byte[] marker) {
        return Arrays.equals(bytes, 0, length, marker, 0, marker.length);
    }

    /** Whether the raw field holds {@code b}. */
    boolean contains(byte b) {
        for (int i = 0; i < length; i++) {
            if (bytes[i] == b) {
                return true;
            }
        }
        return false;
    }

    /**
     * Text format de-escaping ({@code CopyReadAttributesText}): {@code \b \f \n \r \t \v}, one to
     * three octal digits, {@code \x} and one or two hex digits; any other byte after a backslash
     * stands for itself; a backslash at the very end of the data is dropped.
     */
    void unescapeText() {
        byte[] b = bytes;
        int n = length;
        int in = 0;
        int out = 0;
        while (in < n) {
            byte c = b[in++];
            if (c == '\\') {
                if (in >= n) {
                    break;
                }
                c = b[in++];
                switch (c) {
                    case '0', '1', '2', '3', '4', '5', '6', '7' -> {
                        int v = c - '0';
                        if (in < n && isOctal(b[in])) {
                            v = (v << 3) + b[in++] - '0';
                            if (in < n && isOctal(b[in])) {
                                v = (v << 3) + b[in++] - '0';
                            }
                        }
                        c = (byte) v;
                    }
                    case 'x' -> {
                        if (in < n && hex(b[in]) >= 0) {
                            int v = hex(b[in++]);
                            if (in < n && hex(b[in]) >= 0) {
                                v = (v << 4) + hex(b[in++]);
                            }
                            c = (byte) v;
                        }
                    }
                    case 'b' -> c = '\b';
                    case 'f' -> c = '\f';
                    case 'n' -> c = '\n';
                    case 'r' -> c = '\r';
                    case 't' -> c = '\t';
                    case 'v' -> c = 0x0b;
                    default -> {
                        // any other byte after a backslash is taken literally
                    }
                }
            }
            b[out++] = c;
        }
        length = out;
    }

    /**
     * CSV de-quoting ({@code CopyReadAttributesCSV}): a quote opens a quoted part anywhere in the
     * field; inside, the escape character followed by the quote or the escape stands for that
     * character, and a quote closes the part. The row was split outside quotes, so the part is closed.
     */
    void unquoteCsv(byte quote, byte escape) {
        byte[] b = bytes;
        int n = length;
        int in = 0;
        int out = 0;
        while (in < n) {
            byte c = b[in++];
            if (c != quote) {
                b[out++] = c;
                continue;
            }
            while (in < n) {
                c = b[in++];
                if (c == escape && in < n && (b[in] == escape || b[in] == quote)) {
                    b[out++] = b[in++];
                    continue;
                }
                if (c == quote) {
                    break;
                }
                b[out++] = c;
            }
        }
        length = out;
    }

    static boolean isOctal(byte c) {
        return c >= '0' && c <= '7';
    }

    static int hex(byte c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    @Override
    public CharSequence text() {
        if (text != null) {
            return text;
        }
        for (int i = 0; i < length; i++) {
            if (bytes[i] < 0) {
                text = new String(bytes, 0, length, StandardCharsets.UTF_8);
                return text;
            }
        }
        return ascii;
    }

    @Override
    public ByteBuf binary() {
        ByteBuf v = view;
        if (v == null) {
            v = Unpooled.wrappedBuffer(bytes).asReadOnly();
            view = v;
        }
        return v.setIndex(0, length);
    }

    /** The field's bytes as characters, valid while the field is (ASCII only: one byte, one char). */
    private final class AsciiView implements CharSequence {
        @Override
        public int length() {
            return length;
        }

        @Override
        public char charAt(int index) {
            if (index < 0 || index >= length) {
                throw new IndexOutOfBoundsException(index);
            }
            return (char) bytes[index];
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return toString().substring(start, end);
        }

        @Override
        public String toString() {
            return new String(bytes, 0, length, StandardCharsets.US_ASCII);
        }
    }

    @Override
    public String toString() {
        return text().toString();
    }
}
