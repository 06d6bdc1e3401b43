package dev.pgfleet.shared.admin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** ProxyStats crosses the event bus as JSON: every field must come back as it went. */
class ProxyStatsJsonTest {

    private static ProxyStats sample() {
        long[] xactBuckets = new long[ProxyStats.DURATION_BUCKETS_MICROS.length + 1];
        long[] queryBuckets = new long[ProxyStats.DURATION_BUCKETS_MICROS.length + 1];
        xactBuckets[3] = 7;
        queryBuckets[16] = Long.MAX_VALUE - 1;   // past 2^53: must not go through a double
        ProxyStats.ServerPoolStats server = new ProxyStats.ServerPoolStats("127.0.0.1:5432", 0, "primary", 1, 2, 3, 4, 5,
            6, 7);
        ProxyStats.PoolStats pool = new ProxyStats.PoolStats("db", "alice", "transaction", true, false, 5, 1,
            10, 25, 3, 0, 0, 5, 0, 0, 1, 2, 0, 1, 123_456, 1000, 1001, 4004, 1L << 40, 99, 1_000_000, 2_000_000, 3,
            2030, 2031, 5000, 8, 1, 70, 30, 2, Map.of("28", 2L, "57", 1L), xactBuckets, queryBuckets, List.of(server));
        ProxyStats.ConnectionStats client = new ProxyStats.ConnectionStats(1, "C", "alice", "db", "active", "127.0.0.1",
            40000, "127.0.0.1", 6432, 1_700_000_000_000L, 1_700_000_000_500L, 0, false, 2, 77, "TLSv1.3/TLS_AES_128_GCM_SHA256",
            "psql", 3);
        ProxyStats.ConnectionStats srv = new ProxyStats.ConnectionStats(2, "S", "alice", "db", "active", "127.0.0.1", 5432,
            "127.0.0.1", 50000, 1_700_000_000_000L, 1_700_000_000_400L, 0, true, 1, 4242, "", "", 12);
        ProxyStats.StatementStats st = new ProxyStats.StatementStats("db", "alice", "pgfleet_1", "SELECT $1", List.of(23),
            4);
        return new ProxyStats("a1b2c3d4", 1_700_000_000_000L, 1_700_000_001_000L, true, false, true, 31, 100,
            List.of(pool), List.of(client), List.of(srv), List.of(st));
    }

    @Test
    void roundTripKeepsEveryField() {
        ProxyStats before = sample();
        JsonObject json = before.toJson();
        // Through the wire form too, as a clustered event bus carries it.
        ProxyStats after = ProxyStats.fromJson(new JsonObject(json.encode()));
        assertEquals(json, after.toJson());
        ProxyStats.PoolStats p = after.pools().get(0);
        assertEquals(123_456, p.maxWaitMicros());
        assertEquals(1L << 40, p.bytesReceived());
        assertEquals(2L, p.clientErrorsByClass().get("28"));
        assertArrayEquals(before.pools().get(0).xactDurationBuckets(), p.xactDurationBuckets());
        assertArrayEquals(before.pools().get(0).queryDurationBuckets(), p.queryDurationBuckets());
        assertEquals(before.pools().get(0).servers(), p.servers());
        assertEquals(before.clients(), after.clients());
        assertEquals(before.servers(), after.servers());
        assertEquals(before.statements(), after.statements());
        assertEquals("a1b2c3d4", after.instanceId());
        assertEquals(true, after.suspended());
    }

    @Test
    void fieldNamesAreTheRecordComponents() {
        JsonObject pool = sample().toJson().getJsonArray("pools").getJsonObject(0);
        assertEquals(25, pool.getInteger("clWaiting"));
        assertEquals(1001, pool.getLong("xacts"));
        assertEquals(17, pool.getJsonArray("xactDurationBuckets").size());
    }
}
