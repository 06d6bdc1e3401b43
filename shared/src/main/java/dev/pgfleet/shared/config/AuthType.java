package dev.pgfleet.shared.config;

import java.util.List;

/** How PgFleet authenticates clients (PgFleet addition {@code general.auth_type}). */
public enum AuthType implements ConfigEnum {
    /** SASL SCRAM-SHA-256, PostgreSQL's default {@code password_encryption} since version 14. */
    SCRAM_SHA_256("scram-sha-256", "scram"),
    /** The legacy MD5 challenge; PgCat's only password method. */
    MD5("md5");

    private final List<String> names;

    AuthType(String... names) {
        this.names = List.of(names);
    }

    @Override
    public String configName() {
        return names.get(0);
    }

    @Override
    public List<String> aliases() {
        return names.subList(1, names.size());
    }
}
