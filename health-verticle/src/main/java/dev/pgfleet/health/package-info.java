/**
 * Health of the PostgreSQL servers behind PgFleet: background probes, bans, replica lag and the
 * primary of each shard.
 *
 * <p>Public surface: {@link dev.pgfleet.health.HealthVerticle} (deploy one per process, before
 * the proxy), {@link dev.pgfleet.health.HealthView} (what the proxy reads: the newest
 * {@link dev.pgfleet.health.HealthSnapshot} and the {@link dev.pgfleet.health.BanRegistry}), the
 * immutable snapshot records ({@link dev.pgfleet.health.ShardHealth},
 * {@link dev.pgfleet.health.ServerHealth}, {@link dev.pgfleet.health.Ban},
 * {@link dev.pgfleet.health.ServerKey}), the event-bus codec
 * {@link dev.pgfleet.health.HealthSnapshotCodec}, {@link dev.pgfleet.health.ProbeCredentials} and
 * {@link dev.pgfleet.health.HealthChecks}. Probing ({@code ServerProbe}), lag history
 * ({@code LagHistory}, {@code Lsn}) and the per-shard decisions ({@code ShardEvaluator}) are
 * package-private.
 *
 * <p>Settings: {@code healthcheck_interval}, {@code healthcheck_timeout}, {@code ban_time} in
 * {@code [general]}; {@code max_replica_lag_bytes}, {@code max_replica_lag_ms} in
 * {@code [general]} and per pool (see conf/pgfleet.toml).
 */
package dev.pgfleet.health;
