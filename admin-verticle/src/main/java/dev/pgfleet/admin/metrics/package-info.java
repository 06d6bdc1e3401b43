/**
 * Prometheus metrics, liveness and readiness over HTTP ({@code enable_prometheus_exporter},
 * {@code prometheus_exporter_port}, PgCat's keys): {@link dev.pgfleet.admin.metrics.MetricsVerticle}
 * serves {@code /metrics}, {@code /health} and {@code /ready};
 * {@link dev.pgfleet.admin.metrics.PgFleetMetrics} is the process's registry, with the JVM's and
 * Vert.x's own meters.
 *
 * <p>PgFleet's own series are not Micrometer meters: the data plane counts in plain per-loop
 * fields, and each scrape asks the proxy ({@code STATS}) and the health verticle ({@code HEALTH},
 * {@code BANS}) once, over the event bus, and turns the answers into Prometheus snapshots
 * ({@link dev.pgfleet.admin.metrics.PgFleetCollector}). Nothing here runs per query.
 */
package dev.pgfleet.admin.metrics;
