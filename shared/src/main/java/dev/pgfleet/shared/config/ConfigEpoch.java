package dev.pgfleet.shared.config;

import java.time.Instant;
import java.util.Objects;

/**
 * A configuration in force and its number: 1 for the one PgFleet started with, one more with each
 * accepted reload or SET. Immutable.
 *
 * @param epoch    increases by one with every accepted change
 * @param config   the whole configuration (restart-only keys keep their running values)
 * @param loadedAt when it was accepted
 */
public record ConfigEpoch(long epoch, PgFleetConfig config, Instant loadedAt) {

    public ConfigEpoch {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(loadedAt, "loadedAt");
    }
}
