package dev.pgfleet.router.copy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.router.copy.CopyRowReader.Key;
import dev.pgfleet.router.copy.CopyRowReader.Options;
import dev.pgfleet.router.copy.CopyRowReader.Sink;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;

/**
 * {@link CopyRowReader} on hand-written COPY data, one rule of {@code copyfromparse.c} per case,
 * each input also fed split at every byte boundary (and at every pair of boundaries for the short
 * ones, and a byte at a time) with the same rows, keys and errors as unsplit. Payloads come from an
 * instrumented unpooled allocator, so every test also checks that no buffer is left unreleased
 * (and Netty's leak detector runs at paranoid).
 *
 * <p>Then a real PostgreSQL's output (testkit's first shard server): a table of tricky values
 * (tabs, newlines, carriage returns, backslashes, quotes, {@code \.}, {@code \N}, NULLs, empty
 * strings, non-ASCII) is copied out in text, csv and binary with several option sets, read in random
 * chunks (the key is the text column {@code id}, the third), and the rows the sink got are copied
 * back, header first and row by row, into an empty table that must then equal the first.
 */
class CopyRowReaderTest {

    /** Direct buffers whose live bytes the allocator counts: 0 after each test, or something leaked. */
    static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(true);

    @AfterEach
    void nothingLeaked() {
        assertEquals(0, ALLOC.metric().usedDirectMemory(), "direct memory still in use: a ByteBuf was not released");
    }

    // ---- text ----

    @Test
    void textRowsSplitAtNewlinesWithTheKeyField() throws Exception {
        Read r = readEverySplit(Options.text(), 1, "1\tabc\tx\n2\tdef\ty\n");
        assertEquals(List.of("1\tabc\tx\n", "2\tdef\ty\n"), r.rowTexts());
        assertEquals(Arrays.asList("abc", "def"), r.keys);
        assertEquals(List.of(), r.headers);
    }

    @Test
    void textKeyIsDeEscapedAsPostgresReadsIt() throws Exception {
        Read r = readEverySplit(Options.text(), 1, "1\ta\\tb\\\\c\\nd\\x41\\101\\e\\x\\xg\\0101\\b\\f\\r\\v\n");
        assertEquals(Arrays.asList("a\tb\\c\ndAAexxg\b1\b\f\r\u000b"), r.keys);
    }

    @Test
    void textNullIsTheRawNullStringOnly() throws Exception {
        Read r = readEverySplit(Options.text(), 1, "1\t\\N\n2\t\\\\N\n3\t\\NN\n4\t\n");
        assertEquals(Arrays.asList(null, "\\N", "NN", ""), r.keys);
        Read custom = readEverySplit(Options.text().withNull("NULL"), 0, "NULL\n\\N\n\n");
        assertEquals(Arrays.asList(null, "N", ""), custom.keys);
    }

    @Test
    void textEscapedDelimiterAndNewlineAreData() throws Exception {
        Read r = readEverySplit(Options.text(), 0, "a\\\tb\tc\na\\\nb\tc\n");
        assertEquals(List.of("a\\\tb\tc\n", "a\\\nb\tc\n"), r.rowTexts());
        assertEquals(Arrays.asList("a\tb", "a\nb"), r.keys);
    }

    @Test
    void textLineEndStyleIsFixedByTheFirstLine() throws Exception {
        Read crlf = readEverySplit(Options.text(), 0, "1\tx\r\n2\ty\r\n3\tz");
        assertEquals(List.of("1\tx\r\n", "2\ty\r\n", "3\tz"), crlf.rowTexts());
        assertEquals(Arrays.asList("1", "2", "3"), crlf.keys);
        Read cr = readEverySplit(Options.text(), 0, "1\tx\r2\ty\r");
        assertEquals(List.of("1\tx\r", "2\ty\r"), cr.rowTexts());

        assertEquals("literal newline found in data", errorEverySplit(Options.text(), 0, "1\r\n2\n"));
        assertEquals("literal newline found in data", errorEverySplit(Options.text(), 0, "1\r2\n"));
        assertEquals("literal carriage return found in data", errorEverySplit(Options.text(), 0, "1\n2\r"));
        assertEquals("literal carriage return found in data", errorEverySplit(Options.text(), 0, "1\r\n2\r3\r\n"));
        // the data ending on \r: the byte after it is "\0" to PostgreSQL, not \n
        assertEquals("literal carriage return found in data", errorEverySplit(Options.text(), 0, "1\r\n2\r"));
        CopyFormatException e = assertThrows(CopyFormatException.class,
                () -> read(Options.text(), -1, 0, bytes("1\n2\r"), new int[0]));
        assertEquals("Use \"\\r\" to represent carriage return.", e.hint());
    }

    @Test
    void textEndOfDataLineEndsTheRows() throws Exception {
        Read r = readEverySplit(Options.text(), 0, "1\n\\.\ngarbage\twith\\.\r\n");
        assertEquals(List.of("1\n"), r.rowTexts());
        Read crlf = readEverySplit(Options.text(), 0, "1\r\n\\.\r\n");
        assertEquals(List.of("1\r\n"), crlf.rowTexts());
        Read only = readEverySplit(Options.text(), 0, "\\.\n");
        assertEquals(List.of(), only.rowTexts());
        // an escaped backslash before the period is data
        Read escaped = readEverySplit(Options.text(), 0, "a\\\\.\n\\\\.\n");
        assertEquals(Arrays.asList("a\\.", "\\."), escaped.keys);

        assertEquals("end-of-copy marker is not alone on its line", errorEverySplit(Options.text(), 0, "1\nx\\.\n"));
        assertEquals("end-of-copy marker is not alone on its line", errorEverySplit(Options.text(), 0, "1\n\\.x\n"));
        assertEquals("end-of-copy marker is not alone on its line", errorEverySplit(Options.text(), 0, "1\n\\."));
        assertEquals("end-of-copy marker is not alone on its line", errorEverySplit(Options.text(), 0, "1\r\n\\.\rx"));
        // a line end of another style right after the period
        assertEquals("end-of-copy marker does not match previous newline style", errorEverySplit(Options.text(), 0, "1\n\\.\r\n"));
        assertEquals("end-of-copy marker does not match previous newline style", errorEverySplit(Options.text(), 0, "1\r\n\\.\n"));
        assertEquals("end-of-copy marker does not match previous newline style", errorEverySplit(Options.text(), 0, "1\r\n\\.\r\r"));
        assertEquals("end-of-copy marker does not match previous newline style", errorEverySplit(Options.text(), 0, "1\r\\.\n"));
        // the first line: any line end will do
        assertEquals(List.of(), readEverySplit(Options.text(), 0, "\\.\r\n\n\r").rowTexts());
    }

    @Test
    void textHeaderLineGoesToTheHeader() throws Exception {
        Read r = readEverySplit(Options.text().withHeader(true), 0, "id\tname\n1\tx\n");
        assertEquals(List.of("id\tname\n"), r.headers);
        assertEquals(List.of("1\tx\n"), r.rowTexts());
        assertEquals(1, r.rows);
    }

    @Test
    void textLastLineWithoutNewlineIsARow() throws Exception {
        Read r = readEverySplit(Options.text(), 0, "1\n2");
        assertEquals(List.of("1\n", "2"), r.rowTexts());
        Read backslash = readEverySplit(Options.text(), 0, "1\n2\\");
        assertEquals(Arrays.asList("1", "2"), backslash.keys);
    }

    @Test
    void textFieldCountsAreChecked() throws Exception {
        assertTrue(error(Options.text(), 3, 0, "1\t2\n").startsWith("missing data for column"));
        assertTrue(error(Options.text(), 3, 0, "1\t2\t3\t4\n").startsWith("extra data after last expected column"));
        assertTrue(errorEverySplit(Options.text(), 0, "1\t2\n1\n").startsWith("missing data for column"));
        assertTrue(errorEverySplit(Options.text(), 0, "1\n1\t2\n").startsWith("extra data after last expected column"));
        assertTrue(errorEverySplit(Options.text(), 2, "1\t2\n").startsWith("missing data for column"));
        Read empty = readEverySplit(Options.text(), 0, "\n\n");
        assertEquals(Arrays.asList("", ""), empty.keys);
    }

    @Test
    void textHexDigitDelimiterIsReadAsADigitAfterBackslashX() throws Exception {
        Read r = readEverySplit(Options.text().withDelimiter('A'), 0, "\\x4A1A2\n\\x4AA3\n");
        assertEquals(Arrays.asList("J1", "J"), r.keys);
        assertEquals(List.of("\\x4A1A2\n", "\\x4AA3\n"), r.rowTexts());
    }

    @Test
    void textKeyIsUtf8() throws Exception {
        Read r = readEverySplit(Options.text(), 0, "é漢😀\tx\n\\303\\251\tx\n");
        assertEquals(Arrays.asList("é漢😀", "é"), r.keys);
    }

    // ---- csv ----

    @Test
    void csvQuotedFieldsHoldDelimitersNewlinesAndQuotes() throws Exception {
        Read r = readEverySplit(Options.csv(), 1, "1,\"a,b\"\n2,\"a\nb\"\n3,\"a\"\"b\"\n4,ab\"c,d\"e\n");
        assertEquals(Arrays.asList("a,b", "a\nb", "a\"b", "abc,de"), r.keys);
        assertEquals(List.of("1,\"a,b\"\n", "2,\"a\nb\"\n", "3,\"a\"\"b\"\n", "4,ab\"c,d\"e\n"), r.rowTexts());
    }

    @Test
    void csvUnquotedEmptyIsNullQuotedEmptyIsNot() throws Exception {
        Read r = readEverySplit(Options.csv(), 1, "1,\n2,\"\"\n3,\n");
        assertEquals(Arrays.asList(null, "", null), r.keys);
        Read custom = readEverySplit(Options.csv().withNull("NULL"), 0, "NULL\n\"NULL\"\n\n");
        assertEquals(Arrays.asList(null, "NULL", ""), custom.keys);
        Read single = readEverySplit(Options.csv(), 0, "\n");
        assertEquals(Arrays.asList((String) null), single.keys);
    }

    @Test
    void csvEscapeOtherThanQuote() throws Exception {
        Options o = Options.csv().withQuote('"', '\\');
        Read r = readEverySplit(o, 1, "1,\"a\\\"b\\\\c\"\n2,\"a\\\\\"\n3,\"a\\b\"\n4,a\\\"b,\n\"\n");
        assertEquals(Arrays.asList("a\"b\\c", "a\\", "a\\b", "a\\b,\n"), r.keys);
        Options single = Options.csv().withQuote('\'', '\'');
        assertEquals(Arrays.asList("it's, \"x\""), readEverySplit(single, 0, "'it''s, \"x\"'\n").keys);
    }

    @Test
    void csvHeaderLineMayHoldQuotedNewlines() throws Exception {
        Read r = readEverySplit(Options.csv().withHeader(true), 0, "\"i\nd\",name\n1,x\n");
        assertEquals(List.of("\"i\nd\",name\n"), r.headers);
        assertEquals(Arrays.asList("1"), r.keys);
    }

    @Test
    void csvEndOfDataOnlyAloneOnItsLine() throws Exception {
        Read r = readEverySplit(Options.csv(), 0, "1,a\n\\.\n2,b\n");
        assertEquals(List.of("1,a\n"), r.rowTexts());
        Read data = readEverySplit(Options.csv(), 0, "\"\\.\"\n\\.x\na\\.\n\\.");
        assertEquals(Arrays.asList("\\.", "\\.x", "a\\.", "\\."), data.keys);
        Read crlf = readEverySplit(Options.csv(), 0, "1\r\n\\.\r\n2\n");
        assertEquals(List.of("1\r\n"), crlf.rowTexts());
        assertEquals("end-of-copy marker does not match previous newline style", errorEverySplit(Options.csv(), 0, "1\n\\.\r\n"));
        assertEquals("end-of-copy marker does not match previous newline style", errorEverySplit(Options.csv(), 0, "1\r\\.\n"));
        assertEquals("end-of-copy marker does not match previous newline style", errorEverySplit(Options.csv(), 0, "1\r\n\\.\r\r"));
        // csv: \. then \n in \r\n style is data, and the \n a stray newline
        assertEquals("unquoted newline found in data", errorEverySplit(Options.csv(), 0, "1\r\n\\.\n"));
        assertEquals("unquoted carriage return found in data", errorEverySplit(Options.csv(), 0, "1\r\n\\.\rx"));
    }

    @Test
    void csvLineEnds() throws Exception {
        Read r = readEverySplit(Options.csv(), 1, "1,a\r\n2,\"x\r\ny\ne\r\"\r\n");
        assertEquals(Arrays.asList("a", "x\r\ny\ne\r"), r.keys);
        assertEquals("unquoted newline found in data", errorEverySplit(Options.csv(), 0, "1\r\n2\n"));
        assertEquals("unquoted carriage return found in data", errorEverySplit(Options.csv(), 0, "1\n2\r"));
    }

    @Test
    void csvUnterminatedQuoteIsAnError() throws Exception {
        assertEquals("unterminated CSV quoted field", errorEverySplit(Options.csv(), 0, "1,a\n\"abc\n"));
        assertEquals("unterminated CSV quoted field",
                errorEverySplit(Options.csv().withQuote('"', '\\'), 0, "\"abc\\"));
    }

    @Test
    void csvFieldCounts() throws Exception {
        assertTrue(error(Options.csv(), 2, 0, "1\n").startsWith("missing data for column"));
        assertTrue(error(Options.csv(), 2, 0, "1,\"a,b\",c\n").startsWith("extra data after last expected column"));
        assertEquals(2, read(Options.csv(), 2, 0, bytes("1,\"a,b\"\n2,\n"), new int[0]).rows);
    }

    // ---- binary ----

    @Test
    void binaryRowsWithKeysNullsAndTheTrailer() throws Exception {
        Binary b = new Binary().header(0, new byte[0]);
        b.row(new long[] {1}, "one").row(null, "two").row(new long[] {-3}, null).trailer();
        Read r = readEverySplit(Options.binary(), 0, b.bytes());
        assertEquals(1, r.headers.size());
        assertArrayEquals(Arrays.copyOf(b.bytes(), 19), latin1(r.headers.get(0)));
        assertEquals(3, r.rows);
        assertEquals(3, r.binaryKeys.size());
        assertEquals(1L, java.nio.ByteBuffer.wrap(r.binaryKeys.get(0)).getLong());
        assertNull(r.binaryKeys.get(1));
        assertEquals(-3L, java.nio.ByteBuffer.wrap(r.binaryKeys.get(2)).getLong());
        // the rows are the bytes between the header and the trailer, cut at row ends
        int total = r.rowBytes.stream().mapToInt(x -> x.length).sum();
        assertEquals(b.bytes().length - 19 - 2, total);

        Read text = readEverySplit(Options.binary(), 1, b.bytes());
        assertEquals(Arrays.asList("one", "two", null), text.keys);
    }

    @Test
    void binaryHeaderExtensionIsPartOfTheHeader() throws Exception {
        Binary b = new Binary().header(0x1234, new byte[] {9, 8, 7}).row(new long[] {5}, "x");
        Read r = readEverySplit(Options.binary(), 0, b.bytes());
        assertEquals(1, r.headers.size());
        assertEquals(22, latin1(r.headers.get(0)).length);
        assertEquals(1, r.rows);
    }

    @Test
    void binaryErrors() throws Exception {
        Binary ok = new Binary().header(0, new byte[0]).row(new long[] {1}, "a");
        assertEquals("row field count is 1, expected 2",
                errorEverySplit(Options.binary(), 0, new Binary().header(0, new byte[0])
                        .row(new long[] {1}, "a").raw(1, 2).raw(-1, 4).trailer().bytes()));
        assertEquals("received copy data after EOF marker",
                errorEverySplit(Options.binary(), 0, new Binary().header(0, new byte[0]).trailer().raw(0, 1).bytes()));
        byte[] bad = ok.bytes().clone();
        bad[5] = 'X';
        assertEquals("COPY file signature not recognized", errorEverySplit(Options.binary(), 0, bad));
        assertEquals("COPY file signature not recognized", errorEverySplit(Options.binary(), 0, new byte[0]));
        assertEquals("invalid COPY file header (WITH OIDS)",
                errorEverySplit(Options.binary(), 0, new Binary().header(1 << 16, new byte[0]).bytes()));
        assertEquals("unrecognized critical flags in COPY file header",
                errorEverySplit(Options.binary(), 0, new Binary().header(1 << 17, new byte[0]).bytes()));
        assertEquals("invalid COPY file header (wrong length)",
                errorEverySplit(Options.binary(), 0, Arrays.copyOf(new Binary().header(0, new byte[4]).bytes(), 21)));
        assertEquals("invalid COPY file header (missing flags)",
                errorEverySplit(Options.binary(), 0, Arrays.copyOf(ok.bytes(), 13)));
        byte[] cut = Arrays.copyOf(ok.bytes(), ok.bytes().length - 3);
        assertEquals("unexpected EOF in COPY data", errorEverySplit(Options.binary(), 0, cut));
        // one byte of a field count at the end: PostgreSQL's CopyGetInt16 takes it for the end of the data
        assertEquals(1, readEverySplit(Options.binary(), 0, Arrays.copyOf(ok.bytes(), ok.bytes().length + 1)).rows);
        assertEquals("invalid field size",
                errorEverySplit(Options.binary(), 0, new Binary().header(0, new byte[0]).raw(2, 2).raw(-2, 4).bytes()));
        assertTrue(errorEverySplit(Options.binary(), 0, new Binary().header(0, new byte[0])
                .raw(2, 2).raw(0x40000000, 4).bytes()).startsWith("COPY row is larger than 1 GB"));
        // no trailer: PostgreSQL takes the end of data for it
        assertEquals(1, readEverySplit(Options.binary(), 0, ok.bytes()).rows);
    }

    // ---- buffers ----

    @Test
    void wholeRowsAreRetainedSlicesOfThePayloadAndTheSinkOwnsThem() throws Exception {
        List<ByteBuf> kept = new ArrayList<>();
        Sink keep = new Sink() {
            @Override
            public void header(ByteBuf bytes) {
                kept.add(bytes);
            }

            @Override
            public void row(ByteBuf rowBytes, Key key) {
                kept.add(rowBytes);
            }
        };
        CopyRowReader reader = new CopyRowReader(Options.text(), 0, keep);
        ByteBuf payload = ALLOC.directBuffer().writeBytes(bytes("1\n2\n3\n4"));
        reader.feed(payload);
        assertEquals(3, kept.size());
        assertEquals(4, payload.refCnt(), "one reference per row slice and the caller's");
        payload.release();
        ByteBuf next = ALLOC.directBuffer().writeBytes(bytes("5\n"));
        reader.feed(next);
        next.release();
        assertEquals(0, next.refCnt(), "the carried row was copied, not the payload retained");
        reader.end();
        assertEquals(4, kept.size());
        assertEquals("45\n", kept.get(3).toString(StandardCharsets.UTF_8));
        for (ByteBuf b : kept) {
            b.release();
        }
        assertEquals(0, payload.refCnt());
    }

    @Test
    void aFailedOrAbandonedReaderReleasesItsCarry() throws Exception {
        Collector c = new Collector();
        CopyRowReader abandoned = new CopyRowReader(Options.csv(), 0, c);
        feed(abandoned, "1\n\"partial");
        abandoned.close();
        abandoned.close();

        CopyRowReader failed = new CopyRowReader(Options.csv(), 2, 0, c);
        feed(failed, "1,2\n3");
        assertThrows(CopyFormatException.class, () -> feed(failed, ",4,5\n"));
        assertThrows(CopyFormatException.class, () -> feed(failed, "1,2\n"));
        failed.close();
        assertEquals(2, c.rows, "1 of the abandoned reader, 1,2 of the failed one");
    }

    @Test
    void aSinkThatThrowsLeavesNothingCarried() throws Exception {
        Sink failing = new Sink() {
            @Override
            public void header(ByteBuf bytes) {
                bytes.release();
            }

            @Override
            public void row(ByteBuf rowBytes, Key key) {
                rowBytes.release();
                throw new IllegalStateException("shard gone");
            }
        };
        CopyRowReader reader = new CopyRowReader(Options.text(), 0, failing);
        feed(reader, "partial");
        assertThrows(IllegalStateException.class, () -> feed(reader, " row\nnext"));
        assertThrows(IllegalStateException.class, () -> feed(reader, "1\n"));
        reader.close();
    }

    @Test
    void optionsRejectWhatPostgresRejects() {
        assertThrows(IllegalArgumentException.class, () -> Options.text().withDelimiter('\n'));
        assertThrows(IllegalArgumentException.class, () -> Options.text().withDelimiter('a'));
        assertThrows(IllegalArgumentException.class, () -> Options.text().withDelimiter('\\'));
        assertThrows(IllegalArgumentException.class, () -> Options.csv().withDelimiter('"'));
        assertThrows(IllegalArgumentException.class, () -> Options.csv().withDelimiter('é'));
        assertThrows(IllegalArgumentException.class, () -> Options.csv().withNull("a,b"));
        assertThrows(IllegalArgumentException.class, () -> new CopyRowReader(Options.csv(), 2, 2, new Collector()));
    }

    // ---- a real server's COPY TO output, read and copied back ----

    static Connection db;
    static final List<String> IDS = new ArrayList<>();

    static Connection db() throws SQLException {
        if (db == null) {
            db = TestPostgres.shards().get(0).connectSuperuser(TestUsers.DATABASE);
            createTrickyTable(db);
        }
        return db;
    }

    @AfterAll
    static void closeDb() throws SQLException {
        if (db != null) {
            try (Statement st = db.createStatement()) {
                st.execute("DROP TABLE IF EXISTS copy_reader_tricky, copy_reader_back");
            }
            db.close();
        }
    }

    /** Rows of copy_reader_tricky: the edge cases, then random ones. */
    static final int RANDOM_ROWS = 3000;
    static final String[] EDGE_IDS = {"", "\\.", "\\N", "N", "NULL", "nil", "\"", "\"\"", "'", ",", ";", "\t", "\n", "\r",
        "\r\n", "\\", "\\\\", "é漢😀", null, "a\tb\nc\\d\"e,f;g'h", " leading", "trailing ", ".\\", "\\x41", "\\101", "|"};

    static void createTrickyTable(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS copy_reader_tricky, copy_reader_back");
            st.execute("CREATE TABLE copy_reader_tricky (ord int, a text, id text, b bytea, n int, arr text[])");
            st.execute("CREATE TABLE copy_reader_back (LIKE copy_reader_tricky)");
        }
        SplittableRandom random = new SplittableRandom(20261202);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO copy_reader_tricky VALUES (?, ?, ?, ?, ?, ?)")) {
            for (int ord = 0; ord < EDGE_IDS.length + RANDOM_ROWS; ord++) {
                String id = ord < EDGE_IDS.length ? EDGE_IDS[ord] : random.nextInt(20) == 0 ? null : trickyText(random);
                IDS.add(id);
                ps.setInt(1, ord);
                ps.setString(2, random.nextInt(10) == 0 ? null : trickyText(random));
                ps.setString(3, id);
                byte[] b = new byte[random.nextInt(12)];
                random.nextBytes(b);
                ps.setBytes(4, random.nextInt(10) == 0 ? null : b);
                if (random.nextInt(10) == 0) {
                    ps.setNull(5, Types.INTEGER);
                } else {
                    ps.setInt(5, random.nextInt());
                }
                Object[] arr = {trickyText(random), null, trickyText(random)};
                ps.setArray(6, c.createArrayOf("text", arr));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    static String trickyText(SplittableRandom random) {
        String[] pieces = {"a", "b", "Z", "0", "7", " ", ",", ";", "|", "\"", "'", "\\", "\\.", ".", "\t", "\n", "\r",
            "\r\n", "N", "\\N", "é", "漢", "😀", "\u0001", "x41", "{", "}"};
        StringBuilder sb = new StringBuilder();
        int n = random.nextInt(10);
        for (int k = 0; k < n; k++) {
            sb.append(pieces[random.nextInt(pieces.length)]);
        }
        return sb.toString();
    }

    /** A COPY TO's options, the COPY FROM's options for its output, and the reader's. */
    record RoundTrip(String name, String out, String in, Options options) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<RoundTrip> roundTrips() {
        String semicolons = "(FORMAT csv, HEADER, DELIMITER ';', QUOTE '''', ESCAPE '\\', NULL 'NULL')";
        return List.of(
                new RoundTrip("text", "", "", Options.text()),
                // not NULL 'nil': text format writes a value equal to the null string unescaped, so an id "nil" would read as NULL
                new RoundTrip("text delimiter ',' null '<nil>'", "(FORMAT text, DELIMITER ',', NULL '<nil>')",
                        "(FORMAT text, DELIMITER ',', NULL '<nil>')", Options.text().withDelimiter(',').withNull("<nil>")),
                new RoundTrip("text header", "(FORMAT text, HEADER)", "(FORMAT text, HEADER)", Options.text().withHeader(true)),
                new RoundTrip("csv header", "(FORMAT csv, HEADER)", "(FORMAT csv, HEADER)", Options.csv().withHeader(true)),
                new RoundTrip("csv force quote", "(FORMAT csv, FORCE_QUOTE *)", "(FORMAT csv)", Options.csv()),
                new RoundTrip("csv ';' quote ' escape \\ null NULL", semicolons, semicolons,
                        Options.csv().withHeader(true).withDelimiter(';').withQuote('\'', '\\').withNull("NULL")),
                new RoundTrip("binary", "(FORMAT binary)", "(FORMAT binary)", Options.binary()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("roundTrips")
    void serverCopyOutputReadInRandomChunksAndCopiedBackRowByRow(RoundTrip trip) throws Exception {
        Connection c = db();
        CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        copy.copyOut("COPY (SELECT * FROM copy_reader_tricky ORDER BY ord) TO STDOUT " + trip.out(), out);
        byte[] data = out.toByteArray();

        boolean binary = trip.options().format() == CopyRowReader.Format.BINARY;
        int[] cuts = randomCuts(new SplittableRandom(data.length), data.length);
        Read r = read(trip.options(), 6, 2, data, cuts);
        assertEquals(IDS.size(), r.rows);
        assertEquals(trip.options().header() || binary ? 1 : 0, r.headers.size());
        for (int k = 0; k < IDS.size(); k++) {
            String expected = IDS.get(k);
            if (binary) {
                byte[] key = r.binaryKeys.get(k);
                assertEquals(expected, key == null ? null : new String(key, StandardCharsets.UTF_8), "row " + k);
            } else {
                assertEquals(expected, r.keys.get(k), "row " + k);
            }
        }
        int total = r.headers.stream().mapToInt(h -> latin1(h).length).sum() + r.rowBytes.stream().mapToInt(b -> b.length).sum();
        assertEquals(data.length - (binary ? 2 : 0), total, "every byte in a header or a row, but the binary trailer");

        try (Statement st = c.createStatement()) {
            st.execute("TRUNCATE copy_reader_back");
        }
        CopyIn in = copy.copyIn("COPY copy_reader_back FROM STDIN " + trip.in());
        for (String h : r.headers) {
            byte[] b = latin1(h);
            in.writeToCopy(b, 0, b.length);
        }
        for (byte[] row : r.rowBytes) {
            in.writeToCopy(row, 0, row.length);
        }
        if (binary) {
            in.writeToCopy(new byte[] {-1, -1}, 0, 2);
        }
        assertEquals(IDS.size(), in.endCopy());
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT (SELECT count(*) FROM (TABLE copy_reader_tricky EXCEPT ALL"
                        + " TABLE copy_reader_back) x), (SELECT count(*) FROM (TABLE copy_reader_back EXCEPT ALL"
                        + " TABLE copy_reader_tricky) y)")) {
            assertTrue(rs.next());
            assertEquals(0, rs.getLong(1), "rows lost");
            assertEquals(0, rs.getLong(2), "rows changed");
        }
    }

    /** Cuts at random distances, mostly small ones, some large. */
    static int[] randomCuts(SplittableRandom random, int length) {
        List<Integer> cuts = new ArrayList<>();
        int at = 0;
        while (true) {
            at += random.nextInt(4) == 0 ? 1 + random.nextInt(8192) : 1 + random.nextInt(40);
            if (at >= length) {
                break;
            }
            cuts.add(at);
        }
        return cuts.stream().mapToInt(Integer::intValue).toArray();
    }

    // ---- random data against the server's own COPY FROM ----

    /** Random inputs per option set, each also given to the server's COPY FROM. */
    static final int FUZZ_INPUTS = 1500;

    static List<RoundTrip> fuzzOptions() {
        return List.of(
                new RoundTrip("text", "", "", Options.text()),
                new RoundTrip("csv", "", "(FORMAT csv)", Options.csv()),
                new RoundTrip("csv escape \\", "", "(FORMAT csv, ESCAPE '\\')", Options.csv().withQuote('"', '\\')));
    }

    /**
     * Random short COPY data made of the bytes that matter (delimiters, quotes, backslashes,
     * periods, every line end, {@code N}, escape letters and digits), given to the reader and to the
     * server's {@code COPY t (a, b) FROM STDIN}: both accept it with the same rows and the same
     * values of {@code b}, or both reject it. Where they may differ, by design, the case is counted
     * and named in the assertion: the server (PostgreSQL 15) takes data before a {@code \.} on its
     * line as a last row where this reader, like PostgreSQL 18, rejects the line (and calls data after
     * it "end-of-copy marker corrupt" where PostgreSQL 18 and the reader say "not alone"); and the server
     * checks the encoding of every field (22021), the reader of none.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("fuzzOptions")
    void randomDataReadAsTheServersCopyFromReadsIt(RoundTrip trip) throws Exception {
        Connection c = db();
        try (Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS copy_reader_fuzz");
            st.execute("CREATE TABLE copy_reader_fuzz (ord serial, a text, b text)");
        }
        CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
        boolean csv = trip.options().format() == CopyRowReader.Format.CSV;
        String delimiter = csv ? "," : "\t";
        String[] pieces = csv
                ? new String[] {"a", "a", "b", ",", "\n", "\r", "\r\n", "\"", "\"", "\"\"", "\\", ".", "\\.", "N"}
                : new String[] {"a", "a", "b", "\t", "\n", "\r", "\\", "\\", "\\\\", ".", "\\.", "\\N", "N", "x", "4", "1", "n"};
        SplittableRandom random = new SplittableRandom(trip.name().hashCode());
        int agreed = 0;
        int bothRejected = 0;
        int markerNotAlone = 0;
        int encoding = 0;
        c.setAutoCommit(false);
        try {
            String[] fixed = {"1\n\\.\r\n", "1\r\n\\.\n", "1\r\n\\.\r\r", "1\r\\.\n", "1\r\n\\.\rx", "1\n\\.",
                "1\n\\.x\n", "\\.\r\n\n\r", "1\r\n\\.\r\n2\n", "1\n\\.\n\"", "1\n\"\\.\"\n", "1\n\\.\\.\n", "\\.\n"};
            for (int k = 0; k < fixed.length + FUZZ_INPUTS; k++) {
                StringBuilder sb = new StringBuilder();
                if (k < fixed.length) {
                    sb.append(fixed[k].replace("1", "1" + delimiter + "a"));
                } else {
                    randomInput(sb, random, csv, pieces);
                }
                byte[] data = bytes(sb.toString());
                String ours = outcomeKeys(trip.options(), data, randomCuts(random, data.length));
                String server = serverKeys(c, copy, trip.in(), data);
                if (ours.equals(server)) {
                    agreed++;
                } else if (ours.equals("ERROR:end-of-copy marker is not alone on its line")) {
                    markerNotAlone++;
                } else if (server.startsWith("ERROR:22021") && !ours.startsWith("ERROR:")) {
                    encoding++;
                } else if (ours.startsWith("ERROR:") && server.startsWith("ERROR:")) {
                    bothRejected++;
                    String theirs = server.substring(server.indexOf("ERROR: ") + 7);
                    String mine = ours.substring(6);
                    assertEquals(words(theirs, 3), words(mine, 3), show(sb.toString()) + ": " + theirs + " | " + mine);
                } else {
                    assertEquals(server, ours, "input " + Arrays.toString(sb.toString().chars().toArray())
                            + " \"" + sb.toString().replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + "\"");
                }
            }
        } finally {
            c.rollback();
            c.setAutoCommit(true);
        }
        String counts = trip + ": same rows " + agreed + ", both rejected " + bothRejected
                + ", marker not alone " + markerNotAlone + ", encoding " + encoding;
        System.out.println(counts);
        assertTrue(agreed > FUZZ_INPUTS / 2, counts);
    }

    /**
     * Random binary COPY data (mostly well-formed: rows of two text fields or NULLs, with now and
     * then a row of another field count, a bad length, a header extension, critical flags, no
     * trailer, data after it, or the data cut anywhere) given to the reader and to the server's
     * {@code COPY t (a, b) FROM STDIN (FORMAT binary)}: the same rows and values of {@code b}, or
     * the same error.
     */
    @Test
    void randomBinaryDataReadAsTheServersCopyFromReadsIt() throws Exception {
        Connection c = db();
        try (Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS copy_reader_fuzz");
            st.execute("CREATE TABLE copy_reader_fuzz (ord serial, a text, b text)");
        }
        CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
        SplittableRandom random = new SplittableRandom(5);
        int sameRows = 0;
        int bothRejected = 0;
        c.setAutoCommit(false);
        try {
            for (int k = 0; k < FUZZ_INPUTS; k++) {
                byte[] data = randomBinary(random);
                String ours = outcomeKeys(Options.binary(), data, randomCuts(random, data.length));
                String server = serverKeys(c, copy, "(FORMAT binary)", data);
                if (ours.startsWith("ERROR:") && server.startsWith("ERROR:")) {
                    bothRejected++;
                    String theirs = server.substring(server.indexOf("ERROR: ") + 7);
                    assertEquals(words(theirs, 3), words(ours.substring(6), 3), Arrays.toString(data) + ": " + theirs + " | " + ours);
                } else {
                    assertEquals(server, ours, Arrays.toString(data));
                    sameRows++;
                }
            }
        } finally {
            c.rollback();
            c.setAutoCommit(true);
        }
        System.out.println("binary: same rows " + sameRows + ", both rejected " + bothRejected);
        assertTrue(sameRows > FUZZ_INPUTS / 3, "same rows " + sameRows + ", both rejected " + bothRejected);
    }

    static byte[] randomBinary(SplittableRandom random) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.write(new byte[] {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0});
        int flags = random.nextInt(30) == 0 ? 1 << (16 + random.nextInt(3)) : random.nextInt(4) == 0 ? random.nextInt(1 << 16) : 0;
        out.writeInt(flags);
        int extension = random.nextInt(5) == 0 ? random.nextInt(6) : 0;
        out.writeInt(random.nextInt(40) == 0 ? -1 : extension);
        for (int k = 0; k < extension; k++) {
            out.writeByte(random.nextInt(256));
        }
        int rows = random.nextInt(5);
        for (int row = 0; row < rows; row++) {
            int fields = random.nextInt(15) == 0 ? random.nextInt(4) : 2;
            out.writeShort(fields);
            for (int f = 0; f < fields; f++) {
                if (random.nextInt(6) == 0) {
                    out.writeInt(random.nextInt(30) == 0 ? -2 - random.nextInt(3) : -1);
                    continue;
                }
                byte[] text = new byte[random.nextInt(6)];
                for (int m = 0; m < text.length; m++) {
                    text[m] = (byte) ('a' + random.nextInt(26));
                }
                out.writeInt(text.length);
                out.write(text);
            }
        }
        if (random.nextInt(4) != 0) {
            out.writeShort(-1);
            if (random.nextInt(10) == 0) {
                out.writeByte(random.nextInt(256));
            }
        }
        byte[] data = bytes.toByteArray();
        return random.nextInt(5) == 0 ? Arrays.copyOf(data, random.nextInt(data.length + 1)) : data;
    }

    /** Mostly well-formed rows (two fields, one line end style) with random pieces inside, sometimes anything. */
    static void randomInput(StringBuilder sb, SplittableRandom random, boolean csv, String[] pieces) {
        String delimiter = csv ? "," : "\t";
        String[] lineEnds = {"\n", "\r\n", "\r"};
        String eol = lineEnds[random.nextInt(lineEnds.length)];
        int rowCount = random.nextInt(4);
        for (int row = 0; row < rowCount; row++) {
            for (int field = 0; field < 2; field++) {
                if (field == 1) {
                    sb.append(delimiter);
                }
                boolean quoted = csv && random.nextInt(3) == 0;
                if (quoted) {
                    sb.append('"');
                }
                int n = random.nextInt(4);
                for (int m = 0; m < n; m++) {
                    sb.append(pieces[random.nextInt(random.nextInt(5) == 0 ? pieces.length : 3)]);
                }
                if (quoted) {
                    sb.append('"');
                }
            }
            if (row < rowCount - 1 || random.nextInt(4) != 0) {
                sb.append(random.nextInt(20) == 0 ? lineEnds[random.nextInt(lineEnds.length)] : eol);
            }
        }
        if (random.nextInt(6) == 0) {
            sb.insert(random.nextInt(sb.length() + 1), pieces[random.nextInt(pieces.length)]);
        }
        if (random.nextInt(10) == 0) {
            sb.insert(random.nextInt(sb.length() + 1), "\\." + eol);
        }
    }

    /** The first {@code n} words of a message's first line. */
    static String words(String s, int n) {
        String[] w = s.lines().findFirst().orElse("").split(" ");
        return String.join(" ", Arrays.copyOf(w, Math.min(n, w.length)));
    }

    static String show(String s) {
        return "\"" + s.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + "\"";
    }

    /** The reader's rows as their {@code b} values, or its error. */
    static String outcomeKeys(Options o, byte[] data, int[] cuts) {
        try {
            Read r = read(o, 2, 1, data, cuts);
            return "ROWS:" + r.keys;
        } catch (CopyFormatException e) {
            return "ERROR:" + e.getMessage();
        }
    }

    /** The server's rows as their {@code b} values, or its SQLSTATE, in a transaction rolled back. */
    static String serverKeys(Connection c, CopyManager copy, String options, byte[] data) throws SQLException {
        try {
            copy.copyIn("COPY copy_reader_fuzz (a, b) FROM STDIN " + options, new java.io.ByteArrayInputStream(data));
            List<String> keys = new ArrayList<>();
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT b FROM copy_reader_fuzz ORDER BY ord")) {
                while (rs.next()) {
                    keys.add(rs.getString(1));
                }
            }
            return "ROWS:" + keys;
        } catch (SQLException e) {
            return "ERROR:" + e.getSQLState() + " " + e.getMessage();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } finally {
            c.rollback();
        }
    }

    // ---- fixtures ----

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static void feed(CopyRowReader reader, String s) throws CopyFormatException {
        ByteBuf b = ALLOC.directBuffer().writeBytes(bytes(s));
        try {
            reader.feed(b);
        } finally {
            b.release();
        }
    }

    /** What a reader handed its sink, copied out of the buffers (which the collector releases at once). */
    static final class Collector implements Sink {
        final List<String> headers = new ArrayList<>();
        final List<byte[]> rowBytes = new ArrayList<>();
        final List<String> keys = new ArrayList<>();
        final List<byte[]> binaryKeys = new ArrayList<>();
        long rows;

        @Override
        public void header(ByteBuf bytes) {
            headers.add(bytes.toString(StandardCharsets.ISO_8859_1));
            bytes.release();
        }

        @Override
        public void row(ByteBuf rowBytes, Key key) {
            this.rowBytes.add(ByteBufUtil.getBytes(rowBytes));
            rowBytes.release();
            keys.add(key == null ? null : key.text().toString());
            binaryKeys.add(key == null ? null : ByteBufUtil.getBytes(key.binary()));
            rows++;
        }

        List<String> rowTexts() {
            return rowBytes.stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
        }

        /** Everything, for comparing two reads of the same data. */
        String describe() {
            StringBuilder sb = new StringBuilder();
            headers.forEach(h -> sb.append("H:").append(h).append('|'));
            for (int i = 0; i < rowBytes.size(); i++) {
                sb.append("R:").append(Arrays.toString(rowBytes.get(i))).append(" K:").append(keys.get(i)).append('|');
            }
            return sb.toString();
        }
    }

    /** Rows read, and the rows the reader counted. */
    static final class Read {
        final List<String> headers;
        final List<byte[]> rowBytes;
        final List<String> keys;
        final List<byte[]> binaryKeys;
        final long rows;

        Read(Collector c, long rows) {
            headers = c.headers;
            rowBytes = c.rowBytes;
            keys = c.keys;
            binaryKeys = c.binaryKeys;
            this.rows = rows;
            assertEquals(c.rows, rows);
        }

        List<String> rowTexts() {
            return rowBytes.stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
        }
    }

    static byte[] latin1(String header) {
        return header.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Feeds {@code data} cut at {@code cuts} (ascending), one direct payload per piece, then CopyDone. */
    static Read read(Options o, int columns, int keyColumn, byte[] data, int[] cuts) throws CopyFormatException {
        Collector c = new Collector();
        CopyRowReader reader = new CopyRowReader(o, columns, keyColumn, c);
        int from = 0;
        for (int k = 0; k <= cuts.length; k++) {
            int to = k < cuts.length ? cuts[k] : data.length;
            ByteBuf payload = ALLOC.directBuffer(Math.max(to - from, 1)).writeBytes(data, from, to - from);
            try {
                reader.feed(payload);
            } finally {
                payload.release();
            }
            from = to;
        }
        reader.end();
        return new Read(c, reader.rows());
    }

    /** The outcome of a read as one string: the rows and keys, or the error. */
    static String outcome(Options o, int columns, int keyColumn, byte[] data, int[] cuts) {
        Collector c = new Collector();
        try {
            CopyRowReader reader = new CopyRowReader(o, columns, keyColumn, c);
            int from = 0;
            for (int k = 0; k <= cuts.length; k++) {
                int to = k < cuts.length ? cuts[k] : data.length;
                ByteBuf payload = ALLOC.directBuffer(Math.max(to - from, 1)).writeBytes(data, from, to - from);
                try {
                    reader.feed(payload);
                } finally {
                    payload.release();
                }
                from = to;
            }
            reader.end();
            return c.describe() + "rows=" + reader.rows();
        } catch (CopyFormatException e) {
            return "ERROR:" + e.getMessage();
        }
    }

    /** The same outcome at every cut, every pair of cuts (short data), and a byte at a time. */
    static String sameAtEverySplit(Options o, int columns, int keyColumn, byte[] data) {
        String whole = outcome(o, columns, keyColumn, data, new int[0]);
        for (int k = 0; k <= data.length; k++) {
            assertEquals(whole, outcome(o, columns, keyColumn, data, new int[] {k}), "cut at " + k);
        }
        if (data.length <= 64) {
            for (int k = 0; k <= data.length; k++) {
                for (int m = k; m <= data.length; m++) {
                    assertEquals(whole, outcome(o, columns, keyColumn, data, new int[] {k, m}), "cut at " + k + ", " + m);
                }
            }
        }
        int[] each = new int[Math.max(data.length - 1, 0)];
        for (int k = 0; k < each.length; k++) {
            each[k] = k + 1;
        }
        assertEquals(whole, outcome(o, columns, keyColumn, data, each), "a byte at a time");
        return whole;
    }

    static Read readEverySplit(Options o, int keyColumn, String data) throws CopyFormatException {
        return readEverySplit(o, keyColumn, bytes(data));
    }

    static Read readEverySplit(Options o, int keyColumn, byte[] data) throws CopyFormatException {
        String whole = sameAtEverySplit(o, -1, keyColumn, data);
        assertTrue(!whole.startsWith("ERROR:"), whole);
        return read(o, -1, keyColumn, data, new int[0]);
    }

    static String errorEverySplit(Options o, int keyColumn, String data) {
        return errorEverySplit(o, keyColumn, bytes(data));
    }

    static String errorEverySplit(Options o, int keyColumn, byte[] data) {
        String whole = sameAtEverySplit(o, -1, keyColumn, data);
        assertTrue(whole.startsWith("ERROR:"), "expected an error, got " + whole);
        return whole.substring("ERROR:".length());
    }

    static String error(Options o, int columns, int keyColumn, String data) {
        String whole = sameAtEverySplit(o, columns, keyColumn, bytes(data));
        assertTrue(whole.startsWith("ERROR:"), "expected an error, got " + whole);
        return whole.substring("ERROR:".length());
    }

    /** Writes binary COPY data: the header, rows of an int8 and a text field, raw values. */
    static final class Binary {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final DataOutputStream data = new DataOutputStream(out);

        Binary header(int flags, byte[] extension) throws IOException {
            data.write(new byte[] {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0});
            data.writeInt(flags);
            data.writeInt(extension.length);
            data.write(extension);
            return this;
        }

        /** A row (int8, text); a null array or string is NULL. */
        Binary row(long[] id, String text) throws IOException {
            data.writeShort(2);
            if (id == null) {
                data.writeInt(-1);
            } else {
                data.writeInt(8);
                data.writeLong(id[0]);
            }
            if (text == null) {
                data.writeInt(-1);
            } else {
                byte[] b = text.getBytes(StandardCharsets.UTF_8);
                data.writeInt(b.length);
                data.write(b);
            }
            return this;
        }

        /** A big-endian integer of {@code size} bytes (1, 2 or 4). */
        Binary raw(int value, int size) throws IOException {
            switch (size) {
                case 1 -> data.writeByte(value);
                case 2 -> data.writeShort(value);
                default -> data.writeInt(value);
            }
            return this;
        }

        Binary trailer() throws IOException {
            data.writeShort(-1);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
