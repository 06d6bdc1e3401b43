package dev.pgfleet.shared.health;

import dev.pgfleet.shared.config.ServerRole;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class HealthSnapshotCodecTest {

    static HealthSnapshot sample() {
        ServerKey p = new ServerKey("10.0.0.1", 5432);
        ServerKey r = new ServerKey("10.0.0.2", 5433);
        Instant t = Instant.parse("2026-01-01T00:00:00.123Z");
        ShardHealth shard = new ShardHealth("app", 0, "app", Optional.of(p), true, List.of(
                new ServerHealth(p, ServerRole.AUTO, true, false, Optional.of("0/3000060"), 0, 0, t, Optional.empty()),
                new ServerHealth(r, ServerRole.REPLICA, false, false, Optional.empty(), -1, -1, t,
                        Optional.of("Connection refused"))), List.of(), List.of(), List.of(r));
        return new HealthSnapshot(7, t, Map.of("app", List.of(shard)),
                Map.of(r, new Ban(r, t, t.plusSeconds(60), "health check failed")));
    }

    @Test
    void wireRoundTrip() {
        HealthSnapshotCodec codec = new HealthSnapshotCodec();
        HealthSnapshot s = sample();
        Buffer wire = Buffer.buffer("xx"); // the event bus writes after its own header
        codec.encodeToWire(wire, s);
        assertEquals(s, codec.decodeFromWire(2, wire));
        assertEquals("pgfleet.health.snapshot.v1", codec.name());
        assertEquals(-1, codec.systemCodecID());
    }

    @Test
    void localDeliveryKeepsTheInstance() {
        HealthSnapshot s = sample();
        assertSame(s, new HealthSnapshotCodec().transform(s));
    }

    @Test
    void unknownFormatFailsLoudly() {
        Buffer wire = Buffer.buffer().appendByte((byte) 2).appendInt(2).appendString("{}");
        assertThrows(IllegalStateException.class, () -> new HealthSnapshotCodec().decodeFromWire(0, wire));
    }
}
