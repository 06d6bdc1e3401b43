package dev.pgfleet.shared.protocol;

import io.netty.buffer.ByteBuf;

/** ParameterStatus ('S'): a run-time parameter the server reports. */
public record ParameterStatus(String name, String value) {

    public static ParameterStatus decode(ByteBuf buf, int offset, int length) {
        int[] next = new int[1];
        int end = offset + length;
        String name = Messages.readCString(buf, offset + 5, end, next);
        String value = Messages.readCString(buf, next[0], end, next);
        return new ParameterStatus(name, value);
    }
}
