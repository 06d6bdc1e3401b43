package dev.pgfleet.shared.admin;

import io.vertx.core.json.JsonObject;

/**
 * The answer to an {@link AdminRequest}.
 *
 * @param sqlState null when the command was applied; else PostgreSQL's SQLSTATE for the error
 *                 the console sends (42601 unknown command or bad arguments, 3D000 unknown
 *                 database, 55000 wrong state such as RESUME when not paused, 53300, ...)
 * @param message  what was done (the console sends it as a NOTICE, or as the error's message)
 * @param detail   more for the error's DETAIL or the notice; may be null
 * @param data     command-specific data (STATS: a ProxyStats; row lists: {@code {"rows": [...]}});
 *                 never null
 */
public record AdminReply(String sqlState, String message, String detail, JsonObject data) {

    public AdminReply {
        message = message == null ? "" : message;
        data = data == null ? new JsonObject() : data;
    }

    public static AdminReply ok(String message) {
        return new AdminReply(null, message, null, null);
    }

    public static AdminReply ok(String message, JsonObject data) {
        return new AdminReply(null, message, null, data);
    }

    public static AdminReply error(String sqlState, String message) {
        return new AdminReply(sqlState, message, null, null);
    }

    public static AdminReply error(String sqlState, String message, String detail) {
        return new AdminReply(sqlState, message, detail, null);
    }

    public boolean failed() {
        return sqlState != null;
    }

    public JsonObject toJson() {
        JsonObject j = new JsonObject().put("message", message).put("data", data);
        if (sqlState != null) {
            j.put("sqlState", sqlState);
        }
        if (detail != null) {
            j.put("detail", detail);
        }
        return j;
    }

    public static AdminReply fromJson(JsonObject json) {
        return new AdminReply(json.getString("sqlState"), json.getString("message"), json.getString("detail"),
                json.getJsonObject("data"));
    }
}
