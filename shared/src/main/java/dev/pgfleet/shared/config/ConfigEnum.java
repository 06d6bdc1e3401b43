package dev.pgfleet.shared.config;

import java.util.List;

/**
 * An enum whose constants are spelled in the config file the way PgCat spells them
 * ({@code "pg_bigint_hash"}, {@code "scram-sha-256"}), with optional aliases PgCat also accepts
 * (it takes {@code "loc"} and {@code "least_outstanding_connections"} for the same mode).
 */
interface ConfigEnum {

    /** The name written in the TOML file and in log lines. */
    String configName();

    /** Other spellings accepted on input; the first name is always {@link #configName()}. */
    default List<String> aliases() {
        return List.of();
    }
}
