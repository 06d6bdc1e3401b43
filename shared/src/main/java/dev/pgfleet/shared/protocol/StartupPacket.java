package dev.pgfleet.shared.protocol;

import io.netty.buffer.ByteBuf;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The first packet of a client connection (startup layout: int32 length, int32 code, body).
 * Which one it is is told by the code: a protocol version, or one of the request codes.
 */
public record StartupPacket(int code, Map<String, String> parameters, int cancelProcessId, int cancelSecretKey) {

    public boolean isSslRequest() {
        return code == PgProtocol.SSL_REQUEST_CODE;
    }

    public boolean isGssEncRequest() {
        return code == PgProtocol.GSSENC_REQUEST_CODE;
    }

    public boolean isCancelRequest() {
        return code == PgProtocol.CANCEL_REQUEST_CODE;
    }

    public int majorVersion() {
        return code >>> 16;
    }

    public int minorVersion() {
        return code & 0xFFFF;
    }

    public String user() {
        return parameters.get("user");
    }

    /** As PostgreSQL does, the database defaults to the user name. */
    public String database() {
        String db = parameters.get("database");
        return db == null || db.isEmpty() ? user() : db;
    }

    /**
     * Decodes the packet at {@code [offset, offset + length)}.
     *
     * @throws PgException 08P01 for a malformed packet
     */
    public static StartupPacket decode(ByteBuf buf, int offset, int length) {
        int code = buf.getInt(offset + 4);
        int end = offset + length;
        if (code == PgProtocol.CANCEL_REQUEST_CODE) {
            // Protocol 3.2 allows secret keys up to 256 bytes; we issue 4-byte keys, so only those match.
            if (length < 16) {
                throw new PgException(SqlState.PROTOCOL_VIOLATION, "invalid length of cancel request");
            }
            int secret = length == 16 ? buf.getInt(offset + 12) : 0;
            return new StartupPacket(code, Map.of(), buf.getInt(offset + 8), secret);
        }
        if (code == PgProtocol.SSL_REQUEST_CODE || code == PgProtocol.GSSENC_REQUEST_CODE) {
            if (length != 8) {
                throw new PgException(SqlState.PROTOCOL_VIOLATION, "invalid length of startup packet");
            }
            return new StartupPacket(code, Map.of(), 0, 0);
        }
        if ((code >>> 16) != 3) {
            // PostgreSQL: "unsupported frontend protocol %u.%u: server supports 3.0 to 3.x".
            throw new PgException(SqlState.FEATURE_NOT_SUPPORTED, "unsupported frontend protocol "
                + (code >>> 16) + "." + (code & 0xFFFF) + ": server supports 3.0 to 3.0");
        }
        Map<String, String> params = new LinkedHashMap<>();
        int[] next = new int[1];
        int pos = offset + 8;
        while (pos < end && buf.getByte(pos) != 0) {
            String name = Messages.readCString(buf, pos, end, next);
            if (next[0] >= end) {
                throw new PgException(SqlState.PROTOCOL_VIOLATION, "invalid startup packet layout: expected terminator as last byte");
            }
            String value = Messages.readCString(buf, next[0], end, next);
            params.put(name, value);
            pos = next[0];
        }
        if (pos != end - 1) {
            throw new PgException(SqlState.PROTOCOL_VIOLATION, "invalid startup packet layout: expected terminator as last byte");
        }
        String user = params.get("user");
        if (user == null || user.isEmpty()) {
            throw new PgException(SqlState.INVALID_AUTHORIZATION_SPECIFICATION, "no PostgreSQL user name specified in startup packet");
        }
        return new StartupPacket(code, Collections.unmodifiableMap(params), 0, 0);
    }
}
