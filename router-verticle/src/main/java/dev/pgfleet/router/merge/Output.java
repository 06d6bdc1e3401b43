package dev.pgfleet.router.merge;

import java.util.Arrays;

/**
 * One column of a grouped plan's merged row: the client's columns first, then hidden ones (group
 * keys, the DISTINCT argument and aggregates only HAVING or ORDER BY use).
 *
 * <p>{@code aggregate == null}: a plain column (a group key, or a constant), read from shard
 * column {@code column}; {@code partials} is {@code [column]}.
 *
 * <p>Otherwise {@code partials} are the shard columns to merge, in this order:
 * COUNT {@code [count]} (summed), SUM {@code [sum]} (summed, NULL if all NULL), MIN/MAX
 * {@code [min]}/{@code [max]}, AVG {@code [sum(x), count(x)]}, BOOL_AND/BOOL_OR {@code [same]},
 * STDDEV_* and VAR_* {@code [count(x), sum(x::numeric), sum(x::numeric * x::numeric)]};
 * {@code column} is {@code partials[0]}. With {@code distinct} (count/sum/avg/min/max of
 * {@code DISTINCT x}) {@code partials} is {@code [x's column]} (the plan's
 * {@code distinctArgument}, which shards also group on): the merge collects the distinct
 * non-NULL values of x per group and aggregates those.
 */
public record Output(int column, Aggregate aggregate, int[] partials, boolean distinct) {
    public Output {
        partials = partials.clone();
    }

    static Output plain(int column) {
        return new Output(column, null, new int[] {column}, false);
    }

    @Override
    public int[] partials() {
        return partials.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Output other && column == other.column && aggregate == other.aggregate
                && distinct == other.distinct && Arrays.equals(partials, other.partials);
    }

    @Override
    public int hashCode() {
        return (column * 31 + (aggregate == null ? 0 : aggregate.hashCode())) * 31 + Arrays.hashCode(partials)
                + (distinct ? 1 : 0);
    }

    @Override
    public String toString() {
        return aggregate == null ? "col " + column
                : (distinct ? "distinct " : "") + aggregate.name().toLowerCase() + Arrays.toString(partials);
    }
}
