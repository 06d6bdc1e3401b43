package dev.pgfleet.proxy;

import dev.pgfleet.router.merge.Bound;
import dev.pgfleet.router.merge.CrossShardPlan;
import dev.pgfleet.router.merge.MergeException;
import dev.pgfleet.router.merge.Output;
import dev.pgfleet.router.merge.PgValues;
import dev.pgfleet.router.merge.SortKey;
import dev.pgfleet.shared.protocol.BackendMessages;
import dev.pgfleet.shared.protocol.ExtendedMessages;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.PgProtocol;
import dev.pgfleet.shared.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A SELECT over a sharded table that names no one shard: every shard concerned runs the plan's
 * statement ({@link CrossShardPlan#shardSql()}) at once, and the rows are merged into one result,
 * as one PostgreSQL holding every row would answer.
 *
 * <ul>
 * <li>Without ORDER BY or grouping the rows stream through as they come (DISTINCT remembers what
 *     it sent, within the memory limit).
 * <li>With ORDER BY the shards sort and this merges their streams: a row goes when every shard
 *     still sending has one waiting, so at most a few rows per shard are held (a shard's socket is
 *     paused while its queue is long).
 * <li>Grouped queries ({@link GroupMerge}) are merged when every shard has finished.
 * </ul>
 *
 * <p>The shards are spoken to in the extended protocol, whatever the client used: the client's
 * Bind values go to every shard, the result formats are the client's for its columns and the
 * merge's own for the hidden ones. For a grouped plan shard 0 first describes the client's query
 * (its RowDescription is the client's: PostgreSQL's names and types, avg as numeric ...) and its
 * parameters. An error on any shard is the client's (the first one), the other shards'
 * connections are closed (nothing they hold commits: a SELECT in an implicit transaction), and a
 * result already streaming ends with it, as PostgreSQL's own does mid-result.
 */
final class ShardedSelect extends ShardFanOut {

    /** Rows a shard may have waiting in an ORDER BY merge before its socket is paused. */
    private static final int QUEUE_HIGH = 256;
    private static final int QUEUE_LOW = 32;

    private final CrossShardPlan plan;
    private final String sql;
    /** The client's statement's parameter types (int16 count and the oids), as Parse carries them. */
    private byte[] parameterTypes;
    /** The client's Bind from its parameter format codes to the end of its values; {@code 0, 0} for a Query. */
    private final byte[] bindParameters;
    /** The client's result format codes (none: text; one: for all; else one per column). */
    private final int[] resultFormats;
    private final long memoryLimit;
    private final int extraFloatDigits;

    private static final int DESCRIBE = 1, RUN = 2;
    private int step;
    private boolean linked;
    private boolean executeSeen;
    private PgException refusal;

    /** Shard 0's description of the client's query (grouped plans) and of the aggregate check. */
    private RowShape original;
    private String userAggregates;
    /** Per connection: its RowDescription, its rows waiting (ORDER BY), whether its result is complete. */
    private RowShape[] shapes;
    private ArrayDeque<ShardRow>[] queues;
    private boolean[] complete;
    private boolean[] paused;
    private boolean clientPaused;
    private RowShape shape;
    private int visible;
    private int[] sortColumns;
    private boolean headerSent;
    private long skipped;
    private long sent;
    private long offset;
    private long limit = -1;
    private Set<Object> seen;
    private Object[] lastDistinctOn;
    private long memory;
    private GroupMerge groups;
    private Object[] params;

    @SuppressWarnings("unchecked")
    ShardedSelect(ClientSession session, int[] shards, CrossShardPlan plan, String sql, byte[] parameterTypes,
                  byte[] bindParameters, int[] resultFormats, long memoryLimit, int extraFloatDigits) {
        super(session, shards);
        this.plan = plan;
        this.sql = sql;
        this.parameterTypes = parameterTypes;
        this.bindParameters = bindParameters;
        this.resultFormats = resultFormats;
        this.memoryLimit = memoryLimit;
        this.extraFloatDigits = extraFloatDigits;
        this.shapes = new RowShape[shards.length];
        this.queues = new ArrayDeque[shards.length];
        for (int i = 0; i < shards.length; i++) {
            queues[i] = new ArrayDeque<>();
        }
        this.complete = new boolean[shards.length];
        this.paused = new boolean[shards.length];
    }

    /** The Bind message's parameter section and result formats, for a ShardedSelect. */
    record ClientBind(byte[] parameters, int[] resultFormats) {

        static ClientBind of(ByteBuf buf, int offset, int length) {
            int end = offset + length;
            int pos = buf.indexOf(offset + 5, end, (byte) 0) + 1;
            pos = buf.indexOf(pos, end, (byte) 0) + 1;
            int start = pos;
            int formats = buf.getUnsignedShort(pos);
            pos += 2 + 2 * formats;
            int n = buf.getUnsignedShort(pos);
            pos += 2;
            for (int i = 0; i < n; i++) {
                int len = buf.getInt(pos);
                pos += 4 + Math.max(len, 0);
            }
            byte[] parameters = new byte[pos - start];
            buf.getBytes(start, parameters);
            int r = buf.getUnsignedShort(pos);
            int[] result = new int[r];
            for (int i = 0; i < r; i++) {
                result[i] = buf.getUnsignedShort(pos + 2 + 2 * i);
            }
            return new ClientBind(parameters, result);
        }

        static final ClientBind QUERY = new ClientBind(new byte[] {0, 0, 0, 0}, new int[0]);
    }

    // -- the steps ----------------------------------------------------------------------------

    @Override
    void begin() {
        linked = true;
        if (!isExtended() || executeSeen) {
            run();
        }
    }

    @Override
    void onExecute(int maxRows) {
        executeSeen = true;
        if (maxRows != 0) {
            refusal = new PgException(SqlState.FEATURE_NOT_SUPPORTED, "a cross-shard SELECT is read whole: an Execute "
                + "with a row limit (a fetch size) is not supported", "Leave the fetch size unset for this query, or name "
                + "the sharding key.", false);
        }
        if (linked && step == 0) {
            run();
        }
    }

    @Override
    boolean batchWaits() {
        return true;
    }

    private void run() {
        if (refusal != null) {
            fail(refusal);
            finishWithError(false);
            return;
        }
        try {
            params = BindValues.decode(bindParameters, parameterTypes);
            offset = bound(plan.offset(), "OFFSET", SqlState.INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE, 0);
            limit = bound(plan.limit(), "LIMIT", SqlState.INVALID_ROW_COUNT_IN_LIMIT_CLAUSE, -1);
        } catch (PgException e) {
            fail(e);
            finishWithError(false);
            return;
        } catch (MergeException e) {
            fail(GroupMerge.asPg(e));
            finishWithError(false);
            return;
        }
        if (plan.grouped() || !plan.unknownFunctions().isEmpty()) {
            step = DESCRIBE;
            ServerConnection c = conns[0];
            ByteBuf out = c.alloc(sql.length() * 3 + 256);
            if (!plan.unknownFunctions().isEmpty()) {
                StringBuilder check = new StringBuilder("SELECT string_agg(DISTINCT proname, ', ') FROM pg_catalog.pg_proc "
                    + "WHERE prokind = 'a' AND proname IN (");
                int n = 0;
                for (String f : plan.unknownFunctions()) {
                    check.append(n++ == 0 ? "'" : ", '").append(f.replace("'", "''")).append('\'');
                }
                check.append(')');
                ExtendedMessages.parse(out, "", check.toString(), new byte[] {0, 0});
                bind(out, new byte[] {0, 0, 0, 0}, new int[0]);
                execute(out);
            }
            ExtendedMessages.parse(out, "", sql, parameterTypes);
            ExtendedMessages.describeStatement(out, "");
            sync(out, 0);
            return;
        }
        runShards();
    }

    private void runShards() {
        step = RUN;
        int[] formats = shardFormats();
        for (int i = 0; i < conns.length; i++) {
            ServerConnection c = conns[i];
            ByteBuf out = c.alloc(plan.shardSql().length() * 3 + bindParameters.length + 64);
            ExtendedMessages.parse(out, "", plan.shardSql(), parameterTypes);
            bind(out, bindParameters, formats);
            out.writeByte(PgProtocol.DESCRIBE_REQUEST).writeInt(6).writeByte('P').writeByte(0);
            execute(out);
            sync(out, i);
        }
    }

    private static void bind(ByteBuf out, byte[] parameters, int[] formats) {
        int at = out.writerIndex();
        out.writeByte(PgProtocol.BIND_REQUEST).writeInt(0).writeByte(0).writeByte(0);
        out.writeBytes(parameters);
        if (formats == null) {
            out.writeShort(0);
        } else {
            out.writeShort(formats.length);
            for (int f : formats) {
                out.writeShort(f);
            }
        }
        out.setInt(at + 1, out.writerIndex() - at - 1);
    }

    private static void execute(ByteBuf out) {
        out.writeByte(PgProtocol.EXECUTE_REQUEST).writeInt(9).writeByte(0).writeInt(0);
    }

    private void sync(ByteBuf out, int i) {
        out.writeByte(PgProtocol.SYNC_REQUEST).writeInt(4);
        ServerConnection c = conns[i];
        c.extendedSent();
        c.requestSent();
        addOwed(1);
        c.write(out);
        c.flush();
    }

    /**
     * The shards' result formats: the client's for its columns; for the merge's own columns binary
     * when the client gave a code per column (the client's format for a grouped plan's plain
     * columns and min/max, whose bytes go to the client as they are).
     */
    private int[] shardFormats() {
        if (resultFormats.length <= 1) {
            return resultFormats;
        }
        if (!plan.grouped()) {
            int[] f = java.util.Arrays.copyOf(resultFormats, resultFormats.length + plan.hiddenColumns());
            java.util.Arrays.fill(f, resultFormats.length, f.length, 1);
            return f;
        }
        int columns = 0;
        for (Output o : plan.outputs()) {
            for (int p : o.partials()) {
                columns = Math.max(columns, p + 1);
            }
        }
        int[] f = new int[columns];
        java.util.Arrays.fill(f, 1);
        for (int i = 0; i < plan.visibleOutputs() && i < resultFormats.length; i++) {
            Output o = plan.outputs().get(i);
            if (o.aggregate() == null || (!o.distinct() && (o.aggregate() == dev.pgfleet.router.merge.Aggregate.MIN
                || o.aggregate() == dev.pgfleet.router.merge.Aggregate.MAX))) {
                f[o.partials()[0]] = resultFormats[i];
            }
        }
        return f;
    }

    /** The client's format for its column {@code i}. */
    private int clientFormat(int i) {
        return resultFormats.length == 0 ? 0 : resultFormats.length == 1 ? resultFormats[0]
            : i < resultFormats.length ? resultFormats[i] : 0;
    }

    private long bound(Bound b, String what, String sqlState, long absent) {
        if (b == null) {
            return absent;
        }
        long v;
        if (b.param() == 0) {
            v = b.constant();
        } else {
            Object p = b.param() <= params.length ? params[b.param() - 1] : null;
            if (p == null) {
                return absent;   // LIMIT NULL: no limit; OFFSET NULL: none
            }
            v = p instanceof Number n ? n.longValue() : Long.parseLong(p.toString().trim());
        }
        if (v < 0) {
            throw new PgException(sqlState, what + " must not be negative", null, false);
        }
        return v;
    }

    // -- the shards' messages -------------------------------------------------------------------

    @Override
    void message(int i, byte type, ByteBuf buf, int offset, int length) {
        if (failed()) {
            return;
        }
        try {
            if (step == DESCRIBE) {
                describeMessage(type, buf, offset, length);
            } else {
                runMessage(i, type, buf, offset, length);
            }
        } catch (PgException e) {
            abandon(e);
        } catch (MergeException e) {
            abandon(GroupMerge.asPg(e));
        }
    }

    private void describeMessage(byte type, ByteBuf buf, int offset, int length) {
        switch (type) {
            case PgProtocol.PARAMETER_DESCRIPTION_RESPONSE -> {
                byte[] types = new byte[length - 5];
                buf.getBytes(offset + 5, types);
                parameterTypes = types;
            }
            case PgProtocol.ROW_DESCRIPTION_RESPONSE -> original = RowShape.read(buf, offset, length);
            case PgProtocol.NO_DATA_RESPONSE -> original = RowShape.empty();
            case PgProtocol.DATA_ROW_RESPONSE -> {
                int len = buf.getInt(offset + 7);
                if (len >= 0) {
                    userAggregates = buf.toString(offset + 11, len, StandardCharsets.UTF_8);
                }
            }
            default -> {
            }
        }
    }

    private void runMessage(int i, byte type, ByteBuf buf, int offset, int length) {
        switch (type) {
            case PgProtocol.ROW_DESCRIPTION_RESPONSE -> described(i, RowShape.read(buf, offset, length));
            case PgProtocol.DATA_ROW_RESPONSE -> row(i, ShardRow.of(buf, offset, length));
            case PgProtocol.COMMAND_COMPLETE_RESPONSE -> {
                complete[i] = true;
                if (!plan.orderBy().isEmpty() && !plan.grouped()) {
                    drain();
                }
            }
            default -> {
            }
        }
    }

    private void described(int i, RowShape s) {
        shapes[i] = s;
        if (shape == null) {
            shape = s;
            prepare();
            return;
        }
        int d = shape.firstDifference(s);
        if (d >= 0) {
            throw new PgException(SqlState.DATATYPE_MISMATCH, "the shards answer a cross-shard query with different "
                + "columns: column " + (d + 1) + (d < s.columns() && d < shape.columns() ? " is " + PgValues.typeName(s.types[d])
                + " on shard " + shards[i] + " and " + PgValues.typeName(shape.types[d]) + " on shard " + shards[indexOfShape()]
                : " is missing on one shard"), null, false);
        }
    }

    private int indexOfShape() {
        for (int k = 0; k < shapes.length; k++) {
            if (shapes[k] == shape) {
                return k;
            }
        }
        return 0;
    }

    /** The first RowDescription: what the merge reads of each row. */
    private void prepare() {
        if (plan.grouped()) {
            int[] formats = new int[plan.visibleOutputs()];
            for (int k = 0; k < formats.length; k++) {
                formats[k] = clientFormat(k);
            }
            groups = new GroupMerge(plan, shape, original, formats, extraFloatDigits, memoryLimit);
            return;
        }
        visible = shape.columns() - plan.hiddenColumns();
        List<SortKey> order = plan.orderBy();
        sortColumns = new int[order.size()];
        for (int k = 0; k < sortColumns.length; k++) {
            int c = order.get(k).column();
            sortColumns[k] = c >= 0 ? c : shape.columns() + c;
            int t = shape.types[sortColumns[k]];
            if (!PgValues.known(t)) {
                throw new PgException(SqlState.FEATURE_NOT_SUPPORTED, "cannot merge ORDER BY column \""
                    + shape.name(sortColumns[k]) + "\" across shards: PgFleet does not compare type " + PgValues.typeName(t),
                    "Name the sharding key, or order by a column of a type PgFleet compares (integers, numeric, floats, "
                        + "text, dates and timestamps, uuid, bool).", false);
            }
        }
        if (plan.distinct() || !plan.distinctOn().isEmpty() && order.isEmpty()) {
            seen = new HashSet<>();
        }
        writeHeader();
    }

    private void writeHeader() {
        if (headerSent) {
            return;
        }
        headerSent = true;
        ByteBuf out = session.channel.alloc().buffer(256);
        if (isExtended()) {
            out.writeByte(PgProtocol.BIND_COMPLETE_RESPONSE).writeInt(4);
        }
        if (described()) {
            if (plan.grouped()) {
                int[] formats = new int[original.columns()];
                for (int k = 0; k < formats.length; k++) {
                    formats[k] = clientFormat(k);
                }
                original.write(out, original.columns(), formats);
            } else {
                shape.write(out, visible, null);
            }
        }
        session.writeClient(out);
        session.clientNeedsFlush = true;
    }

    private void row(int i, ShardRow r) {
        if (plan.grouped()) {
            try {
                groups.add(r);
            } finally {
                r.release();
            }
            return;
        }
        if (limit >= 0 && sent >= limit) {
            r.release();   // the client has all its rows; the shard's LIMIT bounds what still comes
            return;
        }
        if (plan.orderBy().isEmpty()) {
            emit(r);
            return;
        }
        queues[i].add(r);
        flow(i);
        drain();
    }

    /** The ORDER BY merge: rows go while every shard still sending has one waiting. */
    private void drain() {
        while (!failed()) {
            int best = -1;
            for (int k = 0; k < queues.length; k++) {
                ShardRow head = queues[k].peek();
                if (head == null) {
                    if (!complete[k]) {
                        return;   // this shard's next row may come first
                    }
                    continue;
                }
                if (best < 0 || compare(head, queues[best].peek()) < 0) {
                    best = k;
                }
            }
            if (best < 0) {
                return;
            }
            ShardRow r = queues[best].poll();
            flow(best);
            if (limit >= 0 && sent >= limit) {
                r.release();
                continue;
            }
            emit(r);
        }
    }

    private int compare(ShardRow a, ShardRow b) {
        Object[] x = sortValues(a);
        Object[] y = sortValues(b);
        List<SortKey> order = plan.orderBy();
        for (int k = 0; k < x.length; k++) {
            SortKey key = order.get(k);
            int c;
            if (x[k] == null || y[k] == null) {
                c = x[k] == y[k] ? 0 : (x[k] == null) == key.nullsFirst() ? -1 : 1;
            } else {
                c = PgValues.compare(shape.types[sortColumns[k]], x[k], y[k]);
                if (key.descending()) {
                    c = -c;
                }
            }
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    private Object[] sortValues(ShardRow r) {
        if (r.sortValues == null) {
            Object[] v = new Object[sortColumns.length];
            for (int k = 0; k < v.length; k++) {
                int c = sortColumns[k];
                v[k] = r.value(c, shape.types[c], shape.formats[c] == 1);
            }
            r.sortValues = v;
        }
        return r.sortValues;
    }

    /** A merged row: DISTINCT, DISTINCT ON, OFFSET and LIMIT, then to the client without the hidden columns. */
    private void emit(ShardRow r) {
        try {
            if (!plan.distinctOn().isEmpty()) {
                Object[] on = keyOf(r, plan.distinctOn());
                if (seen != null) {
                    if (!remember(new ShardRow.Key(on), r)) {
                        return;
                    }
                } else {
                    if (lastDistinctOn != null && java.util.Arrays.equals(lastDistinctOn, on)) {
                        return;
                    }
                    lastDistinctOn = on;
                }
            } else if (plan.distinct()) {
                Integer[] all = new Integer[visible];
                for (int k = 0; k < visible; k++) {
                    all[k] = k;
                }
                if (!remember(new ShardRow.Key(keyOf(r, List.of(all))), r)) {
                    return;
                }
            }
            if (skipped < offset) {
                skipped++;
                return;
            }
            session.writeClient(r.visible(session.channel.alloc(), visible));
            sent++;
            session.clientNeedsFlush = true;
            if (!session.clientWritable() && !clientPaused) {
                clientPaused = true;
                for (int k = 0; k < conns.length; k++) {
                    flow(k);
                }
            }
        } finally {
            r.release();
        }
    }

    private Object[] keyOf(ShardRow r, List<Integer> columns) {
        Object[] k = new Object[columns.size()];
        for (int j = 0; j < k.length; j++) {
            int c = columns.get(j);
            c = c >= 0 ? c : shape.columns() + c;
            int t = shape.types[c];
            k[j] = ShardRow.key(PgValues.known(t) ? r.value(c, t, shape.formats[c] == 1) : null, r.bytes(c));
        }
        return k;
    }

    private boolean remember(ShardRow.Key key, ShardRow r) {
        if (!seen.add(key)) {
            return false;
        }
        memory += 64 + r.message.readableBytes();
        if (memory > memoryLimit) {
            throw overMemory(memoryLimit, "DISTINCT");
        }
        return true;
    }

    @Override
    public void clientWritable() {
        if (!clientPaused) {
            return;
        }
        clientPaused = false;
        for (int k = 0; k < conns.length; k++) {
            flow(k);
        }
    }

    /**
     * Reads shard {@code k} while the client drains and its queue of waiting rows is short; pauses
     * it otherwise (resumed below the low mark, so a pause is not undone row by row).
     */
    private void flow(int k) {
        ServerConnection c = conns[k];
        if (c == null || complete[k]) {
            return;
        }
        int waiting = queues[k].size();
        boolean run = !clientPaused && (paused[k] ? waiting < QUEUE_LOW : waiting <= QUEUE_HIGH);
        if (!run && !paused[k]) {
            paused[k] = true;
            c.socket().pause();
        } else if (run && paused[k]) {
            paused[k] = false;
            session.context.runOnContext(v -> {
                if (!paused[k] && conns[k] == c) {
                    c.socket().resume();
                }
            });
        }
    }

    static PgException overMemory(long limit, String what) {
        return new PgException(SqlState.OUT_OF_MEMORY, "cross-shard query needs more than cross_shard_memory_limit ("
            + (limit >= 1 << 20 && limit % (1 << 20) == 0 ? (limit >> 20) + " MB" : limit + " bytes")
            + ") of PgFleet's memory for " + what,
            "Raise cross_shard_memory_limit, narrow the query, or name the sharding key so that one shard answers.", false);
    }

    /** A failure of the merge (not of a shard): the client's error; the shards still at work are let go. */
    private void abandon(PgException e) {
        fail(e);
        for (int k = 0; k < conns.length; k++) {
            if (conns[k] != null && !complete[k]) {
                dropConnection(k);
            }
        }
    }

    @Override
    void shardFailed(int i) {
        for (int k = 0; k < conns.length; k++) {
            if (k != i && conns[k] != null && !complete[k]) {
                dropConnection(k);   // its work is not needed: closing ends it
            }
        }
    }

    @Override
    void stepDone() {
        if (failed()) {
            releaseRows();
            finishWithError(false);
            return;
        }
        if (step == DESCRIBE) {
            if (userAggregates != null) {
                fail(new PgException(SqlState.FEATURE_NOT_SUPPORTED, "aggregate " + userAggregates + " cannot be merged "
                    + "across shards: PgFleet merges only PostgreSQL's count, sum, min, max, avg, bool_and, bool_or, "
                    + "stddev and variance", "Name the sharding key so that one shard answers.", false));
                finishWithError(false);
                return;
            }
            runShards();
            return;
        }
        ByteBuf tail = session.channel.alloc().buffer(64);
        try {
            if (plan.grouped()) {
                if (shape == null) {
                    throw new PgException(SqlState.INTERNAL_ERROR, "no shard described the cross-shard query", null, false);
                }
                CompositeByteBuf rows = groups.rows(session.channel.alloc(), params, offset, limit);
                sent = rows.numComponents();
                writeHeader();
                session.writeClient(rows);
            }
        } catch (PgException e) {
            fail(e);
            tail.release();
            finishWithError(false);
            return;
        } catch (MergeException e) {
            fail(GroupMerge.asPg(e));
            tail.release();
            finishWithError(false);
            return;
        }
        BackendMessages.commandComplete(tail, "SELECT " + sent);
        complete(tail, false);
    }

    private void releaseRows() {
        for (ArrayDeque<ShardRow> q : queues) {
            ShardRow r;
            while ((r = q.poll()) != null) {
                r.release();
            }
        }
    }

    @Override
    void released() {
        releaseRows();
    }
}
