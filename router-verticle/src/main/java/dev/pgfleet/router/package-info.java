/**
 * Routing logic called inline by the proxy on its event loops (plain Java, no Vert.x), and the
 * {@link dev.pgfleet.router.RouterVerticle}, which owns the routing table
 * ({@link dev.pgfleet.router.RoutingTables} builds it from the configuration and the health
 * snapshots; the records and codec are shared's {@code dev.pgfleet.shared.routing}).
 *
 * <ul>
 *   <li>{@link dev.pgfleet.router.QueryClassifier}: SQL text to {@link dev.pgfleet.router.Classification}
 *       (route, transaction control, session state, PgFleet commands, comment hints), cached.</li>
 *   <li>{@link dev.pgfleet.router.LoadBalancer}: random, round robin or least outstanding
 *       connections over the healthy candidates, with weights.</li>
 *   <li>{@link dev.pgfleet.router.ShardHash}: PostgreSQL's hash partitioning of a bigint or text key
 *       ({@code PARTITION BY HASH}), so a key's shard is the partition PostgreSQL would pick.</li>
 *   <li>{@link dev.pgfleet.router.ShardingSchema}: a pool's sharded tables and the shard of a key value
 *       (hash, list or range mapping, as PostgreSQL's partitioning would place the row).</li>
 *   <li>{@link dev.pgfleet.router.PgFleetCommand}: {@code SET SERVER ROLE}, {@code SET SHARD} and the rest,
 *       in PgCat's spellings.</li>
 * </ul>
 *
 * Everything else in the package is implementation and package-private.
 */
package dev.pgfleet.router;
