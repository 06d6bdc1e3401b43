package dev.pgfleet.router.merge;

/**
 * One ORDER BY key of the merge. {@code column} is a column ref as {@link CrossShardPlan} defines
 * it. PostgreSQL's defaults: ASC NULLS LAST, DESC NULLS FIRST (NULL sorts as if larger than
 * every value).
 */
public record SortKey(int column, boolean descending, boolean nullsFirst) {
}
