package dev.pgfleet.shared.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * The fields PgFleet reads of an ErrorResponse or NoticeResponse. A server may omit any
 * field, SQLSTATE included: missing fields are null, never an exception.
 */
public record ServerError(String severity, String sqlState, String message, String detail) {

    public static ServerError decode(ByteBuf buf, int offset, int length) {
        String severity = null;
        String code = null;
        String message = null;
        String detail = null;
        int pos = offset + 5;
        int end = offset + length;
        while (pos < end) {
            byte field = buf.getByte(pos++);
            if (field == 0) {
                break;
            }
            int nul = buf.indexOf(pos, end, (byte) 0);
            if (nul < 0) {
                break;
            }
            String value = buf.toString(pos, nul - pos, StandardCharsets.UTF_8);
            pos = nul + 1;
            switch (field) {
                case 'V' -> severity = value;
                case 'S' -> severity = severity == null ? value : severity;
                case 'C' -> code = value;
                case 'M' -> message = value;
                case 'D' -> detail = value;
                default -> {
                }
            }
        }
        return new ServerError(severity, code, message, detail);
    }

    @Override
    public String toString() {
        return (severity == null ? "ERROR" : severity) + " " + (sqlState == null ? "(no SQLSTATE)" : sqlState)
            + ": " + (message == null ? "(no message)" : message);
    }
}
