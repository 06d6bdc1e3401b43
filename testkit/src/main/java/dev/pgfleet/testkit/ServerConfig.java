package dev.pgfleet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** What the kit writes into a data directory: postgresql.conf, pg_hba.conf, standby settings. */
final class ServerConfig {
    /*
     * Appended to initdb's postgresql.conf (later lines win). fsync, synchronous_commit and
     * full_page_writes off trade crash safety for speed: these are throwaway test servers.
     * max_connections covers tests with 200+ clients. No unix socket: clients use TCP, and a
     * socket path under a deep build directory can exceed the 107-byte sun_path limit.
     */
    private static final String SETTINGS = """

            # --- PgFleet testkit ---
            listen_addresses = '127.0.0.1'
            unix_socket_directories = ''
            password_encryption = 'scram-sha-256'
            max_connections = 300
            shared_buffers = 32MB
            wal_level = replica
            max_wal_senders = 10
            wal_keep_size = 256MB
            hot_standby = on
            hot_standby_feedback = on
            fsync = off
            synchronous_commit = off
            full_page_writes = off
            log_min_messages = warning
            """;

    /*
     * First match wins (pg_hba.conf is read top to bottom): the per-user methods come before
     * the scram-sha-256 catch-all. With md5, PostgreSQL still runs SCRAM when the stored
     * password is a SCRAM verifier, so app_md5's password is stored as md5 (TestDatabase).
     */
    private static final String HBA = """
            # PgFleet testkit: TCP on loopback only, one authentication method per test role.
            # TYPE  DATABASE     USER        ADDRESS        METHOD
            host    all          %s     127.0.0.1/32   md5
            host    all          %s   127.0.0.1/32   trust
            host    all          %s   127.0.0.1/32   password
            host    replication  %s  127.0.0.1/32   scram-sha-256
            host    all          all         127.0.0.1/32   scram-sha-256
            """.formatted(TestUsers.MD5_USER, TestUsers.TRUST_USER, TestUsers.CLEARTEXT_USER,
            TestUsers.REPLICATION_USER);

    private ServerConfig() {
    }

    static void writeServerFiles(Path dataDir) {
        try {
            Files.writeString(dataDir.resolve("postgresql.conf"), SETTINGS, StandardOpenOption.APPEND);
            Files.writeString(dataDir.resolve("pg_hba.conf"), HBA);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot configure " + dataDir, e);
        }
    }

    /**
     * Makes a copied data directory a streaming standby of the primary on {@code primaryPort}:
     * standby.signal plus primary_conninfo in postgresql.auto.conf (where ALTER SYSTEM would
     * put it). Rewritten on each call, so a new primary port replaces the old one.
     */
    static void writeStandbyFiles(Path dataDir, String applicationName, int primaryPort) {
        String conninfo = "host=127.0.0.1 port=%d user=%s password=%s application_name=%s".formatted(
                primaryPort, TestUsers.REPLICATION_USER, TestUsers.REPLICATION_PASSWORD, applicationName);
        Path auto = dataDir.resolve("postgresql.auto.conf");
        try {
            StringBuilder kept = new StringBuilder();
            if (Files.exists(auto)) {
                for (String line : Files.readAllLines(auto)) {
                    if (!line.trim().startsWith("primary_conninfo")) {
                        kept.append(line).append('\n');
                    }
                }
            }
            kept.append("primary_conninfo = '").append(conninfo).append("'\n");
            Files.writeString(auto, kept);
            Files.writeString(dataDir.resolve("standby.signal"), "");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot configure standby " + dataDir, e);
        }
    }
}
