package dev.pgfleet.shared.config;

import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The JSON tree of a whole file to a {@link PgFleetConfig}: binds, validates, reports. */
final class ConfigBinder {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigBinder.class);

    private ConfigBinder() {
    }

    /**
     * @throws ConfigException listing every error, each naming {@code source} and the key
     */
    static PgFleetConfig bind(JsonObject tree, String source) {
        Problems problems = new Problems(source);
        Section root = new Section(problems, "", tree);
        // PgCat's global [plugins] and its internal "path" key: accepted, not used.
        root.unsupported("plugins", "path");

        Optional<Section> generalSection = root.table("general");
        if (!root.has("general")) {
            problems.error("general", "required table [general] is missing");
        }
        General general = GeneralBinder.bind(generalSection.orElseGet(() -> new Section(problems, "general",
                new JsonObject())));

        Map<String, PoolConfig> pools = new LinkedHashMap<>();
        Optional<Section> poolsSection = root.table("pools");
        if (!root.has("pools") || poolsSection.map(p -> p.keys().isEmpty()).orElse(false)) {
            problems.error("pools", "at least one pool is required, e.g. [pools.app]");
        }
        poolsSection.ifPresent(ps -> {
            for (String name : ps.keys()) {
                ps.table(name).ifPresent(p -> pools.put(name, PoolBinder.bind(p, name, general)));
            }
        });
        root.reportUnknownKeys();

        problems.throwIfAny();
        problems.warnings().forEach(LOG::warn);
        return new PgFleetConfig(general, pools, source, problems.warnings());
    }
}
