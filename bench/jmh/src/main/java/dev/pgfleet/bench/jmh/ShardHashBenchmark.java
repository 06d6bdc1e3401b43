package dev.pgfleet.bench.jmh;

import dev.pgfleet.router.ShardHash;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * router-verticle's {@link ShardHash}: the shard (hash partition remainder, PostgreSQL's
 * {@code PARTITION BY HASH}) of a key, for 8 shards. Keys are read from a prebuilt array in turn,
 * so nothing is constant-folded; reading the array is part of each operation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
public class ShardHashBenchmark {

    static final int KEYS = 1024;
    static final int SHARDS = 8;

    private long[] bigints;
    /** Text keys like "customer-0000012345" (19 bytes: one 12-byte chunk and a 7-byte tail). */
    private String[] texts;
    private byte[][] textBytes;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom random = new SplittableRandom(7);
        bigints = new long[KEYS];
        texts = new String[KEYS];
        textBytes = new byte[KEYS][];
        for (int i = 0; i < KEYS; i++) {
            bigints[i] = random.nextLong();
            texts[i] = String.format("customer-%010d", random.nextLong(10_000_000_000L));
            textBytes[i] = texts[i].getBytes(StandardCharsets.UTF_8);
        }
    }

    private int nextIndex() {
        int i = next;
        next = (i + 1) & (KEYS - 1);
        return i;
    }

    /** A bigint key (also int, smallint): hashint8extended with the partition seed, hash_combine64, unsigned modulo. */
    @Benchmark
    public int bigint() {
        return ShardHash.bigintRemainder(bigints[nextIndex()], SHARDS);
    }

    /** A text key already as UTF-8 bytes (as a Bind parameter in text format is): hash_bytes_extended. */
    @Benchmark
    public int textUtf8() {
        byte[] key = textBytes[nextIndex()];
        return ShardHash.textRemainder(key, 0, key.length, SHARDS);
    }

    /** A text key as a String: encoded to UTF-8 first (allocates the bytes). */
    @Benchmark
    public int textString() {
        return ShardHash.textRemainder(texts[nextIndex()], SHARDS);
    }
}
