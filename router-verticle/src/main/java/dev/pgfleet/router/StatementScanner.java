package dev.pgfleet.router;

import static dev.pgfleet.router.SqlLexer.COMMA;
import static dev.pgfleet.router.SqlLexer.EOF;
import static dev.pgfleet.router.SqlLexer.ERROR;
import static dev.pgfleet.router.SqlLexer.LPAREN;
import static dev.pgfleet.router.SqlLexer.NUMBER;
import static dev.pgfleet.router.SqlLexer.QIDENT;
import static dev.pgfleet.router.SqlLexer.RPAREN;
import static dev.pgfleet.router.SqlLexer.SEMI;
import static dev.pgfleet.router.SqlLexer.STRING;
import static dev.pgfleet.router.SqlLexer.WORD;

import dev.pgfleet.router.Classification.Reason;
import dev.pgfleet.router.Classification.TransactionAccess;
import dev.pgfleet.router.Classification.TransactionControl;

/**
 * One classification run over one query string: statement by statement, one token of look-behind,
 * no backtracking. Not thread safe; made per call.
 *
 * <p>Every statement kind is dispatched on its first word. Writes (INSERT, UPDATE, DDL ...) are
 * decided there and the rest of the statement is only skipped. Queries (SELECT, WITH, VALUES,
 * TABLE, a parenthesised query, and what EXPLAIN, DECLARE, PREPARE and COPY wrap) are scanned
 * to their end for what makes a read write: INSERT INTO / MERGE INTO anywhere, UPDATE or
 * DELETE FROM right after a parenthesis (a data-modifying CTE, or the statement after a WITH
 * list), {@code INTO} not after INSERT/MERGE (SELECT INTO), {@code FOR UPDATE / NO KEY UPDATE /
 * SHARE / KEY SHARE}, and a call of a function of the write set (a name followed by {@code (}).
 */
final class StatementScanner {
    private final SqlLexer lx;
    private final NameSet writeFunctions;

    private Route route = Route.ANY;
    private Reason reason;
    private TransactionControl transactionControl = TransactionControl.NONE;
    private TransactionAccess transactionAccess = TransactionAccess.DEFAULT;
    private boolean startsTransaction;
    private boolean endsTransaction;
    private boolean sessionState;
    private int statements;
    private PgFleetCommand command;

    /** A transaction begun in this string and not ended yet, with what it declared. */
    private boolean openedHere;
    private TransactionAccess openAccess = TransactionAccess.DEFAULT;
    private boolean openSerializable;

    private final CommentHints hints = new CommentHints();

    /** Modes parsed by {@link #transactionModes()}. */
    private TransactionAccess modeAccess;
    private boolean modeSerializable;

    StatementScanner(CharSequence sql, NameSet writeFunctions) {
        this.lx = new SqlLexer(sql, hints);
        this.writeFunctions = writeFunctions;
    }

    Classification run() {
        int t = lx.next();
        while (true) {
            while (t == SEMI) {
                t = lx.next();
            }
            if (t == EOF) {
                break;
            }
            if (t == ERROR) {
                return unparsable();
            }
            statements++;
            lx.depth = 0;
            lx.forgetHistory();
            statement();
            t = lx.type;
            if (t == ERROR) {
                return unparsable();
            }
        }
        if (statements == 0) {
            return result(Route.ANY, Reason.EMPTY);
        }
        if (command != null && statements > 1) {
            command = PgFleetCommand.invalid("PgFleet commands must be sent alone, not with other statements");
        }
        if (openedHere) {
            if (openSerializable) {
                merge(Route.PRIMARY, Reason.SERIALIZABLE);
            } else if (openAccess == TransactionAccess.READ_ONLY) {
                merge(Route.REPLICA, Reason.READ_ONLY_TRANSACTION);
            } else {
                merge(Route.PRIMARY, Reason.OPEN_TRANSACTION);
            }
        }
        return result(route, reason);
    }

    private Classification unparsable() {
        return new Classification(Route.PRIMARY, Reason.UNPARSABLE, transactionControl, transactionAccess,
                startsTransaction, endsTransaction, openedHere, sessionState, statements, null, hints.role, hints.shard,
                hints.shardingKey);
    }

    private Classification result(Route r, Reason why) {
        return new Classification(r, why, transactionControl, transactionAccess, startsTransaction, endsTransaction,
                openedHere, sessionState, statements, command, hints.role, hints.shard, hints.shardingKey);
    }

    private void merge(Route r, Reason why) {
        if (reason == null || r.ordinal() > route.ordinal()) {
            route = r;
            reason = why;
        }
    }

    private boolean atStatementEnd() {
        int t = lx.type;
        return t == EOF || t == ERROR || (t == SEMI && lx.depth <= 0);
    }

    private void skipRest() {
        while (!atStatementEnd()) {
            lx.next();
        }
    }

    /**
     * Skips to the end of a utility statement, keeping a SQL-standard function body
     * ({@code BEGIN ATOMIC ... END}, PostgreSQL 14) in one piece as psql does: inside it, CASE and
     * BEGIN open a block that END closes, and semicolons do not end the statement.
     */
    private void skipRestOfUtility() {
        int atomic = 0;
        while (true) {
            int t = lx.type;
            if (t == EOF || t == ERROR || (t == SEMI && lx.depth <= 0 && atomic == 0)) {
                return;
            }
            if (t == WORD) {
                int k = lx.keyword;
                if (atomic == 0 && k == Keywords.BEGIN) {
                    lx.next();
                    if (lx.is(Keywords.ATOMIC)) {
                        atomic = 1;
                        lx.next();
                    }
                    continue;
                }
                if (atomic > 0) {
                    if (k == Keywords.CASE || k == Keywords.BEGIN) {
                        atomic++;
                    } else if (k == Keywords.END) {
                        atomic--;
                    }
                }
            }
            lx.next();
        }
    }

    // -- statements --------------------------------------------------------------------------------

    /** At the statement's first token; returns at its end (see {@link #atStatementEnd()}). */
    private void statement() {
        if (lx.type == LPAREN) {
            query(false);
            return;
        }
        if (lx.type != WORD) {
            merge(Route.PRIMARY, Reason.UNKNOWN_STATEMENT);
            skipRest();
            return;
        }
        switch (lx.keyword) {
            case Keywords.SELECT:
            case Keywords.WITH:
            case Keywords.VALUES:
            case Keywords.TABLE:
            case Keywords.DECLARE:
                query(false);
                return;
            case Keywords.INSERT:
            case Keywords.UPDATE:
            case Keywords.DELETE:
            case Keywords.MERGE:
            case Keywords.TRUNCATE:
            case Keywords.ALTER:
            case Keywords.DROP:
            case Keywords.GRANT:
            case Keywords.REVOKE:
            case Keywords.COMMENT:
            case Keywords.SECURITY:
            case Keywords.REINDEX:
            case Keywords.VACUUM:
            case Keywords.ANALYZE:
            case Keywords.ANALYSE:
            case Keywords.CLUSTER:
            case Keywords.REFRESH:
            case Keywords.IMPORT:
            case Keywords.REASSIGN:
                merge(Route.PRIMARY, Reason.WRITE);
                skipRestOfUtility();
                return;
            case Keywords.CREATE:
                create();
                return;
            case Keywords.BEGIN:
                lx.next();
                if (lx.is(Keywords.WORK) || lx.is(Keywords.TRANSACTION)) {
                    lx.next();
                }
                begin();
                return;
            case Keywords.START:
                lx.next();
                if (!lx.is(Keywords.TRANSACTION)) {
                    unknown();
                    return;
                }
                lx.next();
                begin();
                return;
            case Keywords.COMMIT:
            case Keywords.END:
                finish(TransactionControl.COMMIT, lx.keyword == Keywords.COMMIT);
                return;
            case Keywords.ROLLBACK:
            case Keywords.ABORT:
                finish(TransactionControl.ROLLBACK, lx.keyword == Keywords.ROLLBACK);
                return;
            case Keywords.SAVEPOINT:
                control(TransactionControl.SAVEPOINT);
                merge(Route.ANY, Reason.TRANSACTION_CONTROL);
                skipRest();
                return;
            case Keywords.RELEASE:
                control(TransactionControl.RELEASE_SAVEPOINT);
                merge(Route.ANY, Reason.TRANSACTION_CONTROL);
                skipRest();
                return;
            case Keywords.SET:
                set();
                return;
            case Keywords.SHOW:
                show();
                return;
            case Keywords.RESET:
            case Keywords.DISCARD:
            case Keywords.DEALLOCATE:
                sessionState = true;
                merge(Route.ANY, Reason.SESSION);
                skipRest();
                return;
            case Keywords.FETCH:
            case Keywords.MOVE:
            case Keywords.CLOSE:
                merge(Route.ANY, Reason.CURSOR);
                skipRest();
                return;
            case Keywords.EXPLAIN:
                explain();
                return;
            case Keywords.PREPARE:
                prepare();
                return;
            case Keywords.COPY:
                query(true);
                return;
            case Keywords.EXECUTE:
            case Keywords.CALL:
            case Keywords.DO:
                merge(Route.PRIMARY, Reason.UNKNOWN_SIDE_EFFECTS);
                skipRest();
                return;
            case Keywords.LISTEN:
            case Keywords.UNLISTEN:
                sessionState = true;
                merge(Route.PRIMARY, Reason.NOTIFICATION);
                skipRest();
                return;
            case Keywords.NOTIFY:
                merge(Route.PRIMARY, Reason.NOTIFICATION);
                skipRest();
                return;
            case Keywords.LOCK:
                merge(Route.PRIMARY, Reason.LOCK);
                skipRest();
                return;
            default:
                unknown();
        }
    }

    private void unknown() {
        merge(Route.PRIMARY, Reason.UNKNOWN_STATEMENT);
        skipRestOfUtility();
    }

    private void control(TransactionControl kind) {
        if (transactionControl == TransactionControl.NONE) {
            transactionControl = kind;
        }
    }

    /** CREATE [OR REPLACE] [GLOBAL|LOCAL] TEMP|TEMPORARY ...: a temporary object is session state. */
    private void create() {
        merge(Route.PRIMARY, Reason.WRITE);
        lx.next();
        if (lx.is(Keywords.GLOBAL) || lx.is(Keywords.LOCAL)) {
            lx.next();
        }
        if (lx.is(Keywords.TEMP) || lx.is(Keywords.TEMPORARY)) {
            sessionState = true;
        }
        skipRestOfUtility();
    }

    /**
     * A query, scanned to its end. With {@code copy}, a COPY statement: {@code FROM} at the top
     * level makes it a write, {@code TO} a read, and a parenthesised query inside is scanned as any.
     */
    private void query(boolean copy) {
        boolean directionKnown = false;
        for (int t = lx.type; !atStatementEnd(); t = lx.next()) {
            Reason found = null;
            if (t == WORD) {
                int k = lx.keyword;
                int p = lx.prevKeyword;
                if (p == Keywords.UPDATE && lx.prevType == WORD && afterParen(lx.prev2Type) && !Keywords.isClause(k)) {
                    found = Reason.DATA_MODIFYING_QUERY; // (UPDATE t ... / ) UPDATE t ...
                } else {
                    switch (k) {
                        case Keywords.INTO:
                            found = p == Keywords.INSERT || p == Keywords.MERGE
                                    ? Reason.DATA_MODIFYING_QUERY : Reason.SELECT_INTO;
                            break;
                        case Keywords.UPDATE:
                        case Keywords.SHARE:
                            if (p == Keywords.FOR || (p == Keywords.KEY && lx.prev2Keyword == Keywords.FOR)) {
                                found = Reason.LOCKING_CLAUSE;
                            }
                            break;
                        case Keywords.KEY:
                            if (p == Keywords.NO && lx.prev2Keyword == Keywords.FOR) {
                                found = Reason.LOCKING_CLAUSE;
                            }
                            break;
                        case Keywords.FROM:
                            if (p == Keywords.DELETE && afterParen(lx.prev2Type)) {
                                found = Reason.DATA_MODIFYING_QUERY;
                            } else if (copy && !directionKnown && lx.depth == 0) {
                                found = Reason.COPY_FROM;
                            }
                            break;
                        case Keywords.TO:
                            if (copy && lx.depth == 0) {
                                directionKnown = true;
                            }
                            break;
                        case Keywords.HOLD:
                            if (p == Keywords.WITH) {
                                sessionState = true; // DECLARE ... WITH HOLD outlives the transaction
                            }
                            break;
                        default:
                            break;
                    }
                }
            } else if (t == QIDENT) {
                if (lx.prevKeyword == Keywords.UPDATE && lx.prevType == WORD && afterParen(lx.prev2Type)) {
                    found = Reason.DATA_MODIFYING_QUERY;
                }
            } else if (t == LPAREN) {
                int pt = lx.prevType;
                if ((pt == WORD || pt == QIDENT)
                        && writeFunctions.find(lx.sql(), lx.prevStart, lx.prevEnd, lx.prevHash, pt == WORD) >= 0) {
                    found = Reason.WRITE_FUNCTION;
                }
            }
            if (found != null) {
                merge(Route.PRIMARY, found);
                skipRest();
                return;
            }
        }
        merge(Route.REPLICA, Reason.READ);
    }

    private static boolean afterParen(int tokenType) {
        return tokenType == LPAREN || tokenType == RPAREN;
    }

    /** EXPLAIN [ ( options ) | ANALYZE | VERBOSE ...] statement: routes as the statement it explains. */
    private void explain() {
        lx.next();
        if (lx.type == LPAREN) {
            int outer = lx.depth - 1;
            while (!(lx.type == RPAREN && lx.depth == outer) && lx.type != EOF && lx.type != ERROR) {
                lx.next();
            }
            lx.next();
        } else {
            while (lx.is(Keywords.ANALYZE) || lx.is(Keywords.ANALYSE) || lx.is(Keywords.VERBOSE)) {
                lx.next();
            }
        }
        if (atStatementEnd()) {
            merge(Route.PRIMARY, Reason.UNKNOWN_STATEMENT);
            return;
        }
        lx.forgetHistory();
        statement();
    }

    /** PREPARE name [ ( types ) ] AS statement, or PREPARE TRANSACTION 'gid'. */
    private void prepare() {
        lx.next();
        boolean transactionWord = lx.is(Keywords.TRANSACTION);
        if (lx.type != WORD && lx.type != QIDENT) {
            unknown();
            return;
        }
        lx.next();
        if (transactionWord && lx.type == STRING) {
            control(TransactionControl.PREPARE_TRANSACTION);
            endsTransaction = true;
            openedHere = false;
            merge(Route.PRIMARY, Reason.TRANSACTION_CONTROL);
            skipRest();
            return;
        }
        sessionState = true;
        if (lx.type == LPAREN) {
            int outer = lx.depth - 1;
            while (!(lx.type == RPAREN && lx.depth == outer) && lx.type != EOF && lx.type != ERROR) {
                lx.next();
            }
            lx.next();
        }
        if (!lx.is(Keywords.AS)) {
            unknown();
            return;
        }
        lx.next();
        if (atStatementEnd()) {
            merge(Route.PRIMARY, Reason.UNKNOWN_STATEMENT);
            return;
        }
        lx.forgetHistory();
        statement();
    }

    // -- transactions ------------------------------------------------------------------------------

    /** After BEGIN [WORK|TRANSACTION] or START TRANSACTION. */
    private void begin() {
        if (!transactionModes()) {
            unknown();
            return;
        }
        control(TransactionControl.BEGIN);
        startsTransaction = true;
        openedHere = true;
        openAccess = modeAccess;
        openSerializable = modeSerializable;
        declared(modeAccess);
        if (modeSerializable) {
            merge(Route.PRIMARY, Reason.SERIALIZABLE);
        } else if (modeAccess == TransactionAccess.READ_WRITE) {
            merge(Route.PRIMARY, Reason.READ_WRITE_TRANSACTION);
        } else if (modeAccess == TransactionAccess.READ_ONLY) {
            merge(Route.REPLICA, Reason.READ_ONLY_TRANSACTION);
        } else {
            merge(Route.ANY, Reason.TRANSACTION_CONTROL); // the end-of-string check decides
        }
    }

    private void declared(TransactionAccess access) {
        if (access != TransactionAccess.DEFAULT) {
            transactionAccess = access;
        }
    }

    /**
     * Transaction modes up to the statement's end: ISOLATION LEVEL ..., READ ONLY | READ WRITE,
     * [NOT] DEFERRABLE, optionally comma separated. False on anything else.
     */
    private boolean transactionModes() {
        modeAccess = TransactionAccess.DEFAULT;
        modeSerializable = false;
        while (!atStatementEnd()) {
            if (lx.type == COMMA) {
                lx.next();
                continue;
            }
            if (lx.type != WORD) {
                return false;
            }
            switch (lx.keyword) {
                case Keywords.ISOLATION:
                    lx.next();
                    if (!lx.is(Keywords.LEVEL)) {
                        return false;
                    }
                    lx.next();
                    if (lx.is(Keywords.SERIALIZABLE)) {
                        modeSerializable = true;
                    } else if (lx.is(Keywords.REPEATABLE)) {
                        lx.next();
                        if (!lx.is(Keywords.READ)) {
                            return false;
                        }
                    } else if (lx.is(Keywords.READ)) {
                        lx.next();
                        if (!lx.is(Keywords.COMMITTED) && !lx.is(Keywords.UNCOMMITTED)) {
                            return false;
                        }
                    } else {
                        return false;
                    }
                    break;
                case Keywords.READ:
                    lx.next();
                    if (lx.is(Keywords.ONLY)) {
                        modeAccess = TransactionAccess.READ_ONLY;
                    } else if (lx.is(Keywords.WRITE)) {
                        modeAccess = TransactionAccess.READ_WRITE;
                    } else {
                        return false;
                    }
                    break;
                case Keywords.NOT:
                    lx.next();
                    if (!lx.is(Keywords.DEFERRABLE)) {
                        return false;
                    }
                    break;
                case Keywords.DEFERRABLE:
                    break;
                default:
                    return false;
            }
            lx.next();
        }
        return true;
    }

    /**
     * COMMIT | END | ROLLBACK | ABORT [WORK | TRANSACTION] [AND [NO] CHAIN]; with {@code full}
     * (COMMIT, ROLLBACK) also ... PREPARED 'gid' and ROLLBACK ... TO [SAVEPOINT] name.
     */
    private void finish(TransactionControl kind, boolean full) {
        lx.next();
        if (full && lx.is(Keywords.PREPARED)) {
            control(kind == TransactionControl.COMMIT
                    ? TransactionControl.COMMIT_PREPARED : TransactionControl.ROLLBACK_PREPARED);
            merge(Route.PRIMARY, Reason.TRANSACTION_CONTROL);
            skipRest();
            return;
        }
        if (lx.is(Keywords.WORK) || lx.is(Keywords.TRANSACTION)) {
            lx.next();
        }
        if (full && kind == TransactionControl.ROLLBACK && lx.is(Keywords.TO)) {
            control(TransactionControl.ROLLBACK_TO_SAVEPOINT);
            merge(Route.ANY, Reason.TRANSACTION_CONTROL);
            skipRest();
            return;
        }
        boolean chain = false;
        if (lx.is(Keywords.AND)) {
            lx.next();
            boolean no = lx.is(Keywords.NO);
            if (no) {
                lx.next();
            }
            if (!lx.is(Keywords.CHAIN)) {
                unknown();
                return;
            }
            chain = !no;
            lx.next();
        }
        if (!atStatementEnd()) {
            unknown();
            return;
        }
        control(kind);
        endsTransaction = true;
        if (chain) {
            startsTransaction = true; // same characteristics: openedHere and openAccess stay
        } else {
            openedHere = false;
        }
        merge(Route.ANY, Reason.TRANSACTION_CONTROL);
    }

    // -- SET and SHOW, PgFleet's commands ---------------------------------------------------------

    private void set() {
        lx.next();
        if (lx.type == WORD) {
            switch (lx.keyword) {
                case Keywords.TRANSACTION:
                    setTransaction();
                    return;
                case Keywords.SESSION:
                    lx.next();
                    if (lx.is(Keywords.CHARACTERISTICS)) {
                        sessionState = true;
                        merge(Route.ANY, Reason.SESSION);
                        skipRest();
                        return;
                    }
                    break;
                case Keywords.LOCAL:
                    merge(Route.ANY, Reason.SESSION); // lasts until the transaction ends
                    skipRest();
                    return;
                case Keywords.SERVER:
                    lx.next();
                    if (lx.is(Keywords.ROLE)) {
                        pgFleetSet(PgFleetCommand.Type.SET_SERVER_ROLE);
                        return;
                    }
                    break;
                case Keywords.PRIMARY:
                    lx.next();
                    if (lx.is(Keywords.READS)) {
                        pgFleetSet(PgFleetCommand.Type.SET_PRIMARY_READS);
                        return;
                    }
                    break;
                case Keywords.SHARD:
                    pgFleetSet(PgFleetCommand.Type.SET_SHARD);
                    return;
                case Keywords.SHARDING:
                    lx.next();
                    if (lx.is(Keywords.KEY)) {
                        pgFleetSet(PgFleetCommand.Type.SET_SHARDING_KEY);
                        return;
                    }
                    break;
                default:
                    break;
            }
        }
        sessionState = true;
        merge(Route.ANY, Reason.SESSION);
        skipRest();
    }

    /** SET TRANSACTION modes | SET TRANSACTION SNAPSHOT 'id'. */
    private void setTransaction() {
        control(TransactionControl.SET_TRANSACTION);
        lx.next();
        if (lx.is(Keywords.SNAPSHOT)) {
            merge(Route.ANY, Reason.TRANSACTION_CONTROL);
            skipRest();
            return;
        }
        if (!transactionModes()) {
            unknown();
            return;
        }
        declared(modeAccess);
        if (openedHere) {
            if (modeAccess != TransactionAccess.DEFAULT) {
                openAccess = modeAccess;
            }
            openSerializable |= modeSerializable;
        }
        if (modeSerializable) {
            merge(Route.PRIMARY, Reason.SERIALIZABLE);
        } else if (modeAccess == TransactionAccess.READ_WRITE) {
            merge(Route.PRIMARY, Reason.READ_WRITE_TRANSACTION);
        } else if (modeAccess == TransactionAccess.READ_ONLY) {
            merge(Route.REPLICA, Reason.READ_ONLY_TRANSACTION);
        } else {
            merge(Route.ANY, Reason.TRANSACTION_CONTROL);
        }
    }

    private void show() {
        lx.next();
        PgFleetCommand.Type type = null;
        if (lx.is(Keywords.SERVER)) {
            lx.next();
            type = lx.is(Keywords.ROLE) ? PgFleetCommand.Type.SHOW_SERVER_ROLE : null;
        } else if (lx.is(Keywords.PRIMARY)) {
            lx.next();
            type = lx.is(Keywords.READS) ? PgFleetCommand.Type.SHOW_PRIMARY_READS : null;
        } else if (lx.is(Keywords.SHARD)) {
            type = PgFleetCommand.Type.SHOW_SHARD;
        }
        if (type != null) {
            lx.next();
            if (atStatementEnd()) {
                command = new PgFleetCommand(type, null);
                merge(Route.ANY, Reason.PGFLEET_COMMAND);
                return;
            }
        }
        merge(Route.ANY, Reason.SESSION);
        skipRest();
    }

    /** After the command's keywords: {TO | =} value, then the statement's end. */
    private void pgFleetSet(PgFleetCommand.Type type) {
        merge(Route.ANY, Reason.PGFLEET_COMMAND);
        lx.next();
        String syntax = syntaxOf(type);
        if (!lx.is(Keywords.TO) && !lx.isOperator('=')) {
            command = PgFleetCommand.invalid("syntax: " + syntax);
            skipRest();
            return;
        }
        lx.next();
        String value = commandValue();
        if (value == null || !atStatementEnd()) {
            command = PgFleetCommand.invalid("syntax: " + syntax);
            skipRest();
            return;
        }
        command = validated(type, value, syntax);
    }

    private static String syntaxOf(PgFleetCommand.Type type) {
        switch (type) {
            case SET_SERVER_ROLE: return "SET SERVER ROLE TO 'primary' | 'replica' | 'any' | 'auto' | 'default'";
            case SET_PRIMARY_READS: return "SET PRIMARY READS TO on | off | default";
            case SET_SHARD: return "SET SHARD TO <shard number> | 'any'";
            default: return "SET SHARDING KEY TO '<value>'";
        }
    }

    private static PgFleetCommand validated(PgFleetCommand.Type type, String raw, String syntax) {
        String lower = raw.toLowerCase(java.util.Locale.ROOT);
        switch (type) {
            case SET_SERVER_ROLE:
                switch (lower) {
                    case "primary": case "replica": case "any": case "auto": case "default":
                        return new PgFleetCommand(type, lower);
                    default:
                        return PgFleetCommand.invalid("invalid server role \"" + raw + "\"; " + syntax);
                }
            case SET_PRIMARY_READS:
                switch (lower) {
                    case "on": case "true":
                        return new PgFleetCommand(type, "on");
                    case "off": case "false":
                        return new PgFleetCommand(type, "off");
                    case "default":
                        return new PgFleetCommand(type, "default");
                    default:
                        return PgFleetCommand.invalid("invalid value for PRIMARY READS \"" + raw + "\"; " + syntax);
                }
            case SET_SHARD:
                if (lower.equals("any")) {
                    return new PgFleetCommand(type, "any");
                }
                int shard = parseShard(raw, 0, raw.length());
                if (shard < 0) {
                    return PgFleetCommand.invalid("invalid shard \"" + raw + "\"; " + syntax);
                }
                return new PgFleetCommand(type, Integer.toString(shard));
            default:
                return new PgFleetCommand(type, raw);
        }
    }

    /** A decimal shard index in {@code s[start, end)}, or -1. */
    static int parseShard(CharSequence s, int start, int end) {
        if (start >= end || end - start > 9) {
            return -1;
        }
        int n = 0;
        for (int i = start; i < end; i++) {
            char c = s.charAt(i);
            if (!SqlLexer.isDigit(c)) {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        return n;
    }

    /** A command's value: 'string', word, "identifier", number, -number. Moves past it. */
    private String commandValue() {
        CharSequence sql = lx.sql();
        String value;
        switch (lx.type) {
            case STRING:
                value = sql.subSequence(lx.start, lx.end).toString().replace("''", "'");
                break;
            case QIDENT:
                value = sql.subSequence(lx.start, lx.end).toString().replace("\"\"", "\"");
                break;
            case WORD:
            case NUMBER:
                value = sql.subSequence(lx.start, lx.end).toString();
                break;
            default:
                if (lx.isOperator('-')) {
                    lx.next();
                    if (lx.type == NUMBER) {
                        value = "-" + sql.subSequence(lx.start, lx.end);
                        break;
                    }
                }
                return null;
        }
        lx.next();
        return value;
    }
}
