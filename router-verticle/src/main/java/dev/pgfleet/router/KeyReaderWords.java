package dev.pgfleet.router;

import java.util.List;

/**
 * The SQL words {@link ShardKeyReader} reacts to, looked up once per word token by the hash
 * {@link SqlLexer} computed (a set of its own, so the classifier's {@link Keywords} stay as they are).
 */
public final class KeyReaderWords {
    private KeyReaderWords() {
    }

    public static final int SELECT = 0, WITH = 1, VALUES = 2, TABLE = 3, INSERT = 4, UPDATE = 5, DELETE = 6, COPY = 7,
            EXPLAIN = 8, PREPARE = 9, DECLARE = 10, FROM = 11, WHERE = 12, JOIN = 13, LEFT = 14, RIGHT = 15,
            FULL = 16, INNER = 17, OUTER = 18, CROSS = 19, NATURAL = 20, ON = 21, USING = 22, AS = 23,
            ONLY = 24, LATERAL = 25, AND = 26, OR = 27, NOT = 28, IN = 29, IS = 30, BETWEEN = 31,
            SYMMETRIC = 32, CASE = 33, END = 34, DISTINCT = 35, GROUP = 36, HAVING = 37, WINDOW = 38,
            ORDER = 39, LIMIT = 40, OFFSET = 41, FETCH = 42, FOR = 43, UNION = 44, INTERSECT = 45, EXCEPT = 46,
            RETURNING = 47, SET = 48, INTO = 49, DEFAULT = 50, OVERRIDING = 51, CONFLICT = 52, DO = 53,
            CAST = 54, NULL = 55, STDIN = 56, STDOUT = 57, PROGRAM = 58, BINARY = 59, CSV = 60, TEXT = 61,
            FORMAT = 62, HEADER = 63, DELIMITER = 64, DELIMITERS = 65, QUOTE = 66, ESCAPE = 67, FORCE = 68,
            ENCODING = 69, RECURSIVE = 70, MATERIALIZED = 71, TABLESAMPLE = 72, CURRENT = 73, OF = 74,
            ANALYZE = 75, ANALYSE = 76, VERBOSE = 77, CURSOR = 78, UESCAPE = 79, MATCH = 80, TRUE = 81,
            FALSE = 82, SHOW = 83, RESET = 84, BEGIN = 85, START = 86, COMMIT = 87, ROLLBACK = 88, ABORT = 89,
            SAVEPOINT = 90, RELEASE = 91, DISCARD = 92, DEALLOCATE = 93, LISTEN = 94, UNLISTEN = 95,
            NOTIFY = 96, MOVE = 97, CLOSE = 98, CHECKPOINT = 99, LOAD = 100;

    static final List<String> WORDS = List.of(
            "select", "with", "values", "table", "insert", "update", "delete", "copy", "explain", "prepare",
            "declare", "from", "where", "join", "left", "right", "full", "inner", "outer", "cross", "natural",
            "on", "using", "as", "only", "lateral", "and", "or", "not", "in", "is", "between", "symmetric",
            "case", "end", "distinct", "group", "having", "window", "order", "limit", "offset", "fetch", "for",
            "union", "intersect", "except", "returning", "set", "into", "default", "overriding", "conflict",
            "do", "cast", "null", "stdin", "stdout", "program", "binary", "csv", "text", "format", "header",
            "delimiter", "delimiters", "quote", "escape", "force", "encoding", "recursive", "materialized",
            "tablesample", "current", "of", "analyze", "analyse", "verbose", "cursor", "uescape", "match",
            "true", "false", "show", "reset", "begin", "start", "commit", "rollback", "abort", "savepoint",
            "release", "discard", "deallocate", "listen", "unlisten", "notify", "move", "close", "checkpoint",
            "load");

    private static final NameSet NAMES = new NameSet(WORDS);

    /** Words that cannot be a table alias written without AS: they start the next clause. */
    private static final boolean[] NOT_ALIAS = new boolean[WORDS.size()];

    static {
        for (int w : new int[] {WHERE, JOIN, LEFT, RIGHT, FULL, INNER, CROSS, NATURAL, ON, USING, GROUP, HAVING,
                WINDOW, ORDER, LIMIT, OFFSET, FETCH, FOR, UNION, INTERSECT, EXCEPT, RETURNING, SET, TABLESAMPLE,
                WITH, INTO, VALUES, SELECT, DEFAULT, OVERRIDING, AND, OR, NOT, AS, LATERAL, END, IS, IN, DO,
                FROM, ONLY, CASE, NULL, TRUE, FALSE, BETWEEN, TABLE}) {
            NOT_ALIAS[w] = true;
        }
        if (!WORDS.get(LOAD).equals("load") || !WORDS.get(SELECT).equals("select")) {
            throw new AssertionError("word ids out of step");
        }
    }

    /** The id of the unquoted word {@code sql[start, end)} with the lexer's hash, or -1. */
    static int of(CharSequence sql, int start, int end, int hash) {
        return NAMES.find(sql, start, end, hash, true);
    }

    static boolean notAlias(int word) {
        return word >= 0 && NOT_ALIAS[word];
    }
}
