package dev.pgfleet.shared.config;

import java.util.List;
import java.util.Optional;

/** How a server is picked among the candidates of a shard. */
public enum LoadBalancingMode implements ConfigEnum {
    /** At random; PgCat's default. */
    RANDOM("random"),
    /** Least outstanding connections; PgCat accepts both spellings. */
    LEAST_OUTSTANDING_CONNECTIONS("loc", "least_outstanding_connections"),
    /** PgFleet addition: strict rotation. */
    ROUND_ROBIN("round_robin");

    private final List<String> names;

    LoadBalancingMode(String... names) {
        this.names = List.of(names);
    }

    @Override
    public String configName() {
        return names.get(0);
    }

    @Override
    public List<String> aliases() {
        return names.subList(1, names.size());
    }

    /** The mode a config value names, as the config file accepts it (any case, aliases too). */
    public static Optional<LoadBalancingMode> fromConfigName(String name) {
        return Section.parseEnum(name.trim(), LoadBalancingMode.class);
    }
}
