package dev.pgfleet.proxy.sharding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.Shards;
import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 14's memory bounds: a cross-shard ORDER BY over 1,000,000 rows holds a few rows per shard
 * (LIMIT 10, and the whole sorted stream read by a client that keeps nothing), and a GROUP BY
 * past cross_shard_memory_limit fails with 53200 and leaves the connection usable.
 */
@org.junit.jupiter.api.TestInstance(org.junit.jupiter.api.TestInstance.Lifecycle.PER_CLASS)
class CrossShardMemoryTest {
    private static final int ROWS = 1_000_000;
    private final Shards shards = TestPostgres.shards();
    private ShardedProxy proxy;

    @org.junit.jupiter.api.BeforeAll
    void setUp() throws SQLException {
        TestPostgres.reset();
        for (int s = 0; s < shards.size(); s++) {
            ShardedProxy.sql(shards.get(s),
                "CREATE TABLE big (id bigint, v bigint, pad text)",
                "CREATE TABLE pt (id bigint) PARTITION BY HASH (id)",
                "GRANT ALL ON big, pt TO " + TestUsers.SCRAM_USER,
                "INSERT INTO big SELECT g, (g::bigint * 7919) % " + ROWS + ", repeat('x', 40) FROM generate_series(1, " + ROWS + ") g"
                    + " WHERE satisfies_hash_partition('pt'::regclass, " + shards.size() + ", " + s + ", g::bigint)",
                "CREATE INDEX ON big (v)",
                "ANALYZE big");
        }
        proxy = ShardedProxy.start(shards, "transaction", "cross_shard_memory_limit = \"8MB\"", """
            [[pools.sharded.sharded_tables]]
            name = "big"
            column = "id"
            type = "bigint"
            """, 2);
    }

    @org.junit.jupiter.api.AfterAll
    void tearDown() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void orderByLimitOverAMillionRows() throws SQLException {
        long before = usedHeap();
        try (Connection c = proxy.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT v, id FROM big ORDER BY v DESC, id LIMIT 10")) {
            List<Long> got = new ArrayList<>();
            while (rs.next()) {
                got.add(rs.getLong(1));
            }
            List<Long> expected = new ArrayList<>();
            for (long v = ROWS - 1; expected.size() < 10; v--) {
                expected.add(v);   // v = g * 7919 mod ROWS takes every value once (7919 is prime to ROWS)
            }
            assertEquals(expected, got);
        }
        assertTrue(usedHeap() - before < 16 << 20, "heap grew by " + ((usedHeap() - before) >> 20) + " MB");
    }

    @Test
    void wholeSortedStreamHoldsFewRows() throws Exception {
        long baseline = usedHeap();
        long maxGrowth = 0;
        long rows = 0;
        long last = Long.MIN_VALUE;
        try (Socket s = new Socket("127.0.0.1", proxy.port)) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(s.getInputStream(), 1 << 16));
            RawClient.startup(out, in, ShardedProxy.POOL);
            RawClient.query(out, "SELECT v FROM big ORDER BY v");
            while (true) {
                byte type = in.readByte();
                int len = in.readInt();
                byte[] body = new byte[len - 4];
                in.readFully(body);
                if (type == 'D') {
                    long v = Long.parseLong(new String(body, 6, body.length - 6, StandardCharsets.US_ASCII));
                    assertTrue(v >= last, "sorted");
                    last = v;
                    if (++rows % 200_000 == 0) {
                        maxGrowth = Math.max(maxGrowth, usedHeap() - baseline);
                    }
                } else if (type == 'E') {
                    throw new AssertionError("error: " + new String(body, StandardCharsets.UTF_8));
                } else if (type == 'Z') {
                    break;
                }
            }
        }
        assertEquals(ROWS, rows);
        // 1,000,000 rows of ~60 bytes held would be well over 100 MB on the heap.
        assertTrue(maxGrowth < 32 << 20, "heap grew by " + (maxGrowth >> 20) + " MB during the stream");
    }

    @Test
    void groupByPastTheLimitGets53200() throws SQLException {
        try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
            SQLException e = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                () -> st.executeQuery("SELECT v, count(*) FROM big GROUP BY v"));
            assertEquals("53200", e.getSQLState(), e.getMessage());
            assertTrue(e.getMessage().contains("cross_shard_memory_limit (8 MB)"), e.getMessage());
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM big")) {
                rs.next();
                assertEquals(ROWS, rs.getLong(1));
            }
        }
    }

    private static long usedHeap() {
        for (int i = 0; i < 2; i++) {
            System.gc();
        }
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }
}
