package dev.pgfleet.proxy;

import dev.pgfleet.shared.protocol.BackendMessages;
import dev.pgfleet.shared.protocol.PgProtocol;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * {@code COPY t TO STDOUT} of a sharded table: every shard's rows, shard after shard, as one
 * COPY. The client gets one CopyOutResponse, the data (a header line or the binary header once,
 * at the start; the binary trailer once, at the end), one CopyDone and {@code COPY n} counting
 * every shard's rows. Rows stream through: while the client does not drain, the shard is not read.
 */
final class ShardedCopyOut extends ShardFanOut {

    private final String sql;
    private final boolean binary;
    private final boolean header;
    /** The shard being copied (its position in {@link #conns}). */
    private int current;
    /** The current shard's CopyData messages so far. */
    private long dataMessages;
    private long copied;
    private boolean shardPaused;

    ShardedCopyOut(ClientSession session, int[] shards, String sql, boolean binary, boolean header) {
        super(session, shards);
        this.sql = sql;
        this.binary = binary;
        this.header = header;
    }

    @Override
    void begin() {
        query(0, sql);
    }

    @Override
    void message(int i, byte type, ByteBuf buf, int offset, int length) {
        if (failed()) {
            return;
        }
        boolean first = i == 0;
        boolean last = i == conns.length - 1;
        switch (type) {
            case PgProtocol.COPY_OUT_RESPONSE -> {
                if (first) {
                    forward(buf, offset, length);
                }
            }
            case PgProtocol.COPY_DATA -> {
                long n = dataMessages++;
                // PostgreSQL sends the header (a CSV or text HEADER line, the binary signature) and the
                // binary trailer as CopyData messages of their own.
                if (!first && n == 0 && (binary || header)) {
                    return;
                }
                if (binary && !last && length == 1 + 4 + 2 && buf.getShort(offset + 5) == -1) {
                    return;
                }
                forward(buf, offset, length);
            }
            case PgProtocol.COPY_DONE -> {
                if (last) {
                    forward(buf, offset, length);
                }
            }
            case PgProtocol.COMMAND_COMPLETE_RESPONSE -> {
                String tag = buf.toString(offset + 5, length - 6, StandardCharsets.US_ASCII);
                if (tag.startsWith("COPY ")) {
                    copied += Long.parseLong(tag.substring(5).trim());
                }
            }
            default -> {
            }
        }
    }

    private void forward(ByteBuf buf, int offset, int length) {
        session.writeClient(buf.retainedSlice(offset, length));
        session.clientNeedsFlush = true;
        if (!session.clientWritable() && !shardPaused) {
            shardPaused = true;   // back-pressure: read no more of the shard until the client drains
            conns[current].socket().pause();
        }
    }

    @Override
    public void clientWritable() {
        if (shardPaused) {
            shardPaused = false;
            ServerConnection c = conns[current];
            if (c != null) {
                session.context.runOnContext(v -> c.socket().resume());
            }
        }
    }

    @Override
    void stepDone() {
        if (aborting() || failed()) {
            finishWithError();
            return;
        }
        if (++current < conns.length) {
            dataMessages = 0;
            query(current, sql);
            return;
        }
        ByteBuf reply = session.channel.alloc().buffer(32);
        BackendMessages.commandComplete(reply, "COPY " + copied);
        BackendMessages.readyForQuery(reply, PgProtocol.TX_IDLE);
        finish(reply);
    }
}
