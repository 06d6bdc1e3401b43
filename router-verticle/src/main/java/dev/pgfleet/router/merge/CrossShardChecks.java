package dev.pgfleet.router.merge;

import static dev.pgfleet.router.SqlLexer.COMMA;
import static dev.pgfleet.router.SqlLexer.DOT;
import static dev.pgfleet.router.SqlLexer.EOF;
import static dev.pgfleet.router.SqlLexer.LPAREN;
import static dev.pgfleet.router.SqlLexer.OP;
import static dev.pgfleet.router.SqlLexer.RPAREN;
import static dev.pgfleet.router.SqlLexer.SEMI;
import static dev.pgfleet.router.SqlLexer.WORD;

import dev.pgfleet.router.KeyReaderWords;
import dev.pgfleet.router.ShardKeyReader;
import dev.pgfleet.router.SqlLexer;
import dev.pgfleet.router.StatementTokens;
import dev.pgfleet.router.TableRefs;
import dev.pgfleet.router.TableRefs.Ref;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a SELECT run on every shard, with the shards' rows merged by the proxy, may not do: the
 * constructs whose answer is not a merge of the shards' answers. Each shard only sees its own rows,
 * so anything that relates a row of a sharded table to rows on other shards is refused:
 * <ul>
 *   <li>window functions ({@code f(...) OVER ...}, a {@code WINDOW} clause): a partition or frame
 *       spans shards;</li>
 *   <li>a join of two sharded tables not on equality of both sharding keys (in an ON's, or the
 *       top-level WHERE's, AND chain; USING on a column that is both keys; never NATURAL): the
 *       matching rows may be on another shard. Tables joined on their keys are co-located (the
 *       promise PgDog makes too), outer joins included;</li>
 *   <li>subqueries (select list, FROM, LATERAL, WHERE, join conditions) and WITH queries that read a
 *       sharded table: each shard's subquery sees a part of the table (a count, an IN list, a max);</li>
 *   <li>UNION, INTERSECT, EXCEPT over sharded tables (duplicates and differences across shards);</li>
 *   <li>an outer join whose kept side reads no sharded table ({@code countries LEFT JOIN users}):
 *       every shard would return the kept rows its part of the sharded table does not match, so a
 *       country matched on one shard would also come back NULL-extended from the others;</li>
 *   <li>{@code FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE}, also in a subquery or WITH query
 *       (locks in transactions of several shards), {@code SELECT ... INTO} (a table on every
 *       shard), data-modifying WITH queries, whatever tables they name;</li>
 *   <li>anything this reader does not follow with confidence where a sharded table is named: better
 *       a refusal than a merge that is wrong.</li>
 * </ul>
 * Inner joins with omnisharded tables (a full copy on every shard) and with unsharded ones, outer
 * joins that keep a sharded side, and subqueries or WITH queries over only such tables, are
 * allowed. Tables joined on their keys are taken to be sharded alike (same mapping, same shards),
 * as the configuration promises; the key columns' names are all this class is told.
 *
 * <p>Table names match as {@code ShardingSchema} matches them: a bare configured name matches in
 * any schema, a configured {@code schema.table} only there, and a bare name in the query matches a
 * configured {@code public.table} too (the search_path's usual schema).
 */
public final class CrossShardChecks {

    private CrossShardChecks() {
    }

    /**
     * Why {@code sql}, one SELECT (it may start with WITH and end with {@code ;}), cannot run on
     * every shard as it is and be merged; null when it can. The proxy sends the message with
     * SQLSTATE 0A000 (feature_not_supported).
     *
     * @param shardedTables sharded table, as {@link TableRefs} spells it ({@code name} or
     *                      {@code schema.name}, unquoted names in lower case), to its key column
     * @param omnishardedTables tables with a full copy on every shard, spelled so too. Every check
     *                          treats them as it treats unsharded tables (joins with them, and
     *                          subqueries over them, are allowed), so none reads the set yet; it is
     *                          part of the contract for checks that will tell the two apart.
     */
    public static String refusal(CharSequence sql, Map<String, String> shardedTables, Set<String> omnishardedTables) {
        ShardKeyReader.Tables tables = (schema, name) -> lookup(shardedTables, schema, name);
        SqlLexer lx = new SqlLexer(sql, null);
        int first = lx.next();
        while (first == SEMI) {
            first = lx.next();
        }
        if (first == EOF) {
            return null;
        }
        StatementTokens t = StatementTokens.read(lx);
        Reader r = new Reader(t, tables);
        boolean broken = t.broken;
        boolean several = false;
        while (!broken) {
            int after = lx.type;
            while (after == SEMI) {
                after = lx.next();
            }
            if (after == EOF) {
                break;
            }
            several = true;
            StatementTokens next = StatementTokens.read(lx); // only to find the tables it names
            r.following.add(next);
            broken = next.broken;
        }
        if (t.broken || several) {
            return r.unsure(t.broken ? "an unterminated string, quoted identifier or comment, or unbalanced parentheses"
                    : "several statements in one string");
        }
        return r.statement();
    }

    /** The value of {@code table} in {@code byName}, matched as {@code ShardingSchema.table} matches. */
    static String lookup(Map<String, String> byName, String schema, String table) {
        if (schema != null) {
            String v = byName.get(schema + "." + table);
            return v != null ? v : byName.get(table);
        }
        String v = byName.get(table);
        return v != null ? v : byName.get("public." + table);
    }

    /** One statement's tokens and what has been found in them. */
    private static final class Reader {
        private final StatementTokens t;
        private final ShardKeyReader.Tables tables;
        /** Names of the statement's WITH queries. */
        private final List<String> withNames = new ArrayList<>();
        /** The tables of the main query's own FROM, in order. */
        private final List<Ref> top = new ArrayList<>();
        /** Key-column equalities found: each sharded table to its representative (union-find). */
        private final Map<Ref, Ref> parent = new IdentityHashMap<>();
        /** ON conditions of the main FROM, as token ranges {@code [from, to)}. */
        private final List<int[]> onRegions = new ArrayList<>();
        /** The refusal of a NATURAL JOIN of sharded tables, or of an outer join keeping a side without one. */
        private String badJoin;
        /** The statements after this one in the same string, if any. */
        final List<StatementTokens> following = new ArrayList<>();

        Reader(StatementTokens t, ShardKeyReader.Tables tables) {
            this.t = t;
            this.tables = tables;
        }

        /**
         * A sharded table named anywhere in the statement or those after it (any name token, as
         * ShardKeyReader's name scan does), or null.
         */
        private String shardedNamed() {
            String found = shardedNamed(t);
            for (int i = 0; found == null && i < following.size(); i++) {
                found = shardedNamed(following.get(i));
            }
            return found;
        }

        private String shardedNamed(StatementTokens x) {
            for (int k = 0; k < x.count; k++) {
                if (!x.isName(k) || x.is(k - 1, DOT)) {
                    continue;
                }
                int end = x.nameEnd(k, x.count);
                String firstName = x.name(k);
                if (tables.keyColumn(null, firstName) != null) {
                    return firstName;
                }
                if (end - k >= 3 && tables.keyColumn(firstName, x.name(k + 2)) != null) {
                    return firstName + "." + x.name(k + 2);
                }
                k = end - 1;
            }
            return null;
        }

        /** A refusal for a statement not read with confidence, when it names a sharded table; else null. */
        String unsure(String what) {
            String table = shardedNamed();
            return table == null ? null : "cannot read this SELECT with confidence (" + what + ") and it names sharded table "
                    + table + ": refused rather than merged wrongly across shards";
        }

        String statement() {
            int s = 0;
            int e = t.count;
            while (t.wrapped(s, e)) {
                s++;
                e--;
            }
            if (t.isWord(s, KeyReaderWords.WITH)) {
                int[] body = {-1};
                String r = withList(s, e, body);
                if (r != null || body[0] < 0) {
                    return r; // a refusal, or a WITH list not followed (null when no sharded table is named)
                }
                s = body[0];
                while (t.wrapped(s, e)) {
                    s++;
                    e--;
                }
            }
            if (s >= e) {
                return unsure("no query after WITH");
            }
            if (!t.isWord(s, KeyReaderWords.SELECT) && !t.isWord(s, KeyReaderWords.TABLE)
                    && !t.isWord(s, KeyReaderWords.VALUES) && !t.is(s, LPAREN)) {
                return unsure("it does not start with SELECT, WITH, TABLE or VALUES");
            }
            int level = t.open[s];
            // Clauses of the main query: its own level only.
            int from = -1, where = -1, window = -1, setOp = -1, lock = -1, into = -1;
            List<Integer> clauseStarts = new ArrayList<>();
            for (int k = s; k < e; k++) {
                if (t.open[k] != level || t.type[k] != WORD || t.is(k - 1, DOT)) {
                    continue; // (t.fetch is a column)
                }
                switch (t.word[k]) {
                    case KeyReaderWords.FROM:
                        if (from < 0 && !t.isWord(k - 1, KeyReaderWords.DISTINCT) && setOp < 0) {
                            from = k;
                        }
                        break;
                    case KeyReaderWords.WHERE:
                        if (where < 0 && setOp < 0) {
                            where = k;
                            clauseStarts.add(k);
                        }
                        break;
                    case KeyReaderWords.UNION: case KeyReaderWords.INTERSECT: case KeyReaderWords.EXCEPT:
                        if (setOp < 0) {
                            setOp = k;
                        }
                        clauseStarts.add(k);
                        break;
                    case KeyReaderWords.WINDOW:
                        if (window < 0) {
                            window = k;
                        }
                        clauseStarts.add(k);
                        break;
                    case KeyReaderWords.FOR:
                        if (lock < 0) {
                            lock = k;
                        }
                        clauseStarts.add(k);
                        break;
                    case KeyReaderWords.INTO:
                        if (into < 0) {
                            into = k;
                        }
                        clauseStarts.add(k);
                        break;
                    case KeyReaderWords.FETCH: // FETCH FIRST | NEXT; an unreserved word, so maybe a column
                        if (t.is(k + 1, WORD) && (t.name(k + 1).equals("first") || t.name(k + 1).equals("next"))) {
                            clauseStarts.add(k);
                        }
                        break;
                    case KeyReaderWords.GROUP: case KeyReaderWords.HAVING: case KeyReaderWords.ORDER:
                    case KeyReaderWords.LIMIT: case KeyReaderWords.OFFSET:
                        clauseStarts.add(k);
                        break;
                    default:
                        break;
                }
            }
            if (into >= 0) {
                return "SELECT ... INTO would create a table on every shard: it cannot run across shards";
            }
            if (lock < 0) {
                lock = nestedLock(0, t.count);
            }
            if (lock >= 0) {
                return "SELECT ... " + lockingClause(lock) + " cannot lock rows across shards";
            }
            if (setOp >= 0) {
                String table = shardedIn(s, e, true);
                return table == null ? null : t.text(setOp).toUpperCase(java.util.Locale.ROOT) + " over sharded table "
                        + table + " cannot be merged across shards";
            }
            if (t.isWord(s, KeyReaderWords.TABLE)) {
                return null; // TABLE name: every shard's rows, nothing to relate
            }
            if (t.isWord(s, KeyReaderWords.VALUES)) {
                return subqueries(s, e, -1, e, clauseStarts);
            }
            if (!t.isWord(s, KeyReaderWords.SELECT)) {
                return unsure("a parenthesised query followed by other clauses");
            }
            int fromEnd = e;
            for (int c : clauseStarts) {
                if (c > from && c < fromEnd) {
                    fromEnd = c;
                }
            }
            if (from >= 0) {
                String r = fromList(from + 1, fromEnd);
                if (r != null) {
                    return r;
                }
                // A sharded table of the statement's own that TableRefs' walk (ShardKeyReader's reading)
                // finds and this reading does not: refused. (Its walk ends an ON condition at left(...),
                // right(...) or a column named fetch, so it may find fewer.)
                TableRefs all = refs(s);
                all.walk(s, e, from);
                if (shardedTop(all.refs) > shardedTop(top)) {
                    return unsure("a FROM list it does not follow");
                }
            }
            String r = subqueries(s, e, from, fromEnd, clauseStarts);
            if (r != null) {
                return r;
            }
            Ref sharded = null;
            for (Ref ref : top) {
                if (ref.sharded()) {
                    sharded = ref;
                    break;
                }
            }
            if (sharded == null) {
                return null;
            }
            if (window >= 0) {
                return "WINDOW clause over sharded table " + sharded.display() + " cannot be merged across shards";
            }
            String over = windowFunction(s, e);
            if (over != null) {
                return "window function " + over + " over sharded table " + sharded.display()
                        + " cannot be merged across shards";
            }
            if (badJoin != null) {
                return badJoin;
            }
            if (where >= 0) {
                int whereEnd = e;
                for (int c : clauseStarts) {
                    if (c > where && c < whereEnd) {
                        whereEnd = c;
                    }
                }
                equalities(where + 1, whereEnd);
            }
            return joins();
        }

        /**
         * A locking clause of a subquery or WITH query in {@code [s, e)} (also over tables that are not sharded:
         * the shards would lock them in transactions of their own), or -1: {@code FOR} then
         * {@code UPDATE}, {@code SHARE}, {@code NO KEY UPDATE} or {@code KEY SHARE}, at the level of a
         * parenthesised query.
         */
        private int nestedLock(int s, int e) {
            for (int k = s; k < e; k++) {
                if (!t.isWord(k, KeyReaderWords.FOR) || t.open[k] < 0 || !t.queryStart(t.open[k] + 1)) {
                    continue;
                }
                String next = t.is(k + 1, WORD) ? t.name(k + 1) : "";
                String then = t.is(k + 2, WORD) ? t.name(k + 2) : "";
                if (next.equals("update") || next.equals("share") || (next.equals("no") && then.equals("key"))
                        || (next.equals("key") && then.equals("share"))) {
                    return k;
                }
            }
            return -1;
        }

        /** {@code FOR UPDATE}, {@code FOR NO KEY UPDATE}, {@code FOR SHARE}, {@code FOR KEY SHARE} as written. */
        private String lockingClause(int k) {
            StringBuilder b = new StringBuilder("FOR");
            for (int j = k + 1; j < t.count && j <= k + 3 && t.is(j, WORD); j++) {
                String w = t.text(j).toUpperCase(java.util.Locale.ROOT);
                b.append(' ').append(w);
                if (w.equals("UPDATE") || w.equals("SHARE")) {
                    break;
                }
            }
            return b.toString();
        }

        /**
         * {@code WITH [RECURSIVE] name [(cols)] AS [[NOT] MATERIALIZED] (query) [SEARCH ...] [CYCLE ...], ...}:
         * a refusal for a WITH query that writes or reads a sharded table, else null with the main
         * query's first token in {@code body[0]}. A list it does not follow gives {@link #unsure}'s
         * answer and leaves {@code body[0]} at -1.
         */
        private String withList(int s, int e, int[] body) {
            int i = s + 1;
            int level = t.open[s];
            boolean recursive = t.isWord(i, KeyReaderWords.RECURSIVE);
            if (recursive) {
                i++;
            }
            while (true) {
                if (!t.isName(i)) {
                    return unsure("a WITH list it does not follow");
                }
                String name = t.name(i);
                i = t.after(i + 1);
                if (!t.isWord(i, KeyReaderWords.AS)) {
                    return unsure("a WITH list it does not follow");
                }
                i++;
                if (t.isWord(i, KeyReaderWords.NOT)) {
                    i++;
                }
                if (t.isWord(i, KeyReaderWords.MATERIALIZED)) {
                    i++;
                }
                if (!t.is(i, LPAREN)) {
                    return unsure("a WITH list it does not follow");
                }
                int close = t.partner[i];
                if (recursive) {
                    withNames.add(name);
                }
                int q = i + 1;
                while (t.is(q, LPAREN)) {
                    q++;
                }
                if (t.isWord(q, KeyReaderWords.INSERT) || t.isWord(q, KeyReaderWords.UPDATE)
                        || t.isWord(q, KeyReaderWords.DELETE) || (t.is(q, WORD) && t.name(q).equals("merge"))) {
                    return "data-modifying WITH query " + name + " would run on every shard: it cannot run across shards";
                }
                String table = shardedIn(i + 1, close, false);
                if (table != null) {
                    return "WITH query " + name + " reads sharded table " + table
                            + ": each shard would see only its own rows, so it cannot run across shards";
                }
                if (!recursive) {
                    withNames.add(name); // after its own body: a non-recursive WITH query sees the table there
                }
                i = close + 1;
                while (i < e && !(t.open[i] == level && (t.is(i, COMMA) || t.queryStart(i)))) {
                    i++; // SEARCH ... SET col, CYCLE ... SET col USING path
                }
                if (!t.is(i, COMMA)) {
                    body[0] = i;
                    return null;
                }
                i++;
            }
        }

        /** A fresh reader of table references that knows the WITH queries' names. */
        private TableRefs refs(int statementStart) {
            TableRefs r = new TableRefs(t, tables);
            r.statementStart = statementStart;
            for (String n : withNames) {
                r.withQuery(n);
            }
            return r;
        }

        /** The first sharded table read in {@code [s, e)} (a query, or the body of a parenthesis), or null. */
        private String shardedIn(int s, int e, boolean statementLevel) {
            TableRefs r = refs(statementLevel ? s : 0);
            r.walk(s, e, -1);
            for (Ref ref : r.refs) {
                if (ref.sharded()) {
                    return ref.display();
                }
            }
            return null;
        }

        // -- the main query's FROM -------------------------------------------------------------------

        /**
         * The FROM list {@code [s, e)}: items separated by commas and joins. Notes its tables in
         * {@link #top}, the equalities of its ON conditions, and NATURAL / USING joins of sharded tables.
         */
        private String fromList(int s, int e) {
            int level = s < t.count ? t.open[s] : -1;
            List<Ref> left = new ArrayList<>(); // the tables joined so far in this list
            int i = s;
            boolean natural = false;
            String outer = null; // LEFT, RIGHT or FULL: the join's kind
            boolean joined = false; // the next item is the right side of a JOIN
            while (i < e) {
                // One item: up to a comma, a join word, ON or USING at this level.
                int itemEnd = i;
                if (t.isWord(itemEnd, KeyReaderWords.LATERAL)) {
                    itemEnd++;
                }
                while (itemEnd < e && !(t.open[itemEnd] == level && endsItem(itemEnd))) {
                    itemEnd++;
                }
                if (itemEnd == i) {
                    return unsure("a FROM list it does not follow");
                }
                List<Ref> right = new ArrayList<>();
                int p = t.isWord(i, KeyReaderWords.LATERAL) ? i + 1 : i;
                if (t.is(p, LPAREN) && !t.queryStart(p + 1)) {
                    // (a JOIN b ON ...) [alias]: a join tree of its own
                    int before = top.size();
                    String r = fromList(p + 1, t.partner[p]);
                    if (r != null) {
                        return r;
                    }
                    right.addAll(top.subList(before, top.size()));
                } else {
                    TableRefs refs = refs(0);
                    refs.fromList(i, itemEnd, true);
                    for (Ref ref : refs.refs) {
                        if (ref.top()) {
                            right.add(ref);
                            top.add(ref);
                        }
                    }
                }
                i = itemEnd;
                if (joined && natural && anySharded(left) && anySharded(right) && badJoin == null) {
                    badJoin = "NATURAL JOIN of sharded tables " + firstSharded(left).display() + " and "
                            + firstSharded(right).display() + " cannot run across shards: join them on their sharding keys";
                }
                if (joined && outer != null && badJoin == null) {
                    badJoin = outerJoin(outer, left, right);
                }
                // What follows the item: ON condition, USING list, then the next item's operator.
                if (t.isWord(i, KeyReaderWords.ON)) {
                    int c = i + 1;
                    while (c < e && !(t.open[c] == level && endsCondition(c))) {
                        c++;
                    }
                    onRegions.add(new int[] {i + 1, c});
                    equalities(i + 1, c);
                    i = c;
                    if (t.isWord(i, KeyReaderWords.ON)) {
                        return unsure("a join with several ON conditions in a row");
                    }
                } else if (t.isWord(i, KeyReaderWords.USING)) {
                    if (!t.is(i + 1, LPAREN)) {
                        return unsure("a USING list it does not follow");
                    }
                    using(i + 1, left, right);
                    i = t.after(i + 1);
                    if (t.isWord(i, KeyReaderWords.AS) && t.isName(i + 1)) {
                        i += 2; // USING (...) AS join_alias
                    }
                }
                left.addAll(right);
                if (i >= e) {
                    break;
                }
                natural = false;
                joined = false;
                outer = null;
                if (t.is(i, COMMA)) {
                    i++;
                    continue;
                }
                while (i < e && t.is(i, WORD) && !t.isWord(i, KeyReaderWords.JOIN)) {
                    switch (t.word[i]) {
                        case KeyReaderWords.NATURAL:
                            natural = true;
                            break;
                        case KeyReaderWords.LEFT: case KeyReaderWords.RIGHT: case KeyReaderWords.FULL:
                            outer = t.text(i).toUpperCase(java.util.Locale.ROOT);
                            break;
                        case KeyReaderWords.INNER: case KeyReaderWords.OUTER: case KeyReaderWords.CROSS:
                            break;
                        default:
                            return unsure("a FROM list it does not follow");
                    }
                    i++;
                }
                if (!t.isWord(i, KeyReaderWords.JOIN)) {
                    return unsure("a FROM list it does not follow");
                }
                joined = true;
                i++;
            }
            return null;
        }

        /**
         * An outer join keeps the unmatched rows of its preserved side. When that side reads no
         * sharded table (an omnisharded or unsharded table, a function, VALUES) and the other does,
         * every shard keeps the rows its own part of the sharded table does not match, so a row
         * matched on one shard also comes back NULL-extended from the others: refused. Null when
         * the join is fine.
         */
        private String outerJoin(String kind, List<Ref> left, List<Ref> right) {
            boolean l = anySharded(left);
            boolean r = anySharded(right);
            List<Ref> kept;
            Ref sharded;
            if (kind.equals("LEFT") && !l && r) {
                kept = left;
                sharded = firstSharded(right);
            } else if (kind.equals("RIGHT") && l && !r) {
                kept = right;
                sharded = firstSharded(left);
            } else if (kind.equals("FULL") && l != r) {
                kept = l ? right : left;
                sharded = firstSharded(l ? left : right);
            } else {
                return null;
            }
            String what = kept.isEmpty() ? "a subquery or function" : "table " + kept.get(0).display();
            return kind + " JOIN keeps the unmatched rows of " + what + ", which is not sharded, against sharded table "
                    + sharded.display() + ": every shard would return them, so it cannot run across shards";
        }

        /** A token at the FROM list's level that ends an item. */
        private boolean endsItem(int k) {
            if (t.is(k, COMMA)) {
                return true;
            }
            if (t.type[k] != WORD) {
                return false;
            }
            switch (t.word[k]) {
                case KeyReaderWords.LEFT: case KeyReaderWords.RIGHT:
                    return !t.is(k + 1, LPAREN); // left(text, n), right(text, n) are functions
                case KeyReaderWords.NATURAL:
                case KeyReaderWords.FULL: case KeyReaderWords.INNER: case KeyReaderWords.CROSS:
                case KeyReaderWords.JOIN: case KeyReaderWords.ON: case KeyReaderWords.USING:
                    return true;
                default:
                    return false;
            }
        }

        /** A token at the FROM list's level that ends an ON condition. */
        private boolean endsCondition(int k) {
            if (t.is(k, COMMA)) {
                return true;
            }
            if (t.type[k] != WORD) {
                return false;
            }
            switch (t.word[k]) {
                case KeyReaderWords.LEFT: case KeyReaderWords.RIGHT:
                    return !t.is(k + 1, LPAREN); // left(text, n), right(text, n) are functions
                case KeyReaderWords.NATURAL:
                case KeyReaderWords.FULL: case KeyReaderWords.INNER: case KeyReaderWords.CROSS:
                case KeyReaderWords.JOIN: case KeyReaderWords.ON:
                    return true;
                default:
                    return false;
            }
        }

        /**
         * {@code JOIN right USING (c, ...)}: each column {@code c} equates the right table's
         * {@code c} with the left side's one; that joins keys when {@code c} is the key of the
         * sharded table on the right and of the one on the left that has it.
         */
        private void using(int open, List<Ref> left, List<Ref> right) {
            List<String> columns = new ArrayList<>();
            for (int k = open + 1; k < t.partner[open]; k++) {
                if (t.isName(k)) {
                    columns.add(t.name(k));
                }
            }
            for (String c : columns) {
                for (Ref r : right) {
                    if (!r.sharded() || r.renamed() || !r.keyColumn().equals(c)) {
                        continue;
                    }
                    for (Ref l : left) {
                        if (l.sharded() && !l.renamed() && l.keyColumn().equals(c)) {
                            union(l, r);
                        }
                    }
                }
            }
        }

        private static int shardedTop(List<Ref> refs) {
            int n = 0;
            for (Ref r : refs) {
                if (r.top() && r.sharded()) {
                    n++;
                }
            }
            return n;
        }

        private static boolean anySharded(List<Ref> refs) {
            return firstSharded(refs) != null;
        }

        private static Ref firstSharded(List<Ref> refs) {
            for (Ref r : refs) {
                if (r.sharded()) {
                    return r;
                }
            }
            return null;
        }

        // -- key equalities ---------------------------------------------------------------------------

        /** Notes every {@code a.key = b.key} of sharded tables in the AND chain of the condition {@code [s, e)}. */
        private void equalities(int s, int e) {
            while (t.wrapped(s, e)) {
                s++;
                e--;
            }
            if (s >= e) {
                return;
            }
            if (!split(s, e, KeyReaderWords.OR).isEmpty()) {
                return;
            }
            List<Integer> ands = split(s, e, KeyReaderWords.AND);
            if (!ands.isEmpty()) {
                int from = s;
                ands.add(e);
                for (int at : ands) {
                    equalities(from, at);
                    from = at + 1;
                }
                return;
            }
            int level = t.open[s];
            int eq = -1;
            for (int k = s; k < e; k++) {
                if (t.open[k] == level && t.is(k, OP)) {
                    if (eq >= 0 || !t.isOp(k, "=")) {
                        return; // another operator: not a plain equality of two columns
                    }
                    eq = k;
                }
            }
            if (eq < 0) {
                return;
            }
            Ref a = keyColumn(s, eq);
            Ref b = keyColumn(eq + 1, e);
            if (a != null && b != null) {
                union(a, b);
            }
        }

        /** The top-level AND or OR tokens of {@code [s, e)}: not inside CASE ... END, nor BETWEEN's AND. */
        private List<Integer> split(int s, int e, int w) {
            List<Integer> at = new ArrayList<>();
            int level = t.open[s];
            int cases = 0;
            int betweens = 0;
            for (int k = s; k < e; k++) {
                if (t.open[k] != level || t.type[k] != WORD) {
                    continue;
                }
                int word = t.word[k];
                if (word == KeyReaderWords.CASE) {
                    cases++;
                } else if (word == KeyReaderWords.END && cases > 0) {
                    cases--;
                } else if (cases == 0) {
                    if (word == KeyReaderWords.BETWEEN) {
                        betweens++;
                    } else if (word == KeyReaderWords.AND && betweens > 0) {
                        betweens--;
                    } else if (word == w) {
                        at.add(k);
                    }
                }
            }
            return at;
        }

        /**
         * The sharded table of the main FROM whose key column {@code [s, e)} is exactly:
         * {@code t.key} ({@code t} its alias, or its name without one), {@code schema.t.key}, or a
         * bare {@code key} that only one sharded table has as its key; null otherwise.
         */
        private Ref keyColumn(int s, int e) {
            while (t.wrapped(s, e)) {
                s++;
                e--;
            }
            if (s >= e || t.nameEnd(s, e) != e) {
                return null;
            }
            int parts = (e - s + 1) / 2;
            String column = t.name(e - 1);
            if (parts == 1) {
                Ref found = null;
                for (Ref r : top) {
                    if (r.sharded() && !r.renamed() && r.keyColumn().equals(column)) {
                        if (found != null) {
                            return null; // ambiguous: PostgreSQL would say so too
                        }
                        found = r;
                    }
                }
                return found;
            }
            if (parts > 3) {
                return null;
            }
            String qualifier = t.name(e - 3);
            String schema = parts == 3 ? t.name(s) : null;
            for (Ref r : top) {
                boolean named = schema == null
                        ? (r.alias() != null ? r.alias().equals(qualifier) : r.name().equals(qualifier))
                        : r.alias() == null && r.name().equals(qualifier) && (r.schema() == null || r.schema().equals(schema));
                if (named) {
                    return r.sharded() && !r.renamed() && r.keyColumn().equals(column) ? r : null;
                }
            }
            return null;
        }

        private Ref find(Ref r) {
            Ref p = parent.getOrDefault(r, r);
            if (p == r) {
                return r;
            }
            Ref root = find(p);
            parent.put(r, root);
            return root;
        }

        private void union(Ref a, Ref b) {
            Ref ra = find(a);
            Ref rb = find(b);
            if (ra != rb) {
                parent.put(rb, ra);
            }
        }

        /** Every sharded table of the main FROM joined to the first one by key equalities, else a refusal. */
        private String joins() {
            Ref first = null;
            for (Ref r : top) {
                if (!r.sharded()) {
                    continue;
                }
                if (first == null) {
                    first = r;
                } else if (find(r) != find(first)) {
                    return "join of sharded tables " + first.display() + " and " + r.display()
                            + " is not on their sharding keys (" + qualified(first) + " = " + qualified(r)
                            + "): it cannot run across shards";
                }
            }
            return null;
        }

        private static String qualified(Ref r) {
            return (r.alias() != null ? r.alias() : r.display()) + "." + r.keyColumn();
        }

        // -- subqueries and window functions ---------------------------------------------------------

        /** A refusal for the first subquery of the main query {@code [s, e)} that reads a sharded table. */
        private String subqueries(int s, int e, int from, int fromEnd, List<Integer> clauseStarts) {
            for (int k = s; k < e; k++) {
                if (!t.is(k, LPAREN) || !t.queryStart(k + 1)) {
                    continue;
                }
                int close = t.partner[k];
                String table = shardedIn(k + 1, close, false);
                if (table != null) {
                    String what = t.isWord(s, KeyReaderWords.VALUES) ? "subquery in VALUES"
                            : placeOf(k, from, fromEnd, clauseStarts);
                    return what + " reads sharded table " + table
                            + ": each shard would see only its own rows, so it cannot run across shards";
                }
                k = close;
            }
            return null;
        }

        /** What the subquery opening at {@code k} is, by the clause it is in. */
        private String placeOf(int k, int from, int fromEnd, List<Integer> clauseStarts) {
            if (from >= 0 && k > from && k < fromEnd) {
                for (int[] on : onRegions) {
                    if (k >= on[0] && k < on[1]) {
                        return "subquery in a join condition";
                    }
                }
                if (t.isWord(k - 1, KeyReaderWords.LATERAL)) {
                    return "LATERAL subquery";
                }
                return "subquery in FROM";
            }
            int clause = -1;
            for (int c : clauseStarts) {
                if (c < k && c > clause) {
                    clause = c;
                }
            }
            if (clause < 0 || (from >= 0 && clause < from && k < from)) {
                return "subquery in the select list";
            }
            switch (t.word[clause]) {
                case KeyReaderWords.WHERE: return "subquery in WHERE";
                case KeyReaderWords.GROUP: return "subquery in GROUP BY";
                case KeyReaderWords.HAVING: return "subquery in HAVING";
                case KeyReaderWords.ORDER: return "subquery in ORDER BY";
                default: return "subquery in " + t.text(clause).toUpperCase(java.util.Locale.ROOT);
            }
        }

        /**
         * The first window function call of {@code [s, e)} outside subqueries, as written
         * ({@code rank()}, or {@code name(...)} when long), or null: a call's {@code )} (or its
         * {@code FILTER (...)}'s) followed by {@code OVER} and a window name or {@code (}.
         */
        private String windowFunction(int s, int e) {
            for (int k = s; k < e; k++) {
                if (t.is(k, LPAREN) && t.queryStart(k + 1)) {
                    k = t.partner[k];
                    continue;
                }
                if (!t.is(k, WORD) || !t.name(k).equals("over") || !t.is(k - 1, RPAREN)
                        || !(t.is(k + 1, LPAREN) || t.isName(k + 1))) {
                    continue; // OVER cannot be a column label without AS: after ")" it is a window
                }
                int open = t.partner[k - 1];
                if (t.is(open - 1, WORD) && t.name(open - 1).equals("filter") && t.is(open - 2, RPAREN)) {
                    open = t.partner[open - 2];
                }
                int nameStart = open - 1;
                if (!t.isName(nameStart)) {
                    return "call";
                }
                while (t.is(nameStart - 1, DOT) && t.isName(nameStart - 2)) {
                    nameStart -= 2;
                }
                String call = t.sql.subSequence(t.start[nameStart], t.end[t.partner[open]]).toString();
                if (t.is(nameStart, SqlLexer.QIDENT) || call.length() > 40) {
                    call = t.name(open - 1) + "(...)";
                }
                return call;
            }
            return null;
        }
    }
}
