package dev.pgfleet.shared.auth;

/**
 * The credentials were well formed but wrong: SQLSTATE 28P01 (invalid_password).
 *
 * <p>On the server side a wrong password and an unknown user raise the very same message, as
 * PostgreSQL does, so a client cannot probe which role names exist.
 */
public final class AuthenticationFailedException extends AuthException {

    private static final long serialVersionUID = 1L;

    /** SQLSTATE invalid_password. */
    public static final String SQLSTATE = "28P01";

    public AuthenticationFailedException(String message) {
        this(message, null);
    }

    public AuthenticationFailedException(String message, String detail) {
        super(message, detail);
    }

    /** PostgreSQL's message for a failed password or SCRAM exchange, wrong password and unknown user alike. */
    public static AuthenticationFailedException passwordFailed(String username) {
        return new AuthenticationFailedException(
                "password authentication failed for user \"" + username + "\"");
    }

    @Override
    public String sqlState() {
        return SQLSTATE;
    }
}
