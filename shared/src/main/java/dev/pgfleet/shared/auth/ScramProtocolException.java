package dev.pgfleet.shared.auth;

/**
 * A SCRAM message broke the protocol (malformed attribute, bad base64, nonce mismatch, channel
 * binding we do not offer, message out of order...): SQLSTATE 08P01 (protocol_violation).
 *
 * <p>PostgreSQL reports authzid ("a=") and mandatory extensions ("m=") as 0A000
 * (feature_not_supported); PgFleet folds them into 08P01 so that the proxy has a single rule.
 */
public final class ScramProtocolException extends AuthException {

    private static final long serialVersionUID = 1L;

    /** SQLSTATE protocol_violation. */
    public static final String SQLSTATE = "08P01";

    public ScramProtocolException(String message) {
        this(message, null);
    }

    public ScramProtocolException(String message, String detail) {
        super(message, detail);
    }

    /** PostgreSQL's "malformed SCRAM message" with an errdetail. */
    static ScramProtocolException malformed(String detail) {
        return new ScramProtocolException("malformed SCRAM message", detail);
    }

    @Override
    public String sqlState() {
        return SQLSTATE;
    }
}
