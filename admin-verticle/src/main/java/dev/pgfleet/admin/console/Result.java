package dev.pgfleet.admin.console;

import java.util.ArrayList;
import java.util.List;

/**
 * The answer to one console statement: rows under typed columns (SHOW), or only a command tag,
 * with NOTICEs before it; or an error. Types are the OIDs PgBouncer sends (admin.c's
 * pktbuf_write_RowDescription letters: s text, i int4, q int8, N numeric); values travel as text.
 */
final class Result {

    static final int TEXT = 25;
    static final int INT4 = 23;
    static final int INT8 = 20;
    static final int NUMERIC = 1700;

    record Column(String name, int typeOid) {
    }

    /**
     * An ErrorResponse.
     *
     * @param hint null for none
     */
    record Error(String sqlState, String message, String detail, String hint) {
    }

    final List<Column> columns;
    final List<List<String>> rows = new ArrayList<>();
    final List<String> notices = new ArrayList<>();
    String tag;
    Error error;

    private Result(List<Column> columns, String tag) {
        this.columns = columns;
        this.tag = tag;
    }

    /** Rows under these columns; the tag is "SHOW", as PgBouncer's console sends. */
    static Result rows(List<Column> columns) {
        return new Result(columns, "SHOW");
    }

    /** No rows: a command's tag alone ("PAUSE", "RELOAD"). */
    static Result command(String tag) {
        return new Result(null, tag);
    }

    static Result error(String sqlState, String message, String detail, String hint) {
        Result r = new Result(null, null);
        r.error = new Error(sqlState, message, detail, hint);
        return r;
    }

    boolean hasRows() {
        return columns != null;
    }

    Result row(Object... values) {
        if (values.length != columns.size()) {
            throw new IllegalArgumentException(values.length + " values for " + columns.size() + " columns");
        }
        List<String> row = new ArrayList<>(values.length);
        for (Object v : values) {
            row.add(v == null ? null : v instanceof Boolean b ? (b ? "1" : "0") : v.toString());
        }
        rows.add(row);
        return this;
    }

    Result notice(String message) {
        notices.add(message);
        return this;
    }

    static Column text(String name) {
        return new Column(name, TEXT);
    }

    static Column int4(String name) {
        return new Column(name, INT4);
    }

    static Column int8(String name) {
        return new Column(name, INT8);
    }

    static Column numeric(String name) {
        return new Column(name, NUMERIC);
    }
}
