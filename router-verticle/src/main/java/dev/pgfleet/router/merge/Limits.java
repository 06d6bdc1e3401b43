package dev.pgfleet.router.merge;

import static dev.pgfleet.router.merge.SqlTokens.NUMBER;
import static dev.pgfleet.router.merge.SqlTokens.PARAM;

/**
 * A SELECT's LIMIT / OFFSET / FETCH FIRST (PostgreSQL's select_limit: LIMIT and OFFSET in either
 * order, FETCH {FIRST|NEXT} [n] {ROW|ROWS} ONLY as the standard's spelling of LIMIT) as
 * {@link Bound}s, and the tokens they span in the statement.
 */
final class Limits {
    Bound limit;
    Bound offset;
    /** Tokens {@code [regionStart, regionEnd)} hold the clauses; both -1 when there are none. */
    int regionStart = -1;
    int regionEnd = -1;

    static Limits read(SelectStatement s) throws CrossShardRefusal {
        Limits l = new Limits();
        SqlTokens t = s.t;
        if (s.limit >= 0) {
            int e = s.endOf(s.limit);
            l.cover(s.limit, e);
            if (e - s.limit == 2 && (t.isWord(s.limit + 1, "all") || t.isWord(s.limit + 1, "null"))) {
                l.limit = null;
            } else {
                l.limit = bound(t, s.limit + 1, e, "LIMIT");
            }
            if (t.isWord(s.limit + 1, "all") && e - s.limit != 2) {
                throw new CrossShardRefusal("LIMIT ALL with more is not run across shards");
            }
        }
        if (s.offset >= 0) {
            int e = s.endOf(s.offset);
            l.cover(s.offset, e);
            if (e - s.offset >= 2 && (t.isWord(e - 1, "row") || t.isWord(e - 1, "rows"))) {
                e--;
            }
            if (e - s.offset == 2 && t.isWord(s.offset + 1, "null")) {
                l.offset = null;
            } else {
                l.offset = bound(t, s.offset + 1, e, "OFFSET");
                if (l.offset.param() == 0 && l.offset.constant() == 0) {
                    l.offset = null;
                }
            }
        }
        if (s.fetch >= 0) {
            if (s.limit >= 0) {
                throw new CrossShardRefusal("LIMIT and FETCH FIRST together");
            }
            int e = s.endOf(s.fetch);
            l.cover(s.fetch, e);
            int i = s.fetch + 1;
            if (!t.isWord(i, "first") && !t.isWord(i, "next")) {
                throw new CrossShardRefusal("FETCH without FIRST or NEXT");
            }
            i++;
            if (e - 1 >= 0 && t.isWord(e - 1, "ties")) {
                throw new CrossShardRefusal("FETCH FIRST ... WITH TIES is not run across shards");
            }
            if (!t.isWord(e - 1, "only") || !(t.isWord(e - 2, "row") || t.isWord(e - 2, "rows"))) {
                throw new CrossShardRefusal("FETCH FIRST must end in ROWS ONLY");
            }
            int countEnd = e - 2;
            l.limit = countEnd == i ? Bound.of(1) : bound(t, i, countEnd, "FETCH FIRST");
        }
        return l;
    }

    private void cover(int from, int to) {
        regionStart = regionStart < 0 ? from : Math.min(regionStart, from);
        regionEnd = Math.max(regionEnd, to);
    }

    /** A constant, {@code (constant)}, or {@code $n}; anything else is refused. */
    private static Bound bound(SqlTokens t, int from, int to, String clause) throws CrossShardRefusal {
        while (to - from >= 3 && t.is(from, SqlTokens.LPAREN) && t.partner[from] == to - 1) {
            from++;
            to--;
        }
        if (to - from == 1 && t.is(from, PARAM)) {
            return Bound.param(Integer.parseInt(t.text(from).substring(1)));
        }
        if (to - from == 1 && t.is(from, NUMBER)) {
            try {
                long v = Long.parseLong(t.text(from).replace("_", ""));
                return Bound.of(v);
            } catch (NumberFormatException e) {
                // fall through
            }
        }
        throw new CrossShardRefusal(clause + " " + t.text(from, to) + " is not run across shards: only a constant or $n");
    }
}
