package dev.pgfleet.proxy;

import dev.pgfleet.shared.config.General;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.UserConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

/**
 * Two-phase commit's process-wide part: the {@link TwoPhaseLog}, the names of this process's
 * transactions, which pools may use it, and the recovery of prepared transactions a crash (or a
 * lost connection) left on the shards.
 *
 * <p>A transaction is named {@code pgfleet_<instance>_<startMillis>_<seq>} (instance: the
 * configured {@code instance_id}, else a CRC32 of the host name and listening port; startMillis:
 * when this process started; seq: a counter), its prepared transaction on shard n
 * {@code <name>_<n>}: recovery recognises its own instance's transactions by the prefix and leaves
 * every other program's alone.
 *
 * <p>Recovery runs at start and every {@value #PERIOD_MILLIS} ms (a shard that was down is resolved
 * when it is back). For every pool with {@code two_phase_commit}, on every shard's primary (with the
 * server login of each of the pool's users: a prepared transaction is finished by its owner) it reads {@code max_prepared_transactions} (0: an ERROR naming
 * the shard and server, and the pool's writes across shards are refused with 0A000 until it is
 * raised, since PREPARE TRANSACTION would fail on that shard) and the instance's prepared
 * transactions ({@code pg_prepared_xacts}, this database only). Those whose transaction has a
 * COMMIT record are committed; the others roll back, unless still running here (a transaction of
 * this process between its PREPAREs and its decision) or, when another start of the instance made
 * them, prepared less than {@value #MIN_AGE_SECONDS} s ago and later than this process started
 * (another process of the same instance may be deciding it). A pass in which every shard answered
 * writes DONE for the COMMIT records none of the shards still holds.
 */
final class TwoPhaseRecovery {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(TwoPhaseRecovery.class);

    static final long PERIOD_MILLIS = 10_000;
    static final int MIN_AGE_SECONDS = 5;

    /** Test-only fail point: how long to pause (on a timer) in the commit of every two-phase transaction. */
    static final String PAUSE_MILLIS_PROPERTY = "pgfleet.test.twoPhasePauseMillis";
    /** Test-only fail point: where the pause is, {@code after-commit-record} (the default) or {@code before-commit-record}. */
    static final String PAUSE_AT_PROPERTY = "pgfleet.test.twoPhasePauseAt";

    private final Vertx vertx;
    private final ProxyRuntime runtime;
    private final TwoPhaseLog decisions;
    private final String instance;
    private final long startMillis;
    private final String ownPrefix;
    private final AtomicLong seq = new AtomicLong();
    /** Transactions of this process between their first PREPARE and their end: recovery leaves them alone. */
    private final Set<String> live = ConcurrentHashMap.newKeySet();
    /** Per pool, its shards without prepared transactions, with why: the pool is refused two-phase commit. */
    private final Map<String, Map<Integer, String>> refused = new ConcurrentHashMap<>();
    private final AtomicBoolean passRunning = new AtomicBoolean();
    private final long pauseMillis;
    private final boolean pauseBeforeRecord;
    private volatile long timer = -1;
    private volatile boolean stopped;

    /**
     * @param instance    this instance's stable name (see {@link #instanceOf}); no underscore
     * @param startMillis when this process started (epoch millis): names its transactions apart from an earlier start's
     */
    TwoPhaseRecovery(Vertx vertx, ProxyRuntime runtime, TwoPhaseLog decisions, String instance, long startMillis) {
        if (instance.indexOf('_') >= 0 || instance.indexOf('\'') >= 0) {
            throw new IllegalArgumentException("instance name must not contain '_' or a quote: " + instance);
        }
        this.vertx = vertx;
        this.runtime = runtime;
        this.decisions = decisions;
        this.instance = instance;
        this.startMillis = startMillis;
        this.ownPrefix = "pgfleet_" + instance + "_" + startMillis + "_";
        this.pauseMillis = Long.getLong(PAUSE_MILLIS_PROPERTY, 0L);
        this.pauseBeforeRecord = "before-commit-record".equals(System.getProperty(PAUSE_AT_PROPERTY));
        if (pauseMillis > 0) {
            log.warn("test fail point {}={} ({}): every two-phase commit pauses", PAUSE_MILLIS_PROPERTY, pauseMillis,
                pauseBeforeRecord ? "before its COMMIT record" : "after its COMMIT record");
        }
    }

    /**
     * The instance's name in transaction names: {@code instance_id} when configured, else a CRC32
     * (8 hex digits) of the host name and the listening port, the same at every start on this host.
     * Blocking (the host name): call it off the event loop.
     */
    static String instanceOf(General general) {
        if (general.instanceId() >= 0) {
            return Integer.toString(general.instanceId());
        }
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = System.getenv().getOrDefault("HOSTNAME", "localhost");
        }
        CRC32 crc = new CRC32();
        crc.update((host + ":" + general.host() + ":" + general.port()).getBytes(StandardCharsets.UTF_8));
        return String.format("%08x", crc.getValue());
    }

    TwoPhaseLog decisions() {
        return decisions;
    }

    String instance() {
        return instance;
    }

    /** Whether a write across the shards of {@code pool} commits in two phases. */
    boolean enabled(String pool) {
        return runtime.config().pool(pool).map(PoolConfig::twoPhaseCommit).orElse(false);
    }

    /** Why two-phase commit is refused for {@code pool} (a shard without prepared transactions), or null. */
    String refusal(String pool) {
        Map<Integer, String> shards = refused.get(pool);
        if (shards == null) {
            return null;
        }
        for (String why : shards.values()) {
            return why;
        }
        return null;
    }

    /** A new transaction's name, registered as live until {@link #end}. */
    String begin() {
        String id = ownPrefix + seq.incrementAndGet();
        live.add(id);
        return id;
    }

    /** The transaction is over here (committed, rolled back, or left to recovery). */
    void end(String id) {
        live.remove(id);
    }

    long pauseMillis() {
        return pauseMillis;
    }

    boolean pauseBeforeRecord() {
        return pauseBeforeRecord;
    }

    /** The first pass (its future completes when it has ended, whatever it found), then one every period. */
    Future<Void> start() {
        return pass().onComplete(ar -> {
            if (!stopped) {
                timer = vertx.setPeriodic(PERIOD_MILLIS, t -> pass());
            }
        });
    }

    /** Stops the passes and closes the log (blocking: off the event loop). */
    void stop() {
        stopped = true;
        long t = timer;
        if (t >= 0) {
            vertx.cancelTimer(t);
        }
        decisions.close();
    }

    /** One shard's primary to look at. */
    private record Target(String pool, int shard, ServerPool server) {
    }

    /** What a pass found on one shard. */
    private record Found(boolean answered, Set<String> ids) {
    }

    /** One recovery pass over every pool with two-phase commit (skipped while one runs). */
    Future<Void> pass() {
        if (stopped || !passRunning.compareAndSet(false, true)) {
            return Future.succeededFuture();
        }
        List<ProxyVerticle> loops = runtime.verticles();
        if (loops.isEmpty()) {
            passRunning.set(false);
            return Future.succeededFuture();
        }
        ProxyVerticle loop = loops.get(0);
        Context ctx = loop.loopContext();
        // Read before the shards: a COMMIT record written later belongs to a live transaction.
        Set<String> committedBefore = decisions.committed();
        Promise<Void> done = Promise.promise();
        ctx.runOnContext(v -> {
            List<Target> targets;
            try {
                targets = targets();
            } catch (RuntimeException e) {
                log.warn("two-phase recovery pass failed", e);
                passRunning.set(false);
                done.complete();
                return;
            }
            List<Future<Found>> each = new ArrayList<>();
            for (Target t : targets) {
                each.add(shard(ctx, loop, t));
            }
            Future.join(each).onComplete(ar -> {
                boolean all = true;
                Set<String> seen = new HashSet<>();
                for (Future<Found> f : each) {
                    Found found = f.succeeded() ? f.result() : new Found(false, Set.of());
                    all &= found.answered;
                    seen.addAll(found.ids);
                }
                if (all) {
                    for (String id : committedBefore) {
                        if (!seen.contains(id) && !live.contains(id)) {
                            decisions.done(ctx, id);   // every shard has committed it
                        }
                    }
                }
                passRunning.set(false);
                done.complete();
            });
        });
        return done.future();
    }

    /** Every shard primary of every pool with two-phase commit, once per server login. */
    private List<Target> targets() {
        List<Target> targets = new ArrayList<>();
        for (PoolConfig pc : runtime.config().pools().values()) {
            if (!pc.twoPhaseCommit() || pc.shards().size() < 2) {
                continue;
            }
            for (int s = 0; s < pc.shards().size(); s++) {
                // A prepared transaction is finished by its owner (or a superuser): one look per server login.
                Set<String> logins = new HashSet<>();
                for (UserConfig u : pc.users()) {
                    PoolRouting r = runtime.routing(pc.name(), u.username(), s);
                    if (r != null && r.view != null && r.view.primary != null
                        && logins.add(r.view.primary.target().user())) {
                        targets.add(new Target(pc.name(), s, r.view.primary));
                    }
                }
            }
        }
        return targets;
    }

    private Future<Found> shard(Context ctx, ProxyVerticle loop, Target t) {
        String where = "pool " + t.pool + " shard " + t.shard + " (server " + t.server.target().host() + ":"
            + t.server.target().port() + ")";
        String sql = "SELECT current_setting('max_prepared_transactions'), g.gid, g.old FROM (SELECT 1) one LEFT JOIN ("
            + "SELECT gid, prepared < now() - interval '" + MIN_AGE_SECONDS + " seconds' AS old FROM pg_prepared_xacts "
            + "WHERE gid LIKE 'pgfleet\\_" + instance + "\\_%' AND database = current_database() AND owner = current_user) g ON true";
        return t.server.acquire(ctx, loop.connector()::open).compose(conn -> conn.runInternal(sql).compose(rows -> {
            int max = Integer.parseInt(rows.get(0)[0]);
            Map<Integer, String> shards = refused.computeIfAbsent(t.pool, k -> new ConcurrentHashMap<>());
            if (max <= 0) {
                String why = "max_prepared_transactions is 0 on shard " + t.shard + " (server " + t.server.target().host()
                    + ":" + t.server.target().port() + ")";
                if (shards.put(t.shard, why) == null) {
                    log.error("{}: max_prepared_transactions is 0, so PREPARE TRANSACTION fails there: two_phase_commit is "
                        + "refused for pool {} (its writes across shards get 0A000) until the server allows prepared transactions",
                        where, t.pool);
                }
            } else if (shards.remove(t.shard) != null) {
                log.info("{}: max_prepared_transactions is {}: two-phase commit allowed again for pool {}", where, max, t.pool);
            }
            Set<String> ids = new HashSet<>();
            Future<Void> chain = Future.succeededFuture();
            for (String[] row : rows) {
                String gid = row[1];
                if (gid == null) {
                    continue;
                }
                int cut = gid.lastIndexOf('_');
                String id = gid.substring(0, cut);
                String action = action(id, "t".equals(row[2]));
                if (action == null) {
                    ids.add(id);
                    continue;
                }
                chain = chain.compose(x -> conn.runInternal(action + " '" + gid + "'").transform(r -> {
                    if (r.succeeded()) {
                        log.info("two-phase recovery: {} '{}' on {}", action, gid, where);
                    } else {
                        ids.add(id);   // still there
                        log.warn("two-phase recovery: {} '{}' on {} failed: {}", action, gid, where, r.cause().getMessage());
                    }
                    return Future.<Void>succeededFuture();
                }));
            }
            return chain.transform(r -> {
                conn.release();
                return Future.succeededFuture(new Found(true, ids));
            });
        }, err -> {
            conn.release();
            return Future.failedFuture(err);
        })).recover(err -> {
            log.warn("two-phase recovery: {} not checked: {}", where, err.getMessage());
            return Future.succeededFuture(new Found(false, Set.of()));
        });
    }

    /** COMMIT PREPARED, ROLLBACK PREPARED, or null (leave it) for a prepared transaction of this instance. */
    private String action(String id, boolean old) {
        if (live.contains(id)) {
            return null;   // this process is deciding it
        }
        if (decisions.isCommitted(id)) {
            return "COMMIT PREPARED";
        }
        if (id.startsWith(ownPrefix)) {
            return "ROLLBACK PREPARED";   // ours, over, never decided (a shard's connection was lost)
        }
        return old || startedBefore(id) ? "ROLLBACK PREPARED" : null;
    }

    /** Whether {@code id} was named by an earlier start of this instance. */
    private boolean startedBefore(String id) {
        String[] parts = id.split("_");
        try {
            return parts.length == 4 && Long.parseLong(parts[2]) < startMillis;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
