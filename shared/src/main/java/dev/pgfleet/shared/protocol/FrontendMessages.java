package dev.pgfleet.shared.protocol;

import static dev.pgfleet.shared.protocol.Messages.begin;
import static dev.pgfleet.shared.protocol.Messages.beginUntyped;
import static dev.pgfleet.shared.protocol.Messages.cstring;
import static dev.pgfleet.shared.protocol.Messages.end;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Builders of the frontend messages PgFleet sends to servers (and tests send to PgFleet). */
public final class FrontendMessages {

    private FrontendMessages() {
    }

    public static void startupMessage(ByteBuf out, Map<String, String> parameters) {
        startupMessage(out, PgProtocol.PROTOCOL_3_0, parameters);
    }

    public static void startupMessage(ByteBuf out, int protocolVersion, Map<String, String> parameters) {
        int at = beginUntyped(out);
        out.writeInt(protocolVersion);
        parameters.forEach((k, v) -> {
            cstring(out, k);
            cstring(out, v);
        });
        out.writeByte(0);
        end(out, at);
    }

    public static void sslRequest(ByteBuf out) {
        out.writeInt(8);
        out.writeInt(PgProtocol.SSL_REQUEST_CODE);
    }

    public static void gssEncRequest(ByteBuf out) {
        out.writeInt(8);
        out.writeInt(PgProtocol.GSSENC_REQUEST_CODE);
    }

    public static void cancelRequest(ByteBuf out, int processId, int secretKey) {
        out.writeInt(16);
        out.writeInt(PgProtocol.CANCEL_REQUEST_CODE);
        out.writeInt(processId);
        out.writeInt(secretKey);
    }

    public static void query(ByteBuf out, String sql) {
        int at = begin(out, PgProtocol.QUERY_REQUEST);
        cstring(out, sql);
        end(out, at);
    }

    public static void passwordMessage(ByteBuf out, String password) {
        int at = begin(out, PgProtocol.PASSWORD_REQUEST);
        cstring(out, password);
        end(out, at);
    }

    public static void saslInitialResponse(ByteBuf out, String mechanism, String data) {
        int at = begin(out, PgProtocol.PASSWORD_REQUEST);
        cstring(out, mechanism);
        byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.writeBytes(bytes);
        end(out, at);
    }

    public static void saslResponse(ByteBuf out, String data) {
        int at = begin(out, PgProtocol.PASSWORD_REQUEST);
        out.writeBytes(data.getBytes(StandardCharsets.UTF_8));
        end(out, at);
    }

    public static void sync(ByteBuf out) {
        int at = begin(out, PgProtocol.SYNC_REQUEST);
        end(out, at);
    }

    public static void terminate(ByteBuf out) {
        int at = begin(out, PgProtocol.TERMINATE_REQUEST);
        end(out, at);
    }
}
