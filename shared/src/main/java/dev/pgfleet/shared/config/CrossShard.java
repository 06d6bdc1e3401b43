package dev.pgfleet.shared.config;

import java.util.Set;

/**
 * A pool's settings for requests that span shards.
 *
 * @param omnishardedTables {@code omnisharded_tables}: tables with the same rows on every shard (as written,
 *                          lower case unless quoted, {@code schema.table} when qualified); reads go to one
 *                          shard, writes to all
 * @param writes            {@code cross_shard_writes}: an UPDATE or DELETE without a key
 * @param twoPhaseCommit    {@code two_phase_commit}: a write on several shards commits with PREPARE
 *                          TRANSACTION and COMMIT PREPARED (the shards need max_prepared_transactions &gt; 0)
 * @param memoryLimit       {@code cross_shard_memory_limit} in bytes (resolved against {@code [general]}):
 *                          what one cross-shard query may hold in PgFleet's memory for grouping, DISTINCT
 *                          and sorting; past it the query fails with 53200
 */
public record CrossShard(Set<String> omnishardedTables, CrossShardWrites writes, boolean twoPhaseCommit,
                         long memoryLimit) {

    public CrossShard {
        omnishardedTables = Set.copyOf(omnishardedTables);
    }
}
