package dev.pgfleet.proxy;

import dev.pgfleet.shared.config.ServerTlsMode;

/**
 * Where and how to log in to one PostgreSQL server for one pool: address, database, and the
 * credentials PgFleet uses toward the server (server_username/server_password, or the
 * client-facing ones).
 */
record ServerTarget(String host, int port, String database, String user, String password, ServerTlsMode tlsMode) {

    @Override
    public String toString() {
        // Never the password.
        return user + "@" + host + ":" + port + "/" + database;
    }
}
