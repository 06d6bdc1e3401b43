/**
 * The contracts of health that the proxy and the health verticle share, so that neither depends
 * on the other (ARCHITECTURE.md's dependency rule): the immutable snapshot records
 * ({@link dev.pgfleet.shared.health.HealthSnapshot}, {@link dev.pgfleet.shared.health.ShardHealth},
 * {@link dev.pgfleet.shared.health.ServerHealth}, {@link dev.pgfleet.shared.health.ServerKey},
 * {@link dev.pgfleet.shared.health.Ban}), their event-bus codec and addresses
 * ({@link dev.pgfleet.shared.health.HealthSnapshotCodec}, {@link dev.pgfleet.shared.health.HealthBus}),
 * the {@link dev.pgfleet.shared.health.BanRegistry} seam (one instance per process, clustered
 * later), and {@link dev.pgfleet.shared.health.HealthChecks}, the checkout rule.
 */
package dev.pgfleet.shared.health;
