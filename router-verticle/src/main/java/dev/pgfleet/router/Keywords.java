package dev.pgfleet.router;

import java.util.Arrays;
import java.util.List;

/**
 * The SQL words the classifier reacts to. {@link SqlLexer} looks every unquoted word up here once
 * and stores the id in the token, so the classifier switches on ints.
 */
final class Keywords {
    private Keywords() {
    }

    // Statement starts.
    static final int SELECT = 0, VALUES = 1, TABLE = 2, WITH = 3, EXPLAIN = 4, DECLARE = 5, SHOW = 6, SET = 7,
            RESET = 8, DISCARD = 9, DEALLOCATE = 10, PREPARE = 11, EXECUTE = 12, CALL = 13, DO = 14, COPY = 15,
            BEGIN = 16, START = 17, COMMIT = 18, END = 19, ROLLBACK = 20, ABORT = 21, SAVEPOINT = 22,
            RELEASE = 23, FETCH = 24, MOVE = 25, CLOSE = 26, LISTEN = 27, UNLISTEN = 28, NOTIFY = 29, LOCK = 30,
            INSERT = 31, UPDATE = 32, DELETE = 33, MERGE = 34, TRUNCATE = 35, CREATE = 36, ALTER = 37, DROP = 38,
            GRANT = 39, REVOKE = 40, COMMENT = 41, SECURITY = 42, REINDEX = 43, VACUUM = 44, ANALYZE = 45,
            ANALYSE = 46, CLUSTER = 47, REFRESH = 48, IMPORT = 49, REASSIGN = 50, CHECKPOINT = 51, LOAD = 52;
    // Inside statements.
    static final int INTO = 53, FOR = 54, SHARE = 55, NO = 56, KEY = 57, FROM = 58, TO = 59, AS = 60,
            WHERE = 61, UNION = 62, INTERSECT = 63, EXCEPT = 64, ORDER = 65, GROUP = 66, HAVING = 67,
            LIMIT = 68, OFFSET = 69, WINDOW = 70, ON = 71, AND = 72, OR = 73, IS = 74, THEN = 75, ELSE = 76,
            WHEN = 77, JOIN = 78, IN = 79, NOT = 80, HOLD = 81, ATOMIC = 82, CASE = 83, WORK = 84,
            TRANSACTION = 85, ISOLATION = 86, LEVEL = 87, SERIALIZABLE = 88, REPEATABLE = 89, READ = 90,
            COMMITTED = 91, UNCOMMITTED = 92, ONLY = 93, WRITE = 94, DEFERRABLE = 95, CHAIN = 96,
            PREPARED = 97, SESSION = 98, CHARACTERISTICS = 99, LOCAL = 100, SNAPSHOT = 101, VERBOSE = 102,
            TEMP = 103, TEMPORARY = 104, GLOBAL = 105,
            // PgFleet / PgCat commands.
            SERVER = 106, ROLE = 107, PRIMARY = 108, READS = 109, SHARD = 110, SHARDING = 111;

    static final List<String> WORDS = List.of(
            "select", "values", "table", "with", "explain", "declare", "show", "set",
            "reset", "discard", "deallocate", "prepare", "execute", "call", "do", "copy",
            "begin", "start", "commit", "end", "rollback", "abort", "savepoint",
            "release", "fetch", "move", "close", "listen", "unlisten", "notify", "lock",
            "insert", "update", "delete", "merge", "truncate", "create", "alter", "drop",
            "grant", "revoke", "comment", "security", "reindex", "vacuum", "analyze",
            "analyse", "cluster", "refresh", "import", "reassign", "checkpoint", "load",
            "into", "for", "share", "no", "key", "from", "to", "as",
            "where", "union", "intersect", "except", "order", "group", "having",
            "limit", "offset", "window", "on", "and", "or", "is", "then", "else",
            "when", "join", "in", "not", "hold", "atomic", "case", "work",
            "transaction", "isolation", "level", "serializable", "repeatable", "read",
            "committed", "uncommitted", "only", "write", "deferrable", "chain",
            "prepared", "session", "characteristics", "local", "snapshot", "verbose",
            "temp", "temporary", "global",
            "server", "role", "primary", "reads", "shard", "sharding");

    static final NameSet SET_OF_WORDS = new NameSet(WORDS);

    /**
     * Words that end a select-list item: after a column that happens to be named {@code update}
     * ({@code SELECT max(x) update FROM t}) they show that no UPDATE statement starts there.
     */
    private static final boolean[] CLAUSE = new boolean[WORDS.size()];

    static {
        for (int k : new int[] {FROM, AS, WHERE, UNION, INTERSECT, EXCEPT, ORDER, GROUP, HAVING, LIMIT, OFFSET,
                FETCH, WINDOW, FOR, INTO, ON, AND, OR, IS, THEN, ELSE, END, WHEN, JOIN, IN, NOT}) {
            CLAUSE[k] = true;
        }
        if (!WORDS.get(SHARDING).equals("sharding") || !WORDS.get(LOAD).equals("load")
                || !WORDS.get(INTO).equals("into") || !WORDS.get(SERVER).equals("server")) {
            throw new AssertionError("keyword ids out of step: " + Arrays.asList(WORDS.get(LOAD), WORDS.get(INTO)));
        }
    }

    static boolean isClause(int keyword) {
        return keyword >= 0 && CLAUSE[keyword];
    }
}
