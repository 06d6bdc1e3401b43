package dev.pgfleet.proxy;

import dev.pgfleet.router.merge.Aggregate;
import dev.pgfleet.router.merge.CrossShardPlan;
import dev.pgfleet.router.merge.ExprEval;
import dev.pgfleet.router.merge.MergeException;
import dev.pgfleet.router.merge.NumericMath;
import dev.pgfleet.router.merge.Output;
import dev.pgfleet.router.merge.PgValues;
import dev.pgfleet.router.merge.SortKey;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The merge of a grouped cross-shard SELECT ({@link CrossShardPlan#grouped()}): the shards send
 * partial aggregates per group; this groups them again on the plan's keys, merges each output
 * (counts and sums added, min/max compared, avg from sum and count, variance from count, sum and
 * sum of squares, DISTINCT aggregates from the distinct values), keeps the groups HAVING accepts,
 * applies DISTINCT, ORDER BY, OFFSET and LIMIT, and encodes the client's columns. Everything it
 * holds is counted against {@code cross_shard_memory_limit}.
 */
final class GroupMerge {

    private final CrossShardPlan plan;
    private final List<Output> outputs;
    /** The shards' columns (every shard's, they agree). */
    private final RowShape shard;
    /** Per output: its type (the client's columns as PostgreSQL describes the query; hidden ones derived). */
    private final int[] outputTypes;
    /** Per visible output: the client's format. */
    private final int[] clientFormats;
    private final int extraFloatDigits;
    private final long memoryLimit;
    private long memory;
    private final Map<ShardRow.Key, Group> groups = new LinkedHashMap<>();

    /** One group: per output its merged state. */
    private static final class Group {
        final Object[] state;
        /** Plain outputs: the value's bytes as the first shard row had them (null: NULL). */
        final byte[][] plain;
        /** The distinct non-NULL values of the DISTINCT aggregates' argument. */
        Set<Object> distinct;
        Map<Object, Object> distinctDecoded;

        Group(int n) {
            state = new Object[n];
            plain = new byte[n][];
        }
    }

    /** Avg and variance states. */
    private static final class Sums {
        long count;
        Object sum;
        Object sumSquares;
    }

    GroupMerge(CrossShardPlan plan, RowShape shard, RowShape original, int[] clientFormats, int extraFloatDigits,
               long memoryLimit) {
        this.plan = plan;
        this.outputs = plan.outputs();
        this.shard = shard;
        this.clientFormats = clientFormats;
        this.extraFloatDigits = extraFloatDigits;
        this.memoryLimit = memoryLimit;
        this.outputTypes = new int[outputs.size()];
        for (int i = 0; i < outputs.size(); i++) {
            outputTypes[i] = i < plan.visibleOutputs() && i < original.columns() ? original.types[i] : derivedType(outputs.get(i));
            checkType(i);
        }
    }

    /** A hidden output's type: what PostgreSQL gives the aggregate of the partial's type. */
    private int derivedType(Output o) {
        int partial = shard.types[o.partials()[0]];
        if (o.aggregate() == null) {
            return partial;
        }
        return switch (o.aggregate()) {
            case COUNT -> o.distinct() ? PgValues.INT8 : partial;
            case SUM -> o.distinct() ? sumType(partial) : partial;
            case MIN, MAX -> partial;
            case AVG -> partial == PgValues.FLOAT4 || partial == PgValues.FLOAT8 ? PgValues.FLOAT8 : PgValues.NUMERIC;
            case BOOL_AND, BOOL_OR -> PgValues.BOOL;
            default -> PgValues.NUMERIC;
        };
    }

    private static int sumType(int input) {
        return switch (input) {
            case PgValues.INT2, PgValues.INT4 -> PgValues.INT8;
            case PgValues.INT8 -> PgValues.NUMERIC;
            default -> input;
        };
    }

    private void checkType(int i) {
        Output o = outputs.get(i);
        if (o.aggregate() == null || o.aggregate() == Aggregate.BOOL_AND || o.aggregate() == Aggregate.BOOL_OR) {
            return;
        }
        for (int p : o.partials()) {
            if (!PgValues.known(shard.types[p])) {
                throw new PgException(SqlState.FEATURE_NOT_SUPPORTED, "cannot merge " + o.aggregate().name().toLowerCase()
                    + "() of column \"" + shard.name(p) + "\" across shards: PgFleet does not compare or add type "
                    + PgValues.typeName(shard.types[p]), null, false);
            }
        }
    }

    private Object value(ShardRow r, int column) {
        return r.value(column, shard.types[column], shard.formats[column] == 1);
    }

    /** A shard's row: a group's partial aggregates (or, with DISTINCT aggregates, a (group, x) subgroup's). */
    void add(ShardRow r) {
        List<Integer> by = plan.groupBy();
        Object[] k = new Object[by.size()];
        for (int i = 0; i < k.length; i++) {
            int c = by.get(i);
            k[i] = ShardRow.key(PgValues.known(shard.types[c]) ? value(r, c) : null, r.bytes(c));
        }
        ShardRow.Key key = new ShardRow.Key(k);
        Group g = groups.get(key);
        if (g == null) {
            g = new Group(outputs.size());
            groups.put(key, g);
            charge(96 + 16L * outputs.size() + r.size());
            for (int i = 0; i < outputs.size(); i++) {
                if (outputs.get(i).aggregate() == null) {
                    g.plain[i] = r.bytes(outputs.get(i).column());
                }
            }
        }
        for (int i = 0; i < outputs.size(); i++) {
            Output o = outputs.get(i);
            if (o.aggregate() != null) {
                if (o.distinct()) {
                    addDistinct(g, r, o);
                } else {
                    g.state[i] = merge(o, i, g.state[i], r);
                }
            }
        }
    }

    private void addDistinct(Group g, ShardRow r, Output o) {
        int c = o.partials()[0];
        if (r.isNull(c)) {
            return;
        }
        if (g.distinct == null) {
            g.distinct = new HashSet<>();
            g.distinctDecoded = new HashMap<>();
        }
        Object decoded = PgValues.known(shard.types[c]) ? value(r, c) : null;
        Object key = ShardRow.key(decoded, r.bytes(c));
        if (g.distinct.add(key)) {
            g.distinctDecoded.put(key, decoded);
            charge(64 + r.lengths[c]);
        }
    }

    private Object merge(Output o, int i, Object state, ShardRow r) {
        int[] p = o.partials();
        switch (o.aggregate()) {
            case COUNT -> {
                Object n = value(r, p[0]);
                return n == null ? state : PgValues.add(PgValues.INT8, state == null ? 0L : state, n);
            }
            case SUM -> {
                return PgValues.add(outputTypes[i], state, value(r, p[0]));
            }
            case MIN, MAX -> {
                Object v = value(r, p[0]);
                if (v == null) {
                    return state;
                }
                Object[] best = (Object[]) state;
                int c = best == null ? 0 : PgValues.compare(v, best[0]);
                if (best == null || (o.aggregate() == Aggregate.MIN ? c < 0 : c > 0)) {
                    return new Object[] {v, r.bytes(p[0])};
                }
                return state;
            }
            case BOOL_AND, BOOL_OR -> {
                Boolean v = (Boolean) value(r, p[0]);
                if (v == null) {
                    return state;
                }
                if (state == null) {
                    return v;
                }
                return o.aggregate() == Aggregate.BOOL_AND ? (Boolean) state && v : (Boolean) state || v;
            }
            case AVG -> {
                Sums s = state == null ? new Sums() : (Sums) state;
                Object sum = value(r, p[0]);
                Object n = value(r, p[1]);
                if (n != null) {
                    s.count += ((Number) n).longValue();
                }
                s.sum = addAny(s.sum, sum);
                return s;
            }
            default -> {
                // variance and stddev: [count(x), sum(x::numeric), sum(x::numeric * x::numeric)]
                Sums s = state == null ? new Sums() : (Sums) state;
                Object n = value(r, p[0]);
                if (n != null) {
                    s.count += ((Number) n).longValue();
                }
                s.sum = addAny(s.sum, value(r, p[1]));
                s.sumSquares = addAny(s.sumSquares, value(r, p[2]));
                return s;
            }
        }
    }

    /** Partial sums of avg and variance: exact as numeric, floats as floats. */
    private static Object addAny(Object a, Object b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        if (a instanceof Double || b instanceof Double) {
            if ((a instanceof Double x && (x.isNaN() || x.isInfinite())) || (b instanceof Double y && (y.isNaN() || y.isInfinite()))) {
                return PgValues.add(PgValues.NUMERIC, a, b);
            }
            return ((Number) a).doubleValue() + ((Number) b).doubleValue();
        }
        return PgValues.add(PgValues.NUMERIC, a, b);
    }

    /** The merged value of output {@code i} of a group (Java value, as PgValues decodes). */
    private Object result(Group g, int i) {
        Output o = outputs.get(i);
        int type = outputTypes[i];
        if (o.aggregate() == null) {
            byte[] b = g.plain[i];
            if (b == null || !PgValues.known(type)) {
                return b == null ? null : new String(b, java.nio.charset.StandardCharsets.UTF_8);
            }
            int c = o.column();
            return PgValues.decode(type, shard.formats[c] == 1, io.netty.buffer.Unpooled.wrappedBuffer(b), 0, b.length);
        }
        if (o.distinct()) {
            return distinctResult(g, o, type);
        }
        Object s = g.state[i];
        return switch (o.aggregate()) {
            case COUNT -> s == null ? 0L : s;
            case SUM, BOOL_AND, BOOL_OR -> s;
            case MIN, MAX -> s == null ? null : ((Object[]) s)[0];
            case AVG -> {
                Sums sums = (Sums) s;
                if (sums == null || sums.count == 0 || sums.sum == null) {
                    yield null;
                }
                if (type == PgValues.FLOAT8 || type == PgValues.FLOAT4) {
                    yield ((Number) sums.sum).doubleValue() / sums.count;
                }
                yield NumericMath.avg((Number) sums.sum, sums.count);
            }
            default -> {
                Sums sums = (Sums) s;
                if (sums == null) {
                    yield null;
                }
                boolean sample = o.aggregate() == Aggregate.STDDEV_SAMP || o.aggregate() == Aggregate.VAR_SAMP;
                boolean stddev = o.aggregate() == Aggregate.STDDEV_SAMP || o.aggregate() == Aggregate.STDDEV_POP;
                if (sums.sum == null) {
                    yield null;
                }
                if (type == PgValues.FLOAT8 || type == PgValues.FLOAT4) {
                    double x = ((Number) sums.sum).doubleValue();
                    double x2 = ((Number) sums.sumSquares).doubleValue();
                    yield stddev ? NumericMath.stddevFloat(sums.count, x, x2, sample)
                        : NumericMath.varianceFloat(sums.count, x, x2, sample);
                }
                yield stddev ? NumericMath.stddev(sums.count, (Number) sums.sum, (Number) sums.sumSquares, sample)
                    : NumericMath.variance(sums.count, (Number) sums.sum, (Number) sums.sumSquares, sample);
            }
        };
    }

    private Object distinctResult(Group g, Output o, int type) {
        Map<Object, Object> values = g.distinctDecoded == null ? Map.of() : g.distinctDecoded;
        switch (o.aggregate()) {
            case COUNT -> {
                return (long) values.size();
            }
            case MIN, MAX -> {
                Object best = null;
                for (Object v : values.values()) {
                    if (best == null || (o.aggregate() == Aggregate.MIN ? PgValues.compare(v, best) < 0 : PgValues.compare(v, best) > 0)) {
                        best = v;
                    }
                }
                return best;
            }
            case SUM, AVG -> {
                Object sum = null;
                int sumType = o.aggregate() == Aggregate.SUM ? type : PgValues.NUMERIC;
                if (type == PgValues.FLOAT8 || type == PgValues.FLOAT4) {
                    sumType = type;
                }
                for (Object v : values.values()) {
                    sum = PgValues.add(sumType, sum, v);
                }
                if (o.aggregate() == Aggregate.SUM || sum == null) {
                    return sum;
                }
                if (type == PgValues.FLOAT8 || type == PgValues.FLOAT4) {
                    return ((Number) sum).doubleValue() / values.size();
                }
                return NumericMath.avg((Number) sum, values.size());
            }
            default -> throw new PgException(SqlState.FEATURE_NOT_SUPPORTED, o.aggregate().name().toLowerCase()
                + "(DISTINCT ...) is not merged across shards", null, false);
        }
    }

    /** The merged rows, as DataRows of the client's columns, in the plan's order and bounds. */
    CompositeByteBuf rows(ByteBufAllocator alloc, Object[] params, long offset, long limit) {
        int n = outputs.size();
        List<Object[]> rows = new ArrayList<>(groups.size());
        List<Group> kept = new ArrayList<>(groups.size());
        if (groups.isEmpty() && plan.groupBy().isEmpty()) {
            groups.put(new ShardRow.Key(new Object[0]), new Group(n));   // an aggregate over no rows: one row
        }
        for (Group g : groups.values()) {
            Object[] values = new Object[n];
            for (int i = 0; i < n; i++) {
                values[i] = result(g, i);
            }
            if (plan.having() != null && !Boolean.TRUE.equals(ExprEval.eval(plan.having(), values, params))) {
                continue;
            }
            rows.add(values);
            kept.add(g);
        }
        Integer[] order = new Integer[rows.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        if (!plan.orderBy().isEmpty()) {
            for (SortKey k : plan.orderBy()) {
                int t = outputTypes[k.column()];
                if (!PgValues.known(t)) {
                    throw new PgException(SqlState.FEATURE_NOT_SUPPORTED, "cannot merge ORDER BY of a " + PgValues.typeName(t)
                        + " column across shards: PgFleet does not compare that type", null, false);
                }
            }
            java.util.Arrays.sort(order, (a, b) -> compare(plan.orderBy(), outputTypes, rows.get(a), rows.get(b)));
        }
        CompositeByteBuf out = alloc.compositeBuffer(Integer.MAX_VALUE);
        Set<ShardRow.Key> seen = plan.distinct() || !plan.distinctOn().isEmpty() ? new HashSet<>() : null;
        long skipped = 0;
        long sent = 0;
        for (Integer idx : order) {
            if (limit >= 0 && sent >= limit) {
                break;
            }
            Object[] values = rows.get(idx);
            if (seen != null) {
                List<Integer> on = plan.distinctOn();
                int m = on.isEmpty() ? plan.visibleOutputs() : on.size();
                Object[] k = new Object[m];
                for (int i = 0; i < m; i++) {
                    k[i] = ShardRow.key(values[on.isEmpty() ? i : on.get(i)], null);
                }
                if (!seen.add(new ShardRow.Key(k))) {
                    continue;
                }
            }
            if (skipped < offset) {
                skipped++;
                continue;
            }
            out.addComponent(true, encode(alloc, kept.get(idx), values));
            sent++;
        }
        return out;
    }

    private static int compare(List<SortKey> keys, int[] types, Object[] a, Object[] b) {
        for (SortKey k : keys) {
            Object x = a[k.column()];
            Object y = b[k.column()];
            int c;
            if (x == null || y == null) {
                c = x == y ? 0 : (x == null) == k.nullsFirst() ? -1 : 1;
            } else {
                c = PgValues.compare(types[k.column()], x, y);
                if (k.descending()) {
                    c = -c;
                }
            }
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    private ByteBuf encode(ByteBufAllocator alloc, Group g, Object[] values) {
        int visible = plan.visibleOutputs();
        ByteBuf row = alloc.buffer(16 + 16 * visible);
        row.writeByte('D').writeInt(0).writeShort(visible);
        for (int i = 0; i < visible; i++) {
            Output o = outputs.get(i);
            byte[] raw = null;
            if (o.aggregate() == null) {
                raw = g.plain[i];
            } else if ((o.aggregate() == Aggregate.MIN || o.aggregate() == Aggregate.MAX) && !o.distinct()) {
                Object[] best = (Object[]) g.state[i];
                raw = best == null ? null : (byte[]) best[1];
            } else if (values[i] != null) {
                int at = row.writerIndex();
                row.writeInt(0);
                PgValues.encode(outputTypes[i], clientFormats[i] == 1, values[i], row, extraFloatDigits);
                row.setInt(at, row.writerIndex() - at - 4);
                continue;
            }
            if (raw == null && (o.aggregate() == null || values[i] == null)) {
                row.writeInt(-1);
            } else if (raw != null) {
                row.writeInt(raw.length).writeBytes(raw);
            } else {
                int at = row.writerIndex();
                row.writeInt(0);
                PgValues.encode(outputTypes[i], clientFormats[i] == 1, values[i], row, extraFloatDigits);
                row.setInt(at, row.writerIndex() - at - 4);
            }
        }
        row.setInt(1, row.writerIndex() - 1);
        return row;
    }

    private void charge(long bytes) {
        memory += bytes;
        if (memory > memoryLimit) {
            throw ShardedSelect.overMemory(memoryLimit, "GROUP BY");
        }
    }

    /** A MergeException as the client's error. */
    static PgException asPg(MergeException e) {
        return new PgException(e.sqlState(), e.getMessage(), null, false);
    }
}
