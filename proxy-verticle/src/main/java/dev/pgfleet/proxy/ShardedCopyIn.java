package dev.pgfleet.proxy;

import dev.pgfleet.router.ShardingSchema;
import dev.pgfleet.router.StatementKeys;
import dev.pgfleet.router.copy.CopyFormatException;
import dev.pgfleet.router.copy.CopyRowReader;
import dev.pgfleet.shared.config.ShardedTable;
import dev.pgfleet.shared.protocol.BackendMessages;
import dev.pgfleet.shared.protocol.MessageFramer;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.PgProtocol;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * {@code COPY t ... FROM STDIN} into a sharded table, split by the sharding key: every shard
 * runs the same COPY in a transaction of its own, and each row the client sends goes to the shard
 * its key maps to (read by {@link CopyRowReader}, in text, CSV or binary format; a header goes to
 * every shard, and so does the binary trailer). When the client's CopyDone has been answered by
 * every shard, all commit and the client gets {@code COPY n} counting every row; a bad row (the
 * server's error, or PgFleet's 22P04 for data it cannot split) or the client's CopyFail ends the
 * COPY on every shard and rolls every shard back, so no shard keeps a row of it.
 *
 * <p>Streaming: rows are copied into one buffer per shard and sent as CopyData of about 64 kB;
 * while a shard's connection does not drain, the client is not read. Memory is a buffer per shard
 * and a partial row, whatever the size of the COPY.
 */
final class ShardedCopyIn extends ShardFanOut implements CopyRowReader.Sink {

    /** The CopyData PgFleet sends a shard: about this many bytes of rows. */
    private static final int CHUNK = 64 * 1024;
    /** The binary format's trailer: a field count of -1. */
    private static final byte[] BINARY_TRAILER = {(byte) 0xFF, (byte) 0xFF};

    private enum Step { BEGIN, STREAMING, COPIED, COMMITTING }

    private final String sql;
    private final StatementKeys.CopyStatement copy;
    private final ShardingSchema schema;
    private final ShardedTable table;
    private Step step = Step.BEGIN;
    private CopyRowReader reader;
    /** Shards whose CopyInResponse has come. */
    private int copyReady;
    private ByteBuf copyInResponse;
    /** Per shard: the CopyData being filled (its first 5 bytes are the message header). */
    private final ByteBuf[] out;
    /** Per shard: still in COPY mode (no error, no CopyFail sent). */
    private final boolean[] copying;
    private long copied;
    private boolean clientPaused;
    /** Per shard: CopyData written since the last flush (flushed once per client message, not per shard every time). */
    private final boolean[] unflushed;

    ShardedCopyIn(ClientSession session, int[] allShards, String sql, StatementKeys.CopyStatement copy,
                  ShardingSchema schema, ShardedTable table) {
        super(session, allShards);
        this.sql = sql;
        this.copy = copy;
        this.schema = schema;
        this.table = table;
        this.out = new ByteBuf[allShards.length];
        this.copying = new boolean[allShards.length];
        this.unflushed = new boolean[allShards.length];
    }

    @Override
    void begin() {
        if (copy.keyIndex() >= 0) {
            beginCopy(copy.keyIndex(), copy.columns().size());
            return;
        }
        // No column list: the key's place among the table's columns (those COPY sends: not dropped,
        // not generated), as shard 0 has them (every shard has the same table).
        String t = literal(copy.table());
        String q = "SELECT count(*) FILTER (WHERE a.attnum < k.attnum), count(*) FROM pg_attribute a, "
            + "(SELECT attnum FROM pg_attribute WHERE attrelid = " + t + "::regclass AND attname = "
            + literal(table.column()) + ") k WHERE a.attrelid = " + t + "::regclass AND a.attnum > 0 "
            + "AND NOT a.attisdropped AND a.attgenerated = ''";
        conns[0].runInternal(q).onComplete(ar -> {
            if (ar.failed()) {
                // The server's own error (a table that does not exist: 42P01), not FATAL for the client.
                PgException e = Checkout.asPgException(ar.cause());
                fail(new PgException(e.sqlState(), e.getMessage(), e.detail(), false));
                finishWithError();
                return;
            }
            String[] row = ar.result().isEmpty() ? null : ar.result().get(0);
            if (row == null || row[1] == null || "0".equals(row[1])) {
                // No row of the key column: the cross join with it was empty.
                fail(new PgException("42703", "column \"" + table.column() + "\" of relation \"" + copy.table()
                    + "\" does not exist", null, false));
                finishWithError();
                return;
            }
            beginCopy(Integer.parseInt(row[0]), Integer.parseInt(row[1]));
        });
    }

    private static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    private void beginCopy(int keyIndex, int columns) {
        CopyRowReader.Options options = switch (copy.format()) {
            case TEXT -> new CopyRowReader.Options(CopyRowReader.Format.TEXT, copy.delimiter(), '\0', '\0',
                copy.nullString(), copy.header());
            case CSV -> new CopyRowReader.Options(CopyRowReader.Format.CSV, copy.delimiter(), copy.quote(), copy.escape(),
                copy.nullString(), copy.header());
            case BINARY -> CopyRowReader.Options.binary();
        };
        try {
            reader = new CopyRowReader(options, columns, keyIndex, this);
        } catch (IllegalArgumentException e) {
            fail(new PgException("0A000", "COPY options PgFleet cannot split by: " + e.getMessage(), null, false));
            finishWithError();
            return;
        }
        for (int i = 0; i < conns.length; i++) {
            query(i, "BEGIN");
            copying[i] = true;
            ByteBuf q = conns[i].alloc(sql.length() * 3 + 6);
            dev.pgfleet.shared.protocol.FrontendMessages.query(q, sql);
            conns[i].requestSent();   // its ReadyForQuery comes after CopyDone, or after an error
            addOwed(1);
            send(i, q);
            conns[i].flush();
        }
    }

    @Override
    void message(int i, byte type, ByteBuf buf, int offset, int length) {
        switch (type) {
            case PgProtocol.COPY_IN_RESPONSE -> {
                if (copyInResponse == null) {
                    copyInResponse = session.channel.alloc().buffer(length).writeBytes(buf, offset, length);
                }
                if (++copyReady == conns.length && !failed()) {
                    startStreaming();
                }
            }
            case PgProtocol.COMMAND_COMPLETE_RESPONSE -> {
                String tag = buf.toString(offset + 5, length - 6, StandardCharsets.US_ASCII);
                if (tag.startsWith("COPY ")) {
                    copied += Long.parseLong(tag.substring(5).trim());
                    copying[i] = false;
                }
            }
            default -> {
            }
        }
    }

    /** Every shard waits for data: so does the client, once it has the CopyInResponse. */
    private void startStreaming() {
        step = Step.STREAMING;
        session.interceptCopyData(true);   // CopyData is read now, message by message
        session.writeClient(copyInResponse);
        copyInResponse = null;
        session.flushClient();
        session.resumeReading();
    }

    @Override
    public int clientMessage(byte type, ByteBuf buf, int offset, int length) {
        if (step != Step.STREAMING) {
            return MessageFramer.STOP;
        }
        switch (type) {
            case PgProtocol.COPY_DATA -> {
                if (failed()) {
                    return MessageFramer.CONSUME;   // dropped, as PostgreSQL does after an error in COPY
                }
                try {
                    reader.feed(buf, offset + 5, length - 5);
                } catch (CopyFormatException e) {
                    abortCopy(new PgException(CopyFormatException.SQLSTATE, e.getMessage(), e.hint(), false), null);
                    return MessageFramer.CONSUME;
                }
                sendFull();
                return MessageFramer.CONSUME;
            }
            case PgProtocol.COPY_DONE -> {
                step = Step.COPIED;
                session.interceptCopyData(false);
                if (failed()) {
                    return MessageFramer.CONSUME;
                }
                try {
                    reader.end();
                } catch (CopyFormatException e) {
                    abortCopy(new PgException(CopyFormatException.SQLSTATE, e.getMessage(), e.hint(), false), null);
                    return MessageFramer.CONSUME;
                }
                for (int i = 0; i < conns.length; i++) {
                    if (copy.format() == StatementKeys.CopyStatement.Format.BINARY) {
                        buffer(i, BINARY_TRAILER.length).writeBytes(BINARY_TRAILER);
                    }
                    flushRows(i);
                    ByteBuf done = conns[i].alloc(5);
                    done.writeByte(PgProtocol.COPY_DONE).writeInt(4);
                    send(i, done);
                    conns[i].flush();
                }
                return MessageFramer.CONSUME;
            }
            case PgProtocol.COPY_FAIL_REQUEST -> {
                step = Step.COPIED;
                session.interceptCopyData(false);
                // Each shard answers CopyFail with its error ("COPY from stdin failed: ..."), as the client expects.
                String why = buf.toString(offset + 5, Math.max(0, length - 6), StandardCharsets.UTF_8);
                abortCopy(null, why);
                return MessageFramer.CONSUME;
            }
            default -> {
                return MessageFramer.CONSUME;   // PostgreSQL takes only COPY messages here
            }
        }
    }

    /** Ends the COPY on every shard still in it: the first error is the client's; every shard rolls back. */
    private void abortCopy(PgException mine, String clientReason) {
        if (mine != null) {
            fail(mine);
        }
        String reason = clientReason != null ? clientReason : "COPY aborted by PgFleet: " + (mine != null ? mine.getMessage() : "");
        for (int i = 0; i < conns.length; i++) {
            if (copying[i] && conns[i] != null) {
                copying[i] = false;
                ByteBuf f = conns[i].alloc(reason.length() * 3 + 6);
                int at = f.writerIndex();
                f.writeByte(PgProtocol.COPY_FAIL_REQUEST).writeInt(0);
                f.writeCharSequence(reason, StandardCharsets.UTF_8);
                f.writeByte(0);
                f.setInt(at + 1, f.writerIndex() - at - 1);
                send(i, f);
                conns[i].flush();
            }
        }
        if (step == Step.STREAMING) {
            resumeClient();
        }
    }

    /** A shard's error: it left COPY mode; the others are ended too (their ReadyForQuery ends the step). */
    @Override
    void shardFailed(int i) {
        copying[i] = false;
        abortCopy(null, "COPY aborted: another shard failed");
    }

    @Override
    public void header(ByteBuf bytes) {
        try {
            for (int i = 0; i < conns.length; i++) {
                buffer(i, bytes.readableBytes()).writeBytes(bytes, bytes.readerIndex(), bytes.readableBytes());
            }
        } finally {
            bytes.release();
        }
    }

    @Override
    public void row(ByteBuf rowBytes, CopyRowReader.Key key) {
        try {
            int shard;
            if (key == null) {
                // NULL: hash partitioning puts it at remainder 0; a list or range needs a default.
                shard = BindParameters.shardOfNull(table);
            } else if (copy.format() == StatementKeys.CopyStatement.Format.BINARY) {
                ByteBuf b = key.binary();
                shard = schema.shardOfBinary(table, b, b.readerIndex(), b.readableBytes());
            } else {
                shard = schema.shardOfText(table, key.text());
            }
            int i = positionOf(shard);
            buffer(i, rowBytes.readableBytes()).writeBytes(rowBytes);
        } catch (PgException e) {
            if (!failed()) {
                abortCopy(e, null);
            }
        } finally {
            rowBytes.release();
        }
    }

    private int positionOf(int shard) {
        for (int i = 0; i < shards.length; i++) {
            if (shards[i] == shard) {
                return i;
            }
        }
        throw new IllegalStateException("shard " + shard + " not in this COPY");
    }

    /** Shard {@code i}'s CopyData with room for {@code n} more bytes (a full one is sent first). */
    private ByteBuf buffer(int i, int n) {
        ByteBuf b = out[i];
        if (b != null && b.readableBytes() - 5 + n > CHUNK && b.readableBytes() > 5) {
            flushRows(i);
            b = null;
        }
        if (b == null) {
            b = conns[i].alloc(Math.max(CHUNK, n) + 5);
            b.writeByte(PgProtocol.COPY_DATA).writeInt(0);
            out[i] = b;
        }
        return b;
    }

    /** Sends shard {@code i}'s rows buffered so far as one CopyData. */
    private void flushRows(int i) {
        ByteBuf b = out[i];
        out[i] = null;
        if (b == null) {
            return;
        }
        if (b.readableBytes() == 5 || !copying[i] || failed()) {
            b.release();
            return;
        }
        b.setInt(b.readerIndex() + 1, b.readableBytes() - 1);
        send(i, b);
        unflushed[i] = true;
        if (!conns[i].writable() && !clientPaused) {
            clientPaused = true;   // back-pressure: read no more of the client until the shard drains
            session.socket.pause();
        }
    }

    /** After a client's CopyData: the chunks it completed go out (most messages complete none). */
    private void sendFull() {
        for (int i = 0; i < conns.length; i++) {
            if (unflushed[i]) {
                unflushed[i] = false;
                conns[i].flush();
            }
        }
    }

    @Override
    public void shardWritabilityChanged(ServerConnection conn, boolean writable) {
        if (writable && clientPaused) {
            for (ServerConnection c : conns) {
                if (c != null && !c.writable()) {
                    return;
                }
            }
            resumeClient();
        }
    }

    private void resumeClient() {
        if (clientPaused) {
            clientPaused = false;
            session.context.runOnContext(v -> session.socket.resume());
        }
    }

    @Override
    void stepDone() {
        if (aborting()) {
            finishWithError();
            return;
        }
        switch (step) {
            case BEGIN -> {
                // Every shard failed before its COPY started (a missing table, say): nothing to copy.
                rollbackAll();
            }
            case STREAMING, COPIED -> {
                if (failed()) {
                    rollbackAll();
                    return;
                }
                step = Step.COMMITTING;
                commitAll();
            }
            case COMMITTING -> {
                if (failed()) {
                    rollbackAll();
                    return;
                }
                ByteBuf reply = session.channel.alloc().buffer(32);
                BackendMessages.commandComplete(reply, "COPY " + copied);
                BackendMessages.readyForQuery(reply, PgProtocol.TX_IDLE);
                finish(reply);
            }
        }
    }

    @Override
    void released() {
        if (step == Step.STREAMING) {
            session.interceptCopyData(false);
        }
        resumeClient();
        if (reader != null) {
            reader.close();
        }
        if (copyInResponse != null) {
            copyInResponse.release();
            copyInResponse = null;
        }
        for (int i = 0; i < out.length; i++) {
            if (out[i] != null) {
                out[i].release();
                out[i] = null;
            }
        }
    }
}
