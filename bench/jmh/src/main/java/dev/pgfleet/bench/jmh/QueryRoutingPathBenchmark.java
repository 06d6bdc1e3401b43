package dev.pgfleet.bench.jmh;

import dev.pgfleet.router.QueryClassifier;
import dev.pgfleet.router.Route;
import dev.pgfleet.shared.protocol.ExtendedMessages;
import dev.pgfleet.shared.protocol.FrontendMessages;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Classification as the proxy calls it (proxy-verticle's {@code ClientSession.routeFor}, with
 * read/write splitting on): the SQL is decoded from the client's message into a new
 * {@link String} ({@code ExtendedMessages.queryText} for a Query, {@code decodeParse} for a Parse),
 * then classified through the cache. The String is new each time, so its hash is computed again
 * (a cache hit still reads the whole text twice: hash and equals).
 *
 * <p>{@code asciiView} is not what the proxy does: it classifies a {@link CharSequence} over the
 * message bytes (no decoding, no String), to show what avoiding the decode would save. Such a
 * view is only right for ASCII text.
 *
 * <p>Messages are in a pooled direct buffer, as a socket read's are. The cache holds the text
 * (warmed in setup), so every classification is a hit.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled", "-Xms512m", "-Xmx512m"})
public class QueryRoutingPathBenchmark {

    @Param({"pgbenchSelect", "ormSelectJoins", "cteWrite"})
    public String query;

    private QueryClassifier classifier;
    private ByteBuf queryMessage;
    private ByteBuf parseMessage;
    private AsciiView view;

    /** The bytes of a message's text as chars, one per byte (right for ASCII only). */
    static final class AsciiView implements CharSequence {
        private final ByteBuf buf;
        private final int start;
        private final int length;

        AsciiView(ByteBuf buf, int start, int length) {
            this.buf = buf;
            this.start = start;
            this.length = length;
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public char charAt(int index) {
            return (char) (buf.getByte(start + index) & 0xFF);
        }

        @Override
        public CharSequence subSequence(int from, int to) {
            return new AsciiView(buf, start + from, to - from);
        }

        @Override
        public String toString() {
            return buf.toString(start, length, java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        String sql = Queries.sql(query);
        classifier = QueryClassifier.create();
        classifier.classify(sql);
        queryMessage = PooledByteBufAllocator.DEFAULT.directBuffer();
        FrontendMessages.query(queryMessage, sql);
        parseMessage = PooledByteBufAllocator.DEFAULT.directBuffer();
        // A named statement with untyped parameters, as pgjdbc sends once it prepares server-side.
        ExtendedMessages.parse(parseMessage, "S_1", sql, new byte[] {0, 0});
        // Query: type, int32 length, then the text and its NUL.
        view = new AsciiView(queryMessage, 5, queryMessage.readableBytes() - 6);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        queryMessage.release();
        parseMessage.release();
    }

    /** Baseline: decoding the text of a Query message (a new String, and the int[] the reader uses). */
    @Benchmark
    public String decodeQueryText() {
        return ExtendedMessages.queryText(queryMessage, 0, queryMessage.readableBytes());
    }

    /** Simple protocol: what routeFor does for a Query. */
    @Benchmark
    public Route simpleQuery() {
        String sql = ExtendedMessages.queryText(queryMessage, 0, queryMessage.readableBytes());
        return classifier.classify(sql).effectiveRoute();
    }

    /** Extended protocol: what routeFor does for a Parse (the name, text and parameter types are all decoded). */
    @Benchmark
    public Route parse() {
        String sql = ExtendedMessages.decodeParse(parseMessage, 0, parseMessage.readableBytes()).query();
        return classifier.classify(sql).effectiveRoute();
    }

    /** Not the proxy's path: the cache looked up with a view over the bytes, nothing decoded. */
    @Benchmark
    public Route asciiView() {
        return classifier.classify(view).effectiveRoute();
    }
}
