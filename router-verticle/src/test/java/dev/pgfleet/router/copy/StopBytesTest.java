package dev.pgfleet.router.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link StopBytes} against a byte-by-byte search, on random data with every byte value, from every offset. */
class StopBytesTest {

    @Test
    void findsTheFirstStopByteAsAByteByByteSearchDoes() {
        SplittableRandom random = new SplittableRandom(13);
        byte[][] stopSets = {{'\n'}, {'\n', '\r', '\t', '\\'}, {'"', '"'}, {(byte) 0xff, 0, (byte) 0x80, 0x7f}, {',', '"', '\r', '\n'}};
        for (byte[] stops : stopSets) {
            StopBytes finder = new StopBytes(stops);
            for (int round = 0; round < 200; round++) {
                byte[] data = new byte[random.nextInt(80)];
                for (int k = 0; k < data.length; k++) {
                    // mostly bytes that are not stops, so that a stop is often many bytes away
                    data[k] = random.nextInt(12) == 0 ? stops[random.nextInt(stops.length)] : (byte) random.nextInt(256);
                }
                ByteBuf direct = Unpooled.directBuffer(data.length + 3).writeZero(3).writeBytes(data);
                try {
                    for (int from = 3; from <= direct.writerIndex(); from++) {
                        int end = direct.writerIndex();
                        for (int to : new int[] {from, end, from + random.nextInt(end - from + 1)}) {
                            assertEquals(naive(direct, from, to, stops), finder.indexIn(direct, from, to), "from " + from + " to " + to);
                        }
                    }
                } finally {
                    direct.release();
                }
            }
        }
    }

    private static int naive(ByteBuf b, int from, int to, byte[] stops) {
        for (int i = from; i < to; i++) {
            for (byte s : stops) {
                if (b.getByte(i) == s) {
                    return i;
                }
            }
        }
        return -1;
    }
}
