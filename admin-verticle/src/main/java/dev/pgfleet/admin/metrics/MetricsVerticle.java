package dev.pgfleet.admin.metrics;

import dev.pgfleet.shared.admin.AdminBus;
import dev.pgfleet.shared.admin.AdminReply;
import dev.pgfleet.shared.admin.AdminRequest;
import dev.pgfleet.shared.admin.ProxyStats;
import dev.pgfleet.shared.config.ConfigBus;
import dev.pgfleet.shared.config.ConfigEpoch;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.shared.health.HealthBus;
import dev.pgfleet.shared.health.HealthSnapshot;
import dev.pgfleet.shared.net.NetSockets;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Prometheus exporter's HTTP server on {@code prometheus_exporter_port} (bound to
 * {@code host}, the proxy's interface):
 * <ul>
 *   <li>{@code /metrics}: text format 0.0.4. PgFleet's series from one {@code STATS} on
 *       {@link AdminBus#PROXY} and one {@code HEALTH} and {@code BANS} on {@link AdminBus#HEALTH}
 *       per scrape (see {@link PgFleetCollector}), then the JVM's and Vert.x's meters.</li>
 *   <li>{@code /health}: liveness. 200 when a task run on every event loop of the process comes
 *       back within {@link #LIVENESS_TIMEOUT_MILLIS}; 503 naming how many did not. It asks
 *       nothing of the proxy, the servers or the health verticle: a PostgreSQL outage must not
 *       get PgFleet restarted.</li>
 *   <li>{@code /ready}: readiness ({@link Readiness}); 200 "ready" or 503 with the reasons.</li>
 * </ul>
 * Deploy it with {@link #deploy}, as a worker verticle: rendering a scrape then runs on a worker
 * thread, not on an event loop that serves clients.
 */
public final class MetricsVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(MetricsVerticle.class);

    /** Under Kubernetes' default probe timeout (1 s), so the probe gets PgFleet's answer. */
    static final long LIVENESS_TIMEOUT_MILLIS = 500;
    static final long READY_TIMEOUT_MILLIS = 800;
    /** Well under Prometheus' default scrape_timeout (10 s). */
    static final long SCRAPE_TIMEOUT_MILLIS = 5_000;

    static final String TEXT_004 = "text/plain; version=0.0.4; charset=utf-8";

    private final PgFleetMetrics metrics;
    private final PgFleetCollector collector = new PgFleetCollector();
    private volatile PgFleetConfig config;
    private HttpServer server;
    private MessageConsumer<ConfigEpoch> configConsumer;
    private List<Executor> loops;

    public MetricsVerticle(PgFleetConfig config, PgFleetMetrics metrics) {
        this.config = Objects.requireNonNull(config, "config");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    /** Deploys one instance as a worker verticle (see the class comment). */
    public static Future<String> deploy(Vertx vertx, PgFleetConfig config, PgFleetMetrics metrics) {
        return vertx.deployVerticle(new MetricsVerticle(config, metrics),
                new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER));
    }

    @Override
    public Future<?> start() {
        loops = NetSockets.eventLoops(vertx);
        metrics.prometheusRegistry().register(collector);
        ConfigBus.register(vertx.eventBus());
        // Reloads change the pools that readiness checks; the config owner may not run (yet).
        configConsumer = vertx.eventBus().localConsumer(ConfigBus.APPLIED, m -> config = m.body().config());
        int port = config.general().prometheusExporterPort();
        String host = config.general().host();
        server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port))
                .requestHandler(this::request);
        return configConsumer.completion()
                .compose(v -> vertx.eventBus().<ConfigEpoch>request(ConfigBus.CURRENT, null)
                        .onSuccess(m -> config = m.body().config())
                        .map((Void) null).otherwiseEmpty())
                .compose(v -> server.listen())
                .onSuccess(s -> LOG.info("Prometheus metrics on http://{}:{}/metrics (/health, /ready)", host,
                        s.actualPort()));
    }

    @Override
    public Future<?> stop() {
        metrics.prometheusRegistry().unregister(collector);
        if (configConsumer != null) {
            configConsumer.unregister();
        }
        return server == null ? Future.succeededFuture() : server.close();
    }

    /** The bound port (tests may ask for port 0 through the configuration's binder limits; not here). */
    public int port() {
        return server.actualPort();
    }

    private void request(HttpServerRequest req) {
        if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
            req.response().setStatusCode(405).putHeader("Allow", "GET, HEAD").end();
            return;
        }
        switch (req.path()) {
            case "/metrics" -> metrics(req);
            case "/health" -> liveness(req);
            case "/ready" -> readiness(req);
            default -> text(req, 404, "not found: try /metrics, /health or /ready\n");
        }
    }

    // ------------------------------------------------------------------ /metrics

    private void metrics(HttpServerRequest req) {
        DeliveryOptions timeout = new DeliveryOptions().setSendTimeout(SCRAPE_TIMEOUT_MILLIS);
        Future<ProxyStats> stats = stats(timeout);
        Future<JsonArray> health = rows("HEALTH", timeout);
        Future<JsonArray> bans = rows("BANS", timeout);
        Future.join(stats, health, bans).onComplete(ar -> {
            Scrape s = new Scrape(stats.result(), cause(stats), health.result(), bans.result(),
                    health.failed() ? cause(health) : cause(bans));
            if (s.stats() == null) {
                LOG.debug("scrape without proxy stats: {}", s.statsError());
            }
            String text;
            try {
                collector.scrape(s);
                text = metrics.registry().scrape();
            } catch (RuntimeException e) {
                LOG.warn("scrape failed", e);
                text(req, 500, "scrape failed: " + e.getMessage() + "\n");
                return;
            } finally {
                collector.scrape(null);
            }
            req.response().putHeader("Content-Type", TEXT_004).end(text);
        });
    }

    private Future<ProxyStats> stats(DeliveryOptions timeout) {
        return vertx.eventBus().<JsonObject>request(AdminBus.PROXY, AdminRequest.of("STATS").toJson(), timeout)
                .map(m -> {
                    AdminReply r = AdminReply.fromJson(m.body());
                    if (r.failed()) {
                        throw new IllegalStateException(r.sqlState() + " " + r.message());
                    }
                    return ProxyStats.fromJson(r.data());
                });
    }

    private Future<JsonArray> rows(String command, DeliveryOptions timeout) {
        return vertx.eventBus().<JsonObject>request(AdminBus.HEALTH, AdminRequest.of(command).toJson(), timeout)
                .map(m -> {
                    AdminReply r = AdminReply.fromJson(m.body());
                    if (r.failed()) {
                        throw new IllegalStateException(r.sqlState() + " " + r.message());
                    }
                    return r.data().getJsonArray("rows", new JsonArray());
                });
    }

    private static String cause(Future<?> f) {
        return f.failed() ? String.valueOf(f.cause().getMessage()) : null;
    }

    // ------------------------------------------------------------------ /health, /ready

    private void liveness(HttpServerRequest req) {
        AtomicInteger answered = new AtomicInteger();
        AtomicBoolean done = new AtomicBoolean();
        io.vertx.core.Context here = context;
        long timer = vertx.setTimer(LIVENESS_TIMEOUT_MILLIS, t -> {
            if (done.compareAndSet(false, true)) {
                int stuck = loops.size() - answered.get();
                text(req, 503, "not alive: " + stuck + " of " + loops.size() + " event loops did not run a task within "
                        + LIVENESS_TIMEOUT_MILLIS + " ms\n");
            }
        });
        for (Executor loop : loops) {
            loop.execute(() -> {
                if (answered.incrementAndGet() == loops.size() && done.compareAndSet(false, true)) {
                    here.runOnContext(v -> {
                        vertx.cancelTimer(timer);
                        text(req, 200, "alive\n");
                    });
                }
            });
        }
    }

    private void readiness(HttpServerRequest req) {
        DeliveryOptions timeout = new DeliveryOptions().setSendTimeout(READY_TIMEOUT_MILLIS);
        Future<ProxyStats> stats = stats(timeout);
        Future<HealthSnapshot> health = vertx.eventBus().<HealthSnapshot>request(HealthBus.CURRENT, null, timeout)
                .map(Message::body);
        Future.join(stats, health).onComplete(ar -> {
            Readiness r = Readiness.of(stats.result(), cause(stats), config, health.result(), cause(health));
            text(req, r.ready() ? 200 : 503, r.body());
        });
    }

    private static void text(HttpServerRequest req, int status, String body) {
        req.response().setStatusCode(status).putHeader("Content-Type", "text/plain; charset=utf-8")
                .putHeader("Cache-Control", "no-store").end(body);
    }
}
