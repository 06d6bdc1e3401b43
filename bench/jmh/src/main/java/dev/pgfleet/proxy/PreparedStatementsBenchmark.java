package dev.pgfleet.proxy;

import dev.pgfleet.bench.jmh.Queries;
import dev.pgfleet.shared.config.ServerTlsMode;
import dev.pgfleet.shared.protocol.ExtendedMessages;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
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

/**
 * Prepared statements in transaction mode: the pool's {@link PreparedStatements} (client's text
 * and parameter types to the statement every client shares, at each named Parse) and a server
 * connection's LRU of the statements it holds ({@link ServerConnection#hasPrepared} at each
 * Parse, Bind and Describe of a named statement; {@link ServerConnection#addPrepared} when one
 * is prepared there).
 *
 * <p>In package {@code dev.pgfleet.proxy} of the bench module because both classes are
 * package-private. A ServerConnection cannot be built without a socket (its constructor takes
 * the socket's channel context), so the {@code server*} benchmarks open one loopback connection
 * in setup; the measured calls touch only the LRU, never the socket.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled", "-Xms512m", "-Xmx512m"})
public class PreparedStatementsBenchmark {

    /** Distinct texts per {@link #statementMiss} invocation (a fresh pool each time). */
    static final int MISS_BATCH = 1000;

    /** Two int4 parameters: the raw parameter-type bytes of a Parse (count, then OIDs). */
    static final byte[] TWO_INT4 = {0, 2, 0, 0, 0, 23, 0, 0, 0, 23};

    private PreparedStatements statements;
    private String hitQuery;
    private byte[] hitTypes;
    private ByteBuf parseMessage;
    private String[] missTexts;

    @Setup(Level.Trial)
    public void setUp() {
        statements = new PreparedStatements();
        // A pool that has seen the benchmark's texts and a few hundred others.
        for (String sql : Queries.BY_NAME.values()) {
            statements.statement(sql, TWO_INT4.clone());
        }
        for (int i = 0; i < 300; i++) {
            statements.statement("SELECT * FROM t" + i + " WHERE id = $1", TWO_INT4.clone());
        }
        hitQuery = Queries.sql("pgbenchUpdateAccounts");
        hitTypes = TWO_INT4.clone();
        parseMessage = PooledByteBufAllocator.DEFAULT.directBuffer();
        ExtendedMessages.parse(parseMessage, "S_1", hitQuery, TWO_INT4);
        missTexts = new String[MISS_BATCH];
        for (int i = 0; i < MISS_BATCH; i++) {
            missTexts[i] = "SELECT abalance FROM pgbench_accounts WHERE aid = $1 AND " + i + " = " + i;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        parseMessage.release();
    }

    /** A hit with the same String and byte[] every time (hash cached in the String). */
    @Benchmark
    public PreparedStatements.Statement statementHit() {
        return statements.statement(hitQuery, hitTypes);
    }

    /**
     * A hit as ClientSession.onParse makes it: the Parse decoded from the client's bytes (new name,
     * text and types), then the lookup, which hashes the new text.
     */
    @Benchmark
    public PreparedStatements.Statement parseThenStatementHit() {
        ExtendedMessages.Parse parse = ExtendedMessages.decodeParse(parseMessage, 0, parseMessage.readableBytes());
        return statements.statement(parse.query(), parse.parameterTypes());
    }

    /**
     * A miss: a text the pool has not seen gets a new server-side name and goes into the map. Per
     * text, over a fresh pool of {@value #MISS_BATCH} texts (its creation and growth included).
     */
    @Benchmark
    @OperationsPerInvocation(MISS_BATCH)
    public int statementMiss() {
        PreparedStatements fresh = new PreparedStatements();
        for (String sql : missTexts) {
            fresh.statement(sql, TWO_INT4);
        }
        return fresh.size();
    }

    /**
     * One server connection whose LRU is full at the default {@code prepared_statements_cache_size}
     * (names {@code pgfleet_0} to {@code pgfleet_<size-1>}); names cycle over twice that many.
     */
    @State(Scope.Thread)
    public static class Server {
        int capacity;
        String[] names;
        /** Next name to look up: cycles over the names the LRU holds. */
        int nextHit;
        /** Next name to add: cycles over all names, so each add is new to the LRU. */
        int nextAdd;
        Vertx vertx;
        ServerConnection conn;

        @Setup(Level.Trial)
        public void setUp() {
            capacity = ProxyRuntime.DEFAULT_PREPARED_STATEMENTS_CACHE_SIZE;
            names = new String[capacity * 2];
            for (int i = 0; i < names.length; i++) {
                names[i] = "pgfleet_" + i;
            }
            vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
            NetServer listener = vertx.createNetServer().connectHandler(s -> { });
            listener.listen(0, "127.0.0.1").await();
            NetSocket socket = vertx.createNetClient().connect(listener.actualPort(), "127.0.0.1").await();
            ServerTarget target = new ServerTarget("127.0.0.1", listener.actualPort(), "bench", "bench", null, ServerTlsMode.DISABLE);
            conn = new ServerConnection(vertx.getOrCreateContext(), socket, null, target, 1 << 20);
            for (int i = 0; i < capacity; i++) {
                conn.addPrepared(names[i], capacity);
            }
            nextAdd = capacity;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            vertx.close().await();
        }
    }

    /** A statement the connection has: found and moved to the most recently used end. */
    @Benchmark
    public boolean serverHasPreparedHit(Server s) {
        int i = s.nextHit;
        s.nextHit = i + 1 == s.capacity ? 0 : i + 1;
        return s.conn.hasPrepared(s.names[i]);
    }

    /** A statement the connection does not have (it will be prepared there first). */
    @Benchmark
    public boolean serverHasPreparedMiss(Server s) {
        return s.conn.hasPrepared("pgfleet_missing");
    }

    /** Recording a statement on a full connection: inserted, and the least recently used one evicted. */
    @Benchmark
    public String serverAddPreparedEvicting(Server s) {
        int i = s.nextAdd;
        s.nextAdd = i + 1 == s.names.length ? 0 : i + 1;
        return s.conn.addPrepared(s.names[i], s.capacity);
    }
}
