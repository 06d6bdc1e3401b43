package dev.pgfleet.shared.config;

/**
 * TLS towards PostgreSQL servers, named after libpq's {@code sslmode} values.
 * PgCat has two booleans instead; when {@code server_tls_mode} is absent the mode is derived from
 * them: {@code server_tls = false} is DISABLE, {@code server_tls = true} is REQUIRE, and with
 * {@code verify_server_certificate = true} it is VERIFY_FULL.
 */
public enum ServerTlsMode implements ConfigEnum {
    DISABLE("disable"),
    /** Try TLS, fall back to plain text if the server answers 'N' to SSLRequest. */
    PREFER("prefer"),
    /** TLS or no connection; the certificate is not checked. */
    REQUIRE("require"),
    /** TLS, certificate chain and host name checked. */
    VERIFY_FULL("verify-full");

    private final String configName;

    ServerTlsMode(String configName) {
        this.configName = configName;
    }

    @Override
    public String configName() {
        return configName;
    }
}
