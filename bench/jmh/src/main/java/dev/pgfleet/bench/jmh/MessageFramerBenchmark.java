package dev.pgfleet.bench.jmh;

import dev.pgfleet.shared.protocol.MessageFramer;
import dev.pgfleet.shared.protocol.PgProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The server-to-client direction of the data plane: {@link MessageFramer} framing a result set
 * and handing runs of DataRows to the listener, with the intercept table a server connection
 * uses (ReadyForQuery, ParameterStatus, ErrorResponse; see proxy-verticle's ServerConnection).
 *
 * <p>Target: zero bytes allocated per forwarded DataRow ({@code gc.alloc.rate.norm} with
 * {@code -prof gc}). The {@code dataRows*} benchmarks count one operation per DataRow
 * ({@link OperationsPerInvocation}), so their ns/op and B/op are per DataRow.
 *
 * <p>Buffers come from Netty's pooled direct allocator, as a socket read's do. Each invocation
 * feeds a retained duplicate (or slices) of a prebuilt stream, so what is measured is the
 * framer and the hand-off, not building the bytes. The listener forwards each run by releasing
 * it, where the proxy would write it to the client channel. Netty's leak detector is off in the
 * forked JVM: its sampled records would show up as allocations.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled", "-Xms512m", "-Xmx512m"})
public class MessageFramerBenchmark {

    /** Rows in the large result set (about 110 KiB of DataRows). */
    static final int ROWS = 1000;
    /** Socket-read size used to split the large result set (messages straddle reads). */
    static final int READ_SIZE = 8192;

    private ByteBuf selectOne;     // RowDescription, DataRow, CommandComplete, ReadyForQuery: pgbench -S
    private ByteBuf resultSet;     // RowDescription, ROWS x DataRow, CommandComplete, ReadyForQuery
    private MessageFramer framer;
    private CountingListener listener;

    /** Forwards a run by releasing it; reads the transaction status of ReadyForQuery. */
    static final class CountingListener implements MessageFramer.Listener {
        long forwardedBytes;
        byte txStatus;

        @Override
        public int onMessage(byte type, ByteBuf buf, int offset, int length) {
            if (type == PgProtocol.READY_FOR_QUERY_RESPONSE) {
                txStatus = buf.getByte(offset + 5);
            }
            return MessageFramer.FORWARD;
        }

        @Override
        public void forward(ByteBuf run) {
            forwardedBytes += run.readableBytes();
            run.release();
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        PooledByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
        selectOne = alloc.directBuffer();
        writeResult(selectOne, 1);
        resultSet = alloc.directBuffer();
        writeResult(resultSet, ROWS);
        listener = new CountingListener();
        framer = new MessageFramer(MessageFramer.Mode.MESSAGE, 64 * 1024 * 1024, listener);
        framer.intercept(PgProtocol.READY_FOR_QUERY_RESPONSE, true);
        framer.intercept(PgProtocol.PARAMETER_STATUS_RESPONSE, true);
        framer.intercept(PgProtocol.ERROR_RESPONSE, true);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        framer.close();
        selectOne.release();
        resultSet.release();
    }

    /**
     * Baseline: what each invocation costs before the framer sees anything (the retained
     * duplicate that stands for a socket read, and its release). Subtract it from selectOneRow.
     */
    @Benchmark
    public int baselineReadBuffer() {
        ByteBuf read = selectOne.retainedDuplicate();
        int n = read.readableBytes();
        read.release();
        return n;
    }

    /**
     * Baseline plus the one retained slice the framer hands to {@code forward} per run: the
     * least a zero-copy framer can allocate per read.
     */
    @Benchmark
    public int baselineReadAndForwardSlice() {
        ByteBuf read = selectOne.retainedDuplicate();
        ByteBuf run = read.retainedSlice(read.readerIndex(), read.readableBytes());
        int n = run.readableBytes();
        run.release();
        read.release();
        return n;
    }

    /** One pgbench -S answer (4 messages, one DataRow) in one read. */
    @Benchmark
    public long selectOneRow() {
        framer.feed(selectOne.retainedDuplicate());
        return listener.forwardedBytes;
    }

    /** A 1000-row result set arriving in one read; per DataRow. */
    @Benchmark
    @OperationsPerInvocation(ROWS)
    public long dataRowsOneRead() {
        framer.feed(resultSet.retainedDuplicate());
        return listener.forwardedBytes;
    }

    /**
     * The same result set in 8 KiB reads, so a DataRow straddles each boundary and is copied
     * into the carry buffer (the one copy the framer makes); per DataRow.
     */
    @Benchmark
    @OperationsPerInvocation(ROWS)
    public long dataRowsSplitReads(Blackhole bh) {
        int end = resultSet.writerIndex();
        for (int at = 0; at < end; at += READ_SIZE) {
            framer.feed(resultSet.retainedSlice(at, Math.min(READ_SIZE, end - at)));
        }
        bh.consume(listener.txStatus);
        return listener.forwardedBytes;
    }

    /** RowDescription (aid, bid, abalance, filler), rows DataRows, CommandComplete, ReadyForQuery. */
    static void writeResult(ByteBuf out, int rows) {
        String[] columns = {"aid", "bid", "abalance", "filler"};
        int at = out.writerIndex();
        out.writeByte(PgProtocol.ROW_DESCRIPTION_RESPONSE).writeInt(0).writeShort(columns.length);
        for (String c : columns) {
            out.writeBytes(c.getBytes(StandardCharsets.US_ASCII)).writeByte(0);
            out.writeInt(16400).writeShort(1).writeInt(23).writeShort(4).writeInt(-1).writeShort(0);
        }
        out.setInt(at + 1, out.writerIndex() - at - 1);
        byte[] filler = " ".repeat(84).getBytes(StandardCharsets.US_ASCII);
        for (int r = 0; r < rows; r++) {
            at = out.writerIndex();
            out.writeByte(PgProtocol.DATA_ROW_RESPONSE).writeInt(0).writeShort(columns.length);
            writeText(out, Integer.toString(r + 1));
            writeText(out, "1");
            writeText(out, "0");
            out.writeInt(filler.length).writeBytes(filler);
            out.setInt(at + 1, out.writerIndex() - at - 1);
        }
        at = out.writerIndex();
        out.writeByte(PgProtocol.COMMAND_COMPLETE_RESPONSE).writeInt(0);
        out.writeBytes(("SELECT " + rows).getBytes(StandardCharsets.US_ASCII)).writeByte(0);
        out.setInt(at + 1, out.writerIndex() - at - 1);
        out.writeByte(PgProtocol.READY_FOR_QUERY_RESPONSE).writeInt(5).writeByte(PgProtocol.TX_IDLE);
    }

    private static void writeText(ByteBuf out, String value) {
        byte[] b = value.getBytes(StandardCharsets.US_ASCII);
        out.writeInt(b.length).writeBytes(b);
    }
}
