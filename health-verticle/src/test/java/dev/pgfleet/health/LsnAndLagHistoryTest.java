package dev.pgfleet.health;

import dev.pgfleet.shared.health.ServerHealth;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LsnAndLagHistoryTest {

    static final long MS = 1_000_000;

    @Test
    void parsesPgLsnText() {
        assertEquals(0x16_B374_D848L, Lsn.parse("16/B374D848"));
        assertEquals(0, Lsn.parse("0/0"));
        assertEquals(0xFFFF_FFFF_0000_0001L, Lsn.parse("FFFFFFFF/1"));
        assertEquals(Lsn.UNKNOWN, Lsn.parse(null));
        assertEquals("16/B374D848", Lsn.format(Lsn.parse("16/b374d848")));
        assertThrows(IllegalArgumentException.class, () -> Lsn.parse("16B374D848"));
        assertThrows(IllegalArgumentException.class, () -> Lsn.parse("/1"));
        assertThrows(NumberFormatException.class, () -> Lsn.parse("0/xyz"));
    }

    @Test
    void bytesBehindAsPgWalLsnDiff() {
        // pg_wal_lsn_diff('1/0', '0/FFFFFF00') = 256
        assertEquals(256, Lsn.bytesBehind(Lsn.parse("1/0"), Lsn.parse("0/FFFFFF00")));
        assertEquals(0, Lsn.bytesBehind(Lsn.parse("0/10"), Lsn.parse("0/20")), "ahead is not behind");
        assertEquals(Lsn.UNKNOWN, Lsn.bytesBehind(Lsn.UNKNOWN, 5));
    }

    @Test
    void timeBehindFromThePrimarysHistory() {
        LagHistory h = new LagHistory();
        assertEquals(ServerHealth.UNKNOWN, h.millisBehind(100, 0));
        h.record(100, 0);
        h.record(100, 1_000 * MS); // idle primary: the first time it was seen there counts
        h.record(200, 2_000 * MS);
        h.record(300, 3_000 * MS);
        assertEquals(0, h.millisBehind(300, 10_000 * MS), "caught up, however long the primary idles");
        assertEquals(0, h.millisBehind(400, 10_000 * MS));
        assertEquals(7_000, h.millisBehind(250, 10_000 * MS), "missing WAL the primary had at 3 s");
        assertEquals(8_000, h.millisBehind(100, 10_000 * MS));
        assertEquals(10_000, h.millisBehind(50, 10_000 * MS));
    }

    @Test
    void historyRestartsWhenThePrimaryGoesBackwards() {
        LagHistory h = new LagHistory();
        h.record(1_000, 0);
        h.record(10, 5_000 * MS); // another server, or restored
        assertEquals(10, h.lastLsn());
        assertEquals(1_000, h.millisBehind(5, 6_000 * MS));
    }

    @Test
    void boundedHistory() {
        LagHistory h = new LagHistory();
        for (int i = 1; i <= LagHistory.CAPACITY + 10; i++) {
            h.record(i, i * MS);
        }
        assertEquals(LagHistory.CAPACITY + 10, h.lastLsn());
        // The oldest samples were dropped: behind all of them means at least the oldest kept.
        assertEquals(10_000 - 11, h.millisBehind(1, 10_000 * MS));
    }
}
