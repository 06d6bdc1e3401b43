package dev.pgfleet.admin.console;

import dev.pgfleet.shared.protocol.PgProtocol;
import io.netty.buffer.ByteBuf;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The backend messages the console writes (PostgreSQL docs, "Message Formats"), with results
 * in text or, where pgjdbc asks for it at Bind, binary (int4, int8, numeric, text).
 */
final class ConsoleWire {

    private ConsoleWire() {
    }

    private static int begin(ByteBuf out, byte type) {
        out.writeByte(type);
        int at = out.writerIndex();
        out.writeInt(0);
        return at;
    }

    private static void end(ByteBuf out, int at) {
        out.setInt(at, out.writerIndex() - at);
    }

    private static void cstr(ByteBuf out, String s) {
        out.writeCharSequence(s, StandardCharsets.UTF_8);
        out.writeByte(0);
    }

    /** The C string at {@code from}. */
    static String cstring(ByteBuf b, int from) {
        return cstring(b, new int[] {from});
    }

    /** The C string at {@code at[0]}; moves {@code at[0]} past its terminator. */
    static String cstring(ByteBuf b, int[] at) {
        int end = b.indexOf(at[0], b.writerIndex(), (byte) 0);
        if (end < 0) {
            throw new dev.pgfleet.shared.protocol.PgException("08P01", "invalid string in message");
        }
        String s = b.toString(at[0], end - at[0], StandardCharsets.UTF_8);
        at[0] = end + 1;
        return s;
    }

    static void parameterStatus(ByteBuf out, String name, String value) {
        int at = begin(out, PgProtocol.PARAMETER_STATUS_RESPONSE);
        cstr(out, name);
        cstr(out, value);
        end(out, at);
    }

    static void backendKeyData(ByteBuf out, int pid, int secret) {
        int at = begin(out, PgProtocol.BACKEND_KEY_DATA_RESPONSE);
        out.writeInt(pid);
        out.writeInt(secret);
        end(out, at);
    }

    static void readyForQuery(ByteBuf out) {
        int at = begin(out, PgProtocol.READY_FOR_QUERY_RESPONSE);
        out.writeByte('I');
        end(out, at);
    }

    static void empty(ByteBuf out, byte type) {
        int at = begin(out, type);
        end(out, at);
    }

    static void emptyQueryResponse(ByteBuf out) {
        empty(out, PgProtocol.EMPTY_QUERY_RESPONSE);
    }

    static void commandComplete(ByteBuf out, String tag) {
        int at = begin(out, PgProtocol.COMMAND_COMPLETE_RESPONSE);
        cstr(out, tag);
        end(out, at);
    }

    static void parameterDescription(ByteBuf out) {
        int at = begin(out, PgProtocol.PARAMETER_DESCRIPTION_RESPONSE);
        out.writeShort(0);
        end(out, at);
    }

    static void errorResponse(ByteBuf out, Result.Error e) {
        int at = begin(out, PgProtocol.ERROR_RESPONSE);
        field(out, 'S', "ERROR");
        field(out, 'V', "ERROR");
        field(out, 'C', e.sqlState());
        field(out, 'M', e.message());
        if (e.detail() != null) {
            field(out, 'D', e.detail());
        }
        if (e.hint() != null) {
            field(out, 'H', e.hint());
        }
        out.writeByte(0);
        end(out, at);
    }

    static void fatal(ByteBuf out, String sqlState, String message) {
        int at = begin(out, PgProtocol.ERROR_RESPONSE);
        field(out, 'S', "FATAL");
        field(out, 'V', "FATAL");
        field(out, 'C', sqlState);
        field(out, 'M', message);
        out.writeByte(0);
        end(out, at);
    }

    static void notice(ByteBuf out, String message) {
        int at = begin(out, PgProtocol.NOTICE_RESPONSE);
        field(out, 'S', "NOTICE");
        field(out, 'V', "NOTICE");
        field(out, 'C', "00000");
        field(out, 'M', message);
        out.writeByte(0);
        end(out, at);
    }

    private static void field(ByteBuf out, char code, String value) {
        out.writeByte(code);
        cstr(out, value);
    }

    /** The format of column {@code i} per Bind's result format codes (none: text; one: all). */
    static short format(short[] formats, int i) {
        if (formats == null || formats.length == 0) {
            return 0;
        }
        return formats.length == 1 ? formats[0] : formats[i];
    }

    static void rowDescription(ByteBuf out, List<Result.Column> columns, short[] formats) {
        int at = begin(out, PgProtocol.ROW_DESCRIPTION_RESPONSE);
        out.writeShort(columns.size());
        for (int i = 0; i < columns.size(); i++) {
            Result.Column c = columns.get(i);
            cstr(out, c.name());
            out.writeInt(0);                    // table oid
            out.writeShort(0);                  // column number
            out.writeInt(c.typeOid());
            out.writeShort(switch (c.typeOid()) {   // typlen
                case Result.INT4 -> 4;
                case Result.INT8 -> 8;
                default -> -1;
            });
            out.writeInt(-1);                   // typmod
            out.writeShort(format(formats, i));
        }
        end(out, at);
    }

    static void dataRow(ByteBuf out, List<Result.Column> columns, List<String> values, short[] formats) {
        int at = begin(out, PgProtocol.DATA_ROW_RESPONSE);
        out.writeShort(values.size());
        for (int i = 0; i < values.size(); i++) {
            String v = values.get(i);
            if (v == null) {
                out.writeInt(-1);
                continue;
            }
            int lenAt = out.writerIndex();
            out.writeInt(0);
            if (format(formats, i) == 1) {
                binary(out, columns.get(i).typeOid(), v);
            } else {
                out.writeCharSequence(v, StandardCharsets.UTF_8);
            }
            out.setInt(lenAt, out.writerIndex() - lenAt - 4);
        }
        end(out, at);
    }

    private static void binary(ByteBuf out, int oid, String v) {
        switch (oid) {
            case Result.INT4 -> out.writeInt(Integer.parseInt(v));
            case Result.INT8 -> out.writeLong(Long.parseLong(v));
            case Result.NUMERIC -> numeric(out, new BigInteger(v));
            default -> out.writeCharSequence(v, StandardCharsets.UTF_8);
        }
    }

    /** An integer as numeric's binary form: base-10000 digits, weight, sign, scale 0 (numeric.c's numeric_send). */
    static void numeric(ByteBuf out, BigInteger value) {
        boolean negative = value.signum() < 0;
        BigInteger v = value.abs();
        BigInteger base = BigInteger.valueOf(10_000);
        java.util.ArrayList<Short> digits = new java.util.ArrayList<>();
        while (v.signum() > 0) {
            BigInteger[] qr = v.divideAndRemainder(base);
            digits.add(0, qr[1].shortValue());
            v = qr[0];
        }
        int weight = digits.size() - 1;
        // Trailing zero groups are dropped, as PostgreSQL stores them (weight keeps the magnitude).
        while (!digits.isEmpty() && digits.get(digits.size() - 1) == 0) {
            digits.remove(digits.size() - 1);
        }
        out.writeShort(digits.size());
        out.writeShort(digits.isEmpty() ? 0 : weight);
        out.writeShort(negative ? 0x4000 : 0);
        out.writeShort(0);
        for (short d : digits) {
            out.writeShort(d);
        }
    }
}
