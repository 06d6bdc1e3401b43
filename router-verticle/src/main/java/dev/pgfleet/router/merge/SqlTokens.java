package dev.pgfleet.router.merge;

import java.util.Arrays;
import java.util.Locale;

/**
 * The tokens of one SELECT statement for the planner, each with its raw span in the SQL (quotes
 * and prefixes included, so {@code sql[start, end)} can be copied into a shard's statement as is)
 * and its parenthesis structure. It follows PostgreSQL's scan.l (manual section 4.1) with
 * {@code standard_conforming_strings = on}: comments ({@code --}, nested block comments) are
 * skipped, string constants ({@code '..'}, {@code E'..'}, {@code B''}, {@code X''}, {@code N''},
 * {@code U&''}), dollar quotes and quoted identifiers are single tokens. Square brackets count
 * as parentheses, so an array subscript or {@code ARRAY[...]} is skipped like a call's arguments.
 */
final class SqlTokens {
    static final int WORD = 1, QIDENT = 2, STRING = 3, NUMBER = 4, PARAM = 5, LPAREN = 6, RPAREN = 7,
            SEMI = 8, COMMA = 9, DOT = 10, OP = 11;

    final String sql;
    int count;
    int[] type = new int[64];
    int[] start = new int[64];
    int[] end = new int[64];
    /** Parenthesis depth of the token (a parenthesis itself counts at its outer depth). */
    int[] depth = new int[64];
    /** A parenthesis's partner, else -1. */
    int[] partner = new int[64];
    /** Lower-case text of an unquoted word, else null. */
    String[] word = new String[64];

    private SqlTokens(String sql) {
        this.sql = sql;
    }

    /** Reads the statement up to a top-level {@code ;}; throws on broken SQL. */
    static SqlTokens read(CharSequence text) throws CrossShardRefusal {
        SqlTokens t = new SqlTokens(text.toString());
        t.scan();
        return t;
    }

    private void scan() throws CrossShardRefusal {
        String s = sql;
        int n = s.length();
        int pos = 0;
        int[] stack = new int[16];
        int d = 0;
        while (true) {
            pos = skipSpace(pos);
            if (pos >= n) {
                break;
            }
            char c = s.charAt(pos);
            int from = pos;
            int kind;
            if (isIdentStart(c)) {
                int j = pos + 1;
                while (j < n && isIdentPart(s.charAt(j))) {
                    j++;
                }
                if (j - pos == 1 && j < n && s.charAt(j) == '\'' && "eEbBxXnN".indexOf(c) >= 0) {
                    pos = string(j, c == 'e' || c == 'E');
                    kind = STRING;
                } else if (j - pos == 1 && (c == 'u' || c == 'U') && j + 1 < n && s.charAt(j) == '&'
                        && (s.charAt(j + 1) == '\'' || s.charAt(j + 1) == '"')) {
                    kind = s.charAt(j + 1) == '\'' ? STRING : QIDENT;
                    pos = kind == STRING ? string(j + 1, false) : quoted(j + 1);
                } else {
                    pos = j;
                    kind = WORD;
                }
            } else if (c == '\'') {
                pos = string(pos, false);
                kind = STRING;
            } else if (c == '"') {
                pos = quoted(pos);
                kind = QIDENT;
            } else if (c == '$') {
                int j = pos + 1;
                if (j < n && isDigit(s.charAt(j))) {
                    while (j < n && isDigit(s.charAt(j))) {
                        j++;
                    }
                    pos = j;
                    kind = PARAM;
                } else {
                    while (j < n && isIdentPart(s.charAt(j)) && s.charAt(j) != '$') {
                        j++;
                    }
                    if (j >= n || s.charAt(j) != '$') {
                        throw new CrossShardRefusal("cannot read the statement at offset " + pos);
                    }
                    String tag = s.substring(pos, j + 1);
                    int close = s.indexOf(tag, j + 1);
                    if (close < 0) {
                        throw new CrossShardRefusal("unterminated dollar-quoted string");
                    }
                    pos = close + tag.length();
                    kind = STRING;
                }
            } else if (c == '(' || c == '[') {
                pos++;
                kind = LPAREN;
            } else if (c == ')' || c == ']') {
                pos++;
                kind = RPAREN;
            } else if (c == ';') {
                pos++;
                kind = SEMI;
            } else if (c == ',') {
                pos++;
                kind = COMMA;
            } else if (c == '.' && !(pos + 1 < n && isDigit(s.charAt(pos + 1)))) {
                pos++;
                kind = DOT;
            } else if (isDigit(c) || c == '.') {
                int j = pos;
                while (j < n) {
                    char x = s.charAt(j);
                    if (isDigit(x) || x == '.' || x == '_') {
                        j++;
                    } else if ((x == 'e' || x == 'E') && j + 1 < n && (isDigit(s.charAt(j + 1))
                            || ((s.charAt(j + 1) == '+' || s.charAt(j + 1) == '-') && j + 2 < n
                            && isDigit(s.charAt(j + 2))))) {
                        j += 2;
                    } else if (isIdentStart(x) && j > pos && s.charAt(pos) == '0') {
                        j++; // 0x1F, 0o17, 0b101
                    } else {
                        break;
                    }
                }
                pos = j;
                kind = NUMBER;
            } else {
                pos = operator(pos, c);
                kind = OP;
            }
            if (kind == SEMI && d == 0) {
                for (int k = skipSpace(pos); k < n; k = skipSpace(k)) {
                    if (s.charAt(k) != ';') {
                        throw new CrossShardRefusal("more than one statement");
                    }
                    k++;
                }
                break;
            }
            int i = add(kind, from, pos, d);
            if (kind == LPAREN) {
                if (d == stack.length) {
                    stack = Arrays.copyOf(stack, d * 2);
                }
                stack[d++] = i;
            } else if (kind == RPAREN) {
                if (d == 0) {
                    throw new CrossShardRefusal("unbalanced parentheses");
                }
                int o = stack[--d];
                partner[o] = i;
                partner[i] = o;
                depth[i] = d;
            }
        }
        if (d != 0) {
            throw new CrossShardRefusal("unbalanced parentheses");
        }
    }

    private int add(int kind, int from, int to, int d) {
        if (count == type.length) {
            int m = count * 2;
            type = Arrays.copyOf(type, m);
            start = Arrays.copyOf(start, m);
            end = Arrays.copyOf(end, m);
            depth = Arrays.copyOf(depth, m);
            partner = Arrays.copyOf(partner, m);
            word = Arrays.copyOf(word, m);
        }
        int i = count++;
        type[i] = kind;
        start[i] = from;
        end[i] = to;
        depth[i] = d;
        partner[i] = -1;
        word[i] = kind == WORD ? sql.substring(from, to).toLowerCase(Locale.ROOT) : null;
        return i;
    }

    private int string(int quote, boolean backslash) throws CrossShardRefusal {
        int n = sql.length();
        int j = quote + 1;
        while (j < n) {
            char c = sql.charAt(j);
            if (c == '\\' && backslash) {
                j += 2;
            } else if (c == '\'') {
                if (j + 1 < n && sql.charAt(j + 1) == '\'') {
                    j += 2;
                } else {
                    return j + 1;
                }
            } else {
                j++;
            }
        }
        throw new CrossShardRefusal("unterminated quoted string");
    }

    private int quoted(int quote) throws CrossShardRefusal {
        int n = sql.length();
        int j = quote + 1;
        while (j < n) {
            if (sql.charAt(j) == '"') {
                if (j + 1 < n && sql.charAt(j + 1) == '"') {
                    j += 2;
                    continue;
                }
                return j + 1;
            }
            j++;
        }
        throw new CrossShardRefusal("unterminated quoted identifier");
    }

    private int operator(int pos, char c) {
        int n = sql.length();
        int j = pos + 1;
        if (isOperatorChar(c) || c == ':') {
            while (j < n) {
                char x = sql.charAt(j);
                if (!(isOperatorChar(x) || (c == ':' && x == ':'))) {
                    break;
                }
                if (j + 1 < n && ((x == '-' && sql.charAt(j + 1) == '-') || (x == '/' && sql.charAt(j + 1) == '*'))) {
                    break;
                }
                j++;
            }
        }
        return j;
    }

    private int skipSpace(int pos) throws CrossShardRefusal {
        String s = sql;
        int n = s.length();
        while (pos < n) {
            char c = s.charAt(pos);
            if (Character.isWhitespace(c)) {
                pos++;
            } else if (c == '-' && pos + 1 < n && s.charAt(pos + 1) == '-') {
                while (pos < n && s.charAt(pos) != '\n' && s.charAt(pos) != '\r') {
                    pos++;
                }
            } else if (c == '/' && pos + 1 < n && s.charAt(pos + 1) == '*') {
                int nesting = 1;
                pos += 2;
                while (nesting > 0) {
                    if (pos + 1 >= n) {
                        throw new CrossShardRefusal("unterminated comment");
                    }
                    if (s.charAt(pos) == '/' && s.charAt(pos + 1) == '*') {
                        nesting++;
                        pos += 2;
                    } else if (s.charAt(pos) == '*' && s.charAt(pos + 1) == '/') {
                        nesting--;
                        pos += 2;
                    } else {
                        pos++;
                    }
                }
            } else {
                break;
            }
        }
        return pos;
    }

    static boolean isIdentStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
    }

    static boolean isIdentPart(char c) {
        return isIdentStart(c) || isDigit(c) || c == '$';
    }

    static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isOperatorChar(char c) {
        return "+-*/<>=~!@#%^&|`?".indexOf(c) >= 0;
    }

    // -- looking at tokens ----------------------------------------------------------------------

    boolean isWord(int i, String w) {
        return i >= 0 && i < count && type[i] == WORD && word[i].equals(w);
    }

    boolean is(int i, int kind) {
        return i >= 0 && i < count && type[i] == kind;
    }

    boolean isOp(int i, String op) {
        return is(i, OP) && sql.regionMatches(start[i], op, 0, op.length()) && end[i] - start[i] == op.length();
    }

    boolean isName(int i) {
        return is(i, WORD) || is(i, QIDENT);
    }

    /** Index just after the dotted name starting at {@code i} ({@code a}, {@code a.b}, {@code a.b.c}); i if none. */
    int nameEndOf(int i, int limit) {
        if (i >= limit || !isName(i)) {
            return i;
        }
        int j = i + 1;
        while (j + 1 < limit && is(j, DOT) && isName(j + 1)) {
            j += 2;
        }
        return j;
    }

    String text(int i) {
        return sql.substring(start[i], end[i]);
    }

    /** Raw SQL of tokens {@code [from, to)}. */
    String text(int from, int to) {
        return from >= to ? "" : sql.substring(start[from], end[to - 1]);
    }

    /**
     * Tokens {@code [from, to)} with single spaces and unquoted words in lower case: two
     * expressions PostgreSQL reads alike (up to whitespace, comments and case) compare equal.
     */
    String normal(int from, int to) {
        StringBuilder b = new StringBuilder();
        for (int i = from; i < to; i++) {
            if (i > from) {
                b.append(' ');
            }
            b.append(type[i] == WORD ? word[i] : text(i));
        }
        return b.toString();
    }
}
