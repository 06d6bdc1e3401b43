package dev.pgfleet.shared.health;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything the health layer knows, as of one moment. Immutable: readers keep a reference as
 * long as they like. Published by the health verticle on the event bus
 * ({@value HealthBus#SNAPSHOTS}) after each probe round and each change of bans; the newest one
 * is also the answer to a request on {@value HealthBus#CURRENT}.
 *
 * @param version  increases by one with every snapshot of one health verticle; 0 = nothing
 *                 probed yet
 * @param takenAt  when it was built
 * @param pools    by pool name, in configuration order; each pool's shards in index order
 * @param bans     the bans in force when it was built
 */
public record HealthSnapshot(long version, Instant takenAt, Map<String, List<ShardHealth>> pools,
                             Map<ServerKey, Ban> bans) {

    /** Before the first probe round: no information, so callers go by the configuration. */
    public static final HealthSnapshot EMPTY = new HealthSnapshot(0, Instant.EPOCH, Map.of(), Map.of());

    public HealthSnapshot {
        Objects.requireNonNull(takenAt, "takenAt");
        Map<String, List<ShardHealth>> copy = new LinkedHashMap<>();
        pools.forEach((name, shards) -> copy.put(name, List.copyOf(shards)));
        pools = Collections.unmodifiableMap(copy);
        bans = Map.copyOf(bans);
    }

    /** Shard {@code index} of {@code pool}, if probed. */
    public Optional<ShardHealth> shard(String pool, int index) {
        List<ShardHealth> shards = pools.get(pool);
        return shards == null || index < 0 || index >= shards.size() ? Optional.empty()
                : Optional.of(shards.get(index));
    }
}
