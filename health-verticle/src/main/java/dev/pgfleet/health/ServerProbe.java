package dev.pgfleet.health;

import dev.pgfleet.shared.config.ServerTlsMode;
import dev.pgfleet.shared.health.ServerHealth;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Probes one {@link ProbeTarget} with vertx-pg-client over one connection kept open between probes
 * (a pool of one): a login per probe would cost the server a SCRAM exchange and a backend fork
 * every second. Any failure closes the pool, so the next probe starts from a fresh connection.
 *
 * <p>One query answers everything: reachability (it ran), {@code pg_is_in_recovery()}, and the
 * WAL positions lag is computed from. {@code pg_current_wal_lsn()} raises an error during
 * recovery, hence the CASE. {@code clock_timestamp()} rather than {@code now()}: the latter is the
 * transaction start, the same here but not worth relying on.
 *
 * <p>{@code healthcheck_timeout} bounds the connect (TCP connect timeout and the pool's wait for
 * its connection) and the query: a timer fails the probe and closes the pool, which also ends a
 * query stuck on a server that stopped answering.
 */
final class ServerProbe {

    static final String QUERY = "SELECT pg_is_in_recovery(),"
            + " CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END,"
            + " pg_last_wal_receive_lsn()::text,"
            + " pg_last_wal_replay_lsn()::text,"
            + " (EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::bigint";

    private final ProbeTarget target;
    private final Clock clock;
    private Pool pool;

    ServerProbe(ProbeTarget target, Clock clock) {
        this.target = target;
        this.clock = clock;
    }

    /** Never fails: a failed probe is a {@link ProbeResult} with {@code reachable == false}. */
    Future<ProbeResult> probe(Vertx vertx, Duration timeout) {
        Promise<ProbeResult> done = Promise.promise();
        Pool p = pool(vertx, timeout);
        long timer = vertx.setTimer(Math.max(1, timeout.toMillis()), id -> {
            if (done.tryComplete(failed("no answer within healthcheck_timeout (" + timeout.toMillis() + " ms)"))) {
                close();
            }
        });
        p.query(QUERY).execute().onComplete(ar -> {
            vertx.cancelTimer(timer);
            if (ar.succeeded()) {
                ProbeResult result;
                try {
                    result = parse(ar.result().iterator().next());
                } catch (RuntimeException e) {
                    result = failed("unexpected answer: " + describe(e));
                }
                done.tryComplete(result);
            } else if (done.tryComplete(failed(describe(ar.cause())))) {
                close();
            }
        });
        return done.future();
    }

    /** Closes the connection; the next probe opens a new one. */
    Future<Void> close() {
        Pool p = pool;
        pool = null;
        return p == null ? Future.succeededFuture() : p.close();
    }

    private ProbeResult parse(Row row) {
        boolean inRecovery = Boolean.TRUE.equals(row.getBoolean(0));
        Long replayAge = row.getLong(4);
        return new ProbeResult(true, inRecovery, Lsn.parse(row.getString(1)), Lsn.parse(row.getString(2)),
                Lsn.parse(row.getString(3)), replayAge == null ? ServerHealth.UNKNOWN : Math.max(0, replayAge),
                System.nanoTime(), clock.instant(), Optional.empty());
    }

    private ProbeResult failed(String error) {
        return ProbeResult.failed(error, System.nanoTime(), clock.instant());
    }

    /** The server's message (with its SQLSTATE when it sent one); never the password, which it never echoes. */
    private static String describe(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    private Pool pool(Vertx vertx, Duration timeout) {
        if (pool == null) {
            int millis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis()));
            PgConnectOptions connect = new PgConnectOptions()
                    .setHost(target.server().host())
                    .setPort(target.server().port())
                    .setDatabase(target.database())
                    .setUser(target.login().user())
                    .setPassword(target.login().password())
                    .setCachePreparedStatements(false);
            connect.addProperty("application_name", "pgfleet-health");
            tls(connect, target.tlsMode());
            pool = PgBuilder.pool()
                    .with(new PoolOptions().setMaxSize(1).setMaxWaitQueueSize(1)
                            .setConnectionTimeout(millis).setConnectionTimeoutUnit(TimeUnit.MILLISECONDS))
                    .with(new NetClientOptions().setConnectTimeout(millis))
                    .connectingTo(connect)
                    .using(vertx)
                    .build();
        }
        return pool;
    }

    /**
     * libpq's sslmode, as the proxy reads {@code server_tls_mode}: prefer and require encrypt
     * without checking the certificate; verify-full checks it against the JVM trust store and
     * the host name.
     */
    private static void tls(PgConnectOptions connect, ServerTlsMode mode) {
        switch (mode) {
            case DISABLE -> connect.setSslMode(SslMode.DISABLE);
            case PREFER -> connect.setSslMode(SslMode.PREFER).setSslOptions(new ClientSSLOptions().setTrustAll(true));
            case REQUIRE -> connect.setSslMode(SslMode.REQUIRE).setSslOptions(new ClientSSLOptions().setTrustAll(true));
            case VERIFY_FULL -> connect.setSslMode(SslMode.VERIFY_FULL)
                    .setSslOptions(new ClientSSLOptions().setHostnameVerificationAlgorithm("HTTPS"));
        }
    }
}
