package dev.pgfleet.router.merge;

/**
 * A value the cross-shard merge cannot read, compute or write, with the SQLSTATE PostgreSQL
 * gives the same failure (22003 numeric value out of range, 22012 division by zero, 22P02
 * invalid text representation, 0A000 a type the merge does not know), so the proxy can send it
 * to the client as an ErrorResponse.
 */
public final class MergeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String sqlState;

    public MergeException(String sqlState, String message) {
        super(message, null, false, false);
        this.sqlState = sqlState;
    }

    /** The SQLSTATE of the ErrorResponse (five characters). */
    public String sqlState() {
        return sqlState;
    }
}
