package dev.pgfleet.router;

import static dev.pgfleet.router.SqlLexer.COMMA;
import static dev.pgfleet.router.SqlLexer.DOT;
import static dev.pgfleet.router.SqlLexer.EOF;
import static dev.pgfleet.router.SqlLexer.ERROR;
import static dev.pgfleet.router.SqlLexer.LPAREN;
import static dev.pgfleet.router.SqlLexer.OP;
import static dev.pgfleet.router.SqlLexer.QIDENT;
import static dev.pgfleet.router.SqlLexer.RPAREN;
import static dev.pgfleet.router.SqlLexer.SEMI;
import static dev.pgfleet.router.SqlLexer.STRING;
import static dev.pgfleet.router.SqlLexer.WORD;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The tokens of one SQL statement, read in one {@link SqlLexer} pass, with their parenthesis
 * structure: for every token the {@code (} it is inside ({@link #open}, -1 at the statement's top
 * level) and for every parenthesis its partner ({@link #partner}), so a reader can look ahead,
 * skip a parenthesised group or compare levels without a second pass. Word tokens carry a
 * {@link KeyReaderWords} id; string constants the prefix that says how to read them.
 */
public final class StatementTokens {
    public final CharSequence sql;
    public int count;
    public int[] type = new int[32];
    public int[] start = new int[32];
    public int[] end = new int[32];
    /** {@link KeyReaderWords} id of an unquoted word, else -1. */
    public int[] word = new int[32];
    /** Index of the innermost enclosing {@code (}, or -1. */
    public int[] open = new int[32];
    /** For a parenthesis, the index of its partner; else -1. */
    public int[] partner = new int[32];
    /**
     * For a string constant: {@code '\''} plain, {@code 'E'} with backslash escapes, {@code 'N'}
     * national, {@code 'B'}/{@code 'X'} bit strings, {@code 'U'} Unicode escapes, {@code '$'} dollar quoted.
     */
    char[] prefix = new char[32];
    /** The statement has an unterminated string, identifier or comment, or unbalanced parentheses. */
    public boolean broken;

    private StatementTokens(CharSequence sql) {
        this.sql = sql;
    }

    /**
     * Reads the statement starting at the lexer's current token (neither {@code ;} nor EOF) up to
     * its {@code ;} at the top level or the end; the lexer is left on that {@code ;}, EOF or ERROR.
     */
    public static StatementTokens read(SqlLexer lx) {
        StatementTokens t = new StatementTokens(lx.sql());
        int[] stack = new int[16];
        int depth = 0;
        int lastEnd = 0;
        for (int type = lx.type; ; type = lx.next()) {
            if (type == EOF) {
                break;
            }
            if (type == ERROR) {
                t.broken = true;
                break;
            }
            if (type == SEMI && depth == 0) {
                break;
            }
            int i = t.add(lx, depth == 0 ? -1 : stack[depth - 1], lastEnd);
            if (type == LPAREN) {
                if (depth == stack.length) {
                    stack = Arrays.copyOf(stack, depth * 2);
                }
                stack[depth++] = i;
            } else if (type == RPAREN) {
                if (depth == 0) {
                    t.broken = true;
                } else {
                    int o = stack[--depth];
                    t.partner[o] = i;
                    t.partner[i] = o;
                    t.open[i] = t.open[o];
                }
            }
            lastEnd = lx.end + (type == STRING || type == QIDENT ? 1 : 0);
        }
        if (depth != 0) {
            t.broken = true;
        }
        return t;
    }

    private int add(SqlLexer lx, int enclosing, int lastEnd) {
        int i = count;
        if (i == type.length) {
            int n = i * 2;
            type = Arrays.copyOf(type, n);
            start = Arrays.copyOf(start, n);
            end = Arrays.copyOf(end, n);
            word = Arrays.copyOf(word, n);
            open = Arrays.copyOf(open, n);
            partner = Arrays.copyOf(partner, n);
            prefix = Arrays.copyOf(prefix, n);
        }
        type[i] = lx.type;
        start[i] = lx.start;
        end[i] = lx.end;
        open[i] = enclosing;
        partner[i] = -1;
        word[i] = lx.type == WORD ? KeyReaderWords.of(sql, lx.start, lx.end, lx.hash) : -1;
        prefix[i] = lx.type == STRING ? prefixOf(lx.start, lastEnd) : 0;
        count++;
        return i;
    }

    /** The kind of string constant whose content starts at {@code s}; the token began at or after {@code from}. */
    private char prefixOf(int s, int from) {
        char q = sql.charAt(s - 1);
        if (q == '$') {
            return '$';
        }
        if (s - 2 >= from) {
            char p = sql.charAt(s - 2);
            if (p == '&' && s - 3 >= from) {
                return 'U';
            }
            switch (p) {
                case 'e': case 'E': return 'E';
                case 'n': case 'N': return 'N';
                case 'b': case 'B': return 'B';
                case 'x': case 'X': return 'X';
                default: break;
            }
        }
        return '\'';
    }

    // -- looking at tokens ----------------------------------------------------------------------

    public boolean isWord(int i, int w) {
        return i >= 0 && i < count && type[i] == WORD && word[i] == w;
    }

    public boolean is(int i, int tokenType) {
        return i >= 0 && i < count && type[i] == tokenType;
    }

    /** Token {@code i} is the operator {@code op} exactly. */
    public boolean isOp(int i, String op) {
        if (!is(i, OP) || end[i] - start[i] != op.length()) {
            return false;
        }
        for (int k = 0; k < op.length(); k++) {
            if (sql.charAt(start[i] + k) != op.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** An identifier: an unquoted word or a quoted identifier. */
    public boolean isName(int i) {
        return is(i, WORD) || is(i, QIDENT);
    }

    /** A name that may be an alias written without AS. */
    boolean isBareAlias(int i) {
        return is(i, QIDENT) || (is(i, WORD) && !KeyReaderWords.notAlias(word[i]));
    }

    /** The identifier as PostgreSQL sees it: an unquoted word folded to lower case, a quoted one as is. */
    public String name(int i) {
        StringBuilder b = new StringBuilder(end[i] - start[i]);
        if (type[i] == QIDENT) {
            for (int k = start[i]; k < end[i]; k++) {
                char c = sql.charAt(k);
                b.append(c);
                if (c == '"') {
                    k++; // "" stands for "
                }
            }
        } else {
            for (int k = start[i]; k < end[i]; k++) {
                b.append(NameSet.fold(sql.charAt(k)));
            }
        }
        return b.toString();
    }

    /** Index just after the dotted name starting at {@code i} ({@code a}, {@code a.b}, {@code a.b.c}); i if none. */
    public int nameEnd(int i, int limit) {
        if (i >= limit || !isName(i)) {
            return i;
        }
        int j = i + 1;
        while (j + 1 < limit && is(j, DOT) && isName(j + 1)) {
            j += 2;
        }
        return j;
    }

    /** Index after the parenthesised group opening at {@code i}, or {@code i} if it is no {@code (}. */
    public int after(int i) {
        return is(i, LPAREN) ? partner[i] + 1 : i;
    }

    /** The region {@code [s, e)} is one parenthesised group. */
    public boolean wrapped(int s, int e) {
        return e - s >= 2 && type[s] == LPAREN && partner[s] == e - 1;
    }

    /** A query starts at token {@code i}: SELECT, WITH, VALUES, TABLE, a data-modifying statement or {@code (query)}. */
    public boolean queryStart(int i) {
        if (i >= count) {
            return false;
        }
        if (type[i] == LPAREN) {
            return queryStart(i + 1);
        }
        if (type[i] != WORD) {
            return false;
        }
        switch (word[i]) {
            case KeyReaderWords.SELECT: case KeyReaderWords.WITH: case KeyReaderWords.VALUES:
            case KeyReaderWords.TABLE: case KeyReaderWords.INSERT: case KeyReaderWords.UPDATE:
            case KeyReaderWords.DELETE:
                return true;
            default:
                return false;
        }
    }

    /** The first name of each element of the parenthesised list at {@code open}. */
    List<String> firstNames(int open) {
        List<String> names = new ArrayList<>();
        boolean first = true;
        for (int k = open + 1; k < partner[open]; k++) {
            if (this.open[k] != open) {
                continue;
            }
            if (is(k, COMMA)) {
                first = true;
            } else if (first) {
                first = false;
                names.add(isName(k) ? name(k) : "");
            }
        }
        return names;
    }

    /** Characters {@code [start, end)} of token {@code i}, as a String. */
    public String text(int i) {
        return sql.subSequence(start[i], end[i]).toString();
    }
}
