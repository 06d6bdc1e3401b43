package dev.pgfleet.shared.config;

/** PgCat's {@code sharding_function}: how a sharding key maps to a shard index. */
public enum ShardingFunction implements ConfigEnum {
    /** The hash PostgreSQL uses for {@code PARTITION BY HASH} on a bigint. */
    PG_BIGINT_HASH("pg_bigint_hash"),
    /** PgCat's SHA1-based function. */
    SHA1("sha1");

    private final String configName;

    ShardingFunction(String configName) {
        this.configName = configName;
    }

    @Override
    public String configName() {
        return configName;
    }
}
