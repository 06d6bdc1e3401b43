package dev.pgfleet.shared.config;

import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * A configuration file as read, before binding: the TOML tree with the environment and system
 * property overrides merged into {@code [general]}, and where each {@code [general]} key came
 * from. A reload keeps it to bind again with runtime SETs on top ({@link ConfigLoader#bind});
 * SHOW CONFIG reports the sources.
 *
 * @param tree    the merged tree (owned by this record: copy before changing it)
 * @param sources {@code [general]} key to {@link #FILE}, {@link #ENVIRONMENT} or
 *                {@link #SYSTEM_PROPERTY}; keys absent here take their defaults
 */
public record ConfigTree(JsonObject tree, Map<String, String> sources) {

    public static final String DEFAULT = "default";
    public static final String FILE = "file";
    public static final String ENVIRONMENT = "environment";
    public static final String SYSTEM_PROPERTY = "system property";

    public ConfigTree {
        sources = Map.copyOf(sources);
    }

    /** The {@code [general]} table (empty when the file has none). */
    public JsonObject general() {
        return tree.getValue("general") instanceof JsonObject g ? g : new JsonObject();
    }
}
