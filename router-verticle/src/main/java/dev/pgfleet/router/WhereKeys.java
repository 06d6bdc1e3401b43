package dev.pgfleet.router;

import static dev.pgfleet.router.SqlLexer.COMMA;
import static dev.pgfleet.router.SqlLexer.LPAREN;
import static dev.pgfleet.router.SqlLexer.NUMBER;
import static dev.pgfleet.router.SqlLexer.OP;
import static dev.pgfleet.router.SqlLexer.WORD;

import dev.pgfleet.router.StatementKeys.KeyValue;
import java.util.ArrayList;
import java.util.List;

/**
 * The key values a search condition (a WHERE clause) limits a statement's rows to. PostgreSQL's
 * precedence decides the shape: OR binds loosest, then AND, then NOT, then {@code =} and IN
 * (section 4.1.6 of the manual). So a condition limits the key when it is
 * <ul>
 *   <li>{@code key = v}, {@code v = key}, {@code key IN (v, ...)} or {@code key = ANY (ARRAY[v, ...])},
 *       nothing else in it, {@code v} a constant or parameter ({@link KeyConstants});</li>
 *   <li>an AND chain one of whose terms limits it (the first such term gives the keys);</li>
 *   <li>an OR each of whose branches limits the same table's key (the keys of all branches);</li>
 *   <li>any of these in parentheses.</li>
 * </ul>
 * A NOT, and anything else, limits nothing. AND inside {@code BETWEEN x AND y} and inside
 * {@code CASE ... END} is not a chain's AND.
 */
final class WhereKeys {

    /** What a condition limits: the table whose key it is and the values. */
    record Found(TableRefs.Ref ref, List<KeyValue> keys) {
    }

    private final StatementTokens t;
    private final TableRefs refs;

    WhereKeys(StatementTokens t, TableRefs refs) {
        this.t = t;
        this.refs = refs;
    }

    /** The key values the condition {@code [s, e)} limits the rows to, or null. */
    Found constrain(int s, int e) {
        while (t.wrapped(s, e)) {
            s++;
            e--;
        }
        if (s >= e) {
            return null;
        }
        List<Integer> ors = split(s, e, KeyReaderWords.OR);
        if (!ors.isEmpty()) {
            TableRefs.Ref ref = null;
            List<KeyValue> keys = new ArrayList<>();
            int from = s;
            ors.add(e);
            for (int at : ors) {
                Found f = constrain(from, at);
                if (f == null || (ref != null && f.ref() != ref)) {
                    return null;
                }
                ref = f.ref();
                keys.addAll(f.keys());
                from = at + 1;
            }
            return new Found(ref, keys);
        }
        List<Integer> ands = split(s, e, KeyReaderWords.AND);
        if (!ands.isEmpty()) {
            int from = s;
            ands.add(e);
            for (int at : ands) {
                Found f = constrain(from, at);
                if (f != null) {
                    return f;
                }
                from = at + 1;
            }
            return null;
        }
        if (t.isWord(s, KeyReaderWords.NOT)) {
            return null;
        }
        return comparison(s, e);
    }

    /**
     * The top-level {@code AND} or {@code OR} tokens of {@code [s, e)}: not inside CASE ... END, and
     * for AND not the one of {@code BETWEEN x AND y}.
     */
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

    /** {@code key = v}, {@code v = key}, {@code key IN (v, ...)}, {@code key = ANY (ARRAY[...])} filling {@code [s, e)} exactly. */
    private Found comparison(int s, int e) {
        int level = t.open[s];
        int eq = -1;
        int equalities = 0;
        int in = -1;
        for (int k = s; k < e; k++) {
            if (t.open[k] != level) {
                continue;
            }
            if (t.type[k] == OP && t.sql.charAt(t.start[k]) == '=' && (t.isOp(k, "=") || t.isOp(k, "=-")
                    || t.isOp(k, "=+"))) {
                eq = k;
                equalities++;
            } else if (in < 0 && t.isWord(k, KeyReaderWords.IN)) {
                in = k;
            }
        }
        if (equalities == 1) {
            boolean minus = t.isOp(eq, "=-");
            boolean plus = t.isOp(eq, "=+");
            TableRefs.Ref r = keyColumn(s, eq);
            if (r != null && (!plus || t.is(eq + 1, NUMBER))) {
                KeyValue v = KeyConstants.value(t, eq + 1, e, minus);
                if (v != null) {
                    return new Found(r, List.of(v));
                }
                List<KeyValue> any = minus || plus ? null : anyArray(eq + 1, e);
                if (any != null) {
                    return new Found(r, any);
                }
            }
            if (!minus && !plus) {
                r = keyColumn(eq + 1, e);
                KeyValue v = r == null ? null : KeyConstants.value(t, s, eq, false);
                if (v != null) {
                    return new Found(r, List.of(v));
                }
            }
            return null;
        }
        if (equalities == 0 && in > s && t.is(in + 1, LPAREN) && t.partner[in + 1] == e - 1
                && !t.queryStart(in + 2)) {
            TableRefs.Ref r = keyColumn(s, in);
            if (r == null) {
                return null;
            }
            List<KeyValue> keys = values(in + 2, e - 1, in + 1);
            return keys == null ? null : new Found(r, keys);
        }
        return null;
    }

    /** {@code ANY (ARRAY[v, ...])} (or SOME) filling {@code [s, e)}: the values, or null. */
    private List<KeyValue> anyArray(int s, int e) {
        if (!t.is(s, WORD) || !(t.name(s).equals("any") || t.name(s).equals("some")) || !t.is(s + 1, LPAREN)
                || t.partner[s + 1] != e - 1 || !t.is(s + 2, WORD) || !t.name(s + 2).equals("array")
                || !t.isOp(s + 3, "[") || !t.isOp(e - 2, "]") || e - 2 <= s + 4) {
            return null;
        }
        return values(s + 4, e - 2, s + 1);
    }

    /** The comma-separated values {@code [s, e)} directly inside the parenthesis at {@code open}, or null. */
    private List<KeyValue> values(int s, int e, int open) {
        List<KeyValue> keys = new ArrayList<>();
        int from = s;
        for (int k = s; k <= e; k++) {
            if (k == e || (t.open[k] == open && t.is(k, COMMA))) {
                KeyValue v = KeyConstants.value(t, from, k, false);
                if (v == null) {
                    return null;
                }
                keys.add(v);
                from = k + 1;
            }
        }
        return keys;
    }

    /**
     * The sharded table of the statement's own FROM whose key column {@code [s, e)} is exactly:
     * {@code key} (the first such table), {@code t.key} ({@code t} its alias, or its name when it has
     * none) or {@code schema.t.key}; null otherwise.
     */
    private TableRefs.Ref keyColumn(int s, int e) {
        if (t.nameEnd(s, e) != e) {
            return null;
        }
        int parts = (e - s + 1) / 2;
        String column = t.name(e - 1);
        if (parts == 1) {
            for (TableRefs.Ref r : refs.refs) {
                if (r.top() && r.sharded() && !r.renamed() && r.keyColumn().equals(column)) {
                    return r;
                }
            }
            return null;
        }
        if (parts > 3) {
            return null;
        }
        String qualifier = t.name(e - 3);
        String schema = parts == 3 ? t.name(s) : null;
        for (TableRefs.Ref r : refs.refs) {
            if (!r.top()) {
                continue;
            }
            boolean named = schema == null
                    ? (r.alias() != null ? r.alias().equals(qualifier) : r.name().equals(qualifier))
                    : r.alias() == null && r.name().equals(qualifier) && (r.schema() == null || r.schema().equals(schema));
            if (named) {
                return r.sharded() && !r.renamed() && r.keyColumn().equals(column) ? r : null;
            }
        }
        return null;
    }
}
