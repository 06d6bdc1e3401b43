package dev.pgfleet.shared.config;

/** When a server connection goes back to the pool (PgBouncer's pool modes, PgCat's {@code pool_mode}). */
public enum PoolMode implements ConfigEnum {
    /** One server connection per client, for the whole session. */
    SESSION("session"),
    /** One server connection per transaction; PgCat's default. */
    TRANSACTION("transaction"),
    /** One server connection per statement; PgFleet addition (PgBouncer has it, PgCat does not). */
    STATEMENT("statement");

    private final String configName;

    PoolMode(String configName) {
        this.configName = configName;
    }

    @Override
    public String configName() {
        return configName;
    }
}
