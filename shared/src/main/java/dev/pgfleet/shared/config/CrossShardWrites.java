package dev.pgfleet.shared.config;

/** {@code cross_shard_writes}: what an UPDATE or DELETE on a sharded table without a sharding key does. */
public enum CrossShardWrites implements ConfigEnum {
    /** Refused with 0A000 (the default: a forgotten WHERE must not touch every shard). */
    REFUSE("refuse"),
    /** Sent to every shard, each in a transaction of its own, committed together (two-phase when configured). */
    ALL("all");

    private final String configName;

    CrossShardWrites(String configName) {
        this.configName = configName;
    }

    @Override
    public String configName() {
        return configName;
    }
}
