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
 *
 * <p>A failed probe is tried again up to {@code healthcheck_max_retries} times, each after
 * {@code healthcheck_retry_delay}, on a fresh connection; only the last failure counts. A failure
 * seen more than {@link #LATE_TOLERANCE_MILLIS} (or a quarter of the timeout) after the timeout was
 * due means PgFleet's own event loop was late (blocked, or starved of CPU): the server may well
 * have answered in time, so that attempt is {@linkplain ProbeResult#inconclusive() inconclusive}
 * and bans nothing.
 */
final class ServerProbe {

    static final String QUERY = "SELECT pg_is_in_recovery(),"
            + " CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END,"
            + " pg_last_wal_receive_lsn()::text,"
            + " pg_last_wal_replay_lsn()::text,"
            + " (EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::bigint";

    /** Timer lateness that is PgFleet's, not the server's: a loaded 2-core machine stays well under it. */
    static final long LATE_TOLERANCE_MILLIS = 200;

    private final ProbeTarget target;
    private final Clock clock;
    private Pool pool;
    private boolean closed;

    ServerProbe(ProbeTarget target, Clock clock) {
        this.target = target;
        this.clock = clock;
    }

    /** One attempt, no retry. Never fails: a failed probe is a {@link ProbeResult} with {@code reachable == false}. */
    Future<ProbeResult> probe(Vertx vertx, Duration timeout) {
        return probe(vertx, timeout, 0, Duration.ZERO);
    }

    /**
     * Up to {@code 1 + maxRetries} attempts, {@code retryDelay} apart, until one answers. Never
     * fails. At most {@code (1 + maxRetries) * timeout + maxRetries * retryDelay}.
     */
    Future<ProbeResult> probe(Vertx vertx, Duration timeout, int maxRetries, Duration retryDelay) {
        Promise<ProbeResult> done = Promise.promise();
        attempt(vertx, timeout, maxRetries, retryDelay, done);
        return done.future();
    }

    private void attempt(Vertx vertx, Duration timeout, int retriesLeft, Duration retryDelay,
                         Promise<ProbeResult> done) {
        once(vertx, timeout).onComplete(ar -> {
            ProbeResult r = ar.result();
            if (r.reachable() || retriesLeft <= 0 || closed) {
                done.complete(r);
            } else {
                vertx.setTimer(Math.max(1, retryDelay.toMillis()), id -> {
                    if (closed) {
                        done.complete(r);
                    } else {
                        attempt(vertx, timeout, retriesLeft - 1, retryDelay, done);
                    }
                });
            }
        });
    }

    private Future<ProbeResult> once(Vertx vertx, Duration timeout) {
        Promise<ProbeResult> done = Promise.promise();
        long started = System.nanoTime();
        long timeoutMillis = Math.max(1, timeout.toMillis());
        Pool p = pool(vertx, timeout);
        long timer = vertx.setTimer(timeoutMillis, id -> {
            if (done.tryComplete(failure(started, timeoutMillis,
                    "no answer within healthcheck_timeout (" + timeoutMillis + " ms)"))) {
                closePool();
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
            } else if (done.tryComplete(failure(started, timeoutMillis, describe(ar.cause())))) {
                closePool();
            }
        });
        return done.future();
    }

    /**
     * A failure seen at {@code now}: inconclusive when it is seen well after the timeout was due,
     * since the timeout timer (or the client's connect timeout, due at the same time) should have
     * fired then; a later sighting is PgFleet's delay, not the server's.
     */
    private ProbeResult failure(long startedNanos, long timeoutMillis, String error) {
        long now = System.nanoTime();
        long lateMillis = (now - startedNanos) / 1_000_000 - timeoutMillis;
        if (lateMillis > Math.max(LATE_TOLERANCE_MILLIS, timeoutMillis / 4)) {
            return ProbeResult.late(error + " (seen " + lateMillis + " ms after the timeout was due: PgFleet was late,"
                    + " not counted)", now, clock.instant());
        }
        return ProbeResult.failed(error, now, clock.instant());
    }

    /** For good (the target left the configuration, or the verticle stops): no retry after this. */
    Future<Void> close() {
        closed = true;
        return closePool();
    }

    /** Closes the connection; the next probe opens a new one. */
    private Future<Void> closePool() {
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
