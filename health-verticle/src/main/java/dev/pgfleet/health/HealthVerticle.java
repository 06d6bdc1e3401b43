package dev.pgfleet.health;

import dev.pgfleet.shared.config.ConfigBus;
import dev.pgfleet.shared.config.ConfigEpoch;
import dev.pgfleet.shared.admin.AdminBus;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.ServerConfig;
import dev.pgfleet.shared.config.ShardConfig;
import dev.pgfleet.shared.health.BanRegistry;
import dev.pgfleet.shared.health.HealthBus;
import dev.pgfleet.shared.health.HealthSnapshot;
import dev.pgfleet.shared.health.HealthSnapshotCodec;
import dev.pgfleet.shared.health.ServerHealth;
import dev.pgfleet.shared.health.ServerKey;
import dev.pgfleet.shared.health.ShardHealth;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Probes every server of every shard of every pool, decides bans, lag and the primary of each
 * shard, and publishes an immutable {@link HealthSnapshot} on the event bus at
 * {@value #SNAPSHOT_ADDRESS} (codec {@value HealthSnapshotCodec#NAME}); a request to
 * {@value HealthBus#CURRENT} is answered with the newest one, and {@link #current()} returns it
 * in-process. Deploy one instance per process, before the proxy: {@link #start()} completes once
 * the first round is published. The {@link BanRegistry} is the process's one registry, passed in
 * by whoever deploys this verticle and the proxy, so bans placed by either reach both.
 *
 * <h2>A probe round</h2>
 * Every {@code healthcheck_interval}, each distinct (server, database, login) of the
 * configuration is probed at once (see {@link ServerProbe}; logins from {@link ProbeCredentials}:
 * {@code healthcheck_user} if set, else the pool's first user, as PgCat; the database
 * {@code healthcheck_database} if set, else the shard's). A failed probe is retried
 * {@code healthcheck_max_retries} times, {@code healthcheck_retry_delay} apart, before it counts.
 * The next round starts an interval after this one started, or at once if it took longer (at most
 * {@code (1 + healthcheck_max_retries) * healthcheck_timeout + healthcheck_max_retries *
 * healthcheck_retry_delay}): rounds never overlap.
 *
 * <h2>Decisions</h2>
 * <ul>
 *   <li>Primary: the reachable server out of recovery, role {@code primary} before role
 *       {@code auto}; after a promotion of an {@code auto} server the next round names it
 *       (see {@link ShardEvaluator#primary}).</li>
 *   <li>A failed probe (connect refused or timed out, login refused, query error or timeout)
 *       bans the server for {@code ban_time}; a server still failing when its ban ends is banned
 *       again by the next round. The primary is never banned: a failed primary is reported
 *       with {@link ShardHealth#primaryReachable()} false, since writes have nowhere else to go
 *       and the proxy should fail them with a clear error rather than "no server".</li>
 *   <li>Lag: bytes are the primary's {@code pg_current_wal_lsn()} minus the standby's
 *       {@code pg_last_wal_replay_lsn()}; time comes from the primary's WAL history
 *       ({@link LagHistory}, which explains why not the replay timestamp). A standby over
 *       {@code max_replica_lag_bytes} or {@code max_replica_lag_ms} (the pool's values) is
 *       lagging: no reads, no ban, back on the first round under both limits.</li>
 *   <li>With no usable replica, reads go to the primary ({@link ShardHealth#readTargets()}
 *       explains why not PgCat's clearing of the ban list).</li>
 * </ul>
 *
 * A ban placed or lifted by anyone (the proxy on a failed connect, an admin command) publishes a
 * new snapshot at once, re-evaluated from the last round's results.
 *
 * <p>The console's health commands ({@code BAN}, {@code UNBAN}, {@code BANS}, {@code HEALTH}) are
 * answered on {@link dev.pgfleet.shared.admin.AdminBus#HEALTH} by {@link HealthCommands}.
 */
public final class HealthVerticle extends VerticleBase {

    /** Where snapshots are published, each round and on every change of bans ({@link HealthBus#SNAPSHOTS}). */
    public static final String SNAPSHOT_ADDRESS = HealthBus.SNAPSHOTS;

    private static final Logger LOG = LoggerFactory.getLogger(HealthVerticle.class);

    /** Null: from each configuration's {@code healthcheck_user} ({@link ProbeCredentials#configured}). */
    private final ProbeCredentials credentials;
    private final Clock clock;
    private final BanRegistry bans;
    private volatile PgFleetConfig config;
    /** The newest snapshot published; written on this verticle's context, read from any thread. */
    private volatile HealthSnapshot current = HealthSnapshot.EMPTY;

    // Owned by this verticle's context.
    private boolean codecRegistered;
    private MessageConsumer<Void> currentConsumer;
    private MessageConsumer<ConfigEpoch> configConsumer;
    /** The newest epoch taken from {@link ConfigBus#APPLIED}; the constructor's configuration counts as 1. */
    private long configEpoch = 1;
    /** A configuration arrived during a round: the next round starts when this one ends. */
    private boolean reprobe;
    private MessageConsumer<JsonObject> adminConsumer;
    private final ProbeCounters probeCounters = new ProbeCounters();
    private final Map<ProbeTarget, ServerProbe> probes = new HashMap<>();
    private final Map<ServerKey, LagHistory> histories = new HashMap<>();
    private final Map<String, ServerKey> lastPrimaries = new HashMap<>();
    private Map<ProbeTarget, ProbeResult> lastResults = Map.of();
    /** The configuration {@link #lastResults} were probed with; republishing uses it, not a newer one. */
    private PgFleetConfig probedConfig;
    private long version;
    private boolean roundRunning;
    private boolean stopped;
    private long timer = -1;
    private final BanRegistry.Listener banListener = b -> {
        if (context != null) {
            context.runOnContext(v -> republish());
        }
    };

    /** Probes as the configuration says ({@code healthcheck_user}, else each pool's first user), bans in {@code bans}. */
    public HealthVerticle(PgFleetConfig config, BanRegistry bans) {
        this(config, null, bans, Clock.systemUTC());
    }

    /**
     * @param credentials the probe's login rule; null: the configuration's ({@code healthcheck_user},
     *                    else each pool's first user)
     * @param bans  the process's registry, the same instance the proxy uses
     * @param clock for {@link ServerHealth#lastChecked()} and snapshot times (lag uses nanoTime)
     */
    public HealthVerticle(PgFleetConfig config, ProbeCredentials credentials, BanRegistry bans, Clock clock) {
        this.config = Objects.requireNonNull(config, "config");
        this.credentials = credentials;
        this.bans = Objects.requireNonNull(bans, "bans");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public Future<?> start() {
        codecRegistered = HealthSnapshotCodec.register(vertx.eventBus());
        ConfigBus.register(vertx.eventBus());
        bans.addListener(banListener);
        // A reload: the next round (now) probes the new server set; a server it adds is in no
        // snapshot (so serves no reads) until it has been probed.
        configConsumer = vertx.eventBus().<ConfigEpoch>localConsumer(ConfigBus.APPLIED, m -> {
            if (m.body().epoch() > configEpoch) {
                configEpoch = m.body().epoch();
                updateConfig(m.body().config());
            }
        });
        // Local: in a fleet each instance answers for itself (its bans are the fleet's already).
        currentConsumer = vertx.eventBus().<Void>localConsumer(HealthBus.CURRENT, m -> m.reply(current));
        // The console's BAN/UNBAN/BANS/HEALTH; local, as each instance answers for itself.
        adminConsumer = vertx.eventBus().localConsumer(AdminBus.HEALTH, new HealthCommands(this));
        return Future.all(currentConsumer.completion(), adminConsumer.completion()).compose(v -> round());
    }

    @Override
    public Future<?> stop() {
        stopped = true;
        vertx.cancelTimer(timer);
        bans.removeListener(banListener);
        if (currentConsumer != null) {
            currentConsumer.unregister();
        }
        if (configConsumer != null) {
            configConsumer.unregister();
        }
        if (adminConsumer != null) {
            adminConsumer.unregister();
        }
        if (codecRegistered) {
            vertx.eventBus().unregisterDefaultCodec(HealthSnapshot.class);
        }
        List<Future<Void>> closing = new ArrayList<>();
        probes.values().forEach(p -> closing.add(p.close()));
        probes.clear();
        return Future.join(closing);
    }

    /**
     * Takes a new configuration (a reload): the next round probes its servers with its settings,
     * and starts now. Probes of servers no longer listed are closed. Safe from any thread.
     */
    public void updateConfig(PgFleetConfig newConfig) {
        config = Objects.requireNonNull(newConfig, "newConfig");
        if (context != null) {
            context.runOnContext(v -> {
                if (!stopped && !roundRunning) {
                    vertx.cancelTimer(timer);
                    round();
                } else {
                    reprobe = true;   // the running round has the old server set: the next starts at once
                }
            });
        }
    }

    /** The newest snapshot; {@link HealthSnapshot#EMPTY} before the first round. Safe from any thread. */
    public HealthSnapshot current() {
        return current;
    }

    /** The registry this verticle bans in. */
    public BanRegistry bans() {
        return bans;
    }

    /** The newest configuration given (the next round probes it). */
    PgFleetConfig configInForce() {
        return config;
    }

    /**
     * Publishes a snapshot now, from the last round's results and the bans in force, even while a
     * round runs (its results are not in yet; it publishes again when they are). For the admin
     * BAN/UNBAN, which reply once routing can see the change. On this verticle's context.
     *
     * @return the version of the newest snapshot
     */
    long publishNow() {
        if (!stopped && probedConfig != null) {
            publish(probedConfig);
        }
        return current.version();
    }

    /** The probe results counted for a server of a pool's shard, as last probed. On this verticle's context. */
    ProbeCounters.Counts probeCounts(String pool, int shard, ServerKey server) {
        PgFleetConfig c = probedConfig;
        PoolConfig p = c == null ? null : c.pools().get(pool);
        if (p == null || shard < 0 || shard >= p.shards().size()) {
            return ProbeCounters.Counts.ZERO;
        }
        ShardConfig s = p.shards().get(shard);
        return s.servers().stream().filter(sc -> ServerKey.of(sc).equals(server)).findFirst()
                .map(sc -> probeCounters.of(target(c, login(c, p), s, sc))).orElse(ProbeCounters.Counts.ZERO);
    }

    // ------------------------------------------------------------------ rounds

    private Future<Void> round() {
        roundRunning = true;
        long started = System.nanoTime();
        PgFleetConfig c = config;
        Duration timeout = c.general().healthcheckTimeout();
        int retries = c.general().healthProbe().maxRetries();
        Duration retryDelay = c.general().healthProbe().retryDelay();
        Set<ProbeTarget> targets = targets(c);
        probes.keySet().removeIf(t -> {
            if (!targets.contains(t)) {
                probes.get(t).close();
                return true;
            }
            return false;
        });
        List<ProbeTarget> order = new ArrayList<>(targets);
        List<Future<ProbeResult>> running = new ArrayList<>();
        for (ProbeTarget t : order) {
            running.add(probes.computeIfAbsent(t, x -> new ServerProbe(x, clock)).probe(vertx, timeout, retries,
                    retryDelay));
        }
        Promise<Void> done = Promise.promise();
        Future.join(running).onComplete(ar -> {
            if (stopped) {
                // Probes cut short by stop(): their failures say nothing about the servers.
                roundRunning = false;
                done.complete();
                return;
            }
            try {
                Map<ProbeTarget, ProbeResult> results = new HashMap<>();
                for (int i = 0; i < order.size(); i++) {
                    results.put(order.get(i), running.get(i).result());
                }
                afterProbes(c, results);
            } catch (RuntimeException e) {
                LOG.error("health round failed", e);
            } finally {
                roundRunning = false;
                scheduleNext(c, started);
                done.complete();
            }
        });
        return done.future();
    }

    private void scheduleNext(PgFleetConfig c, long startedNanos) {
        if (stopped) {
            return;
        }
        long elapsed = (System.nanoTime() - startedNanos) / 1_000_000;
        long delay = reprobe ? 1 : Math.max(1, c.general().healthcheckInterval().toMillis() - elapsed);
        reprobe = false;
        timer = vertx.setTimer(delay, id -> round());
    }

    private void afterProbes(PgFleetConfig c, Map<ProbeTarget, ProbeResult> probed) {
        // An inconclusive probe (PgFleet was late) says nothing new: the server keeps its last
        // result, and is never banned for it.
        probeCounters.record(probed);
        Map<ProbeTarget, ProbeResult> results = new HashMap<>(probed);
        results.replaceAll((t, r) -> {
            if (!r.inconclusive()) {
                return r;
            }
            LOG.info("{}: health check not counted: {}", t, r.error().orElse("?"));
            ProbeResult last = lastResults.get(t);
            return last != null ? last : r;
        });
        lastResults = results;
        probedConfig = c;
        bans.expire();
        // Primary WAL histories first: lag of every shard is measured against them.
        results.forEach((t, r) -> {
            if (r.reachable() && !r.inRecovery()) {
                histories.computeIfAbsent(t.server(), k -> new LagHistory()).record(r.currentLsn(), r.atNanos());
            }
        });
        // Bans for failed probes, once per round, never for a shard's primary.
        Set<ServerKey> primaries = new LinkedHashSet<>();
        forEachShard(c, (pool, shard, byServer) -> {
            Optional<ServerKey> primary = ShardEvaluator.primary(shard, byServer::get,
                    Optional.ofNullable(lastPrimaries.get(shardId(pool, shard))));
            primary.ifPresent(p -> {
                primaries.add(p);
                ServerKey before = lastPrimaries.put(shardId(pool, shard), p);
                if (before != null && !before.equals(p)) {
                    LOG.warn("pool {} shard {}: the primary is now {} (was {})", pool.name(), shard.index(), p, before);
                }
            });
        });
        Duration banTime = c.general().banTime();
        results.forEach((t, r) -> {
            if (!r.reachable() && !r.inconclusive() && !primaries.contains(t.server())) {
                if (!bans.isBanned(t.server())) {
                    LOG.warn("{}: health check failed, banned for {} s: {}", t.server(), banTime.toSeconds(),
                            r.error().orElse("?"));
                }
                bans.ban(t.server(), banTime, "health check failed: " + r.error().orElse("?"));
            }
        });
        publish(c);
    }

    /** After a ban change between rounds: same probe results, fresh bans. */
    private void republish() {
        if (!stopped && !roundRunning && probedConfig != null) {
            publish(probedConfig);
        }
    }

    private void publish(PgFleetConfig c) {
        Map<String, List<ShardHealth>> pools = new LinkedHashMap<>();
        ProbeResult notProbed = ProbeResult.failed("not probed yet", System.nanoTime(), clock.instant());
        forEachShard(c, (pool, shard, byServer) -> {
            Optional<ServerKey> primary = Optional.ofNullable(lastPrimaries.get(shardId(pool, shard)))
                    .filter(p -> shard.servers().stream().anyMatch(s -> ServerKey.of(s).equals(p)));
            LagHistory history = primary.map(histories::get).orElse(null);
            if (history == null) {
                history = new LagHistory();
            }
            pools.computeIfAbsent(pool.name(), k -> new ArrayList<>()).add(ShardEvaluator.evaluate(pool.name(), shard,
                    pool.maxReplicaLagBytes(), pool.maxReplicaLag(), byServer::get, primary, history, bans,
                    notProbed));
        });
        HealthSnapshot snapshot = new HealthSnapshot(++version, clock.instant(), pools, bans.bans());
        logChanges(current, snapshot);
        current = snapshot;
        vertx.eventBus().publish(SNAPSHOT_ADDRESS, snapshot);
    }

    private static void logChanges(HealthSnapshot before, HealthSnapshot after) {
        after.pools().forEach((pool, shards) -> {
            for (ShardHealth s : shards) {
                Optional<ShardHealth> old = before.shard(pool, s.index());
                List<ServerKey> oldLagging = old.map(ShardHealth::lagging).orElse(List.of());
                for (ServerKey k : s.lagging()) {
                    if (!oldLagging.contains(k)) {
                        ServerHealth h = s.health(k).orElseThrow();
                        LOG.warn("pool {} shard {}: {} is lagging ({} bytes, {} ms): no reads until it catches up",
                                pool, s.index(), k, h.lagBytes(), h.lagMillis());
                    }
                }
                if (old.isPresent() && old.get().primaryReachable() != s.primaryReachable()) {
                    LOG.warn("pool {} shard {}: primary {} is {}", pool, s.index(),
                            s.primary().map(ServerKey::toString).orElse("(none)"),
                            s.primaryReachable() ? "reachable again" : "unreachable");
                }
                if (old.isPresent() && old.get().readsOnPrimary() != s.readsOnPrimary()) {
                    LOG.warn("pool {} shard {}: {}", pool, s.index(), s.readsOnPrimary()
                            ? "no usable replica, reads go to the primary" : "replicas serve reads again");
                }
            }
        });
    }

    // ------------------------------------------------------------------ configuration walk

    @FunctionalInterface
    private interface ShardVisitor {
        void visit(PoolConfig pool, ShardConfig shard, Map<ServerKey, ProbeResult> byServer);
    }

    /** Visits every shard with the last results of its servers, as probed with the pool's login. */
    private void forEachShard(PgFleetConfig c, ShardVisitor visitor) {
        for (PoolConfig pool : c.pools().values()) {
            ProbeCredentials.Login login = login(c, pool);
            for (ShardConfig shard : pool.shards()) {
                Map<ServerKey, ProbeResult> byServer = new HashMap<>();
                for (ServerConfig s : shard.servers()) {
                    ProbeResult r = lastResults.get(target(c, login, shard, s));
                    if (r != null) {
                        byServer.put(ServerKey.of(s), r);
                    }
                }
                visitor.visit(pool, shard, byServer);
            }
        }
    }

    private Set<ProbeTarget> targets(PgFleetConfig c) {
        Set<ProbeTarget> targets = new LinkedHashSet<>();
        for (PoolConfig pool : c.pools().values()) {
            ProbeCredentials.Login login = login(c, pool);
            for (ShardConfig shard : pool.shards()) {
                for (ServerConfig s : shard.servers()) {
                    targets.add(target(c, login, shard, s));
                }
            }
        }
        return targets;
    }

    private ProbeCredentials.Login login(PgFleetConfig c, PoolConfig pool) {
        return (credentials != null ? credentials : ProbeCredentials.configured(c.general().healthProbe())).forPool(pool);
    }

    /**
     * With {@code healthcheck_database} and {@code healthcheck_user} set, every pool over a server
     * shares one probe (one connection) to it, and no probe sits in a pooled database.
     */
    private static ProbeTarget target(PgFleetConfig c, ProbeCredentials.Login login, ShardConfig shard,
                                      ServerConfig s) {
        String database = c.general().healthProbe().database().orElse(shard.database());
        return new ProbeTarget(ServerKey.of(s), database, login, c.general().serverTlsMode());
    }

    private static String shardId(PoolConfig pool, ShardConfig shard) {
        return pool.name() + "#" + shard.index();
    }
}
