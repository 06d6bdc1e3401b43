package dev.pgfleet.router;

import static dev.pgfleet.router.SqlLexer.COMMA;
import static dev.pgfleet.router.SqlLexer.DOT;
import static dev.pgfleet.router.SqlLexer.LPAREN;
import static dev.pgfleet.router.SqlLexer.WORD;

import java.util.ArrayList;
import java.util.List;

/**
 * The tables a statement references, found in its FROM lists (with JOINs, aliases, subqueries in
 * FROM, LATERAL and function calls), in {@code DELETE ... USING}, and as the target of INSERT,
 * UPDATE and DELETE, at any depth: the top-level statement's own tables are marked
 * {@link Ref#top}; those of subqueries, CTEs and set operations are not. A {@code FROM} is a
 * table list only where a query is ({@code EXTRACT(year FROM ts)} and {@code IS DISTINCT FROM}
 * are not).
 */
public final class TableRefs {

    /**
     * A table reference.
     *
     * @param schema the schema written, or null
     * @param name the table name as PostgreSQL sees it
     * @param alias the alias, or null
     * @param keyColumn the sharding key column when the table is sharded, else null
     * @param top a table of the statement itself, not of a subquery or CTE
     * @param modified the target of an INSERT, UPDATE or DELETE
     * @param renamed its columns are renamed by a column alias list ({@code FROM users u (a, b)}): no
     *                column reference names the key as the table does
     */
    public record Ref(String schema, String name, String alias, String keyColumn, boolean top, boolean modified,
               boolean renamed) {
        public boolean sharded() {
            return keyColumn != null;
        }

        /** The table for messages: {@code name} or {@code schema.name}. */
        public String display() {
            return schema == null ? name : schema + "." + name;
        }
    }

    private final StatementTokens t;
    private final ShardKeyReader.Tables tables;
    public final List<Ref> refs = new ArrayList<>();
    /** The first token of the statement proper (after EXPLAIN, PREPARE ... AS, DECLARE ... FOR). */
    public int statementStart;
    /** Names of the statement's WITH queries: an unqualified name among them is no table. */
    private final java.util.Set<String> withQueries = new java.util.HashSet<>();

    public TableRefs(StatementTokens t, ShardKeyReader.Tables tables) {
        this.t = t;
        this.tables = tables;
    }

    /**
     * Finds the tables in {@code [from, to)}. The FROM or USING token at {@code topList} (or -1)
     * starts the statement's own table list.
     */
    public void walk(int from, int to, int topList) {
        int i = from;
        while (i < to) {
            if (t.type[i] != WORD) {
                i++;
                continue;
            }
            switch (t.word[i]) {
                case KeyReaderWords.FROM:
                    if (i == topList || realFrom(i)) {
                        boolean deleteTarget = t.isWord(i - 1, KeyReaderWords.DELETE);
                        i = deleteTarget ? target(i + 1, to, i == topList, true) : fromList(i + 1, to, i == topList);
                        continue;
                    }
                    break;
                case KeyReaderWords.USING:
                    if (t.isName(i + 1) && (i == topList || inQuery(i))) {
                        i = fromList(i + 1, to, i == topList);
                        continue;
                    }
                    break;
                case KeyReaderWords.INTO:
                    if (t.isWord(i - 1, KeyReaderWords.INSERT)) {
                        i = target(i + 1, to, false, true);
                        continue;
                    }
                    break;
                case KeyReaderWords.UPDATE:
                    if (t.is(i - 1, LPAREN) || t.is(i - 1, SqlLexer.RPAREN)) { // (UPDATE ...), AS (...) UPDATE
                        i = target(i + 1, to, false, true);
                        continue;
                    }
                    break;
                case KeyReaderWords.TABLE:
                    if (t.isName(i + 1)) {
                        i = target(i + 1, to, false, false);
                        continue;
                    }
                    break;
                default:
                    break;
            }
            i++;
        }
    }

    /** A FROM that starts a table list: in a query, not {@code IS [NOT] DISTINCT FROM}. */
    private boolean realFrom(int i) {
        if (t.isWord(i - 1, KeyReaderWords.DISTINCT)) {
            return false;
        }
        return inQuery(i);
    }

    /** Token {@code i} is at the level of a query: the statement's own or a parenthesised query's. */
    private boolean inQuery(int i) {
        int o = t.open[i];
        return t.queryStart(o < 0 ? statementStart : o + 1);
    }

    /** One table, as the target of INSERT/UPDATE/DELETE or after TABLE: [ONLY] name [*] [[AS] alias]. */
    int target(int i, int to, boolean top, boolean modified) {
        if (t.isWord(i, KeyReaderWords.ONLY)) {
            i++;
        }
        int e = t.nameEnd(i, to);
        if (e == i) {
            return i;
        }
        Ref r = ref(i, e, top, modified);
        i = e;
        if (t.isOp(i, "*")) {
            i++;
        }
        String[] alias = new String[2];
        i = alias(i, to, alias, false);
        add(r, alias);
        return i;
    }

    /** A FROM list from token {@code i}: items joined by commas and JOINs; returns where it ends. */
    public int fromList(int i, int to, boolean top) {
        int level = i < t.count ? t.open[i] : -1;
        i = item(i, to, top);
        while (i < to) {
            if (t.is(i, COMMA)) {
                i = item(i + 1, to, top);
                continue;
            }
            if (t.type[i] != WORD) {
                return i;
            }
            switch (t.word[i]) {
                case KeyReaderWords.NATURAL: case KeyReaderWords.LEFT: case KeyReaderWords.RIGHT:
                case KeyReaderWords.FULL: case KeyReaderWords.INNER: case KeyReaderWords.CROSS:
                case KeyReaderWords.OUTER:
                    i++;
                    break;
                case KeyReaderWords.JOIN:
                    i = item(i + 1, to, top);
                    break;
                case KeyReaderWords.ON: {
                    int e = i + 1;
                    while (e < to && !(t.open[e] == level && endsJoinCondition(e))) {
                        e++;
                    }
                    walk(i + 1, e, -1);
                    i = e;
                    break;
                }
                case KeyReaderWords.USING:
                    i = t.after(i + 1);
                    if (t.isWord(i, KeyReaderWords.AS) && t.isName(i + 1)) {
                        i += 2;
                    }
                    break;
                default:
                    return i;
            }
        }
        return i;
    }

    private boolean endsJoinCondition(int i) {
        if (t.is(i, COMMA)) {
            return true;
        }
        if (t.type[i] != WORD) {
            return false;
        }
        switch (t.word[i]) {
            case KeyReaderWords.NATURAL: case KeyReaderWords.LEFT: case KeyReaderWords.RIGHT:
            case KeyReaderWords.FULL: case KeyReaderWords.INNER: case KeyReaderWords.CROSS:
            case KeyReaderWords.JOIN: case KeyReaderWords.ON: case KeyReaderWords.WHERE:
            case KeyReaderWords.GROUP: case KeyReaderWords.HAVING: case KeyReaderWords.WINDOW:
            case KeyReaderWords.ORDER: case KeyReaderWords.LIMIT: case KeyReaderWords.OFFSET:
            case KeyReaderWords.FETCH: case KeyReaderWords.FOR: case KeyReaderWords.UNION:
            case KeyReaderWords.INTERSECT: case KeyReaderWords.EXCEPT: case KeyReaderWords.RETURNING:
                return true;
            default:
                return false;
        }
    }

    /** One FROM item: a table, a function call, a subquery or a parenthesised join, with its alias. */
    private int item(int i, int to, boolean top) {
        if (t.isWord(i, KeyReaderWords.LATERAL)) {
            i++;
        }
        if (i >= to) {
            return i;
        }
        if (t.is(i, LPAREN)) {
            int close = t.partner[i];
            if (t.queryStart(i + 1)) {
                walk(i + 1, close, -1);
            } else {
                fromList(i + 1, close, top); // (a JOIN b ON ...)
            }
            return alias(close + 1, to, new String[2], true);
        }
        boolean only = t.isWord(i, KeyReaderWords.ONLY);
        if (only) {
            i++;
            if (t.is(i, LPAREN)) { // ONLY (name)
                target(i + 1, t.partner[i], top, false);
                return alias(t.partner[i] + 1, to, new String[2], true);
            }
        }
        int e = t.nameEnd(i, to);
        if (e == i) {
            return i;
        }
        if (t.is(e, LPAREN)) { // a function in FROM: its arguments may hold subqueries
            walk(e + 1, t.partner[e], -1);
            i = t.partner[e] + 1;
            if (t.isWord(i, KeyReaderWords.WITH) && t.is(i + 1, WORD)) {
                i += 2; // WITH ORDINALITY
            }
            return alias(i, to, new String[2], true);
        }
        Ref r = ref(i, e, top, false);
        i = e;
        if (t.isOp(i, "*")) {
            i++;
        }
        String[] alias = new String[2];
        i = alias(i, to, alias, true);
        add(r, alias);
        if (t.isWord(i, KeyReaderWords.TABLESAMPLE)) {
            i = t.after(t.nameEnd(i + 1, to));
            if (t.is(i, WORD) && t.is(i + 1, LPAREN)) {
                i = t.after(i + 1); // REPEATABLE (seed)
            }
        }
        return i;
    }

    /** [AS] alias [(column aliases)]; the alias goes to {@code out[0]}. */
    private int alias(int i, int to, String[] out, boolean columnList) {
        if (t.isWord(i, KeyReaderWords.AS) && t.isName(i + 1)) {
            out[0] = t.name(i + 1);
            i += 2;
        } else if (i < to && t.isBareAlias(i) && !t.is(i + 1, DOT)) {
            out[0] = t.name(i);
            i++;
        } else {
            return i;
        }
        if (columnList && t.is(i, LPAREN)) {
            i = t.after(i);
            out[1] = "renamed";
        }
        return i;
    }

    private Ref ref(int s, int e, boolean top, boolean modified) {
        String schema = null;
        String name = t.name(e - 1);
        if (e - s >= 3) {
            schema = t.name(e - 3); // a catalog before it, if any, must be the current database
        }
        String key = schema == null && withQueries.contains(name) ? null : tables.keyColumn(schema, name);
        return new Ref(schema, name, null, key, top, modified, false);
    }

    private void add(Ref r, String[] alias) {
        refs.add(alias[0] == null ? r
                : new Ref(r.schema(), r.name(), alias[0], r.keyColumn(), r.top(), r.modified(), alias[1] != null));
    }

    /** A WITH query of this name is defined: later unqualified references to the name are to it. */
    public void withQuery(String name) {
        withQueries.add(name);
    }

    /** The first sharded table, preferring the statement's own; null if none. */
    Ref firstSharded() {
        Ref inner = null;
        for (Ref r : refs) {
            if (r.sharded()) {
                if (r.top()) {
                    return r;
                }
                if (inner == null) {
                    inner = r;
                }
            }
        }
        return inner;
    }

    /** A sharded table written by a subquery or CTE (a data-modifying WITH), or null. */
    Ref shardedInnerWrite() {
        for (Ref r : refs) {
            if (r.sharded() && !r.top() && r.modified()) {
                return r;
            }
        }
        return null;
    }

    boolean any() {
        return !refs.isEmpty();
    }
}
