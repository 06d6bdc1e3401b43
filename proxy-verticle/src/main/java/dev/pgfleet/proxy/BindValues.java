package dev.pgfleet.proxy;

import dev.pgfleet.router.merge.PgValues;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/**
 * The parameter values of a Bind, for what PgFleet evaluates itself in a cross-shard merge (LIMIT
 * and OFFSET parameters, HAVING): a text value as its String, a binary one decoded by its type
 * (a number of unknown type by its length), NULL as null.
 */
final class BindValues {

    private BindValues() {
    }

    /**
     * @param parameters the Bind's section from its format codes to its last value
     * @param types      int16 count and the parameter type oids (as Parse and ParameterDescription carry them)
     */
    static Object[] decode(byte[] parameters, byte[] types) {
        ByteBuf b = Unpooled.wrappedBuffer(parameters);
        int formats = b.getUnsignedShort(0);
        int pos = 2 + 2 * formats;
        int n = b.getUnsignedShort(pos);
        pos += 2;
        ByteBuf t = Unpooled.wrappedBuffer(types);
        int typeCount = types.length >= 2 ? t.getUnsignedShort(0) : 0;
        Object[] values = new Object[n];
        for (int i = 0; i < n; i++) {
            int len = b.getInt(pos);
            pos += 4;
            if (len < 0) {
                continue;
            }
            int format = formats == 0 ? 0 : b.getUnsignedShort(2 + 2 * (formats == 1 ? 0 : i));
            int type = i < typeCount ? t.getInt(2 + 4 * i) : 0;
            if (format == 0) {
                values[i] = b.toString(pos, len, StandardCharsets.UTF_8);
            } else if (type != 0 && PgValues.known(type)) {
                values[i] = PgValues.decode(type, true, b, pos, len);
            } else if (len == 8) {
                values[i] = b.getLong(pos);
            } else if (len == 4) {
                values[i] = (long) b.getInt(pos);
            } else if (len == 2) {
                values[i] = (long) b.getShort(pos);
            } else {
                values[i] = b.toString(pos, len, StandardCharsets.UTF_8);
            }
            pos += len;
        }
        return values;
    }
}
