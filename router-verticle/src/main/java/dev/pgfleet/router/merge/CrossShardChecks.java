package dev.pgfleet.router.merge;

import java.util.Map;
import java.util.Set;

/** Stub: the checks of the tables a cross-shard SELECT reads are written elsewhere. */
public final class CrossShardChecks {
    private CrossShardChecks() {
    }

    /** Why {@code sql} cannot run across shards, or null. */
    public static String refusal(CharSequence sql, Map<String, String> shardedTables, Set<String> omnishardedTables) {
        return null;
    }
}
