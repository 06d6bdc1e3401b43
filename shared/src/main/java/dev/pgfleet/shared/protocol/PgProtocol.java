package dev.pgfleet.shared.protocol;

/**
 * Message type bytes and codes of the PostgreSQL v3 protocol, named by direction
 * (PostgreSQL docs, "Message Formats", protocol.html section 53.7).
 */
public final class PgProtocol {

    private PgProtocol() {
    }

    /** Protocol 3.0 as sent in a StartupMessage: major 3 in the high 16 bits. */
    public static final int PROTOCOL_3_0 = 196608;
    public static final int SSL_REQUEST_CODE = 80877103;
    public static final int GSSENC_REQUEST_CODE = 80877104;
    public static final int CANCEL_REQUEST_CODE = 80877102;

    /** PostgreSQL's MAX_STARTUP_PACKET_LENGTH (src/include/libpq/pqcomm.h). */
    public static final int MAX_STARTUP_PACKET_LENGTH = 10000;

    // Frontend (client => server) message types.
    public static final byte QUERY_REQUEST = 'Q';
    public static final byte PARSE_REQUEST = 'P';
    public static final byte BIND_REQUEST = 'B';
    public static final byte EXECUTE_REQUEST = 'E';
    public static final byte DESCRIBE_REQUEST = 'D';
    public static final byte CLOSE_REQUEST = 'C';
    public static final byte SYNC_REQUEST = 'S';
    public static final byte FLUSH_REQUEST = 'H';
    public static final byte FUNCTION_CALL_REQUEST = 'F';
    public static final byte COPY_DATA = 'd';
    public static final byte COPY_DONE = 'c';
    public static final byte COPY_FAIL_REQUEST = 'f';
    public static final byte TERMINATE_REQUEST = 'X';
    /** PasswordMessage, SASLInitialResponse and SASLResponse all use 'p'. */
    public static final byte PASSWORD_REQUEST = 'p';

    // Backend (server => client) message types.
    public static final byte READY_FOR_QUERY_RESPONSE = 'Z';
    public static final byte DATA_ROW_RESPONSE = 'D';
    public static final byte COMMAND_COMPLETE_RESPONSE = 'C';
    public static final byte ROW_DESCRIPTION_RESPONSE = 'T';
    public static final byte PARSE_COMPLETE_RESPONSE = '1';
    public static final byte BIND_COMPLETE_RESPONSE = '2';
    public static final byte CLOSE_COMPLETE_RESPONSE = '3';
    public static final byte NO_DATA_RESPONSE = 'n';
    public static final byte PARAMETER_DESCRIPTION_RESPONSE = 't';
    public static final byte EMPTY_QUERY_RESPONSE = 'I';
    public static final byte PORTAL_SUSPENDED_RESPONSE = 's';
    public static final byte ERROR_RESPONSE = 'E';
    public static final byte NOTICE_RESPONSE = 'N';
    public static final byte NOTIFICATION_RESPONSE = 'A';
    public static final byte PARAMETER_STATUS_RESPONSE = 'S';
    public static final byte BACKEND_KEY_DATA_RESPONSE = 'K';
    public static final byte AUTHENTICATION_RESPONSE = 'R';
    public static final byte NEGOTIATE_PROTOCOL_VERSION_RESPONSE = 'v';
    public static final byte COPY_IN_RESPONSE = 'G';
    public static final byte COPY_OUT_RESPONSE = 'H';
    public static final byte COPY_BOTH_RESPONSE = 'W';
    public static final byte FUNCTION_CALL_RESPONSE = 'V';

    // Authentication request codes inside an 'R' message.
    public static final int AUTH_OK = 0;
    public static final int AUTH_CLEARTEXT_PASSWORD = 3;
    public static final int AUTH_MD5_PASSWORD = 5;
    public static final int AUTH_SASL = 10;
    public static final int AUTH_SASL_CONTINUE = 11;
    public static final int AUTH_SASL_FINAL = 12;

    // Transaction status in ReadyForQuery.
    public static final byte TX_IDLE = 'I';
    public static final byte TX_IN_BLOCK = 'T';
    public static final byte TX_FAILED = 'E';
}
