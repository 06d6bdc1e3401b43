package dev.pgfleet.proxy;

import dev.pgfleet.router.ShardingSchema;
import dev.pgfleet.shared.config.ShardedTable;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Reads one parameter of a Bind message in place: {@code 'B'}, int32 length, portal and statement
 * names, int16 count of format codes and the codes (none: all text; one: for all), int16 count of
 * parameters, then each as int32 length (-1: NULL) and its bytes.
 */
final class BindParameters {

    private BindParameters() {
    }

    /** How many parameter values the Bind carries. */
    static int count(ByteBuf buf, int offset, int length) {
        int end = offset + length;
        int pos = buf.indexOf(offset + 5, end, (byte) 0) + 1;   // after the portal name
        pos = buf.indexOf(pos, end, (byte) 0) + 1;              // after the statement name
        if (pos <= 0 || pos + 2 > end) {
            throw malformed();
        }
        int formats = buf.getUnsignedShort(pos);
        if (pos + 4 + 2 * formats > end) {
            throw malformed();
        }
        return buf.getUnsignedShort(pos + 2 + 2 * formats);
    }

    /** The shard parameter {@code index} (0-based) of the Bind names, as a key of {@code table}. */
    static int shard(ByteBuf buf, int offset, int length, int index, ShardingSchema schema, ShardedTable table) {
        int end = offset + length;
        int pos = buf.indexOf(offset + 5, end, (byte) 0) + 1;   // after the portal name
        pos = buf.indexOf(pos, end, (byte) 0) + 1;              // after the statement name
        if (pos <= 0 || pos + 2 > end) {
            throw malformed();
        }
        int formats = buf.getUnsignedShort(pos);
        int formatsAt = pos + 2;
        pos = formatsAt + 2 * formats;
        if (pos + 2 > end) {
            throw malformed();
        }
        int params = buf.getUnsignedShort(pos);
        pos += 2;
        if (index >= params) {
            throw new PgException(SqlState.PROTOCOL_VIOLATION, "bind message supplies " + params
                + " parameters, but the sharding key is parameter $" + (index + 1), null, false);
        }
        for (int i = 0; i < index; i++) {
            int len = buf.getInt(pos);
            pos += 4 + Math.max(len, 0);
            if (pos > end) {
                throw malformed();
            }
        }
        int len = buf.getInt(pos);
        pos += 4;
        if (len < 0) {
            return shardOfNull(table);
        }
        if (pos + len > end) {
            throw malformed();
        }
        int format = formats == 0 ? 0 : buf.getUnsignedShort(formatsAt + 2 * (formats == 1 ? 0 : index));
        return format == 1 ? schema.shardOfBinary(table, buf, pos, len)
            : schema.shardOfText(table, buf.toString(pos, len, StandardCharsets.UTF_8));
    }

    /**
     * The shard of a NULL key: hash partitioning puts NULL at remainder 0 (its hash is 0); a list
     * or range table sends it to its default shard, as PostgreSQL to a DEFAULT partition, or
     * refuses it without one.
     */
    static int shardOfNull(ShardedTable table) {
        if (table.mapping() == ShardedTable.Mapping.HASH) {
            return 0;
        }
        if (table.defaultShard().isPresent()) {
            return table.defaultShard().getAsInt();
        }
        throw new PgException(SqlState.INVALID_PARAMETER_VALUE, "NULL sharding key " + table.column() + " of table "
            + table.name() + ": no list or range takes it and the table has no default_shard", null, false);
    }

    private static PgException malformed() {
        return new PgException(SqlState.PROTOCOL_VIOLATION, "invalid Bind message", null, false);
    }
}
