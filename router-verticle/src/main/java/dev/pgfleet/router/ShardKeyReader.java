package dev.pgfleet.router;

import static dev.pgfleet.router.SqlLexer.COMMA;
import static dev.pgfleet.router.SqlLexer.EOF;
import static dev.pgfleet.router.SqlLexer.ERROR;
import static dev.pgfleet.router.SqlLexer.LPAREN;
import static dev.pgfleet.router.SqlLexer.SEMI;
import static dev.pgfleet.router.SqlLexer.WORD;

import dev.pgfleet.router.StatementKeys.InsertRow;
import dev.pgfleet.router.StatementKeys.KeyValue;
import dev.pgfleet.router.StatementKeys.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the sharding key values in the SQL of a Query or Parse message: which rows of a sharded
 * table a statement can touch, when the SQL alone says so (docs/sharding-plan.md).
 *
 * <p>A key decides the shard only when the statement can touch no row with another key:
 * <ul>
 *   <li>SELECT, UPDATE, DELETE: {@code key = c}, {@code c = key}, {@code key IN (c, ...)} with
 *       {@code c} a constant or {@code $n} ({@link KeyConstants}), in the top-level AND chain of the
 *       statement's own WHERE (parentheses around it allowed), or an OR whose every branch limits the
 *       key so (several keys); see {@link WhereKeys}. Under NOT, in a subquery, or in an OR with
 *       another branch, a key decides nothing.</li>
 *   <li>The key column is {@code key}, {@code table.key}, {@code alias.key} or
 *       {@code schema.table.key} of a sharded table of the statement's own FROM (joins included: the
 *       tables of one FROM are promised to be co-located, as PgDog has it; so are tables that only a
 *       subquery reads). A data-modifying WITH on a sharded table, a set operation over one, or an
 *       UPDATE of the key column make the statement KEYLESS.</li>
 *   <li>INSERT: a column list holding the key and VALUES rows whose key is a constant or
 *       {@code $n}; each row's key and offsets are kept so the caller can split the rows by shard.</li>
 *   <li>COPY: see {@link CopyReader}.</li>
 *   <li>Statements without tables (SET, BEGIN, SHOW, {@code SELECT 1}) are UNSHARDED; other
 *       statements naming a sharded table (DDL, TRUNCATE, MERGE, LOCK) are KEYLESS.</li>
 *   <li>Several statements in one string: any KEYLESS one makes the string KEYLESS, the keys of all
 *       are listed; KEYED statements beside a statement on an unsharded table (which lives on the
 *       default shard) are KEYLESS too, since no one shard holds both.</li>
 * </ul>
 * One lexer pass per statement ({@link StatementTokens}), no regular expressions.
 */
public final class ShardKeyReader {

    /** What key extraction needs of the configuration: the key column of a sharded table, or null if not sharded. */
    public interface Tables {
        /**
         * @param schemaOrNull the schema written before the table, or null
         * @param table the table name as PostgreSQL sees it (unquoted names lower-cased, quoted ones as written)
         */
        String keyColumn(String schemaOrNull, String table);
    }

    private final StatementTokens t;
    private final Tables tables;
    private final TableRefs refs;

    private ShardKeyReader(StatementTokens t, Tables tables) {
        this.t = t;
        this.tables = tables;
        this.refs = new TableRefs(t, tables);
    }

    /** The sharding keys of every statement in {@code sql}, combined (any KEYLESS makes all KEYLESS). */
    public static StatementKeys read(CharSequence sql, Tables tables) {
        SqlLexer lx = new SqlLexer(sql, null);
        List<StatementKeys> found = new ArrayList<>(1);
        int type = lx.next();
        while (true) {
            while (type == SEMI) {
                type = lx.next();
            }
            if (type == EOF) {
                break;
            }
            if (type == ERROR) {
                found.add(unparsable());
                break;
            }
            StatementTokens tokens = StatementTokens.read(lx);
            found.add(tokens.broken ? unparsable() : new ShardKeyReader(tokens, tables).statement(0, tokens.count));
            type = lx.type;
            if (type == ERROR) {
                break;
            }
        }
        return combine(found);
    }

    /**
     * PostgreSQL parses a whole query string before it runs any of it, so a string it cannot parse
     * runs nowhere: the default shard may as well answer with the syntax error.
     */
    private static StatementKeys unparsable() {
        return StatementKeys.unsharded("unterminated string, quoted identifier or comment, or unbalanced parentheses",
                false, null);
    }

    private static StatementKeys combine(List<StatementKeys> all) {
        if (all.isEmpty()) {
            return StatementKeys.neutral();
        }
        if (all.size() == 1) {
            return all.get(0);
        }
        List<KeyValue> keys = new ArrayList<>();
        StatementKeys keyless = null;
        StatementKeys keyed = null;
        boolean usesDefault = false;
        for (StatementKeys k : all) {
            keys.addAll(k.keys());
            if (k.kind() == Kind.KEYLESS && keyless == null) {
                keyless = k;
            } else if (k.kind() == Kind.KEYED && keyed == null) {
                keyed = k;
            }
            usesDefault |= k.usesDefaultShard();
        }
        if (keyless != null) {
            return new StatementKeys(Kind.KEYLESS, keyless.reason(), keyless.table(), keyless.column(), keys,
                    List.of(), -1, -1, null, false);
        }
        if (keyed != null) {
            if (usesDefault) {
                return new StatementKeys(Kind.KEYLESS, "one query string holds statements on sharded table "
                        + keyed.table() + " and on tables of the default shard", keyed.table(), keyed.column(), keys,
                        List.of(), -1, -1, null, false);
            }
            return new StatementKeys(Kind.KEYED, null, keyed.table(), keyed.column(), keys, List.of(), -1, -1, null,
                    false);
        }
        return usesDefault ? StatementKeys.unsharded(null, true, null) : StatementKeys.neutral();
    }

    // -- statements ---------------------------------------------------------------------------------

    /** The statement in tokens {@code [s, e)}. */
    private StatementKeys statement(int s, int e) {
        if (s >= e) {
            return StatementKeys.neutral();
        }
        refs.statementStart = s;
        if (t.is(s, LPAREN)) {
            return query(s, e);
        }
        if (!t.is(s, WORD)) {
            return nameScan(s, e);
        }
        switch (t.word[s]) {
            case KeyReaderWords.SELECT:
            case KeyReaderWords.VALUES:
            case KeyReaderWords.TABLE:
            case KeyReaderWords.WITH:
                return query(s, e);
            case KeyReaderWords.INSERT:
                return insert(s, e);
            case KeyReaderWords.UPDATE:
                return update(s, e);
            case KeyReaderWords.DELETE:
                return delete(s, e);
            case KeyReaderWords.COPY:
                return new CopyReader(t, tables, this::nested).copy(s, e);
            case KeyReaderWords.EXPLAIN: {
                int i = s + 1;
                if (t.is(i, LPAREN)) {
                    i = t.after(i);
                } else {
                    while (t.isWord(i, KeyReaderWords.ANALYZE) || t.isWord(i, KeyReaderWords.ANALYSE)
                            || t.isWord(i, KeyReaderWords.VERBOSE)) {
                        i++;
                    }
                }
                return statement(i, e);
            }
            case KeyReaderWords.PREPARE:
                return statement(topWord(s, e, KeyReaderWords.AS) + 1, e);
            case KeyReaderWords.DECLARE: {
                int cursor = topWord(s, e, KeyReaderWords.CURSOR);
                return statement(topWord(cursor, e, KeyReaderWords.FOR) + 1, e);
            }
            case KeyReaderWords.SET: case KeyReaderWords.SHOW: case KeyReaderWords.RESET:
            case KeyReaderWords.BEGIN: case KeyReaderWords.START: case KeyReaderWords.COMMIT:
            case KeyReaderWords.END: case KeyReaderWords.ROLLBACK: case KeyReaderWords.ABORT:
            case KeyReaderWords.SAVEPOINT: case KeyReaderWords.RELEASE: case KeyReaderWords.DISCARD:
            case KeyReaderWords.DEALLOCATE: case KeyReaderWords.LISTEN: case KeyReaderWords.UNLISTEN:
            case KeyReaderWords.NOTIFY: case KeyReaderWords.FETCH: case KeyReaderWords.MOVE:
            case KeyReaderWords.CLOSE: case KeyReaderWords.CHECKPOINT: case KeyReaderWords.LOAD:
                return StatementKeys.neutral();
            default:
                return nameScan(s, e);
        }
    }

    /** A statement inside another ({@code COPY (query) TO}), read with a fresh set of tables. */
    private StatementKeys nested(int s, int e) {
        return new ShardKeyReader(t, tables).statement(s, e);
    }

    /** The first word {@code w} at the level of token {@code s} in {@code (s, e)}; {@code e} if none. */
    private int topWord(int s, int e, int w) {
        int level = t.open[s];
        for (int k = s + 1; k < e; k++) {
            if (t.open[k] == level && t.isWord(k, w)) {
                return k;
            }
        }
        return e;
    }

    /**
     * SELECT, VALUES, TABLE, WITH ... and a parenthesised query: the keys of its own WHERE, the
     * tables of its own FROM.
     */
    private StatementKeys query(int s, int e) {
        if (t.wrapped(s, e)) {
            return query(s + 1, e - 1);
        }
        if (t.isWord(s, KeyReaderWords.WITH)) {
            int m = withList(s, e);
            if (m >= e) {
                return decide(-1, e, false);
            }
            switch (t.word[m]) {
                case KeyReaderWords.INSERT: return insert(m, e);
                case KeyReaderWords.UPDATE: return update(m, e);
                case KeyReaderWords.DELETE: return delete(m, e);
                default: s = m;
            }
        }
        if (t.isWord(s, KeyReaderWords.TABLE)) {
            refs.walk(refs.target(s + 1, e, true, false), e, -1);
            return decide(-1, e, false);
        }
        int level = t.open[s];
        int from = -1;
        int where = -1;
        int whereEnd = e;
        boolean setOperation = false;
        for (int k = s; k < e; k++) {
            if (t.open[k] != level || t.type[k] != WORD) {
                continue;
            }
            int w = t.word[k];
            if (w == KeyReaderWords.UNION || w == KeyReaderWords.INTERSECT || w == KeyReaderWords.EXCEPT) {
                setOperation = true;
            }
            if (where >= 0 && whereEnd == e && endsWhere(k)) {
                whereEnd = k;
            }
            if (setOperation) {
                continue;
            }
            if (w == KeyReaderWords.FROM && from < 0 && !t.isWord(k - 1, KeyReaderWords.DISTINCT)) {
                from = k;
            } else if (w == KeyReaderWords.WHERE && from >= 0 && where < 0) {
                where = k;
            }
        }
        refs.walk(s, e, from);
        return decide(where, whereEnd, setOperation);
    }

    /** Skips {@code WITH [RECURSIVE] name [(cols)] AS [[NOT] MATERIALIZED] (query), ...}, noting its tables. */
    private int withList(int s, int e) {
        int i = s + 1;
        int level = t.open[s];
        if (t.isWord(i, KeyReaderWords.RECURSIVE)) {
            i++;
        }
        while (i < e && t.isName(i)) {
            String name = t.name(i);
            i = t.after(i + 1);
            if (!t.isWord(i, KeyReaderWords.AS)) {
                return e;
            }
            i++;
            if (t.isWord(i, KeyReaderWords.NOT)) {
                i++;
            }
            if (t.isWord(i, KeyReaderWords.MATERIALIZED)) {
                i++;
            }
            if (!t.is(i, LPAREN)) {
                return e;
            }
            refs.walk(i + 1, t.partner[i], -1);
            refs.withQuery(name); // after its own body: a non-recursive WITH query sees the table there
            i = t.partner[i] + 1;
            while (i < e && !(t.open[i] == level && (t.is(i, COMMA) || t.queryStart(i)))) {
                i++; // SEARCH ... SET col, CYCLE ... SET col USING path
            }
            if (!t.is(i, COMMA)) {
                return i;
            }
            i++;
        }
        return e;
    }

    private boolean endsWhere(int k) {
        switch (t.word[k]) {
            case KeyReaderWords.GROUP: case KeyReaderWords.HAVING: case KeyReaderWords.WINDOW:
            case KeyReaderWords.ORDER: case KeyReaderWords.LIMIT: case KeyReaderWords.OFFSET:
            case KeyReaderWords.FETCH: case KeyReaderWords.FOR: case KeyReaderWords.UNION:
            case KeyReaderWords.INTERSECT: case KeyReaderWords.EXCEPT: case KeyReaderWords.RETURNING:
                return true;
            default:
                return false;
        }
    }

    /** {@code UPDATE [ONLY] t [[AS] a] SET ... [FROM ...] [WHERE ...] [RETURNING ...]}. */
    private StatementKeys update(int s, int e) {
        int before = refs.refs.size();
        int i = refs.target(s + 1, e, true, true);
        TableRefs.Ref target = refs.refs.size() > before ? refs.refs.get(before) : null;
        int level = t.open[s];
        int set = t.isWord(i, KeyReaderWords.SET) ? i : -1;
        int from = -1;
        int where = -1;
        int whereEnd = e;
        int setEnd = e;
        for (int k = i; k < e; k++) {
            if (t.open[k] != level || t.type[k] != WORD) {
                continue;
            }
            int w = t.word[k];
            if (w == KeyReaderWords.FROM && from < 0 && where < 0 && !t.isWord(k - 1, KeyReaderWords.DISTINCT)) {
                from = k;
                setEnd = Math.min(setEnd, k);
            } else if (w == KeyReaderWords.WHERE && where < 0) {
                where = k;
                setEnd = Math.min(setEnd, k);
            } else if (w == KeyReaderWords.RETURNING) {
                setEnd = Math.min(setEnd, k);
                if (where >= 0 && whereEnd == e) {
                    whereEnd = k;
                }
            }
        }
        refs.walk(i, e, from);
        if (target != null && target.sharded() && set >= 0 && setsColumn(set + 1, setEnd, target.keyColumn())) {
            return StatementKeys.keyless("UPDATE of the sharding key " + target.display() + "." + target.keyColumn(),
                    target.display(), target.keyColumn());
        }
        return decide(where, whereEnd, false);
    }

    /** {@code DELETE FROM [ONLY] t [[AS] a] [USING ...] [WHERE ...] [RETURNING ...]}. */
    private StatementKeys delete(int s, int e) {
        if (!t.isWord(s + 1, KeyReaderWords.FROM)) {
            return nameScan(s, e);
        }
        int i = refs.target(s + 2, e, true, true);
        int level = t.open[s];
        int using = -1;
        int where = -1;
        int whereEnd = e;
        for (int k = i; k < e; k++) {
            if (t.open[k] != level || t.type[k] != WORD) {
                continue;
            }
            int w = t.word[k];
            if (w == KeyReaderWords.USING && using < 0 && where < 0) {
                using = k;
            } else if (w == KeyReaderWords.WHERE && where < 0) {
                where = k;
            } else if (w == KeyReaderWords.RETURNING && where >= 0 && whereEnd == e) {
                whereEnd = k;
            }
        }
        refs.walk(i, e, using);
        return decide(where, whereEnd, false);
    }

    /** Assignments {@code col = v, (a, b) = (...)} in {@code [s, e)} set column {@code key}. */
    private boolean setsColumn(int s, int e, String key) {
        if (s >= e) {
            return false;
        }
        int level = t.open[s];
        boolean first = true;
        for (int k = s; k < e; k++) {
            if (t.open[k] != level) {
                continue;
            }
            if (t.is(k, COMMA)) {
                first = true;
                continue;
            }
            if (first) {
                first = false;
                if (t.is(k, LPAREN)) {
                    int close = t.partner[k];
                    boolean firstInList = true;
                    for (int j = k + 1; j < close; j++) {
                        if (t.open[j] != k) {
                            continue;
                        }
                        if (t.is(j, COMMA)) {
                            firstInList = true;
                        } else if (firstInList) {
                            firstInList = false;
                            if (t.isName(j) && t.name(j).equals(key)) {
                                return true;
                            }
                        }
                    }
                } else if (t.isName(k) && t.name(k).equals(key)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * {@code INSERT INTO t [AS a] (cols) [OVERRIDING ... VALUE] VALUES (...), ... [ON CONFLICT ...]
     * [RETURNING ...]}: one key per row.
     */
    private StatementKeys insert(int s, int e) {
        if (!t.isWord(s + 1, KeyReaderWords.INTO)) {
            return nameScan(s, e);
        }
        int before = refs.refs.size();
        int i = refs.target(s + 2, e, true, true);
        if (refs.refs.size() == before) {
            return nameScan(s, e);
        }
        TableRefs.Ref target = refs.refs.get(before);
        List<String> columns = null;
        if (t.is(i, LPAREN)) {
            columns = t.firstNames(i);
            i = t.after(i);
        }
        if (t.isWord(i, KeyReaderWords.OVERRIDING)) {
            i += 3;
        }
        refs.walk(i, e, -1);
        if (!target.sharded()) {
            return decide(-1, e, false);
        }
        String table = target.display();
        String key = target.keyColumn();
        TableRefs.Ref innerWrite = refs.shardedInnerWrite();
        if (innerWrite != null) {
            return dataModifyingWith(innerWrite);
        }
        if (columns == null) {
            return StatementKeys.keyless("INSERT into sharded table " + table + " needs a column list", table, key);
        }
        int keyIndex = columns.indexOf(key);
        if (keyIndex < 0) {
            return StatementKeys.keyless("INSERT into sharded table " + table + " without its sharding key " + key,
                    table, key);
        }
        if (!t.isWord(i, KeyReaderWords.VALUES)) {
            return StatementKeys.keyless("INSERT into sharded table " + table
                    + " from a query or DEFAULT VALUES: the keys are not in the SQL", table, key);
        }
        List<InsertRow> rows = new ArrayList<>();
        List<KeyValue> keys = new ArrayList<>();
        int missing = -1;
        int j = i + 1;
        while (t.is(j, LPAREN)) {
            int close = t.partner[j];
            KeyValue v = element(j, keyIndex);
            rows.add(new InsertRow(v, t.start[j], t.end[close]));
            if (v != null) {
                keys.add(v);
            } else if (missing < 0) {
                missing = rows.size();
            }
            j = close + 1;
            if (!t.is(j, COMMA)) {
                break;
            }
            j++;
        }
        int level = t.open[s];
        if (rows.isEmpty() || !(j == e || t.isWord(j, KeyReaderWords.ON) || t.isWord(j, KeyReaderWords.RETURNING))) {
            return StatementKeys.keyless("INSERT into sharded table " + table
                    + ": VALUES other than a list of rows followed by ON CONFLICT or RETURNING", table, key);
        }
        int valuesStart = rows.get(0).start();
        int valuesEnd = rows.get(rows.size() - 1).end();
        for (int k = j; k + 2 < e; k++) {
            if (t.open[k] == level && t.isWord(k, KeyReaderWords.DO) && t.isWord(k + 1, KeyReaderWords.UPDATE)
                    && t.isWord(k + 2, KeyReaderWords.SET)) {
                int end = k + 3;
                while (end < e && !(t.open[end] == level
                        && (t.isWord(end, KeyReaderWords.WHERE) || t.isWord(end, KeyReaderWords.RETURNING)))) {
                    end++;
                }
                if (setsColumn(k + 3, end, key)) {
                    return new StatementKeys(Kind.KEYLESS, "ON CONFLICT DO UPDATE of the sharding key " + table + "."
                            + key, table, key, keys, rows, valuesStart, valuesEnd, null, false);
                }
            }
        }
        if (missing > 0) {
            return new StatementKeys(Kind.KEYLESS, "row " + missing + " of INSERT into sharded table " + table
                    + " has no constant or parameter for its sharding key " + key, table, key, keys, rows,
                    valuesStart, valuesEnd, null, false);
        }
        return new StatementKeys(Kind.KEYED, null, table, key, keys, rows, valuesStart, valuesEnd, null, false);
    }

    /** Element {@code index} of the VALUES row opening at {@code open}, as a key value, or null. */
    private KeyValue element(int open, int index) {
        int close = t.partner[open];
        int s = open + 1;
        int n = 0;
        for (int k = open + 1; k <= close; k++) {
            if (k == close || (t.open[k] == open && t.is(k, COMMA))) {
                if (n == index) {
                    return KeyConstants.value(t, s, k, false);
                }
                n++;
                s = k + 1;
            }
        }
        return null;
    }

    /** Any other statement: KEYLESS if it names a sharded table anywhere, else the default shard's. */
    private StatementKeys nameScan(int s, int e) {
        for (int k = s; k < e; k++) {
            if (!t.isName(k) || t.is(k - 1, SqlLexer.DOT)) {
                continue;
            }
            // Any name may be the table (CREATE INDEX ON users (name), ALTER TABLE s.users ...): a
            // column or function that happens to share a sharded table's name only errs on the safe side.
            int end = t.nameEnd(k, e);
            String first = t.name(k);
            String key = tables.keyColumn(null, first);
            String table = first;
            if (key == null && end - k >= 3) {
                table = t.name(k + 2);
                key = tables.keyColumn(first, table);
                table = first + "." + table;
            }
            if (key != null) {
                String what = t.is(s, WORD) ? t.text(s).toUpperCase(java.util.Locale.ROOT) : "statement";
                return StatementKeys.keyless(what + " on sharded table " + table + " is not routed by a key",
                        table, key);
            }
            k = end - 1;
        }
        return StatementKeys.unsharded(null, true, null);
    }

    // -- deciding -------------------------------------------------------------------------------------

    private StatementKeys dataModifyingWith(TableRefs.Ref r) {
        return StatementKeys.keyless("a data-modifying WITH query writes sharded table " + r.display()
                + ": its rows are not limited by the statement's key", r.display(), r.keyColumn());
    }

    /** The outcome once the tables are known: the WHERE region {@code (where, whereEnd)} (where -1: none). */
    private StatementKeys decide(int where, int whereEnd, boolean setOperation) {
        TableRefs.Ref sharded = refs.firstSharded();
        if (sharded == null) {
            return StatementKeys.unsharded(null, refs.any(), null);
        }
        String table = sharded.display();
        String key = sharded.keyColumn();
        if (setOperation) {
            return StatementKeys.keyless("UNION, INTERSECT or EXCEPT over sharded table " + table
                    + ": each branch would need its own key", table, key);
        }
        TableRefs.Ref innerWrite = refs.shardedInnerWrite();
        if (innerWrite != null) {
            return dataModifyingWith(innerWrite);
        }
        WhereKeys.Found f = where >= 0 ? new WhereKeys(t, refs).constrain(where + 1, whereEnd) : null;
        if (f != null) {
            return new StatementKeys(Kind.KEYED, null, f.ref().display(), f.ref().keyColumn(), f.keys(), List.of(),
                    -1, -1, null, false);
        }
        if (!sharded.top()) {
            return StatementKeys.keyless("sharded table " + table + " is read by a subquery or WITH query only; "
                    + "a key decides in the statement's own WHERE", table, key);
        }
        return StatementKeys.keyless("no sharding key " + table + "." + key + " in WHERE", table, key);
    }
}
