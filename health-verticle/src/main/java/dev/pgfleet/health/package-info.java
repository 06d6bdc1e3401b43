/**
 * Health of the PostgreSQL servers behind PgFleet: background probes, bans, replica lag and the
 * primary of each shard.
 *
 * <p>Public surface: {@link dev.pgfleet.health.HealthVerticle} (deploy one per process, before
 * the proxy, with the process's {@link dev.pgfleet.shared.health.BanRegistry}),
 * {@link dev.pgfleet.health.LocalBanRegistry} (that registry for one process),
 * {@link dev.pgfleet.health.ProbeCredentials}. What the proxy reads (the snapshot records, the
 * event-bus codec and addresses, the ban registry interface) lives in
 * {@code dev.pgfleet.shared.health}, so the proxy never depends on this module. Probing
 * ({@code ServerProbe}), lag history ({@code LagHistory}, {@code Lsn}) and the per-shard
 * decisions ({@code ShardEvaluator}) are package-private.
 *
 * <p>Settings: {@code healthcheck_interval}, {@code healthcheck_timeout}, {@code ban_time} in
 * {@code [general]}; {@code max_replica_lag_bytes}, {@code max_replica_lag_ms} in
 * {@code [general]} and per pool (see conf/pgfleet.toml).
 */
package dev.pgfleet.health;
