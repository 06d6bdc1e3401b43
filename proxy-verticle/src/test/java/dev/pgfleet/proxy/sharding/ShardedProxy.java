package dev.pgfleet.proxy.sharding;

import dev.pgfleet.health.LocalBanRegistry;
import dev.pgfleet.proxy.ProxyRuntime;
import dev.pgfleet.router.RouterVerticle;
import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.Shards;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.pgclient.PgConnectOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;

/**
 * PgFleet with one sharded pool (named {@value #POOL}) in front of testkit {@link Shards}, configured by
 * TOML text in the sharding contract's keys, plus the direct view of each shard and PostgreSQL's own
 * answer to "which shard holds key k" ({@code satisfies_hash_partition} on a hash-partitioned table).
 */
final class ShardedProxy implements AutoCloseable {

    /** The client-facing database of the sharded pool; every shard's database is {@link TestUsers#DATABASE}. */
    static final String POOL = "sharded";

    /** The sharded_tables of most tests: users by id and payments by user_id, both bigint hash. */
    static final String USERS_AND_PAYMENTS = """
        [[pools.sharded.sharded_tables]]
        name = "users"
        column = "id"
        type = "bigint"

        [[pools.sharded.sharded_tables]]
        name = "payments"
        column = "user_id"
        type = "bigint"
        """;

    final Shards shards;
    final Vertx vertx;
    final ProxyRuntime runtime;
    final int port;

    private ShardedProxy(Shards shards, Vertx vertx, ProxyRuntime runtime, int port) {
        this.shards = shards;
        this.vertx = vertx;
        this.runtime = runtime;
        this.port = port;
    }

    /**
     * @param poolMode  "transaction" or "session"
     * @param poolLines extra [pools.sharded] lines (default_shard, regexes ...), written before the tables
     * @param tables    the [[pools.sharded.sharded_tables]] blocks
     * @param poolSize  pool_size per shard
     */
    static ShardedProxy start(Shards shards, String poolMode, String poolLines, String tables, int poolSize) {
        int port = freePort();
        StringBuilder toml = new StringBuilder("""
            [general]
            host = "127.0.0.1"
            port = %d
            admin_username = "admin"
            admin_password = "admin"

            [pools.%s]
            pool_mode = "%s"
            query_parser_enabled = true
            sharding_function = "pg_bigint_hash"
            %s

            %s

            [pools.%s.users.0]
            username = "%s"
            password = "%s"
            pool_size = %d
            """.formatted(port, POOL, poolMode, poolLines, tables, POOL, TestUsers.SCRAM_USER,
            TestUsers.SCRAM_PASSWORD, poolSize));
        for (int i = 0; i < shards.size(); i++) {
            PgServer s = shards.get(i);
            toml.append("\n[pools.").append(POOL).append(".shards.").append(i).append("]\ndatabase = \"")
                .append(TestUsers.DATABASE).append("\"\nservers = [[\"").append(s.host()).append("\", ")
                .append(s.port()).append(", \"primary\"]]\n");
        }
        PgFleetConfig config = ConfigLoader.parse(toml.toString(), "sharded.toml");
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        ProxyRuntime runtime = new ProxyRuntime(config, new LocalBanRegistry());
        vertx.deployVerticle(new RouterVerticle(config)).await();
        runtime.deploy(vertx, 2).await();
        return new ShardedProxy(shards, vertx, runtime, port);
    }

    static ShardedProxy start(Shards shards) {
        return start(shards, "transaction", "", USERS_AND_PAYMENTS, 4);
    }

    /** On every shard: users, payments, and on shard 0 the partitioned table pt that answers for PostgreSQL's hash. */
    static void createSchema(Shards shards) throws SQLException {
        for (int i = 0; i < shards.size(); i++) {
            sql(shards.get(i),
                "CREATE TABLE users (id bigint PRIMARY KEY, name text)",
                "CREATE TABLE payments (id bigserial, user_id bigint, amount numeric)",
                "CREATE TABLE pt (id bigint) PARTITION BY HASH (id)",
                "GRANT ALL ON users, payments, pt TO " + TestUsers.SCRAM_USER,
                "GRANT ALL ON SEQUENCE payments_id_seq TO " + TestUsers.SCRAM_USER);
        }
    }

    /** The shard PostgreSQL's PARTITION BY HASH (MODULUS = shard count) puts bigint {@code key} in. */
    static int expectedShard(Shards shards, long key) throws SQLException {
        try (Connection c = shards.get(0).connectSuperuser(TestUsers.DATABASE); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT r FROM generate_series(0, " + (shards.size() - 1) + ") r"
                 + " WHERE satisfies_hash_partition('pt'::regclass, " + shards.size() + ", r, " + key + "::bigint)")) {
            if (!rs.next()) {
                throw new IllegalStateException("no remainder for " + key);
            }
            return rs.getInt(1);
        }
    }

    /** A key of each shard, the smallest positive one: index i is a key on shard i. */
    static long[] keyPerShard(Shards shards) throws SQLException {
        long[] keys = new long[shards.size()];
        java.util.Arrays.fill(keys, -1);
        int found = 0;
        for (long k = 1; found < keys.length; k++) {
            int s = expectedShard(shards, k);
            if (keys[s] < 0) {
                keys[s] = k;
                found++;
            }
        }
        return keys;
    }

    /** A key on {@code shard} other than {@code not}. */
    static long anotherKeyOn(Shards shards, int shard, long not) throws SQLException {
        for (long k = not + 1; ; k++) {
            if (expectedShard(shards, k) == shard) {
                return k;
            }
        }
    }

    Connection connect(Properties extra) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestUsers.SCRAM_USER);
        p.setProperty("password", TestUsers.SCRAM_PASSWORD);
        p.setProperty("connectTimeout", "20");
        p.setProperty("socketTimeout", "30");
        p.putAll(extra);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + POOL
            + "?sslmode=disable&gssEncMode=disable", p);
    }

    Connection connect() throws SQLException {
        return connect(new Properties());
    }

    /** pgjdbc with one property set, e.g. prepareThreshold=-1 or preferQueryMode=simple. */
    Connection connect(String key, String value) throws SQLException {
        Properties p = new Properties();
        p.setProperty(key, value);
        return connect(p);
    }

    PgConnectOptions pgOptions() {
        return new PgConnectOptions().setHost("127.0.0.1").setPort(port).setDatabase(POOL)
            .setUser(TestUsers.SCRAM_USER).setPassword(TestUsers.SCRAM_PASSWORD).setUseLayer7Proxy(true);
    }

    /** Rows of {@code where} (e.g. "users WHERE id = 7") on shard i, asked of the shard directly. */
    long countOn(int shard, String where) throws SQLException {
        try (Connection c = shards.get(shard).connectSuperuser(TestUsers.DATABASE); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    int shardPort(int shard) {
        return shards.get(shard).port();
    }

    static void sql(PgServer server, String... statements) throws SQLException {
        try (Connection c = server.connectSuperuser(TestUsers.DATABASE); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    static int serverPort(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        runtime.shutdown(vertx, Duration.ofSeconds(2)).await();
        vertx.close().await();
    }
}
