package dev.pgfleet.dist;

import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.ShardConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Modified copies of the (immutable) configuration records, for the demo, which must point a
 * file's configuration at servers whose ports are only known once they run. The copies are made
 * by the records' own {@code with...} methods, so a new record component is carried over there,
 * next to the component list, and nothing is dropped silently.
 */
final class ConfigEdits {

    private ConfigEdits() {
    }

    static PgFleetConfig withPort(PgFleetConfig c, int port) {
        return new PgFleetConfig(c.general().withPort(port), c.pools(), c.source(), c.warnings());
    }

    /** Every pool's shards replaced by {@code edit(pool)}. */
    static PgFleetConfig withShards(PgFleetConfig c, Function<PoolConfig, List<ShardConfig>> edit) {
        Map<String, PoolConfig> pools = new LinkedHashMap<>();
        c.pools().forEach((name, p) -> pools.put(name, p.withShards(edit.apply(p))));
        return new PgFleetConfig(c.general(), pools, c.source(), c.warnings());
    }
}
