package dev.pgfleet.admin.config;

import dev.pgfleet.shared.config.GeneralKeys;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.shared.config.PoolConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * What differs between two configurations, by name only: {@code [general]} keys, pools added,
 * removed or changed. Never a value, so that a changed password can be reported as changed.
 */
record ConfigDiff(List<String> general, List<String> poolsAdded, List<String> poolsRemoved,
                  List<String> poolsChanged) {

    static ConfigDiff of(PgFleetConfig before, PgFleetConfig after) {
        List<String> general = new ArrayList<>(GeneralKeys.changed(before.general(), after.general()));
        if (general.isEmpty() && !before.general().equals(after.general())) {
            general.add("[general]");   // a key this list does not name yet
        }
        List<String> added = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        List<String> changed = new ArrayList<>();
        for (PoolConfig p : after.pools().values()) {
            PoolConfig old = before.pools().get(p.name());
            if (old == null) {
                added.add(p.name());
            } else if (!old.equals(p)) {
                changed.add(p.name());
            }
        }
        for (String name : before.pools().keySet()) {
            if (!after.pools().containsKey(name)) {
                removed.add(name);
            }
        }
        return new ConfigDiff(List.copyOf(general), List.copyOf(added), List.copyOf(removed), List.copyOf(changed));
    }

    boolean empty() {
        return general.isEmpty() && poolsAdded.isEmpty() && poolsRemoved.isEmpty() && poolsChanged.isEmpty();
    }

    /** "changed: a, b; pools added: x; pools removed: y; pools changed: z", or "no change". */
    String describe() {
        List<String> parts = new ArrayList<>();
        part(parts, "changed", general);
        part(parts, "pools added", poolsAdded);
        part(parts, "pools removed", poolsRemoved);
        part(parts, "pools changed", poolsChanged);
        return parts.isEmpty() ? "no change" : String.join("; ", parts);
    }

    static void part(List<String> parts, String label, List<String> names) {
        if (!names.isEmpty()) {
            parts.add(label + ": " + String.join(", ", names));
        }
    }

    JsonObject toJson() {
        return new JsonObject().put("changed", new JsonArray(general)).put("poolsAdded", new JsonArray(poolsAdded))
                .put("poolsRemoved", new JsonArray(poolsRemoved)).put("poolsChanged", new JsonArray(poolsChanged));
    }
}
