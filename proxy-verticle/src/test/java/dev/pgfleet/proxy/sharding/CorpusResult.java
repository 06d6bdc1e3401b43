package dev.pgfleet.proxy.sharding;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A result as a client saw it: the columns (name and type, as the driver reports them) and the rows as
 * the driver's text of each value (null for NULL). Both sides of a comparison are read by the same
 * driver in the same mode, so equal answers give equal text; {@link #differences} compares them as the
 * query's {@link CorpusQuery.Order} says.
 */
record CorpusResult(List<String> columns, List<String[]> rows) {

    private static final BigDecimal TOLERANCE = new BigDecimal("1e-12");
    private static final int SHOWN = 3;

    /** Null when {@code actual} is the same answer as {@code expected} for {@code q}, else why not. */
    static String differences(CorpusQuery q, CorpusResult expected, CorpusResult actual) {
        if (!expected.columns.equals(actual.columns)) {
            return "columns differ: expected " + expected.columns + ", got " + actual.columns;
        }
        if (expected.rows.size() != actual.rows.size()) {
            return "row count: expected " + expected.rows.size() + ", got " + actual.rows.size()
                + firstRows(expected, actual);
        }
        Set<Integer> approx = q.approx();
        switch (q.order()) {
            case TOTAL -> {
                return rowForRow(expected.rows, actual.rows, approx, "in order");
            }
            case TIES -> {
                int[] keys = q.keyColumns();
                for (int r = 0; r < expected.rows.size(); r++) {
                    String[] e = project(expected.rows.get(r), keys);
                    String[] a = project(actual.rows.get(r), keys);
                    for (int k = 0; k < keys.length; k++) {
                        if (!same(e[k], a[k], approx.contains(keys[k]))) {
                            return "ORDER BY keys (columns " + Arrays.toString(keys) + ") differ at row " + (r + 1)
                                + ": expected " + Arrays.toString(e) + ", got " + Arrays.toString(a);
                        }
                    }
                }
                return asMultisets(expected.rows, actual.rows, approx);
            }
            case BAG -> {
                return asMultisets(expected.rows, actual.rows, approx);
            }
            default -> throw new IllegalStateException(q.order().toString());
        }
    }

    private static String asMultisets(List<String[]> expected, List<String[]> actual, Set<Integer> approx) {
        Comparator<String[]> order = byExactColumns(approx);
        List<String[]> e = new ArrayList<>(expected);
        List<String[]> a = new ArrayList<>(actual);
        e.sort(order);
        a.sort(order);
        return rowForRow(e, a, approx, "as multisets (sorted)");
    }

    private static String rowForRow(List<String[]> expected, List<String[]> actual, Set<Integer> approx, String how) {
        int bad = 0;
        StringBuilder b = new StringBuilder();
        for (int r = 0; r < expected.size(); r++) {
            if (!sameRow(expected.get(r), actual.get(r), approx)) {
                if (bad < SHOWN) {
                    b.append("\n      row ").append(r + 1).append(": expected ")
                        .append(cut(Arrays.toString(expected.get(r)))).append("\n      ").append(" ".repeat(
                            Integer.toString(r + 1).length() + 6)).append("got ")
                        .append(cut(Arrays.toString(actual.get(r))));
                }
                bad++;
            }
        }
        return bad == 0 ? null : bad + " of " + expected.size() + " rows differ " + how + ":" + b;
    }

    private static boolean sameRow(String[] e, String[] a, Set<Integer> approx) {
        for (int c = 0; c < e.length; c++) {
            if (!same(e[c], a[c], approx.contains(c + 1))) {
                return false;
            }
        }
        return true;
    }

    /** Equal text, or for an approx column equal numbers within the relative tolerance. */
    static boolean same(String e, String a, boolean approx) {
        if (Objects.equals(e, a)) {
            return true;
        }
        if (!approx || e == null || a == null) {
            return false;
        }
        BigDecimal x = number(e);
        BigDecimal y = number(a);
        if (x == null || y == null) {
            return false; // NaN, Infinity: only equal as text
        }
        if (x.compareTo(y) == 0) {
            return true;
        }
        BigDecimal scale = x.abs().max(y.abs());
        return x.subtract(y).abs().compareTo(scale.multiply(TOLERANCE, MathContext.DECIMAL64)) <= 0;
    }

    private static BigDecimal number(String s) {
        try {
            return new BigDecimal(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Rows ordered by their exact columns' text, then by the approx columns' numbers. */
    private static Comparator<String[]> byExactColumns(Set<Integer> approx) {
        Comparator<String> text = Comparator.nullsFirst(Comparator.<String>naturalOrder());
        return (x, y) -> {
            for (int c = 0; c < x.length; c++) {
                if (!approx.contains(c + 1)) {
                    int cmp = text.compare(x[c], y[c]);
                    if (cmp != 0) {
                        return cmp;
                    }
                }
            }
            for (int c = 0; c < x.length; c++) {
                if (approx.contains(c + 1)) {
                    int cmp = compareNumbers(x[c], y[c]);
                    if (cmp != 0) {
                        return cmp;
                    }
                }
            }
            return 0;
        };
    }

    private static int compareNumbers(String x, String y) {
        BigDecimal a = x == null ? null : number(x);
        BigDecimal b = y == null ? null : number(y);
        if (a != null && b != null) {
            return a.compareTo(b);
        }
        if (a == null && b == null) {
            return Comparator.nullsFirst(Comparator.<String>naturalOrder()).compare(x, y);
        }
        return a == null ? -1 : 1;
    }

    private static String[] project(String[] row, int[] columns) {
        String[] p = new String[columns.length];
        for (int k = 0; k < columns.length; k++) {
            p[k] = row[columns[k] - 1];
        }
        return p;
    }

    private static String firstRows(CorpusResult expected, CorpusResult actual) {
        return "\n      expected first rows " + cut(head(expected.rows)) + "\n      got first rows      "
            + cut(head(actual.rows));
    }

    private static String head(List<String[]> rows) {
        return rows.stream().limit(SHOWN).map(Arrays::toString).toList().toString();
    }

    private static String cut(String s) {
        return s.length() <= 240 ? s : s.substring(0, 240) + "...";
    }
}
