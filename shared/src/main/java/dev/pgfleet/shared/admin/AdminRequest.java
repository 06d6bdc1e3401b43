package dev.pgfleet.shared.admin;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Locale;

/**
 * One admin command: its name (upper case, {@code PAUSE}) and its arguments (the words after it).
 *
 * @param origin the instance whose console issued it (for replies that list members)
 */
public record AdminRequest(String command, List<String> args, String origin) {

    public AdminRequest {
        command = command.toUpperCase(Locale.ROOT);
        args = List.copyOf(args);
        origin = origin == null ? "" : origin;
    }

    public static AdminRequest of(String command, String... args) {
        return new AdminRequest(command, List.of(args), "");
    }

    /** Argument {@code i}, or null when there are fewer. */
    public String arg(int i) {
        return i < args.size() ? args.get(i) : null;
    }

    public JsonObject toJson() {
        return new JsonObject().put("command", command).put("args", new JsonArray(args)).put("origin", origin);
    }

    public static AdminRequest fromJson(JsonObject json) {
        JsonArray a = json.getJsonArray("args", new JsonArray());
        List<String> args = a.stream().map(String::valueOf).toList();
        return new AdminRequest(json.getString("command", ""), args, json.getString("origin", ""));
    }
}
