package dev.pgfleet.shared.routing;

import dev.pgfleet.shared.config.PgFleetConfig;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where each pool's transactions may go, as of one configuration epoch and one health snapshot.
 * Immutable: the proxy swaps its reference to the newest and reads it without locks.
 *
 * @param version       increases by one with every table of one router
 * @param configEpoch   the {@code ConfigEpoch} it was built from
 * @param healthVersion the health snapshot it was built from (0: none, routing by the configuration)
 * @param builtAt       when it was built
 * @param pools         by pool name, in configuration order
 * @param config        the configuration it was built from, within the process only: it holds
 *                      passwords, so the wire form leaves it out and a table read from the wire
 *                      has none (the proxy takes users, passwords and [general] from it)
 */
public record RoutingTable(long version, long configEpoch, long healthVersion, Instant builtAt,
                           Map<String, PoolRoute> pools, PgFleetConfig config) {

    public RoutingTable {
        Objects.requireNonNull(builtAt, "builtAt");
        pools = Collections.unmodifiableMap(new LinkedHashMap<>(pools));
    }

    public Optional<PoolRoute> pool(String name) {
        return Optional.ofNullable(pools.get(name));
    }

    /** Whether {@code other} routes every pool the same way (versions and times aside). */
    public boolean sameRoutes(RoutingTable other) {
        return other != null && pools.equals(other.pools);
    }

    @Override
    public String toString() {
        // Never the configuration (passwords).
        return "RoutingTable[version=" + version + ", configEpoch=" + configEpoch + ", healthVersion=" + healthVersion
                + ", builtAt=" + builtAt + ", pools=" + pools + "]";
    }
}
