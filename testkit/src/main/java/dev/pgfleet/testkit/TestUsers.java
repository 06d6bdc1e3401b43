package dev.pgfleet.testkit;

import java.util.List;

/**
 * The roles and the database every server started by the kit has, one per authentication
 * method PgFleet must handle on the server side. pg_hba.conf rules are written by
 * {@link ServerConfig}; roles and database are created by {@link TestDatabase}.
 */
public final class TestUsers {
    /** Superuser, password stored as SCRAM, authenticates with scram-sha-256. */
    public static final String SUPERUSER = "postgres";
    public static final String SUPERUSER_PASSWORD = "postgres";

    /** LOGIN role whose password is stored as a SCRAM verifier. */
    public static final String SCRAM_USER = "app_scram";
    public static final String SCRAM_PASSWORD = "scram_pw";

    /** LOGIN role whose password is stored as md5, with an {@code md5} pg_hba rule. */
    public static final String MD5_USER = "app_md5";
    public static final String MD5_PASSWORD = "md5_pw";

    /** LOGIN role with a {@code password} (cleartext) pg_hba rule. */
    public static final String CLEARTEXT_USER = "app_clear";
    public static final String CLEARTEXT_PASSWORD = "clear_pw";

    /** LOGIN role with a {@code trust} pg_hba rule: no password at all. */
    public static final String TRUST_USER = "app_trust";

    /** Role with REPLICATION that the replicas stream as. */
    public static final String REPLICATION_USER = "replicator";
    public static final String REPLICATION_PASSWORD = "repl_pw";

    /** Database owned by the superuser, with ALL granted to the application roles. */
    public static final String DATABASE = "pgfleet_test";

    /** The application (non-superuser, non-replication) roles. */
    public static final List<String> APP_USERS = List.of(SCRAM_USER, MD5_USER, CLEARTEXT_USER, TRUST_USER);

    private TestUsers() {
    }
}
