package dev.pgfleet.proxy;

import dev.pgfleet.shared.protocol.BackendMessages;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.SqlState;
import dev.pgfleet.shared.protocol.PgProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * A multi-row {@code INSERT ... VALUES (...), (...)} (a simple Query outside a transaction block)
 * whose rows belong to several shards: each shard gets one INSERT of its own rows (the statement's
 * text around the VALUES rows kept: the column list, ON CONFLICT, RETURNING) in a transaction of
 * its own; when all succeeded every shard commits, else every shard rolls back and the client
 * gets the first error. The client sees one result: the RETURNING rows of every shard (one
 * RowDescription), and {@code INSERT 0 n} counting every row.
 */
final class ShardedInsert extends ShardFanOut {

    /** Per shard (in {@link #shards}' order): its INSERT. */
    private final String[] statements;
    /** The RowDescription of RETURNING (the first shard's), then every shard's DataRows. */
    private ByteBuf rowDescription;
    private CompositeByteBuf rows;
    private long inserted;
    private String verb;
    private int step;
    /** Every shard inserted; COMMIT waits for the client's Sync (extended protocol), which ends the batch's implicit transaction. */
    private boolean awaitingSync;

    /** The shards hold the same rows (an omnisharded table): the client is answered as by one shard. */
    private final boolean replicated;

    ShardedInsert(ClientSession session, int[] shards, String[] statements) {
        this(session, shards, statements, false);
    }

    ShardedInsert(ClientSession session, int[] shards, String[] statements, boolean replicated) {
        super(session, shards);
        this.statements = statements;
        this.replicated = replicated;
    }

    @Override
    void begin() {
        rows = session.channel.alloc().compositeBuffer(Integer.MAX_VALUE);
        for (int i = 0; i < conns.length; i++) {
            query(i, "BEGIN");
            query(i, statements[i]);
        }
    }

    @Override
    void message(int i, byte type, ByteBuf buf, int offset, int length) {
        if (step != 0) {
            return;
        }
        switch (type) {
            case PgProtocol.ROW_DESCRIPTION_RESPONSE -> {
                if (rowDescription == null) {
                    rowDescription = session.channel.alloc().buffer(length).writeBytes(buf, offset, length);
                }
            }
            case PgProtocol.DATA_ROW_RESPONSE -> {
                if (!replicated || i == 0) {
                    rows.addComponent(true, buf.retainedSlice(offset, length));
                }
            }
            case PgProtocol.COMMAND_COMPLETE_RESPONSE -> {
                // "INSERT oid rows" (oid is 0), "UPDATE rows", "DELETE rows"; BEGIN's tag is "BEGIN".
                String tag = buf.toString(offset + 5, length - 6, StandardCharsets.US_ASCII);
                int space = tag.indexOf(' ');
                String v = space < 0 ? tag : tag.substring(0, space);
                if ((v.equals("INSERT") || v.equals("UPDATE") || v.equals("DELETE") || v.equals("MERGE"))
                    && (!replicated || i == 0)) {
                    verb = v;
                    inserted += Long.parseLong(tag.substring(tag.lastIndexOf(' ') + 1));
                }
            }
            default -> {
            }
        }
    }

    @Override
    void stepDone() {
        if (aborting()) {
            finishWithError();
            return;
        }
        if (failed()) {
            rollbackAll();
            return;
        }
        if (step == 0) {
            if (isExtended() && !syncSeen()) {
                awaitingSync = true;   // a later statement of the batch would belong to the same transaction
                return;
            }
            step = 1;
            commitAll();
            return;
        }
        ByteBuf out = session.channel.alloc().buffer(64 + (rowDescription == null ? 0 : rowDescription.readableBytes()));
        if (described()) {
            if (rowDescription != null) {
                out.writeBytes(rowDescription);
            } else if (isExtended()) {
                out.writeByte(PgProtocol.NO_DATA_RESPONSE).writeInt(4);
            }
        }
        CompositeByteBuf reply = session.channel.alloc().compositeBuffer(Integer.MAX_VALUE);
        reply.addComponent(true, out);
        reply.addComponent(true, rows);
        rows = null;
        ByteBuf tail = session.channel.alloc().buffer(32);
        String v = verb != null ? verb : "INSERT";
        BackendMessages.commandComplete(tail, v + (v.equals("INSERT") ? " 0 " : " ") + inserted);
        reply.addComponent(true, tail);
        complete(reply);
    }

    @Override
    void onSync() {
        if (awaitingSync) {
            awaitingSync = false;
            step = 1;
            commitAll();
        }
    }

    @Override
    void batchContinued() {
        fail(new PgException(SqlState.FEATURE_NOT_SUPPORTED, "a multi-row INSERT split between shards must be the "
            + "last statement before Sync: the batch's transaction would span several shards", null, false));
        if (awaitingSync) {
            awaitingSync = false;
            rollbackAll();
        }
    }

    @Override
    void released() {
        if (rowDescription != null) {
            rowDescription.release();
            rowDescription = null;
        }
        if (rows != null) {
            rows.release();
            rows = null;
        }
    }
}
