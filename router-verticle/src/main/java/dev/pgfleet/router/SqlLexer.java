package dev.pgfleet.router;

/**
 * A PostgreSQL lexer that reads just enough to classify: it finds token boundaries, never makes a
 * substring, and skips what can hide SQL words: comments ({@code --} and nested {@code /* *}{@code /}),
 * string constants ({@code '...'} with {@code ''}, {@code E'...'} with backslash escapes, {@code B''},
 * {@code X''}, {@code N''}, {@code U&''}), dollar quotes ({@code $tag$...$tag$}) and quoted
 * identifiers ({@code "..."}, {@code U&"..."}). It follows PostgreSQL's scan.l (section 4.1 of the
 * manual) with {@code standard_conforming_strings = on}, the default since 9.1; with it off a
 * backslash can only make a server see a longer string than this lexer does, never a shorter one,
 * so nothing the server runs is hidden from the classifier.
 *
 * <p>One token at a time: {@link #next()} moves on and fills {@link #type}, {@link #start},
 * {@link #end} (for strings and quoted identifiers, the content between the quotes),
 * {@link #keyword} (a {@link Keywords} id for an unquoted word, else -1) and {@link #hash}. The
 * previous two tokens stay readable in {@code prev*} and {@code prev2*}, which is all the context
 * the classifier needs.
 */
public final class SqlLexer {
    public static final int NONE = -1, EOF = 0, WORD = 1, QIDENT = 2, STRING = 3, NUMBER = 4, PARAM = 5, LPAREN = 6,
            RPAREN = 7, SEMI = 8, COMMA = 9, DOT = 10, OP = 11, ERROR = 12;

    /** Told about every block comment, for PgFleet's comment hints. */
    interface CommentListener {
        /** {@code sql[bodyStart, bodyEnd)} is the text between the outermost {@code /*} and {@code *}{@code /}. */
        void blockComment(CharSequence sql, int bodyStart, int bodyEnd);
    }

    private final CharSequence sql;
    private final int length;
    private final CommentListener comments;
    private int pos;

    /** The current token. */
    public int type = NONE, start, end, keyword = -1, hash;
    /** The token before it. */
    int prevType = NONE, prevStart, prevEnd, prevKeyword = -1, prevHash;
    /** The one before that. */
    int prev2Type = NONE, prev2Keyword = -1;
    /** Parenthesis depth after the current token; the classifier resets it per statement. */
    int depth;

    public SqlLexer(CharSequence sql, CommentListener comments) {
        this.sql = sql;
        this.length = sql.length();
        this.comments = comments;
    }

    CharSequence sql() {
        return sql;
    }

    /** Forgets the token history, so a statement's first token has no predecessor. */
    void forgetHistory() {
        prevType = NONE;
        prevKeyword = -1;
        prev2Type = NONE;
        prev2Keyword = -1;
    }

    /** Reads the next token; {@link #EOF} and {@link #ERROR} are sticky. */
    public int next() {
        if (type == EOF || type == ERROR) {
            return type;
        }
        prev2Type = prevType;
        prev2Keyword = prevKeyword;
        prevType = type;
        prevStart = start;
        prevEnd = end;
        prevKeyword = keyword;
        prevHash = hash;
        keyword = -1;
        if (!skipSpaceAndComments()) {
            return type = ERROR;
        }
        if (pos >= length) {
            start = end = pos;
            return type = EOF;
        }
        char c = sql.charAt(pos);
        start = pos;
        if (isIdentStart(c)) {
            return word();
        }
        switch (c) {
            case '\'':
                return string(false);
            case '"':
                return quotedIdentifier();
            case '$':
                return dollar();
            case '(':
                pos++;
                end = pos;
                depth++;
                return type = LPAREN;
            case ')':
                pos++;
                end = pos;
                depth--;
                return type = RPAREN;
            case ';':
                pos++;
                end = pos;
                return type = SEMI;
            case ',':
                pos++;
                end = pos;
                return type = COMMA;
            case '.':
                if (pos + 1 < length && isDigit(sql.charAt(pos + 1))) {
                    return number();
                }
                pos++;
                end = pos;
                return type = DOT;
            default:
                if (isDigit(c)) {
                    return number();
                }
                return operator();
        }
    }

    // -- token readers -------------------------------------------------------------------------

    private int word() {
        int h = 0;
        while (pos < length) {
            char c = sql.charAt(pos);
            if (!isIdentPart(c)) {
                break;
            }
            h = NameSet.hashStep(h, NameSet.fold(c));
            pos++;
        }
        end = pos;
        if (end - start == 1 && pos < length) {
            // Prefixed constants: E'..', B'..', X'..', N'..', U&'..', U&"..".
            char p = sql.charAt(start);
            char n = sql.charAt(pos);
            if (n == '\'') {
                switch (p) {
                    case 'e': case 'E':
                        return string(true);
                    case 'b': case 'B': case 'x': case 'X': case 'n': case 'N':
                        return string(false);
                    default:
                        break;
                }
            } else if (n == '&' && (p == 'u' || p == 'U') && pos + 1 < length) {
                char q = sql.charAt(pos + 1);
                if (q == '\'') {
                    pos++;
                    return string(false);
                }
                if (q == '"') {
                    pos++;
                    return quotedIdentifier();
                }
            }
        }
        hash = h;
        keyword = Keywords.SET_OF_WORDS.find(sql, start, end, h, true);
        return type = WORD;
    }

    /** At the opening quote. */
    private int string(boolean backslashEscapes) {
        pos++;
        start = pos;
        while (pos < length) {
            char c = sql.charAt(pos);
            if (c == '\\' && backslashEscapes) {
                pos += 2;
            } else if (c == '\'') {
                if (pos + 1 < length && sql.charAt(pos + 1) == '\'') {
                    pos += 2;
                } else {
                    end = pos;
                    pos++;
                    hash = 0;
                    return type = STRING;
                }
            } else {
                pos++;
            }
        }
        return type = ERROR;
    }

    /** At the opening double quote. The hash is exact: a quoted identifier keeps its case. */
    private int quotedIdentifier() {
        pos++;
        start = pos;
        int h = 0;
        while (pos < length) {
            char c = sql.charAt(pos);
            if (c == '"') {
                if (pos + 1 < length && sql.charAt(pos + 1) == '"') {
                    h = NameSet.hashStep(NameSet.hashStep(h, '"'), '"');
                    pos += 2;
                    continue;
                }
                end = pos;
                pos++;
                hash = h;
                return type = QIDENT;
            }
            h = NameSet.hashStep(h, c);
            pos++;
        }
        return type = ERROR;
    }

    /** {@code $1} (a parameter) or {@code $tag$...$tag$} (a dollar-quoted constant). */
    private int dollar() {
        int j = pos + 1;
        if (j < length && isDigit(sql.charAt(j))) {
            while (j < length && isDigit(sql.charAt(j))) {
                j++;
            }
            pos = end = j;
            return type = PARAM;
        }
        if (j < length && isIdentStart(sql.charAt(j))) {
            while (j < length && isIdentPart(sql.charAt(j)) && sql.charAt(j) != '$') {
                j++;
            }
        }
        if (j >= length || sql.charAt(j) != '$') {
            pos++;
            end = pos;
            return type = OP;
        }
        int delimiterStart = pos;
        int delimiterLength = j - pos + 1;
        int bodyStart = j + 1;
        for (int k = bodyStart; k + delimiterLength <= length; k++) {
            if (sql.charAt(k) == '$' && regionMatches(k, delimiterStart, delimiterLength)) {
                start = bodyStart;
                end = k;
                pos = k + delimiterLength;
                hash = 0;
                return type = STRING;
            }
        }
        return type = ERROR;
    }

    private boolean regionMatches(int at, int other, int len) {
        for (int i = 0; i < len; i++) {
            if (sql.charAt(at + i) != sql.charAt(other + i)) {
                return false;
            }
        }
        return true;
    }

    private int number() {
        while (pos < length) {
            char c = sql.charAt(pos);
            if (isIdentPart(c) || c == '.') {
                pos++;
            } else if ((c == '+' || c == '-') && (sql.charAt(pos - 1) == 'e' || sql.charAt(pos - 1) == 'E')
                    && pos + 1 < length && isDigit(sql.charAt(pos + 1))) {
                pos++;
            } else {
                break;
            }
        }
        end = pos;
        return type = NUMBER;
    }

    /** Operator characters run together ({@code ::}, {@code ->>}, {@code <=}) but stop before a comment. */
    private int operator() {
        char c = sql.charAt(pos);
        pos++;
        if (isOperatorChar(c) || c == ':') {
            while (pos < length) {
                char n = sql.charAt(pos);
                if (!(isOperatorChar(n) || (c == ':' && n == ':'))) {
                    break;
                }
                if (pos + 1 < length) {
                    char m = sql.charAt(pos + 1);
                    if ((n == '-' && m == '-') || (n == '/' && m == '*')) {
                        break;
                    }
                }
                pos++;
            }
        }
        end = pos;
        return type = OP;
    }

    /** Whitespace and comments; false on an unterminated block comment. */
    private boolean skipSpaceAndComments() {
        while (pos < length) {
            char c = sql.charAt(pos);
            if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\u000B') {
                pos++;
            } else if (c == '-' && pos + 1 < length && sql.charAt(pos + 1) == '-') {
                pos += 2;
                while (pos < length && sql.charAt(pos) != '\n' && sql.charAt(pos) != '\r') {
                    pos++;
                }
            } else if (c == '/' && pos + 1 < length && sql.charAt(pos + 1) == '*') {
                int bodyStart = pos + 2;
                pos = bodyStart;
                int nesting = 1;
                while (nesting > 0) {
                    if (pos + 1 >= length) {
                        pos = length;
                        return false;
                    }
                    char a = sql.charAt(pos);
                    char b = sql.charAt(pos + 1);
                    if (a == '/' && b == '*') {
                        nesting++;
                        pos += 2;
                    } else if (a == '*' && b == '/') {
                        nesting--;
                        pos += 2;
                    } else {
                        pos++;
                    }
                }
                if (comments != null) {
                    comments.blockComment(sql, bodyStart, pos - 2);
                }
            } else {
                return true;
            }
        }
        return true;
    }

    // -- character classes (scan.l) -------------------------------------------------------------

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
        switch (c) {
            case '+': case '-': case '*': case '/': case '<': case '>': case '=': case '~': case '!':
            case '@': case '#': case '%': case '^': case '&': case '|': case '`': case '?':
                return true;
            default:
                return false;
        }
    }

    // -- helpers for the classifier -------------------------------------------------------------

    /** The current token is the single-character operator {@code c}. */
    boolean isOperator(char c) {
        return type == OP && end - start == 1 && sql.charAt(start) == c;
    }

    /** The current token is a word with this keyword id. */
    boolean is(int keywordId) {
        return type == WORD && keyword == keywordId;
    }
}
