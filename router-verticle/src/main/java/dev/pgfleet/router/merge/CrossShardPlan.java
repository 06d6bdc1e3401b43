package dev.pgfleet.router.merge;

import java.util.List;
import java.util.Set;

/**
 * How one SELECT runs across shards: the statement every shard runs and how the proxy merges
 * their rows into one result.
 *
 * <p><b>Ungrouped plans</b> ({@code grouped == false}). Every shard runs {@code shardSql}: the
 * client's SELECT with {@code hiddenColumns} columns appended to its select list (sort keys
 * whose position is not certain, named {@code "?pgfleet_sort_k"}), its ORDER BY kept and
 * {@code LIMIT l OFFSET o} replaced by {@code LIMIT l+o}. The proxy merges the shards' rows
 * (k-way by {@code orderBy}), applies DISTINCT / DISTINCT ON over the visible columns, then
 * OFFSET and LIMIT, and drops the last {@code hiddenColumns} columns of every row. Column refs
 * ({@code orderBy}, {@code distinctOn}): {@code c >= 0} is the 0-based position in the shard's
 * row, {@code c < 0} counts from its end ({@code -1} is the last column), used when a
 * {@code SELECT *} makes the visible column count unknown here. {@code outputs} is empty and
 * {@code visibleOutputs} is -1.
 *
 * <p><b>Grouped plans</b>. {@code shardSql} is {@code SELECT <columns> FROM ... WHERE ... GROUP BY
 * <keys>} with no HAVING, ORDER BY or LIMIT. The shard's columns are those of {@link Output}'s
 * {@code partials}: first the columns of the {@code visibleOutputs} visible outputs (in the
 * client's column order), then the {@code hiddenColumns} hidden ones. The proxy groups the
 * shards' rows on the shard columns {@code groupBy} (no keys: one group, also when no shard has
 * a row), merges each {@link Output}, filters the groups with {@code having}, then applies
 * DISTINCT, ORDER BY, OFFSET, LIMIT and sends outputs {@code 0..visibleOutputs-1}: the
 * client's column i is {@code outputs.get(i)}, NOT shard column i (avg takes two shard columns).
 * In a grouped plan {@code orderBy}, {@code distinctOn} and {@code having}'s refs are indexes
 * into {@code outputs}, never shard columns.
 *
 * <p>{@code shardSql} keeps the client's {@code $n} and is bound with the client's values, but
 * may not mention every one of them (a grouped plan drops HAVING and LIMIT): the proxy Parses it
 * with the parameter types PostgreSQL describes for the client's statement.
 */
public record CrossShardPlan(
        String shardSql,
        int hiddenColumns,
        List<Output> outputs,
        int visibleOutputs,
        boolean grouped,
        List<Integer> groupBy,
        int distinctArgument,
        Expr having,
        boolean distinct,
        List<Integer> distinctOn,
        List<SortKey> orderBy,
        Bound limit,
        Bound offset,
        Set<String> unknownFunctions,
        List<String> explain) {

    public CrossShardPlan {
        outputs = List.copyOf(outputs);
        groupBy = List.copyOf(groupBy);
        distinctOn = List.copyOf(distinctOn);
        orderBy = List.copyOf(orderBy);
        unknownFunctions = Set.copyOf(unknownFunctions);
        explain = List.copyOf(explain);
    }
}
