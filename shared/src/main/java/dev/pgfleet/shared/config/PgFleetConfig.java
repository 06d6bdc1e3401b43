package dev.pgfleet.shared.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A validated configuration, immutable, as read from one file (plus environment and system
 * property overrides, see {@link ConfigLoader}).
 *
 * @param pools    by pool name, in file order
 * @param source   the file it came from, as named in messages
 * @param warnings what was accepted but deserves attention (unknown keys, ignored PgCat settings),
 *                 each naming the file and the key; already logged at WARN
 */
public record PgFleetConfig(General general, Map<String, PoolConfig> pools, String source, List<String> warnings) {

    public PgFleetConfig {
        pools = Collections.unmodifiableMap(new LinkedHashMap<>(pools));
        warnings = List.copyOf(warnings);
    }

    /** The pool a client reaches by connecting to {@code database}. */
    public Optional<PoolConfig> pool(String database) {
        return Optional.ofNullable(pools.get(database));
    }
}
