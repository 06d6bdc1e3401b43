package dev.pgfleet.shared.config;

/** The role written as the third element of a {@code servers = [[host, port, role]]} entry. */
public enum ServerRole implements ConfigEnum {
    PRIMARY("primary"),
    REPLICA("replica"),
    /** PgFleet addition: the health checker asks the server ({@code pg_is_in_recovery()}). */
    AUTO("auto");

    private final String configName;

    ServerRole(String configName) {
        this.configName = configName;
    }

    @Override
    public String configName() {
        return configName;
    }
}
