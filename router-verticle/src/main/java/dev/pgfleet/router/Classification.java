package dev.pgfleet.router;

/**
 * What {@link QueryClassifier} found in one query string: an immutable value, safe to cache and to
 * share between event loops.
 *
 * <p>How the proxy is meant to use it (issue 4):
 * <ul>
 *   <li>Outside a transaction (last ReadyForQuery status {@code 'I'}): if {@link #command()} is set,
 *       execute it locally; otherwise send the query to a server of {@link #effectiveRoute()}
 *       ({@link Route#ANY}: the server the session holds, else any). If the server's ReadyForQuery
 *       then says {@code 'T'}, stay on that server until a ReadyForQuery {@code 'I'}: the
 *       ReadyForQuery status is the authority on transaction boundaries; the transaction flags here
 *       tell the proxy before the server answers.</li>
 *   <li>Inside a transaction: forward to the server the transaction runs on, whatever the route.</li>
 * </ul>
 *
 * <p>Transactions: a plain {@code BEGIN} (or a string that leaves a transaction of default access
 * open) routes to {@link Route#PRIMARY}, since a later statement of that transaction may write;
 * {@code BEGIN READ ONLY} routes to {@link Route#REPLICA}; {@code READ WRITE} and
 * {@code ISOLATION LEVEL SERIALIZABLE} route to the primary because a hot standby refuses both.
 * A string that opens and closes its own transaction ({@code BEGIN; SELECT ...; COMMIT}) routes
 * by what it holds.
 */
public final class Classification {

    /** Why the route is what it is; bounded, fit for a metric label or a debug log line. */
    public enum Reason {
        /** Only reads (SELECT, VALUES, TABLE, WITH without writes, COPY ... TO, DECLARE, EXPLAIN of a read). */
        READ,
        /** INSERT, UPDATE, DELETE, MERGE, TRUNCATE, DDL, GRANT/REVOKE, COMMENT, VACUUM, ANALYZE, REINDEX, CLUSTER, REFRESH ... */
        WRITE,
        /** A query holding INSERT/UPDATE/DELETE/MERGE, such as {@code WITH x AS (DELETE ... RETURNING *) SELECT ...}. */
        DATA_MODIFYING_QUERY,
        /** {@code FOR UPDATE}, {@code FOR NO KEY UPDATE}, {@code FOR SHARE}, {@code FOR KEY SHARE}. */
        LOCKING_CLAUSE,
        /** {@code SELECT ... INTO new_table}. */
        SELECT_INTO,
        /** A call to a function of the configured write set ({@code nextval}, {@code pg_advisory_lock} ...). */
        WRITE_FUNCTION,
        /** {@code LOCK TABLE}. */
        LOCK,
        /** {@code LISTEN}, {@code UNLISTEN}, {@code NOTIFY}: refused by a hot standby. */
        NOTIFICATION,
        /** {@code CALL}, {@code DO}, {@code EXECUTE}: what they do is not in the text. */
        UNKNOWN_SIDE_EFFECTS,
        /** {@code COPY ... FROM}. */
        COPY_FROM,
        /** COMMIT, ROLLBACK, SAVEPOINT, RELEASE, ROLLBACK TO, plain BEGIN that the string closes again; and two-phase commit (primary). */
        TRANSACTION_CONTROL,
        /** {@code BEGIN READ ONLY}, {@code SET TRANSACTION READ ONLY}. */
        READ_ONLY_TRANSACTION,
        /** {@code BEGIN READ WRITE}, {@code SET TRANSACTION READ WRITE}: a hot standby refuses them. */
        READ_WRITE_TRANSACTION,
        /** {@code ISOLATION LEVEL SERIALIZABLE}: a hot standby refuses it. */
        SERIALIZABLE,
        /** The string leaves open a transaction that may still write ({@code BEGIN}, {@code BEGIN; SELECT 1}). */
        OPEN_TRANSACTION,
        /** SET, SHOW, RESET, DISCARD, DEALLOCATE: session state, no data. */
        SESSION,
        /** FETCH, MOVE, CLOSE: a cursor lives on the server that declared it. */
        CURSOR,
        /** One of PgFleet's own commands, see {@link #command()}. */
        PGFLEET_COMMAND,
        /** Only comments, whitespace and semicolons. */
        EMPTY,
        /** A statement the classifier does not know: the primary, to be safe. */
        UNKNOWN_STATEMENT,
        /** Unterminated string, quoted identifier, dollar quote or comment: the primary, to be safe. */
        UNPARSABLE
    }

    /** The transaction-control statement a string holds (its first one), if any. */
    public enum TransactionControl {
        NONE,
        /** {@code BEGIN} or {@code START TRANSACTION}. */
        BEGIN,
        /** {@code COMMIT} or {@code END} (also {@code AND CHAIN}). */
        COMMIT,
        /** {@code ROLLBACK} or {@code ABORT} (also {@code AND CHAIN}). */
        ROLLBACK,
        SAVEPOINT,
        RELEASE_SAVEPOINT,
        ROLLBACK_TO_SAVEPOINT,
        /** {@code SET TRANSACTION ...} (also {@code SET TRANSACTION SNAPSHOT}). */
        SET_TRANSACTION,
        PREPARE_TRANSACTION,
        COMMIT_PREPARED,
        ROLLBACK_PREPARED
    }

    /** Access mode declared by {@code BEGIN}, {@code START TRANSACTION} or {@code SET TRANSACTION}. */
    public enum TransactionAccess {
        /** Not declared in this string. */
        DEFAULT,
        READ_ONLY,
        READ_WRITE
    }

    private final Route route;
    private final Reason reason;
    private final TransactionControl transactionControl;
    private final TransactionAccess transactionAccess;
    private final boolean startsTransaction;
    private final boolean endsTransaction;
    private final boolean leavesTransactionOpen;
    private final boolean changesSessionState;
    private final int statementCount;
    private final PgFleetCommand command;
    private final Route roleHint;
    private final int shardHint;
    private final String shardingKeyHint;

    Classification(Route route, Reason reason, TransactionControl transactionControl,
                   TransactionAccess transactionAccess, boolean startsTransaction, boolean endsTransaction,
                   boolean leavesTransactionOpen, boolean changesSessionState, int statementCount,
                   PgFleetCommand command, Route roleHint, int shardHint, String shardingKeyHint) {
        this.route = route;
        this.reason = reason;
        this.transactionControl = transactionControl;
        this.transactionAccess = transactionAccess;
        this.startsTransaction = startsTransaction;
        this.endsTransaction = endsTransaction;
        this.leavesTransactionOpen = leavesTransactionOpen;
        this.changesSessionState = changesSessionState;
        this.statementCount = statementCount;
        this.command = command;
        this.roleHint = roleHint;
        this.shardHint = shardHint;
        this.shardingKeyHint = shardingKeyHint;
    }

    /** Where the SQL itself says to go; comment hints are not applied (see {@link #effectiveRoute()}). */
    public Route route() {
        return route;
    }

    /** {@link #roleHint()} when the query carries one, else {@link #route()}. */
    public Route effectiveRoute() {
        return roleHint != null ? roleHint : route;
    }

    /** Why {@link #route()} is what it is (for the statement that decided it). */
    public Reason reason() {
        return reason;
    }

    /** The first transaction-control statement of the string; {@link TransactionControl#NONE} if none. */
    public TransactionControl transactionControl() {
        return transactionControl;
    }

    /** The last access mode declared in the string by BEGIN / START TRANSACTION / SET TRANSACTION. */
    public TransactionAccess transactionAccess() {
        return transactionAccess;
    }

    /** {@code BEGIN READ ONLY} and friends: shorthand for {@code transactionAccess() == READ_ONLY}. */
    public boolean readOnlyTransaction() {
        return transactionAccess == TransactionAccess.READ_ONLY;
    }

    /** The string holds BEGIN / START TRANSACTION, or COMMIT/ROLLBACK AND CHAIN. */
    public boolean startsTransaction() {
        return startsTransaction;
    }

    /** The string holds COMMIT / END / ROLLBACK / ABORT / PREPARE TRANSACTION (not ROLLBACK TO). */
    public boolean endsTransaction() {
        return endsTransaction;
    }

    /** A transaction the string begins is still open after its last statement. */
    public boolean leavesTransactionOpen() {
        return leavesTransactionOpen;
    }

    /**
     * The string changes state that outlives the transaction on the server connection (SET, RESET,
     * DISCARD, PREPARE, DEALLOCATE, LISTEN/UNLISTEN, DECLARE ... WITH HOLD, CREATE TEMP ...): what
     * transaction pooling must know about.
     */
    public boolean changesSessionState() {
        return changesSessionState;
    }

    /** Statements in the string (0 for an empty query). */
    public int statementCount() {
        return statementCount;
    }

    /** The PgFleet command the string is, or {@code null}. */
    public PgFleetCommand command() {
        return command;
    }

    /** {@code command() != null}. */
    public boolean isPgFleetCommand() {
        return command != null;
    }

    /**
     * From a comment hint {@code /* pgfleet_role: primary|replica|any *}{@code /}: the route asked
     * for, or {@code null} when the query carries none.
     */
    public Route roleHint() {
        return roleHint;
    }

    /**
     * From {@code /* pgfleet_shard: n *}{@code /} (PgCat: {@code shard_id: n}, {@code shard: n}):
     * the shard index, or -1 when the query carries none.
     */
    public int shardHint() {
        return shardHint;
    }

    /**
     * From {@code /* pgfleet_sharding_key: v *}{@code /} (PgCat: {@code sharding_key: v}): the key
     * as written, or {@code null}.
     */
    public String shardingKeyHint() {
        return shardingKeyHint;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("Classification[").append(route).append(' ').append(reason);
        if (transactionControl != TransactionControl.NONE) {
            b.append(" tx=").append(transactionControl);
        }
        if (transactionAccess != TransactionAccess.DEFAULT) {
            b.append(' ').append(transactionAccess);
        }
        if (startsTransaction) {
            b.append(" starts");
        }
        if (endsTransaction) {
            b.append(" ends");
        }
        if (leavesTransactionOpen) {
            b.append(" open");
        }
        if (changesSessionState) {
            b.append(" session");
        }
        if (statementCount != 1) {
            b.append(" statements=").append(statementCount);
        }
        if (command != null) {
            b.append(" command=").append(command.type()).append(':').append(command.value());
        }
        if (roleHint != null) {
            b.append(" roleHint=").append(roleHint);
        }
        if (shardHint >= 0) {
            b.append(" shardHint=").append(shardHint);
        }
        if (shardingKeyHint != null) {
            b.append(" shardingKeyHint=").append(shardingKeyHint);
        }
        return b.append(']').toString();
    }
}
