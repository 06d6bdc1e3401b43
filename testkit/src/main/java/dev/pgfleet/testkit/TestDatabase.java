package dev.pgfleet.testkit;

import static dev.pgfleet.testkit.TestUsers.*;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/** The SQL that creates the test roles and (re)creates the test database. */
final class TestDatabase {
    private TestDatabase() {
    }

    /** Roles, on a fresh primary or standalone server, connected as the superuser. */
    static void createRoles(Connection superuser) throws SQLException {
        try (Statement st = superuser.createStatement()) {
            st.execute("SET password_encryption = 'scram-sha-256'");
            st.execute("CREATE ROLE " + SCRAM_USER + " LOGIN PASSWORD '" + SCRAM_PASSWORD + "'");
            st.execute("CREATE ROLE " + CLEARTEXT_USER + " LOGIN PASSWORD '" + CLEARTEXT_PASSWORD + "'");
            st.execute("CREATE ROLE " + TRUST_USER + " LOGIN");
            st.execute("CREATE ROLE " + REPLICATION_USER + " LOGIN REPLICATION PASSWORD '"
                    + REPLICATION_PASSWORD + "'");
            // Stored as md5 so that the md5 pg_hba rule really runs the md5 exchange.
            st.execute("SET password_encryption = 'md5'");
            st.execute("CREATE ROLE " + MD5_USER + " LOGIN PASSWORD '" + MD5_PASSWORD + "'");
            st.execute("RESET password_encryption");
        }
    }

    /**
     * Drops and recreates {@value TestUsers#DATABASE}. FORCE terminates sessions still in it
     * (PostgreSQL 13+); on a standby, replaying the drop ends that standby's sessions.
     */
    static void recreate(PgServer server) throws SQLException {
        try (Connection c = server.connectSuperuser("postgres"); Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + DATABASE + " WITH (FORCE)");
            st.execute("CREATE DATABASE " + DATABASE + " OWNER " + SUPERUSER);
            st.execute("GRANT ALL ON DATABASE " + DATABASE + " TO " + String.join(", ", APP_USERS));
        }
        // Since PostgreSQL 15 only the database owner may create in schema public.
        try (Connection c = server.connectSuperuser(DATABASE); Statement st = c.createStatement()) {
            st.execute("GRANT ALL ON SCHEMA public TO " + String.join(", ", APP_USERS));
        }
    }

    /** Ends every client session but ours; walsenders (replication) are not client backends. */
    static void terminateClients(PgServer server) throws SQLException {
        try (Connection c = server.connectSuperuser("postgres"); Statement st = c.createStatement()) {
            st.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    + " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()");
        }
    }
}
