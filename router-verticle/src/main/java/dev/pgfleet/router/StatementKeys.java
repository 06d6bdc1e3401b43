package dev.pgfleet.router;

import java.util.List;

/**
 * What {@link ShardKeyReader} found in one query string about the sharding key: whether the
 * statements reference a sharded table, and the key values (constants or {@code $n} parameters)
 * that decide which shard holds the rows they can touch. Immutable; safe to cache per statement.
 *
 * <p>The caller hashes each of {@link #keys()} with the table's key type and mapping and decides
 * between one shard and several; for a multi-row {@code INSERT ... VALUES} it may split the rows
 * by shard with {@link #rows()}, {@link #valuesStart()} and {@link #valuesEnd()}, and for a
 * {@code COPY ... FROM STDIN} it splits the data rows with {@link #copy()}.
 */
public final class StatementKeys {

    /** Whether, and how, the statements are bound to a shard. */
    public enum Kind {
        /** No sharded table is referenced: the default shard (shard 0 or {@code default_shard}). */
        UNSHARDED,
        /** At least one key value was found that decides the shard (see {@link #keys()}). */
        KEYED,
        /**
         * A sharded table is referenced and no key in the SQL decides the shard; {@link #reason()}
         * says why. A {@code COPY ... FROM STDIN} into a sharded table is KEYLESS too: its keys are in
         * the data, and {@link #copy()} says how to find them.
         */
        KEYLESS
    }

    /** A value of the sharding key, as the statement compares or inserts it. */
    public sealed interface KeyValue permits KeyValue.Constant, KeyValue.Param {

        /**
         * A constant, as PostgreSQL's text input function of the key type would receive it: string
         * quotes removed and escapes resolved, numbers as written (with a leading {@code -}), casts dropped.
         */
        record Constant(String text) implements KeyValue {
        }

        /** A parameter {@code $n} of the extended protocol; {@code param} is 1-based, as in the SQL. */
        record Param(int param) implements KeyValue {
        }
    }

    /**
     * One row of {@code INSERT ... VALUES}: its key ({@code null} when it is neither a constant nor a
     * parameter, such as {@code DEFAULT} or an expression) and the row's offsets in the SQL,
     * {@code [start, end)}, the parentheses included.
     */
    public record InsertRow(KeyValue key, int start, int end) {
    }

    /**
     * A {@code COPY} whose data travels over the protocol: {@code FROM STDIN} or {@code TO STDOUT}.
     *
     * @param table the table as written (lower case unless quoted; {@code schema.table} when qualified),
     *              {@code null} for {@code COPY (query) TO STDOUT}
     * @param columns the column list, {@code null} when none was written
     * @param keyIndex the sharding key's index in {@code columns}; -1 without a column list or key
     * @param from {@code FROM STDIN} (true) or {@code TO STDOUT} (false)
     * @param format the data format
     * @param delimiter the column delimiter (TEXT: tab, CSV: comma; unused by BINARY)
     * @param quote the CSV quote character; {@code '\0'} for TEXT and BINARY
     * @param escape the CSV escape character (the quote unless set); {@code '\0'} for TEXT and BINARY
     * @param nullString the text of a NULL (TEXT: {@code \N}, CSV: the empty string)
     * @param header the first line is a header ({@code HEADER}, {@code HEADER true} or {@code HEADER MATCH})
     */
    public record CopyStatement(String table, List<String> columns, int keyIndex, boolean from, Format format,
                                char delimiter, char quote, char escape, String nullString, boolean header) {

        /** {@code FORMAT text | csv | binary}. */
        public enum Format { TEXT, CSV, BINARY }

        public CopyStatement {
            columns = columns == null ? null : List.copyOf(columns);
        }
    }

    private static final StatementKeys NEUTRAL = new StatementKeys(Kind.UNSHARDED, null, null, null, List.of(),
            List.of(), -1, -1, null, false);

    private final Kind kind;
    private final String reason;
    private final String table;
    private final String column;
    private final List<KeyValue> keys;
    private final List<InsertRow> rows;
    private final int valuesStart;
    private final int valuesEnd;
    private final CopyStatement copy;
    /** An UNSHARDED statement that reads or writes a table: it must run on the default shard. */
    private final boolean usesDefaultShard;

    StatementKeys(Kind kind, String reason, String table, String column, List<KeyValue> keys, List<InsertRow> rows,
                  int valuesStart, int valuesEnd, CopyStatement copy, boolean usesDefaultShard) {
        this.kind = kind;
        this.reason = reason;
        this.table = table;
        this.column = column;
        this.keys = List.copyOf(keys);
        this.rows = List.copyOf(rows);
        this.valuesStart = valuesStart;
        this.valuesEnd = valuesEnd;
        this.copy = copy;
        this.usesDefaultShard = usesDefaultShard;
    }

    /** No table at all (SET, BEGIN, SHOW, {@code SELECT 1}). */
    static StatementKeys neutral() {
        return NEUTRAL;
    }

    static StatementKeys unsharded(String reason, boolean usesTables, CopyStatement copy) {
        return new StatementKeys(Kind.UNSHARDED, reason, null, null, List.of(), List.of(), -1, -1, copy, usesTables);
    }

    static StatementKeys keyless(String reason, String table, String column) {
        return new StatementKeys(Kind.KEYLESS, reason, table, column, List.of(), List.of(), -1, -1, null, false);
    }

    public Kind kind() {
        return kind;
    }

    /** Why the statements are KEYLESS (or why a key was refused); {@code null} when there is nothing to say. */
    public String reason() {
        return reason;
    }

    /** The sharded table (lower case unless quoted, with its schema when written), or {@code null}. */
    public String table() {
        return table;
    }

    /** The sharding key column of {@link #table()}, or {@code null}. */
    public String column() {
        return column;
    }

    /** Every key value found, in SQL order; several for an IN list, an OR of equalities or a multi-row INSERT. */
    public List<KeyValue> keys() {
        return keys;
    }

    /** The rows of {@code INSERT ... VALUES} into a sharded table; empty for any other statement. */
    public List<InsertRow> rows() {
        return rows;
    }

    /**
     * Start of the region holding all VALUES rows ({@code sql[0, valuesStart)} is the prefix, such as
     * {@code INSERT INTO t (id, v) VALUES }); -1 without {@link #rows()}.
     */
    public int valuesStart() {
        return valuesStart;
    }

    /** End of the VALUES rows ({@code sql[valuesEnd, ...)} is the suffix: ON CONFLICT, RETURNING); -1 without rows. */
    public int valuesEnd() {
        return valuesEnd;
    }

    /** The COPY over the protocol this statement is, or {@code null}. */
    public CopyStatement copy() {
        return copy;
    }

    boolean usesDefaultShard() {
        return usesDefaultShard;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("StatementKeys[").append(kind);
        if (table != null) {
            b.append(' ').append(table).append('.').append(column);
        }
        if (!keys.isEmpty()) {
            b.append(" keys=").append(keys);
        }
        if (!rows.isEmpty()) {
            b.append(" rows=").append(rows.size());
        }
        if (copy != null) {
            b.append(' ').append(copy);
        }
        if (reason != null) {
            b.append(" reason=").append(reason);
        }
        return b.append(']').toString();
    }
}
