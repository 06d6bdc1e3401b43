package dev.pgfleet.admin.metrics;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;

import java.util.Set;

/**
 * The metrics registry of one PgFleet process: Micrometer's Prometheus registry with the JVM
 * binders (memory, GC, threads, class loading, processor, uptime) and, through
 * vertx-micrometer-metrics, Vert.x's event bus, verticles, HTTP server and worker pools.
 *
 * <p>Vert.x's TCP server and client metrics are off ({@link #DISABLED_VERTX_CATEGORIES}): they
 * update a Micrometer counter on every socket read and write, so on the proxy's client and server
 * sockets a call per message, which the data plane must not pay. The proxy counts bytes itself,
 * and {@code /metrics} shows them as {@code pgfleet_received_bytes_total} and
 * {@code pgfleet_sent_bytes_total}. UDP is off too (PgFleet has none).
 */
public final class PgFleetMetrics implements AutoCloseable {

    /** The Vert.x metrics categories left out; see the class comment. */
    public static final Set<String> DISABLED_VERTX_CATEGORIES = Set.of(MetricsDomain.NET_SERVER.toCategory(),
            MetricsDomain.NET_CLIENT.toCategory(), MetricsDomain.DATAGRAM_SOCKET.toCategory());

    private final PrometheusRegistry prometheus = new PrometheusRegistry();
    private final PrometheusMeterRegistry registry;
    private final JvmGcMetrics gc = new JvmGcMetrics();

    private PgFleetMetrics() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, prometheus,
                io.micrometer.core.instrument.Clock.SYSTEM);
        // Every request-reply on the event bus answers to a fresh address (__vertx.reply.N): one
        // series per reply would grow without bound. They are counted under one address.
        registry.config().meterFilter(MeterFilter.replaceTagValues("address",
                a -> a.startsWith("__vertx.reply") ? "__vertx.reply" : a));
        // The health probes' vertx-pg-client pools all carry the default name: their meters would
        // be one gauge that the first probe registered (Micrometer ignores the others, with a
        // warning). Probes have their own series (pgfleet_health_probes_total and the others).
        registry.config().meterFilter(MeterFilter.deny(id -> "sql".equals(id.getTag("pool_type"))));
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /** A new registry with the JVM's meters bound. */
    public static PgFleetMetrics create() {
        return new PgFleetMetrics();
    }

    /**
     * Builds Vert.x from {@code options} with its metrics going into this registry (less
     * {@link #DISABLED_VERTX_CATEGORIES}). {@code options}' own metrics options are replaced.
     */
    public Vertx vertx(VertxOptions options) {
        MicrometerMetricsOptions metrics = new MicrometerMetricsOptions().setEnabled(true)
                .setJvmMetricsEnabled(false)   // bound above, with uptime, once per process
                .setDisabledMetricsCategories(DISABLED_VERTX_CATEGORIES);
        return Vertx.builder().with(new VertxOptions(options).setMetricsOptions(metrics))
                .withMetrics(new MicrometerMetricsFactory(registry)).build();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Where {@link PgFleetCollector} registers PgFleet's own series, next to Micrometer's. */
    PrometheusRegistry prometheusRegistry() {
        return prometheus;
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
