package dev.pgfleet.shared.config;

/** PgCat's {@code default_role}: where a query goes when neither client nor parser picks a role. */
public enum DefaultRole implements ConfigEnum {
    /** Primary and replicas share the load. */
    ANY("any"),
    /** Replicas only; the primary is never touched unless asked for. */
    REPLICA("replica"),
    /** Everything to the primary unless the client asks otherwise. */
    PRIMARY("primary");

    private final String configName;

    DefaultRole(String configName) {
        this.configName = configName;
    }

    @Override
    public String configName() {
        return configName;
    }
}
