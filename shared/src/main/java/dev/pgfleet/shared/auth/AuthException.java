package dev.pgfleet.shared.auth;

/**
 * An authentication error that the proxy turns into a FATAL ErrorResponse with {@link #sqlState()}.
 *
 * <p>Messages and details follow PostgreSQL's own texts (src/backend/libpq/auth-scram.c) and never
 * contain a password, a proof, a key or a verifier. No stack trace is captured: failed logins are a
 * routine event (and a brute-force attacker's favourite one), they must stay cheap.
 */
public abstract sealed class AuthException extends RuntimeException
        permits AuthenticationFailedException, ScramProtocolException {

    private static final long serialVersionUID = 1L;

    private final String detail;

    AuthException(String message, String detail) {
        super(message, null, false, false);
        this.detail = detail;
    }

    /** The SQLSTATE the proxy sends in the ErrorResponse. */
    public abstract String sqlState();

    /** PostgreSQL's errdetail for this error, or null. Safe to send to the client and to log. */
    public String detail() {
        return detail;
    }

    @Override
    public String toString() {
        String base = getClass().getSimpleName() + " [" + sqlState() + "]: " + getMessage();
        return detail == null ? base : base + " (" + detail + ")";
    }
}
