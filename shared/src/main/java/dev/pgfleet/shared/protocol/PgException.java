package dev.pgfleet.shared.protocol;

/**
 * An error that reaches a client as an ErrorResponse: it always carries a real SQLSTATE.
 * {@code fatal} errors close the client connection after the ErrorResponse is sent.
 */
public class PgException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String sqlState;
    private final String detail;
    private final boolean fatal;

    public PgException(String sqlState, String message) {
        this(sqlState, message, null, true);
    }

    public PgException(String sqlState, String message, String detail, boolean fatal) {
        super(message, null, false, false);
        this.sqlState = sqlState;
        this.detail = detail;
        this.fatal = fatal;
    }

    public String sqlState() {
        return sqlState;
    }

    public String detail() {
        return detail;
    }

    public boolean fatal() {
        return fatal;
    }

    public String severity() {
        return fatal ? "FATAL" : "ERROR";
    }
}
