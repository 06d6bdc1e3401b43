package dev.pgfleet.dist;

import dev.pgfleet.admin.config.ConfigVerticle;
import dev.pgfleet.admin.metrics.MetricsVerticle;
import dev.pgfleet.admin.metrics.PgFleetMetrics;
import dev.pgfleet.admin.console.ConsoleService;
import dev.pgfleet.health.HealthVerticle;
import dev.pgfleet.health.LocalBanRegistry;
import dev.pgfleet.proxy.ProxyRuntime;
import dev.pgfleet.router.RouterVerticle;
import dev.pgfleet.shared.admin.AdminBus;
import dev.pgfleet.shared.admin.AdminReply;
import dev.pgfleet.shared.admin.AdminRequest;
import dev.pgfleet.shared.config.General;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.shared.health.BanRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One standalone PgFleet process: a Vert.x instance with the health verticle, the router
 * verticle and one proxy verticle per event loop (deployed in that order), sharing one ban
 * registry. (Clustered boot, with Hazelcast, comes
 * later; it will differ in how Vert.x is built and in the registry, a cluster-wide one.)
 */
public final class ProxyNode {

    private static final Logger LOG = LoggerFactory.getLogger(ProxyNode.class);
    private static final Duration DEPLOY_TIMEOUT = Duration.ofSeconds(30);
    /** Time the proxy gets beyond its own grace period to close its sockets. */
    private static final Duration SHUTDOWN_SLACK = Duration.ofSeconds(5);
    private static final Duration VERTX_CLOSE_TIMEOUT = Duration.ofSeconds(10);

    private final Vertx vertx;
    private final ProxyRuntime runtime;
    private final General general;
    /** Null unless enable_prometheus_exporter. */
    private final PgFleetMetrics metrics;
    private final AtomicBoolean stopped = new AtomicBoolean();

    private ProxyNode(Vertx vertx, ProxyRuntime runtime, General general, PgFleetMetrics metrics) {
        this.vertx = vertx;
        this.runtime = runtime;
        this.general = general;
        this.metrics = metrics;
    }

    /**
     * Boots Vert.x, deploys the health verticle (its first probe round done, at most
     * healthcheck_timeout), the router, then the proxy; returns once the port is bound. Health first, so the
     * first client is routed by what the servers are now (which one is primary, which replicas
     * answer), not by the configuration alone.
     *
     * @throws RuntimeException if the port cannot be bound (Vert.x is closed again)
     */
    public static ProxyNode start(PgFleetConfig config) {
        return start(config, null, UnaryOperator.identity());
    }

    /**
     * As {@link #start(PgFleetConfig)}, with the file {@code config} came from, which RELOAD,
     * SIGHUP and autoreload read again; {@code edit} is applied to each configuration read from
     * it, as it was to {@code config} (the demo's server addresses).
     */
    public static ProxyNode start(PgFleetConfig config, Path file, UnaryOperator<PgFleetConfig> edit) {
        General general = config.general();
        int loops = eventLoops(general.workerThreads());
        // One verticle instance per event loop, and no more loops than instances: a loop
        // without a proxy instance would only cost a thread.
        // No thread context class loader swap around each event: PgFleet loads no classes by TCCL
        // on its event loops, and the two setContextClassLoader calls per read showed in the profile.
        VertxOptions options = new VertxOptions().setEventLoopPoolSize(loops).setPreferNativeTransport(true)
                .setDisableTCCL(true);
        // Vert.x metrics only with the exporter on (PgFleetMetrics leaves out its per-read TCP meters).
        PgFleetMetrics metrics = general.enablePrometheusExporter() ? PgFleetMetrics.create() : null;
        Vertx vertx = metrics != null ? metrics.vertx(options) : Vertx.vertx(options);
        // One registry for the process: bans from health probes and from failed connects alike.
        BanRegistry bans = new LocalBanRegistry();
        ProxyRuntime runtime = new ProxyRuntime(config, bans);
        try {
            // The configuration's owner first: the others ask it for the epoch in force.
            Futures.await(vertx.deployVerticle(new ConfigVerticle(config, file, edit)), DEPLOY_TIMEOUT,
                    "starting the configuration owner");
            Futures.await(vertx.deployVerticle(new HealthVerticle(config, bans)), DEPLOY_TIMEOUT,
                    "starting the health checks");
            // The router builds the routing table from the configuration and the first snapshot;
            // the proxy takes it at start and every new one after.
            Futures.await(vertx.deployVerticle(new RouterVerticle(config)), DEPLOY_TIMEOUT, "starting the router");
            if (metrics != null) {
                // Before the proxy: /health answers while it starts, /ready says it is not up yet.
                Futures.await(MetricsVerticle.deploy(vertx, config, metrics), DEPLOY_TIMEOUT,
                        "starting the Prometheus exporter on port " + general.prometheusExporterPort());
            }
            // The admin console (database pgfleet or pgbouncer, or admin_port): the proxy hands its
            // authenticated admin logins to it.
            ConsoleService console = new ConsoleService(vertx, config, ConsoleService.DEFAULT_STATS_PERIOD);
            Futures.await(console.start(), DEPLOY_TIMEOUT, "starting the admin console");
            runtime.console(console);
            Futures.await(runtime.deploy(vertx, loops), DEPLOY_TIMEOUT,
                    "starting the proxy on " + general.host() + ":" + general.port());
        } catch (RuntimeException e) {
            Futures.await(vertx.close(), VERTX_CLOSE_TIMEOUT, "closing Vert.x");
            if (metrics != null) {
                metrics.close();
            }
            throw e;
        }
        LOG.info("PgFleet listening on {}:{} ({} event loops, {} pools)", general.host(), general.port(), loops,
                config.pools().size());
        // The admin SHUTDOWN has drained the proxy: the process exits as on SIGTERM (the shutdown
        // hook stops the rest). Not on an event loop: exit waits for the hooks, which need them.
        runtime.onShutdownRequest(() -> new Thread(() -> System.exit(0), "pgfleet-admin-shutdown").start());
        return new ProxyNode(vertx, runtime, general, metrics);
    }

    /**
     * {@code worker_threads}, capped at Vert.x's default pool size (2 x cores): more loops than
     * cores only contend. Unset (0): half the cores this JVM may use (at least one), read from
     * {@code availableProcessors}, which follows the container's CPU limit (cgroups). Why half:
     * a loop's time is mostly the kernel's TCP work for its sockets, and the processes at the
     * other end (PostgreSQL backends, clients, the kernel's softirqs) need cores too. Measured on 2
     * cores shared with PostgreSQL (BENCHMARKS.md, issue 11): one loop spent about PgBouncer's CPU
     * per transaction at 50 clients (0.85-0.93x) and the most throughput at 200; two loops
     * 0.96-1.22x its CPU, four (PgCat's default, PgFleet's until then) 1.03-1.65x.
     */
    static int eventLoops(int workerThreads) {
        return eventLoops(workerThreads, Runtime.getRuntime().availableProcessors());
    }

    static int eventLoops(int workerThreads, int cores) {
        if (workerThreads <= 0) {
            return Math.max(1, cores / 2);
        }
        return Math.max(1, Math.min(workerThreads, 2 * cores));
    }

    public String host() {
        return general.host();
    }

    public int port() {
        return general.port();
    }

    public ProxyRuntime runtime() {
        return runtime;
    }

    /**
     * Sends RELOAD to the configuration's owner (SIGHUP); it logs the outcome itself. Callable
     * from any thread, the signal dispatcher's included.
     *
     * @return the reply (what changed, or why the file was refused)
     */
    public Future<AdminReply> reload() {
        return vertx.eventBus().<JsonObject>request(AdminBus.CONFIG, AdminRequest.of("RELOAD").toJson())
                .map(m -> AdminReply.fromJson(m.body()))
                .onFailure(e -> LOG.warn("RELOAD not delivered: {}", e.getMessage()));
    }

    /** {@code general.shutdown_timeout} as the grace period. */
    public void stop() {
        stop(general.shutdownTimeout());
    }

    /**
     * Graceful stop: no new clients, transactions get {@code grace} to finish, then 57P01;
     * then Vert.x closes. Bounded; a step that overruns is logged and skipped. Idempotent.
     */
    public void stop(Duration grace) {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        LOG.info("Stopping PgFleet on {}:{} (grace period {} ms)", general.host(), general.port(), grace.toMillis());
        try {
            Futures.await(runtime.shutdown(vertx, grace), grace.plus(SHUTDOWN_SLACK), "draining clients");
        } catch (RuntimeException e) {
            LOG.warn("Proxy shutdown incomplete: {}", e.getMessage());
        }
        try {
            Futures.await(vertx.close(), VERTX_CLOSE_TIMEOUT, "closing Vert.x");
        } catch (RuntimeException e) {
            LOG.warn("Vert.x close incomplete: {}", e.getMessage());
        }
        if (metrics != null) {
            metrics.close();
        }
        LOG.info("PgFleet stopped");
    }
}
