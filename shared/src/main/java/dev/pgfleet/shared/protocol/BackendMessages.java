package dev.pgfleet.shared.protocol;

import static dev.pgfleet.shared.protocol.Messages.begin;
import static dev.pgfleet.shared.protocol.Messages.cstring;
import static dev.pgfleet.shared.protocol.Messages.end;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;

/** Builders of the backend messages PgFleet itself sends to clients. */
public final class BackendMessages {

    private BackendMessages() {
    }

    private static final ByteBuf SSL_NO = constant(new byte[] {'N'});
    private static final ByteBuf SSL_YES = constant(new byte[] {'S'});
    private static final ByteBuf AUTH_OK = constant(new byte[] {'R', 0, 0, 0, 8, 0, 0, 0, 0});
    private static final ByteBuf READY_IDLE = constant(new byte[] {'Z', 0, 0, 0, 5, 'I'});

    private static ByteBuf constant(byte[] bytes) {
        return Unpooled.unreleasableBuffer(Unpooled.directBuffer(bytes.length).writeBytes(bytes)).asReadOnly();
    }

    /** The single byte 'N' answering SSLRequest or GSSENCRequest: not supported. */
    public static ByteBuf sslNo() {
        return SSL_NO.duplicate();
    }

    /** The single byte 'S' answering SSLRequest: TLS handshake follows. */
    public static ByteBuf sslYes() {
        return SSL_YES.duplicate();
    }

    public static ByteBuf authenticationOk() {
        return AUTH_OK.duplicate();
    }

    public static ByteBuf readyForQueryIdle() {
        return READY_IDLE.duplicate();
    }

    public static void readyForQuery(ByteBuf out, byte txStatus) {
        int at = begin(out, PgProtocol.READY_FOR_QUERY_RESPONSE);
        out.writeByte(txStatus);
        end(out, at);
    }

    public static void authenticationMd5(ByteBuf out, byte[] salt) {
        int at = begin(out, PgProtocol.AUTHENTICATION_RESPONSE);
        out.writeInt(PgProtocol.AUTH_MD5_PASSWORD);
        out.writeBytes(salt);
        end(out, at);
    }

    public static void authenticationSasl(ByteBuf out, List<String> mechanisms) {
        int at = begin(out, PgProtocol.AUTHENTICATION_RESPONSE);
        out.writeInt(PgProtocol.AUTH_SASL);
        for (String m : mechanisms) {
            cstring(out, m);
        }
        out.writeByte(0);
        end(out, at);
    }

    public static void authenticationSaslContinue(ByteBuf out, byte[] data) {
        authSaslData(out, PgProtocol.AUTH_SASL_CONTINUE, data);
    }

    public static void authenticationSaslFinal(ByteBuf out, byte[] data) {
        authSaslData(out, PgProtocol.AUTH_SASL_FINAL, data);
    }

    private static void authSaslData(ByteBuf out, int code, byte[] data) {
        int at = begin(out, PgProtocol.AUTHENTICATION_RESPONSE);
        out.writeInt(code);
        out.writeBytes(data);
        end(out, at);
    }

    public static void parameterStatus(ByteBuf out, String name, String value) {
        int at = begin(out, PgProtocol.PARAMETER_STATUS_RESPONSE);
        cstring(out, name);
        cstring(out, value);
        end(out, at);
    }

    public static void backendKeyData(ByteBuf out, int processId, int secretKey) {
        int at = begin(out, PgProtocol.BACKEND_KEY_DATA_RESPONSE);
        out.writeInt(processId);
        out.writeInt(secretKey);
        end(out, at);
    }

    /** NegotiateProtocolVersion: the newest minor version we speak and the options we ignored. */
    public static void negotiateProtocolVersion(ByteBuf out, int newestMinor, List<String> unrecognized) {
        int at = begin(out, PgProtocol.NEGOTIATE_PROTOCOL_VERSION_RESPONSE);
        out.writeInt(newestMinor);
        out.writeInt(unrecognized.size());
        for (String option : unrecognized) {
            cstring(out, option);
        }
        end(out, at);
    }

    public static void errorResponse(ByteBuf out, PgException e) {
        errorResponse(out, e.severity(), e.sqlState(), e.getMessage(), e.detail());
    }

    /** ErrorResponse with S, V (non-localized severity), C, M and optionally D fields. */
    public static void errorResponse(ByteBuf out, String severity, String sqlState, String message, String detail) {
        noticeOrError(out, PgProtocol.ERROR_RESPONSE, severity, sqlState, message, detail);
    }

    public static void noticeResponse(ByteBuf out, String severity, String sqlState, String message) {
        noticeOrError(out, PgProtocol.NOTICE_RESPONSE, severity, sqlState, message, null);
    }

    private static void noticeOrError(ByteBuf out, byte type, String severity, String sqlState, String message,
                                                                        String detail) {
        int at = begin(out, type);
        out.writeByte('S');
        cstring(out, severity);
        out.writeByte('V');
        cstring(out, severity);
        out.writeByte('C');
        cstring(out, sqlState);
        out.writeByte('M');
        cstring(out, message);
        if (detail != null) {
            out.writeByte('D');
            cstring(out, detail);
        }
        out.writeByte(0);
        end(out, at);
    }

    public static void commandComplete(ByteBuf out, String tag) {
        int at = begin(out, PgProtocol.COMMAND_COMPLETE_RESPONSE);
        cstring(out, tag);
        end(out, at);
    }

    public static void emptyQueryResponse(ByteBuf out) {
        int at = begin(out, PgProtocol.EMPTY_QUERY_RESPONSE);
        end(out, at);
    }

    /** RowDescription of text columns (type oid 25), for answers PgFleet makes itself. */
    public static void rowDescriptionText(ByteBuf out, List<String> columns) {
        rowDescription(out, columns, 25, -1);
    }

    /** RowDescription of columns of one type (values in text format), for answers PgFleet makes itself. */
    public static void rowDescription(ByteBuf out, List<String> columns, int typeOid, int typeSize) {
        int at = begin(out, PgProtocol.ROW_DESCRIPTION_RESPONSE);
        out.writeShort(columns.size());
        for (String c : columns) {
            cstring(out, c);
            out.writeInt(0);
            out.writeShort(0);
            out.writeInt(typeOid);
            out.writeShort(typeSize);
            out.writeInt(-1);
            out.writeShort(0);
        }
        end(out, at);
    }

    /** DataRow of text values; a null value is SQL NULL. */
    public static void dataRowText(ByteBuf out, List<String> values) {
        int at = begin(out, PgProtocol.DATA_ROW_RESPONSE);
        out.writeShort(values.size());
        for (String v : values) {
            if (v == null) {
                out.writeInt(-1);
            } else {
                int lenAt = out.writerIndex();
                out.writeInt(0);
                int n = out.writeCharSequence(v, java.nio.charset.StandardCharsets.UTF_8);
                out.setInt(lenAt, n);
            }
        }
        end(out, at);
    }
}
