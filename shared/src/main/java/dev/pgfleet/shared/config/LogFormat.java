package dev.pgfleet.shared.config;

/**
 * {@code general.log_format}: how log lines are written (PgFleet addition). Text for a person at
 * a terminal; JSON, one object per line, for a log collector (Kubernetes, Loki, Elasticsearch).
 */
public enum LogFormat implements ConfigEnum {
    TEXT("text"),
    JSON("json");

    private final String name;

    LogFormat(String name) {
        this.name = name;
    }

    @Override
    public String configName() {
        return name;
    }
}
