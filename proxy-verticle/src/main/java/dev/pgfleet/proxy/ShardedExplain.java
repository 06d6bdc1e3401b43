package dev.pgfleet.proxy;

import dev.pgfleet.router.merge.CrossShardPlan;
import dev.pgfleet.shared.protocol.BackendMessages;
import dev.pgfleet.shared.protocol.PgProtocol;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code EXPLAIN} of a cross-shard SELECT: PgFleet's own lines first (the shards it goes to, the
 * statement each runs, how the rows are merged), then each shard's plan of that statement under
 * "Shard n:", as one {@code QUERY PLAN} column. With ANALYZE every shard runs it, as PostgreSQL would.
 */
final class ShardedExplain extends ShardFanOut {

    private final String explain;
    private final CrossShardPlan plan;
    private final List<List<String>> lines = new ArrayList<>();

    /** @param explain the EXPLAIN and its options as the client wrote them, before the statement */
    ShardedExplain(ClientSession session, int[] shards, String explain, CrossShardPlan plan) {
        super(session, shards);
        this.explain = explain;
        this.plan = plan;
        for (int i = 0; i < shards.length; i++) {
            lines.add(new ArrayList<>());
        }
    }

    @Override
    void begin() {
        for (int i = 0; i < conns.length; i++) {
            query(i, explain + " " + plan.shardSql());
        }
    }

    @Override
    void message(int i, byte type, ByteBuf buf, int offset, int length) {
        if (type == PgProtocol.DATA_ROW_RESPONSE && buf.getUnsignedShort(offset + 5) >= 1) {
            int len = buf.getInt(offset + 7);
            lines.get(i).add(len < 0 ? "" : buf.toString(offset + 11, len, StandardCharsets.UTF_8));
        }
    }

    @Override
    void stepDone() {
        if (failed()) {
            finishWithError();
            return;
        }
        List<String> out = new ArrayList<>();
        StringBuilder on = new StringBuilder("PgFleet: cross-shard SELECT on shards ");
        for (int i = 0; i < shards.length; i++) {
            on.append(i == 0 ? "" : ", ").append(shards[i]);
        }
        out.add(on.toString());
        for (String e : plan.explain()) {
            out.add("PgFleet: " + e);
        }
        out.add("PgFleet: each shard runs: " + plan.shardSql());
        for (int i = 0; i < shards.length; i++) {
            out.add("Shard " + shards[i] + ":");
            for (String l : lines.get(i)) {
                out.add("  " + l);
            }
        }
        ByteBuf reply = session.channel.alloc().buffer(256 + 64 * out.size());
        if (described()) {
            BackendMessages.rowDescriptionText(reply, List.of("QUERY PLAN"));
        }
        for (String l : out) {
            BackendMessages.dataRowText(reply, List.of(l));
        }
        BackendMessages.commandComplete(reply, "EXPLAIN");
        complete(reply);
    }
}
