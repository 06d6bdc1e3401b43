package dev.pgfleet.shared.protocol;

/** The SQLSTATE codes PgFleet itself sends (PostgreSQL docs, Appendix A). */
public final class SqlState {

    private SqlState() {
    }

    public static final String PROTOCOL_VIOLATION = "08P01";
    public static final String CONNECTION_FAILURE = "08006";
    public static final String CANNOT_CONNECT_NOW = "57P03";
    public static final String ADMIN_SHUTDOWN = "57P01";
    public static final String QUERY_CANCELED = "57014";
    public static final String INVALID_PASSWORD = "28P01";
    public static final String INVALID_AUTHORIZATION_SPECIFICATION = "28000";
    public static final String INVALID_CATALOG_NAME = "3D000";
    public static final String TOO_MANY_CONNECTIONS = "53300";
    public static final String FEATURE_NOT_SUPPORTED = "0A000";
    public static final String INVALID_PARAMETER_VALUE = "22023";
    /** A prepared statement that does not exist (PostgreSQL's ERRCODE_UNDEFINED_PSTATEMENT). */
    public static final String INVALID_SQL_STATEMENT_NAME = "26000";
    /** A portal that does not exist (ERRCODE_UNDEFINED_CURSOR). */
    public static final String INVALID_CURSOR_NAME = "34000";
    public static final String PROGRAM_LIMIT_EXCEEDED = "54000";
    /** cross_shard_memory_limit reached (PostgreSQL's out_of_memory). */
    public static final String OUT_OF_MEMORY = "53200";
    public static final String DATATYPE_MISMATCH = "42804";
    public static final String INVALID_ROW_COUNT_IN_LIMIT_CLAUSE = "2201W";
    public static final String INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE = "2201X";
    public static final String INTERNAL_ERROR = "XX000";
    public static final String SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION = "08001";
}
