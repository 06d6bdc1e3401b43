package dev.pgfleet.router.merge;

/**
 * The aggregates PgFleet merges, with PostgreSQL's synonyms folded in: {@code every} is
 * BOOL_AND, {@code stddev} STDDEV_SAMP, {@code variance} VAR_SAMP. The partial columns each one
 * needs from a shard are listed at {@link Output#partials()}.
 */
public enum Aggregate {
    COUNT, SUM, MIN, MAX, AVG, BOOL_AND, BOOL_OR, STDDEV_SAMP, STDDEV_POP, VAR_SAMP, VAR_POP
}
