package dev.pgfleet.router;

import static dev.pgfleet.router.SqlLexer.COMMA;
import static dev.pgfleet.router.SqlLexer.LPAREN;
import static dev.pgfleet.router.SqlLexer.NUMBER;
import static dev.pgfleet.router.SqlLexer.STRING;
import static dev.pgfleet.router.SqlLexer.WORD;

import dev.pgfleet.router.StatementKeys.CopyStatement;
import dev.pgfleet.router.StatementKeys.CopyStatement.Format;
import dev.pgfleet.router.StatementKeys.Kind;
import java.util.List;

/**
 * A COPY statement (PostgreSQL's gram.y {@code CopyStmt}): its table and column list, its
 * direction, and the data format, in both option syntaxes: {@code WITH (FORMAT csv, HEADER,
 * DELIMITER ';')} (9.0 and later) and the old {@code [BINARY] [DELIMITER [AS] 'c'] [NULL [AS] 'n']
 * [CSV [HEADER] [QUOTE [AS] 'q'] [ESCAPE [AS] 'e'] [FORCE ...]]}, also {@code COPY BINARY t} and
 * {@code USING DELIMITERS 'c'}.
 *
 * <p>Only a COPY whose data crosses the protocol ({@code FROM STDIN}, {@code TO STDOUT}) is a
 * {@link CopyStatement}: one from or to a file or a PROGRAM runs on the server, and on a sharded
 * table it is KEYLESS. {@code COPY table FROM STDIN} into a sharded table is KEYLESS as well, its
 * keys being in the data; {@code COPY table TO STDOUT} reads every shard. {@code COPY (query) TO
 * STDOUT} has the keys of its query.
 */
final class CopyReader {

    /** Reads a statement nested in the COPY (its query) with tables of its own. */
    interface Nested {
        StatementKeys read(int s, int e);
    }

    private final StatementTokens t;
    private final ShardKeyReader.Tables tables;
    private final Nested nested;

    private Format format = Format.TEXT;
    private String delimiter;
    private String quote;
    private String escape;
    private String nullString;
    private boolean header;

    CopyReader(StatementTokens t, ShardKeyReader.Tables tables, Nested nested) {
        this.t = t;
        this.tables = tables;
        this.nested = nested;
    }

    /** The COPY statement in tokens {@code [s, e)}, {@code s} at COPY. */
    StatementKeys copy(int s, int e) {
        int i = s + 1;
        if (t.isWord(i, KeyReaderWords.BINARY) && t.isName(i + 1)) {
            format = Format.BINARY;
            i++;
        }
        int queryOpen = -1;
        String table = null;
        String key = null;
        List<String> columns = null;
        if (t.is(i, LPAREN)) {
            queryOpen = i;
            i = t.after(i);
        } else {
            int end = t.nameEnd(i, e);
            if (end == i) {
                return StatementKeys.unsharded(null, false, null);
            }
            String name = t.name(end - 1);
            String schema = end - i >= 3 ? t.name(end - 3) : null;
            table = schema == null ? name : schema + "." + name;
            key = tables.keyColumn(schema, name);
            i = end;
            if (t.is(i, LPAREN)) {
                columns = t.firstNames(i);
                i = t.after(i);
            }
        }
        boolean from = t.isWord(i, KeyReaderWords.FROM);
        i++;
        boolean stdio = t.isWord(i, from ? KeyReaderWords.STDIN : KeyReaderWords.STDOUT);
        if (t.isWord(i, KeyReaderWords.PROGRAM)) {
            i++;
        }
        i++;
        StatementKeys query = queryOpen >= 0 ? nested.read(queryOpen + 1, t.partner[queryOpen]) : null;
        if (!stdio) {
            String where = from ? "FROM a file or PROGRAM" : "TO a file or PROGRAM";
            if (query != null) {
                return query.kind() == Kind.KEYLESS
                        ? StatementKeys.keyless("COPY (query) " + where + ": " + query.reason(), query.table(),
                                query.column())
                        : query;
            }
            return key != null
                    ? StatementKeys.keyless("COPY " + table + " " + where + " runs on one server: not a sharded COPY",
                            table, key)
                    : StatementKeys.unsharded(null, true, null);
        }
        options(i, e);
        int keyIndex = columns != null && key != null ? columns.indexOf(key) : -1;
        CopyStatement copy = copyStatement(query != null ? null : table, columns, keyIndex, from);
        if (query != null) {
            String reason = query.kind() == Kind.KEYLESS ? "COPY (query) TO STDOUT: " + query.reason() : query.reason();
            return new StatementKeys(query.kind(), reason, query.table(), query.column(), query.keys(), List.of(),
                    -1, -1, copy, query.usesDefaultShard());
        }
        if (key == null) {
            return StatementKeys.unsharded(null, true, copy);
        }
        String reason;
        if (!from) {
            reason = "COPY " + table + " TO STDOUT reads every shard";
        } else if (columns == null) {
            reason = "COPY into sharded table " + table + " needs a column list to find its sharding key " + key;
        } else if (keyIndex < 0) {
            reason = "COPY into sharded table " + table + " without its sharding key " + key;
        } else {
            reason = "COPY FROM STDIN into sharded table " + table + ": the keys are in the data (column "
                    + (keyIndex + 1) + ")";
        }
        return new StatementKeys(Kind.KEYLESS, reason, table, key, List.of(), List.of(), -1, -1, copy, false);
    }

    private CopyStatement copyStatement(String table, List<String> columns, int keyIndex, boolean from) {
        char d;
        char q = 0;
        char esc = 0;
        String nul;
        switch (format) {
            case CSV:
                d = single(delimiter, ',');
                q = single(quote, '"');
                esc = single(escape, q);
                nul = nullString != null ? nullString : "";
                break;
            case BINARY:
                d = 0;
                nul = null;
                break;
            default:
                d = single(delimiter, '\t');
                nul = nullString != null ? nullString : "\\N";
                break;
        }
        return new CopyStatement(table, columns, keyIndex, from, format, d, q, esc, nul, header);
    }

    /** A one-character option, or its default (PostgreSQL refuses any other length). */
    private static char single(String value, char otherwise) {
        return value != null && value.length() == 1 ? value.charAt(0) : otherwise;
    }

    // -- options ----------------------------------------------------------------------------------

    /** The options after {@code STDIN} / {@code STDOUT}. */
    private void options(int i, int e) {
        if (t.isWord(i, KeyReaderWords.USING) && t.isWord(i + 1, KeyReaderWords.DELIMITERS)) {
            i++;
        }
        if (t.isWord(i, KeyReaderWords.DELIMITERS) && t.is(i + 1, STRING)) {
            delimiter = KeyConstants.string(t, i + 1);
            i += 2;
        }
        if (t.isWord(i, KeyReaderWords.WITH)) {
            i++;
        }
        if (t.is(i, LPAREN)) {
            genericOptions(i);
            return;
        }
        while (i < e && t.is(i, WORD) && !t.isWord(i, KeyReaderWords.WHERE)) {
            String option = t.name(i);
            i++;
            switch (option) {
                case "binary": format = Format.BINARY; break;
                case "csv": format = Format.CSV; break;
                case "header": header = true; break;
                case "delimiter": delimiter = stringAfterAs(i); i = skipAs(i) + 1; break;
                case "null": nullString = stringAfterAs(i); i = skipAs(i) + 1; break;
                case "quote": quote = stringAfterAs(i); i = skipAs(i) + 1; break;
                case "escape": escape = stringAfterAs(i); i = skipAs(i) + 1; break;
                case "encoding": i++; break;
                case "force":
                    // FORCE QUOTE cols | *, FORCE NOT NULL cols, FORCE NULL cols
                    while (t.is(i, WORD) && (t.isWord(i, KeyReaderWords.NOT) || t.isWord(i, KeyReaderWords.NULL)
                            || t.isWord(i, KeyReaderWords.QUOTE))) {
                        i++;
                    }
                    if (t.isOp(i, "*")) {
                        i++;
                    } else {
                        i = t.nameEnd(i, e);
                        while (t.is(i, COMMA)) {
                            i = t.nameEnd(i + 1, e);
                        }
                    }
                    break;
                default:
                    break; // FREEZE, OIDS
            }
        }
    }

    private int skipAs(int i) {
        return t.isWord(i, KeyReaderWords.AS) ? i + 1 : i;
    }

    private String stringAfterAs(int i) {
        int at = skipAs(i);
        return t.is(at, STRING) ? KeyConstants.string(t, at) : null;
    }

    /** {@code ( name [value], ... )}: the value a word, a string, a number, {@code *} or a list. */
    private void genericOptions(int open) {
        int close = t.partner[open];
        int i = open + 1;
        while (i < close) {
            if (!t.isName(i)) {
                i++;
                continue;
            }
            String option = t.name(i);
            int v = i + 1;
            boolean hasValue = v < close && !t.is(v, COMMA);
            String value = !hasValue ? null
                    : t.is(v, STRING) ? KeyConstants.string(t, v)
                    : t.is(v, WORD) || t.is(v, NUMBER) ? t.name(v) : null;
            switch (option) {
                case "format":
                    if (value != null) {
                        switch (value.toLowerCase(java.util.Locale.ROOT)) {
                            case "csv": format = Format.CSV; break;
                            case "binary": format = Format.BINARY; break;
                            default: format = Format.TEXT; break;
                        }
                    }
                    break;
                case "header":
                    header = !hasValue || value == null || isTrue(value);
                    break;
                case "delimiter": delimiter = value; break;
                case "null": nullString = value; break;
                case "quote": quote = value; break;
                case "escape": escape = value; break;
                default: break;
            }
            i = v;
            while (i < close && !(t.open[i] == open && t.is(i, COMMA))) {
                i++;
            }
            i++;
        }
    }

    /** PostgreSQL's boolean option spellings, and {@code HEADER MATCH} (which has a header line too). */
    private static boolean isTrue(String value) {
        switch (value.toLowerCase(java.util.Locale.ROOT)) {
            case "false": case "off": case "0": case "no": case "f": case "n":
                return false;
            default:
                return true;
        }
    }
}
