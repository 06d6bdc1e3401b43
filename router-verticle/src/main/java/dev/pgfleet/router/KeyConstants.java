package dev.pgfleet.router;

import static dev.pgfleet.router.SqlLexer.LPAREN;
import static dev.pgfleet.router.SqlLexer.NUMBER;
import static dev.pgfleet.router.SqlLexer.PARAM;
import static dev.pgfleet.router.SqlLexer.QIDENT;
import static dev.pgfleet.router.SqlLexer.STRING;
import static dev.pgfleet.router.SqlLexer.WORD;

import dev.pgfleet.router.StatementKeys.KeyValue;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * Reads a key value written in SQL: a constant or a parameter, possibly in parentheses, with a
 * leading sign on a number, and with casts ({@code ::bigint}, {@code CAST(... AS text)},
 * {@code uuid '...'}) to a type a sharding key can have. The value is what the type's text input function would see: the
 * content of {@code '...'} with {@code ''} undone, {@code E'...'} and {@code U&'...'} with their
 * escapes resolved (section 4.1.2 of the PostgreSQL manual), {@code $$...$$} as written.
 *
 * <p>Anything else is no key: an expression, a bit string, a cast that may change the value
 * ({@code ::varchar(3)} truncates, {@code ::char} keeps one character, {@code ::numeric} compares
 * differently), {@code U&'...' UESCAPE}, constants split over lines ({@code 'a' 'b'}).
 */
final class KeyConstants {
    private KeyConstants() {
    }

    /** Types whose cast leaves a key's text as it is (or rejects it): the key types of sharded_tables. */
    private static final Set<String> KEY_TYPES = Set.of("int2", "int4", "int8", "smallint", "integer", "int",
            "bigint", "text", "varchar", "uuid");

    /**
     * The key value that is exactly the tokens {@code [s, e)}, or null.
     *
     * @param negative a {@code -} already read before {@code s} (an {@code =-} operator token)
     */
    static KeyValue value(StatementTokens t, int s, int e, boolean negative) {
        if (s >= e) {
            return null;
        }
        int i = s;
        KeyValue v;
        boolean minus = negative;
        boolean signed = negative;
        if (!negative && (t.isOp(i, "-") || t.isOp(i, "+"))) {
            minus = t.isOp(i, "-");
            signed = true;
            i++;
        }
        if (signed) {
            if (!t.is(i, NUMBER) || i >= e) {
                return null;
            }
            v = new KeyValue.Constant(minus ? "-" + t.text(i) : t.text(i));
            i++;
        } else {
            switch (t.type[i]) {
                case PARAM:
                    try {
                        v = new KeyValue.Param(Integer.parseInt(t.sql, t.start[i] + 1, t.end[i], 10));
                    } catch (NumberFormatException tooLarge) {
                        return null;
                    }
                    i++;
                    break;
                case NUMBER:
                    v = new KeyValue.Constant(t.text(i));
                    i++;
                    break;
                case STRING: {
                    String text = string(t, i);
                    if (text == null || t.is(i + 1, STRING)
                            || (t.prefix[i] == 'U' && t.isWord(i + 1, KeyReaderWords.UESCAPE))) {
                        return null;
                    }
                    v = new KeyValue.Constant(text);
                    i++;
                    break;
                }
                case LPAREN: {
                    int close = t.partner[i];
                    if (close >= e) {
                        return null;
                    }
                    v = value(t, i + 1, close, false);
                    i = close + 1;
                    break;
                }
                case WORD: {
                    if (t.is(i + 1, STRING) && t.word[i] != KeyReaderWords.CAST) {
                        // type 'string' (section 4.2.9): bigint '42', uuid '...'
                        if (type(t, i, i + 1) != i + 1 || t.prefix[i + 1] == 'U') {
                            return null;
                        }
                        String text = string(t, i + 1);
                        if (text == null || t.is(i + 2, STRING)) {
                            return null;
                        }
                        v = new KeyValue.Constant(text);
                        i += 2;
                        break;
                    }
                    if (t.word[i] != KeyReaderWords.CAST || !t.is(i + 1, LPAREN)) {
                        return null;
                    }
                    int close = t.partner[i + 1];
                    int as = i + 2;
                    while (as < close && !(t.open[as] == i + 1 && t.isWord(as, KeyReaderWords.AS))) {
                        as++;
                    }
                    if (as >= close || type(t, as + 1, close) != close) {
                        return null;
                    }
                    v = value(t, i + 2, as, false);
                    i = close + 1;
                    break;
                }
                default:
                    return null;
            }
        }
        while (v != null && i < e) {
            if (!t.isOp(i, "::")) {
                return null;
            }
            i = type(t, i + 1, e);
            if (i < 0) {
                return null;
            }
        }
        return i == e ? v : null;
    }

    /** Index after a key type name at {@code i} ({@code bigint}, {@code pg_catalog.text}, {@code character varying}), or -1. */
    private static int type(StatementTokens t, int i, int e) {
        if (t.isName(i) && t.is(i + 1, SqlLexer.DOT) && t.name(i).equals("pg_catalog")) {
            i += 2;
        }
        if (i >= e || !t.isName(i)) {
            return -1;
        }
        String n = t.name(i);
        int j = i + 1;
        if (n.equals("character") && t.is(j, WORD) && t.name(j).equals("varying")) {
            j++;
        } else if (!KEY_TYPES.contains(n) || (t.type[i] == QIDENT && !n.equals(t.text(i)))) {
            return -1;
        }
        if (j < e && (t.is(j, LPAREN) || t.isOp(j, "["))) {
            return -1; // a type modifier or an array
        }
        return j;
    }

    /** The value of string constant token {@code i}, or null if it is a bit string or its escapes are invalid. */
    static String string(StatementTokens t, int i) {
        CharSequence sql = t.sql;
        int s = t.start[i];
        int e = t.end[i];
        switch (t.prefix[i]) {
            case '$':
                return sql.subSequence(s, e).toString();
            case '\'':
            case 'N':
                return undoubled(sql, s, e);
            case 'E':
                return escaped(sql, s, e);
            case 'U':
                return unicodeEscaped(sql, s, e);
            default:
                return null;
        }
    }

    private static String undoubled(CharSequence sql, int s, int e) {
        StringBuilder b = new StringBuilder(e - s);
        for (int k = s; k < e; k++) {
            char c = sql.charAt(k);
            b.append(c);
            if (c == '\'') {
                k++;
            }
        }
        return b.toString();
    }

    /** {@code E'...'}: \b \f \n \r \t, \ooo and \xhh (bytes of UTF-8), \\uXXXX and \\UXXXXXXXX, \c for c. */
    private static String escaped(CharSequence sql, int s, int e) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(e - s);
        int k = s;
        while (k < e) {
            char c = sql.charAt(k);
            if (c == '\'') {
                bytes.write('\'');
                k += 2;
                continue;
            }
            if (c != '\\') {
                int cp = Character.codePointAt(sql, k);
                utf8(bytes, cp);
                k += Character.charCount(cp);
                continue;
            }
            if (k + 1 >= e) {
                return null;
            }
            char n = sql.charAt(k + 1);
            k += 2;
            switch (n) {
                case 'b': bytes.write('\b'); break;
                case 'f': bytes.write('\f'); break;
                case 'n': bytes.write('\n'); break;
                case 'r': bytes.write('\r'); break;
                case 't': bytes.write('\t'); break;
                case 'x': {
                    int v = 0;
                    int digits = 0;
                    while (digits < 2 && k < e && Character.digit(sql.charAt(k), 16) >= 0) {
                        v = v * 16 + Character.digit(sql.charAt(k++), 16);
                        digits++;
                    }
                    if (digits == 0) {
                        bytes.write('x');
                    } else {
                        bytes.write(v);
                    }
                    break;
                }
                case 'u': case 'U': {
                    int len = n == 'u' ? 4 : 8;
                    int cp = hex(sql, k, len, e);
                    if (cp < 0) {
                        return null;
                    }
                    k += len;
                    if (Character.isHighSurrogate((char) cp) && cp <= 0xFFFF) {
                        if (k + 6 > e || sql.charAt(k) != '\\' || sql.charAt(k + 1) != 'u') {
                            return null;
                        }
                        int low = hex(sql, k + 2, 4, e);
                        if (low < 0 || !Character.isLowSurrogate((char) low)) {
                            return null;
                        }
                        cp = Character.toCodePoint((char) cp, (char) low);
                        k += 6;
                    }
                    if (!validCodePoint(cp)) {
                        return null;
                    }
                    utf8(bytes, cp);
                    break;
                }
                default:
                    if (n >= '0' && n <= '7') {
                        int v = n - '0';
                        int digits = 1;
                        while (digits < 3 && k < e && sql.charAt(k) >= '0' && sql.charAt(k) <= '7') {
                            v = v * 8 + (sql.charAt(k++) - '0');
                            digits++;
                        }
                        bytes.write(v & 0xFF);
                    } else {
                        int cp = Character.codePointAt(sql, k - 1);
                        utf8(bytes, cp);
                        k += Character.charCount(cp) - 1;
                    }
            }
        }
        return utf8String(bytes.toByteArray());
    }

    /** {@code U&'...'} with the default escape: \XXXX, \+XXXXXX, \\ for a backslash. */
    private static String unicodeEscaped(CharSequence sql, int s, int e) {
        StringBuilder b = new StringBuilder(e - s);
        int k = s;
        while (k < e) {
            char c = sql.charAt(k);
            if (c == '\'') {
                b.append('\'');
                k += 2;
                continue;
            }
            if (c != '\\') {
                b.append(c);
                k++;
                continue;
            }
            if (k + 1 < e && sql.charAt(k + 1) == '\\') {
                b.append('\\');
                k += 2;
                continue;
            }
            boolean plus = k + 1 < e && sql.charAt(k + 1) == '+';
            int len = plus ? 6 : 4;
            int cp = hex(sql, plus ? k + 2 : k + 1, len, e);
            if (cp < 0) {
                return null;
            }
            k += (plus ? 2 : 1) + len;
            if (Character.isHighSurrogate((char) cp) && cp <= 0xFFFF) {
                int low = k + 5 <= e && sql.charAt(k) == '\\' ? hex(sql, k + 1, 4, e) : -1;
                if (low < 0 || !Character.isLowSurrogate((char) low)) {
                    return null;
                }
                cp = Character.toCodePoint((char) cp, (char) low);
                k += 5;
            }
            if (!validCodePoint(cp)) {
                return null;
            }
            b.appendCodePoint(cp);
        }
        return b.toString();
    }

    private static boolean validCodePoint(int cp) {
        return cp > 0 && cp <= Character.MAX_CODE_POINT && !(cp >= 0xD800 && cp <= 0xDFFF);
    }

    private static int hex(CharSequence sql, int at, int len, int e) {
        if (at + len > e) {
            return -1;
        }
        int v = 0;
        for (int k = at; k < at + len; k++) {
            int d = Character.digit(sql.charAt(k), 16);
            if (d < 0) {
                return -1;
            }
            v = v * 16 + d;
        }
        return v;
    }

    private static void utf8(ByteArrayOutputStream out, int cp) {
        byte[] b = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
        out.write(b, 0, b.length);
    }

    /** PostgreSQL refuses a zero byte and invalid UTF-8 in a string constant; so do we. */
    private static String utf8String(byte[] bytes) {
        for (byte b : bytes) {
            if (b == 0) {
                return null;
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException invalid) {
            return null;
        }
    }
}
