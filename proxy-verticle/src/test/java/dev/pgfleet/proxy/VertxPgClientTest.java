package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** vertx-pg-client (in its layer-7-proxy mode) through PgFleet in session mode. */
class VertxPgClientTest {

    static ProxyFixture proxy;
    static Vertx clientVertx;

    @BeforeAll
    static void start() {
        proxy = ProxyFixture.start(10);
        clientVertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() {
        clientVertx.close().await();
        proxy.close();
    }

    @BeforeEach
    void reset() {
        TestPostgres.reset();
    }

    private Pool pool(String user, String password) {
        PgConnectOptions options = proxy.pgOptions(user, password);
        return PgBuilder.pool().with(new PoolOptions().setMaxSize(4)).connectingTo(options).using(clientVertx).build();
    }

    @Test
    void scramAndMd5SimpleAndPreparedQueries() {
        for (String[] cred : new String[][] {{TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD},
            {TestUsers.MD5_USER, TestUsers.MD5_PASSWORD}}) {
            Pool pool = pool(cred[0], cred[1]);
            try {
                RowSet<Row> simple = pool.query("SELECT current_user, 1 + 1").execute().await();
                assertEquals(cred[0], simple.iterator().next().getString(0));
                assertEquals(2, simple.iterator().next().getInteger(1));
                for (int i = 0; i < 20; i++) {
                    RowSet<Row> prepared = pool.preparedQuery("SELECT $1::int + 1, $2::text").execute(Tuple.of(i, "v" + i)).await();
                    Row row = prepared.iterator().next();
                    assertEquals(i + 1, row.getInteger(0));
                    assertEquals("v" + i, row.getString(1));
                }
            } finally {
                pool.close().await();
            }
        }
    }

    @Test
    void transactionRollback() {
        Pool pool = pool(TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD);
        try {
            pool.query("CREATE TABLE vx (id int primary key)").execute().await();
            SqlConnection conn = pool.getConnection().await();
            try {
                io.vertx.sqlclient.Transaction tx = conn.begin().await();
                conn.preparedQuery("INSERT INTO vx VALUES ($1)").execute(Tuple.of(1)).await();
                tx.rollback().await();
                io.vertx.sqlclient.Transaction tx2 = conn.begin().await();
                conn.preparedQuery("INSERT INTO vx VALUES ($1)").execute(Tuple.of(2)).await();
                tx2.commit().await();
                PgException dup = assertThrows(PgException.class,
                    () -> conn.preparedQuery("INSERT INTO vx VALUES ($1)").execute(Tuple.of(2)).await());
                assertEquals("23505", dup.getSqlState());
            } finally {
                conn.close().await();
            }
            RowSet<Row> rows = pool.query("SELECT array_agg(id)::text FROM vx").execute().await();
            assertEquals("{2}", rows.iterator().next().getString(0));
        } finally {
            pool.close().await();
        }
    }

    @Test
    void wrongPasswordFails28P01() {
        Pool pool = pool(TestUsers.SCRAM_USER, "wrong");
        try {
            PgException e = assertThrows(PgException.class, () -> pool.query("SELECT 1").execute().await());
            assertEquals("28P01", e.getSqlState());
        } finally {
            pool.close().await();
        }
    }
}
