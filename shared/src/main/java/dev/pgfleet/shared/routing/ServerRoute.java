package dev.pgfleet.shared.routing;

import dev.pgfleet.shared.config.ServerRole;
import dev.pgfleet.shared.health.ServerKey;

/**
 * One server of a shard.
 *
 * @param role     as configured (the shard's {@link ShardRoute#primary()} says who writes now)
 * @param weight   its share of reads
 * @param readable a replica fit for reads now: reachable, unbanned and within the lag limits at
 *                 its last probe (by the configuration alone while no health verticle runs; never
 *                 before its first probe once one does). Never the primary
 */
public record ServerRoute(ServerKey server, ServerRole role, int weight, boolean readable) {
}
