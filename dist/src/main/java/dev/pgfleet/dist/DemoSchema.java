package dev.pgfleet.dist;

import dev.pgfleet.testkit.PgServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The demo's role, database and data. The proxy's users log in as {@value #USER}/{@value #PASSWORD}
 * and reach database {@value #DATABASE} on every server: the role owns the database, so it may
 * create tables in schema public (PostgreSQL 15+ grants that to the owner only).
 */
final class DemoSchema {

    static final String USER = "demo";
    static final String PASSWORD = "demo";
    static final String DATABASE = "demo";
    /** Rows of {@code users} in the whole data set; shards hold a part of them. */
    static final int USERS = 10;
    static final int PAYMENTS = 30;

    private static final String TABLES = """
            CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
            CREATE TABLE payments (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users,
                                   amount numeric(10,2) NOT NULL);
            """;
    /** Payment p belongs to user 1 + (p - 1) mod USERS, so every user has some. */
    private static final String PAYMENT_ROWS = "SELECT p, 1 + (p - 1) % " + USERS
            + ", round(((p * 7.35) % 100 + 1)::numeric, 2) FROM generate_series(1, " + PAYMENTS + ") p";

    private DemoSchema() {
    }

    /** SCRAM login role and its database; a fresh server, as the superuser. */
    static void createOwnerAndDatabase(PgServer server) throws SQLException {
        try (Connection c = server.connectSuperuser("postgres"); Statement st = c.createStatement()) {
            st.execute("SET password_encryption = 'scram-sha-256'");
            st.execute("CREATE ROLE " + USER + " LOGIN PASSWORD '" + PASSWORD + "'");
            st.execute("CREATE DATABASE " + DATABASE + " OWNER " + USER);
        }
    }

    /** The whole data set, on the replicated cluster's primary. */
    static void seedPrimary(PgServer primary) throws SQLException {
        try (Connection c = primary.connect(DATABASE, USER, PASSWORD); Statement st = c.createStatement()) {
            st.execute(TABLES);
            st.execute("INSERT INTO users SELECT id, 'user' || id || '@example.com' FROM generate_series(1, "
                    + USERS + ") id");
            st.execute("INSERT INTO payments " + PAYMENT_ROWS);
        }
    }

    /**
     * The users whose id falls on {@code shard} of {@code shardCount}, and their payments
     * (sharded by user_id, so a user's payments live with the user). The split is computed by
     * PostgreSQL's own PARTITION BY HASH on bigint, which is what the {@code pg_bigint_hash}
     * sharding function of PgCat (and PgFleet) reproduces: a row is where the router looks.
     */
    static void seedShard(PgServer server, int shard, int shardCount) throws SQLException {
        try (Connection c = server.connect(DATABASE, USER, PASSWORD); Statement st = c.createStatement()) {
            st.execute(TABLES);
            st.execute("CREATE TEMP TABLE shard_keys (id bigint) PARTITION BY HASH (id)");
            for (int i = 0; i < shardCount; i++) {
                st.execute("CREATE TEMP TABLE shard_keys_" + i + " PARTITION OF shard_keys"
                        + " FOR VALUES WITH (MODULUS " + shardCount + ", REMAINDER " + i + ")");
            }
            st.execute("INSERT INTO shard_keys SELECT generate_series(1, " + USERS + ")");
            String mine = "shard_keys_" + shard;
            st.execute("INSERT INTO users SELECT id, 'user' || id || '@example.com' FROM " + mine);
            st.execute("INSERT INTO payments SELECT * FROM (" + PAYMENT_ROWS + ") p(id, user_id, amount)"
                    + " WHERE user_id IN (SELECT id FROM " + mine + ")");
        }
    }
}
