package dev.pgfleet.testkit;

/**
 * Which kind of PostgreSQL the shared fixture starts, from the system property
 * {@value #PROPERTY}. Only {@code embedded} (binaries from a Maven artifact, run as child
 * processes) is built: it needs neither Docker nor a system PostgreSQL, so it is the default
 * everywhere. A Testcontainers backend would be an opt-in where a Docker engine exists;
 * this is the place it would be selected.
 */
enum Backend {
    EMBEDDED;

    static final String PROPERTY = "pgfleet.testkit.backend";

    static Backend selected() {
        String value = System.getProperty(PROPERTY, "embedded").trim();
        if (value.equalsIgnoreCase("embedded")) {
            return EMBEDDED;
        }
        if (value.equalsIgnoreCase("testcontainers")) {
            throw new IllegalStateException(
                    PROPERTY + "=testcontainers: testcontainers backend is not built in this version;"
                            + " use " + PROPERTY + "=embedded (the default)");
        }
        throw new IllegalStateException(
                "unknown " + PROPERTY + "=" + value + "; the only backend built is 'embedded'"
                        + " (testcontainers backend is not built in this version)");
    }
}
