package dev.pgfleet.router.merge;

import static dev.pgfleet.router.merge.SqlTokens.COMMA;
import static dev.pgfleet.router.merge.SqlTokens.DOT;
import static dev.pgfleet.router.merge.SqlTokens.LPAREN;
import static dev.pgfleet.router.merge.SqlTokens.NUMBER;
import static dev.pgfleet.router.merge.SqlTokens.PARAM;
import static dev.pgfleet.router.merge.SqlTokens.QIDENT;
import static dev.pgfleet.router.merge.SqlTokens.RPAREN;
import static dev.pgfleet.router.merge.SqlTokens.STRING;
import static dev.pgfleet.router.merge.SqlTokens.WORD;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One SELECT cut into its clauses (PostgreSQL's simple_select with select_limit and
 * for_locking_clause, manual "SELECT"): the WITH prefix, the select list's items, and where FROM,
 * WHERE, GROUP BY, HAVING, ORDER BY, LIMIT / OFFSET / FETCH and FOR UPDATE start, as token indexes.
 */
final class SelectStatement {
    /** A select-list item {@code expr [[AS] alias]}: tokens {@code [from, exprEnd)} are the expression. */
    record Item(int from, int exprEnd, int to, String alias, boolean star) {
    }

    /** An ORDER BY / DISTINCT ON key: expression tokens {@code [from, to)}. */
    record Key(int from, int to, boolean descending, boolean nullsFirst) {
    }

    final SqlTokens t;
    int select;
    int listStart;
    int listEnd;
    boolean distinct;
    int distinctOnOpen = -1;
    final List<Item> items = new ArrayList<>();
    /** Clause starts (token index), -1 if absent. */
    int from = -1, where = -1, group = -1, having = -1, order = -1, limit = -1, offset = -1, fetch = -1, lock = -1;
    /** First token of each clause's body; ends are the next clause's start. */
    private final List<Integer> starts = new ArrayList<>();

    private static final Set<String> NOT_ALIAS_LAST = Set.of("null", "true", "false", "end", "unknown", "precision",
            "varying", "zone", "isnull", "notnull");
    private static final Set<String> NOT_ALIAS_AFTER = Set.of("and", "or", "not", "is", "like", "ilike", "similar",
            "between", "in", "then", "else", "when", "case", "collate", "escape", "zone", "at", "time", "distinct",
            "from", "operator", "array", "interval", "any", "some", "all", "with", "without", "select", "as",
            "double", "character", "timestamp", "varying", "row", "exists", "by", "on", "over");

    private SelectStatement(SqlTokens t) {
        this.t = t;
    }

    static SelectStatement read(SqlTokens t) throws CrossShardRefusal {
        SelectStatement s = new SelectStatement(t);
        s.cut();
        return s;
    }

    private void cut() throws CrossShardRefusal {
        if (t.count == 0) {
            throw new CrossShardRefusal("empty statement");
        }
        if (t.is(0, LPAREN)) {
            throw new CrossShardRefusal("a parenthesised SELECT is not run across shards");
        }
        select = -1;
        if (t.isWord(0, "with")) {
            for (int i = 1; i < t.count; i++) {
                if (t.depth[i] == 0 && t.is(i, WORD)) {
                    String w = t.word[i];
                    if (w.equals("select")) {
                        select = i;
                        break;
                    }
                    if (w.equals("values") || w.equals("table") || w.equals("insert") || w.equals("update")
                            || w.equals("delete") || w.equals("merge")) {
                        throw new CrossShardRefusal("WITH ... " + w.toUpperCase() + " is not run across shards");
                    }
                }
            }
        } else if (t.isWord(0, "select")) {
            select = 0;
        }
        if (select < 0) {
            throw new CrossShardRefusal("only a SELECT is run across shards");
        }
        for (int k = 0; k + 1 < select; k++) {
            if (t.is(k, LPAREN) && t.depth[k] == 0 && t.is(k + 1, WORD)) {
                String w = t.word[k + 1];
                if (w.equals("insert") || w.equals("update") || w.equals("delete") || w.equals("merge")) {
                    // Every shard would run it: a write the client meant once.
                    throw new CrossShardRefusal("a data-modifying WITH (" + w.toUpperCase() + ") is not run across shards");
                }
            }
        }
        int i = select + 1;
        if (t.isWord(i, "all")) {
            i++;
        } else if (t.isWord(i, "distinct")) {
            distinct = true;
            i++;
            if (t.isWord(i, "on") && t.is(i + 1, LPAREN)) {
                distinctOnOpen = i + 1;
                i = t.partner[i + 1] + 1;
            }
        }
        listStart = i;
        listEnd = t.count;
        for (int k = i; k < t.count; k++) {
            if (t.depth[k] != 0 || !t.is(k, WORD)) {
                continue;
            }
            String w = t.word[k];
            switch (w) {
                case "from":
                    if (t.isWord(k - 1, "distinct")) {
                        continue; // IS [NOT] DISTINCT FROM
                    }
                    from = mark(k, from, w);
                    break;
                case "into":
                    throw new CrossShardRefusal("SELECT INTO is not run across shards");
                case "where":
                    where = mark(k, where, w);
                    break;
                case "group":
                    if (t.isWord(k - 1, "within")) {
                        continue;
                    }
                    if (!t.isWord(k + 1, "by")) {
                        continue;
                    }
                    group = mark(k, group, "GROUP BY");
                    break;
                case "having":
                    having = mark(k, having, w);
                    break;
                case "window":
                    throw new CrossShardRefusal("window functions (WINDOW) are not run across shards");
                case "union": case "intersect": case "except":
                    throw new CrossShardRefusal(w.toUpperCase() + " is not run across shards");
                case "order":
                    if (t.isWord(k + 1, "by")) {
                        order = mark(k, order, "ORDER BY");
                    }
                    break;
                case "limit":
                    limit = mark(k, limit, w);
                    break;
                case "offset":
                    offset = mark(k, offset, w);
                    break;
                case "fetch":
                    fetch = mark(k, fetch, w);
                    break;
                case "for":
                    if (lock < 0) {
                        lock = mark(k, lock, w);
                    }
                    break;
                default:
                    break;
            }
        }
        if (!starts.isEmpty()) {
            listEnd = starts.get(0);
        }
        readItems();
    }

    private int mark(int k, int previous, String name) throws CrossShardRefusal {
        if (previous >= 0) {
            throw new CrossShardRefusal("two " + name.toUpperCase() + " clauses");
        }
        starts.add(k);
        return k;
    }

    /** Index of the token after clause {@code start}'s body (the next clause or the end). */
    int endOf(int start) {
        int end = t.count;
        for (int s : starts) {
            if (s > start && s < end) {
                end = s;
            }
        }
        return end;
    }

    private void readItems() throws CrossShardRefusal {
        if (listStart >= listEnd) {
            throw new CrossShardRefusal("a SELECT without columns is not run across shards");
        }
        for (int[] r : split(listStart, listEnd)) {
            items.add(item(r[0], r[1]));
        }
    }

    /** Splits {@code [from, to)} at its top-level commas (depth of {@code from}). */
    List<int[]> split(int from, int to) {
        List<int[]> parts = new ArrayList<>();
        int d = t.depth[from];
        int s = from;
        for (int k = from; k < to; k++) {
            if (t.is(k, COMMA) && t.depth[k] == d) {
                parts.add(new int[] {s, k});
                s = k + 1;
            }
        }
        parts.add(new int[] {s, to});
        return parts;
    }

    private Item item(int from, int to) throws CrossShardRefusal {
        if (from >= to) {
            throw new CrossShardRefusal("empty select-list item");
        }
        boolean star = t.isOp(to - 1, "*") && (to - 1 == from || (t.is(to - 2, DOT) && to - 2 > from));
        if (star) {
            return new Item(from, to, to, null, true);
        }
        if (to - from >= 3 && t.isWord(to - 2, "as") && t.isName(to - 1)) {
            return new Item(from, to - 2, to, name(to - 1), false);
        }
        if (to - from >= 2 && isBareAlias(to - 1)) {
            return new Item(from, to - 1, to, name(to - 1), false);
        }
        return new Item(from, to, to, null, false);
    }

    private boolean isBareAlias(int i) {
        if (t.is(i, QIDENT)) {
            return endsExpression(i - 1);
        }
        return t.is(i, WORD) && !NOT_ALIAS_LAST.contains(t.word[i]) && endsExpression(i - 1);
    }

    private boolean endsExpression(int i) {
        switch (t.type[i]) {
            case RPAREN: case NUMBER: case STRING: case PARAM: case QIDENT:
                return true;
            case WORD:
                return !NOT_ALIAS_AFTER.contains(t.word[i]);
            default:
                return false;
        }
    }

    /** The identifier as PostgreSQL folds it. */
    String name(int i) {
        return t.is(i, QIDENT) ? Functions.unquote(t.text(i)) : t.word[i];
    }

    /** The column name PostgreSQL gives an item without alias: a column's name, a function's, else null. */
    String outputName(Item item) {
        if (item.alias != null) {
            return item.alias;
        }
        int e = item.exprEnd;
        int last = t.nameEndOf(item.from, e);
        if (last == e) {
            return name(e - 1);
        }
        return null;
    }

    /** The expression tokens are one simple, undotted name. */
    boolean isSimpleName(int from, int to) {
        return to - from == 1 && t.isName(from);
    }

    /** ORDER BY / DISTINCT ON keys. */
    List<Key> keys(int from, int to, boolean withDirection) throws CrossShardRefusal {
        List<Key> keys = new ArrayList<>();
        for (int[] r : split(from, to)) {
            int s = r[0];
            int e = r[1];
            boolean desc = false;
            Boolean nullsFirst = null;
            if (withDirection) {
                for (int k = s; k < e; k++) {
                    if (t.depth[k] == t.depth[s] && t.isWord(k, "using")) {
                        throw new CrossShardRefusal("ORDER BY ... USING is not run across shards");
                    }
                }
                if (e - s >= 3 && t.isWord(e - 2, "nulls") && (t.isWord(e - 1, "first") || t.isWord(e - 1, "last"))) {
                    nullsFirst = t.isWord(e - 1, "first");
                    e -= 2;
                }
                if (e - s >= 2 && (t.isWord(e - 1, "asc") || t.isWord(e - 1, "desc"))) {
                    desc = t.isWord(e - 1, "desc");
                    e--;
                }
            }
            if (s >= e) {
                throw new CrossShardRefusal("empty ORDER BY key");
            }
            keys.add(new Key(s, e, desc, nullsFirst == null ? desc : nullsFirst));
        }
        return keys;
    }

    /** The 1-based position an ORDER BY / GROUP BY key written as an integer names, else 0. */
    int position(int from, int to) {
        if (to - from != 1 || !t.is(from, NUMBER)) {
            return 0;
        }
        String s = t.text(from);
        for (int k = 0; k < s.length(); k++) {
            if (!SqlTokens.isDigit(s.charAt(k))) {
                return 0;
            }
        }
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }

    /** Index of the first star item, or -1. */
    int firstStar() {
        for (int k = 0; k < items.size(); k++) {
            if (items.get(k).star) {
                return k;
            }
        }
        return -1;
    }
}
