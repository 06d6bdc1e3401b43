package dev.pgfleet.shared.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Real message bytes fed whole, one byte at a time, and in odd fragments must give the
 * same frames and the same forwarded bytes.
 */
class MessageFramerTest {

    /** Records what the framer does: intercepted messages and forwarded runs, in order. */
    static final class Recorder implements MessageFramer.Listener {
        final List<String> intercepted = new ArrayList<>();
        final ByteArrayOutputStream forwarded = new ByteArrayOutputStream();
        final ByteArrayOutputStream all = new ByteArrayOutputStream();
        MessageFramer framer;
        int stopAt = -1;

        @Override
        public int onMessage(byte type, ByteBuf buf, int offset, int length) {
            if (intercepted.size() == stopAt) {
                stopAt = -1;
                return MessageFramer.STOP;
            }
            intercepted.add((char) type + ":" + length);
            byte[] bytes = new byte[length];
            buf.getBytes(offset, bytes);
            all.writeBytes(bytes);
            return type == 'Z' ? MessageFramer.CONSUME : MessageFramer.FORWARD;
        }

        @Override
        public void forward(ByteBuf run) {
            try {
                byte[] bytes = ByteBufUtil.getBytes(run);
                forwarded.writeBytes(bytes);
            } finally {
                run.release();
            }
        }
    }

    /** A backend exchange: RowDescription, DataRows (one large), CommandComplete, ReadyForQuery. */
    static byte[] backendBytes() {
        ByteBuf out = Unpooled.buffer();
        BackendMessages.rowDescriptionText(out, List.of("id", "label"));
        for (int i = 0; i < 50; i++) {
            BackendMessages.dataRowText(out, List.of(String.valueOf(i), "row-" + i));
        }
        BackendMessages.dataRowText(out, List.of("big", "x".repeat(70_000)));
        BackendMessages.commandComplete(out, "SELECT 51");
        BackendMessages.readyForQuery(out, PgProtocol.TX_IDLE);
        BackendMessages.parameterStatus(out, "application_name", "psql");
        BackendMessages.readyForQuery(out, PgProtocol.TX_IN_BLOCK);
        return ByteBufUtil.getBytes(out);
    }

    private static Recorder run(byte[] bytes, int[] fragments) {
        Recorder r = new Recorder();
        MessageFramer f = new MessageFramer(MessageFramer.Mode.MESSAGE, 1 << 20, r);
        r.framer = f;
        f.intercept((byte) 'Z', true).intercept((byte) 'S', true);
        int pos = 0;
        int i = 0;
        while (pos < bytes.length) {
            int n = Math.min(fragments[i++ % fragments.length], bytes.length - pos);
            ByteBuf in = Unpooled.directBuffer(n).writeBytes(bytes, pos, n);
            f.feed(in);
            assertEquals(0, in.refCnt(), "the framer releases what it is fed");
            pos += n;
        }
        assertEquals(0, f.buffered());
        return r;
    }

    @Test
    void sameFramesWholeByteByByteAndFragmented() {
        byte[] bytes = backendBytes();
        Recorder whole = run(bytes, new int[] {bytes.length});
        Recorder oneByte = run(bytes, new int[] {1});
        Recorder odd = run(bytes, new int[] {3, 7, 4096, 2, 65536, 5});
        for (Recorder r : List.of(oneByte, odd)) {
            assertEquals(whole.intercepted, r.intercepted);
            assertArrayEquals(whole.forwarded.toByteArray(), r.forwarded.toByteArray());
        }
        assertEquals(List.of("Z:6", "S:27", "Z:6"), whole.intercepted);
        // Everything but the two ReadyForQuery (consumed) is forwarded, in order.
        assertEquals(bytes.length - 12, whole.forwarded.size());
    }

    @Test
    void flushRunWithSendsTheRunAndTheMessageAsOneSliceWhenAdjacent() {
        ByteBuf out = Unpooled.buffer();
        BackendMessages.dataRowText(out, List.of("1"));
        BackendMessages.commandComplete(out, "SELECT 1");
        BackendMessages.readyForQuery(out, PgProtocol.TX_IDLE);
        byte[] bytes = ByteBufUtil.getBytes(out);
        List<Integer> slices = new ArrayList<>();
        MessageFramer[] framer = new MessageFramer[1];
        framer[0] = new MessageFramer(MessageFramer.Mode.MESSAGE, 1 << 20, new MessageFramer.Listener() {
            @Override
            public int onMessage(byte type, ByteBuf buf, int offset, int length) {
                framer[0].flushRunWith(buf, offset, length);
                return MessageFramer.CONSUME;
            }

            @Override
            public void forward(ByteBuf run) {
                slices.add(run.readableBytes());
                run.release();
            }
        });
        framer[0].intercept((byte) 'Z', true);
        framer[0].feed(Unpooled.wrappedBuffer(bytes));
        assertEquals(List.of(bytes.length), slices, "DataRow, CommandComplete and ReadyForQuery in one slice");
        // Not adjacent (the ReadyForQuery came in a read of its own): the run, then the message.
        slices.clear();
        framer[0].feed(Unpooled.wrappedBuffer(bytes, 0, bytes.length - 6));
        framer[0].feed(Unpooled.wrappedBuffer(bytes, bytes.length - 6, 6));
        assertEquals(List.of(bytes.length - 6, 6), slices);
    }

    @Test
    void startupPacketsOneByteAtATime() {
        ByteBuf out = Unpooled.buffer();
        FrontendMessages.sslRequest(out);
        FrontendMessages.startupMessage(out, Map.of("user", "alice", "database", "app"));
        byte[] bytes = ByteBufUtil.getBytes(out);
        Recorder r = new Recorder();
        MessageFramer f = new MessageFramer(MessageFramer.Mode.STARTUP, 1 << 20, r);
        for (byte b : bytes) {
            f.feed(Unpooled.buffer(1).writeByte(b));
        }
        assertEquals(List.of("\0:8", "\0:" + (bytes.length - 8)), r.intercepted);
    }

    @Test
    void lengthsAreCheckedBeforeAnythingIsAllocated() {
        Recorder r = new Recorder();
        MessageFramer f = new MessageFramer(MessageFramer.Mode.MESSAGE, 1000, r);
        PgException negative = assertThrows(PgException.class,
            () -> f.feed(Unpooled.buffer().writeByte('Q').writeInt(-1)));
        assertEquals(SqlState.PROTOCOL_VIOLATION, negative.sqlState());
        MessageFramer g = new MessageFramer(MessageFramer.Mode.MESSAGE, 1000, r);
        PgException big = assertThrows(PgException.class,
            () -> g.feed(Unpooled.buffer().writeByte('Q').writeInt(1_000_000_000)));
        assertTrue(big.getMessage().contains("over the limit"), big.getMessage());
        MessageFramer s = new MessageFramer(MessageFramer.Mode.STARTUP, 1000, r);
        assertThrows(PgException.class, () -> s.feed(Unpooled.buffer().writeInt(10_001).writeInt(196608)));
        MessageFramer t = new MessageFramer(MessageFramer.Mode.STARTUP, 1000, r);
        assertThrows(PgException.class, () -> t.feed(Unpooled.buffer().writeInt(4)));
    }

    @Test
    void stopKeepsTheRestUntilResume() {
        byte[] bytes = backendBytes();
        Recorder r = new Recorder();
        r.stopAt = 1;
        MessageFramer f = new MessageFramer(MessageFramer.Mode.MESSAGE, 1 << 20, r);
        f.intercept((byte) 'Z', true).intercept((byte) 'S', true);
        f.feed(Unpooled.wrappedBuffer(bytes, 0, 100));
        f.feed(Unpooled.wrappedBuffer(bytes, 100, bytes.length - 100));
        assertTrue(f.stopped());
        assertEquals(List.of("Z:6"), r.intercepted);
        f.resume();
        assertEquals(List.of("Z:6", "S:27", "Z:6"), r.intercepted);
        assertEquals(run(bytes, new int[] {bytes.length}).forwarded.size(), r.forwarded.size());
        f.close();
    }
}
