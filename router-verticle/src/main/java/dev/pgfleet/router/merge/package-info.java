/**
 * Cross-shard SELECT (issue 14): {@link dev.pgfleet.router.merge.CrossShardPlanner} turns one
 * SELECT into the statement every shard runs and a {@link dev.pgfleet.router.merge.CrossShardPlan}
 * saying how the proxy merges the shards' rows (k-way merge for ORDER BY, hash grouping with
 * partial aggregates, DISTINCT, HAVING as an {@link dev.pgfleet.router.merge.Expr}, OFFSET and
 * LIMIT), or refuses it with a {@link dev.pgfleet.router.merge.CrossShardRefusal} (0A000).
 */
package dev.pgfleet.router.merge;
