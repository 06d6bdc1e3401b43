package dev.pgfleet.shared.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Frames PostgreSQL protocol messages in place, as a state machine that survives split
 * and coalesced reads.
 *
 * <p>Two layouts (PostgreSQL docs, "Message Formats"):
 * <ul>
 *   <li>{@link Mode#STARTUP}: {@code int32 length, int32 code, body}, no type byte. Used for
 *   the first packet of a client connection (StartupMessage, SSLRequest, GSSENCRequest,
 *   CancelRequest); length at least 8, at most {@link PgProtocol#MAX_STARTUP_PACKET_LENGTH}.</li>
 *   <li>{@link Mode#MESSAGE}: {@code byte1 type, int32 length (counting itself), body}.</li>
 * </ul>
 *
 * <p>Messages whose type is not intercepted are not decoded at all: consecutive ones are
 * gathered into one run and handed to {@link Listener#forward} as a single retained slice
 * of the read buffer, so a result set of many DataRows costs one write and no copy.
 * Bytes are copied only for a message that straddles two reads.
 *
 * <p>Ownership: {@link #feed} takes ownership of its buffer; every run handed to
 * {@code forward} is owned by the listener. Not thread safe: one framer per connection,
 * used on its event loop.
 */
public final class MessageFramer {

    public enum Mode { STARTUP, MESSAGE }

    /** Keep the message in the run being forwarded. */
    public static final int FORWARD = 0;
    /** The listener consumed the message: cut it out of the stream. */
    public static final int CONSUME = 1;
    /** Stop framing before this message; it and what follows wait for {@link #resume()}. */
    public static final int STOP = 2;

    public interface Listener {

        /**
         * An intercepted message. {@code buf} holds the whole message (type byte, length, body;
         * in startup mode length and body) at {@code [offset, offset + length)} and is valid only
         * during the call: retain a slice to keep it. To write to the peer before returning,
         * call {@link MessageFramer#flushRun()} first so the order of messages is kept.
         *
         * @return {@link #FORWARD}, {@link #CONSUME} or {@link #STOP}
         */
        int onMessage(byte type, ByteBuf buf, int offset, int length);

        /** A run of messages to forward unchanged; the listener owns {@code run}. */
        void forward(ByteBuf run);
    }

    private static final int HEADER = 5;
    private static final int STARTUP_HEADER = 4;

    private final Listener listener;
    private boolean[] intercepted = new boolean[256];
    /** Whether {@link #intercepted} is a caller's shared table, to copy before changing it. */
    private boolean sharedTable;
    private int maxMessageLength;
    private byte onlyType;
    private Mode mode;

    /** Bytes of one unfinished message carried over from an earlier read, or what STOP left. */
    private ByteBuf carry;
    private boolean stopped;
    private boolean closed;

    // The run being gathered in the buffer currently framed.
    private ByteBuf runBuf;
    private int runStart;
    private int runEnd;

    public MessageFramer(Mode mode, int maxMessageLength, Listener listener) {
        this.mode = mode;
        this.maxMessageLength = maxMessageLength;
        this.listener = listener;
    }

    /** Messages of this type go to {@link Listener#onMessage}; others are forwarded unread. */
    public MessageFramer intercept(byte type, boolean on) {
        ownTable();
        intercepted[type & 0xFF] = on;
        return this;
    }

    public void interceptAll(boolean on) {
        ownTable();
        java.util.Arrays.fill(intercepted, on);
    }

    /**
     * Intercepts exactly the types of {@code table} (from {@link #typeTable}), shared and never
     * changed here: switching between a few fixed sets is then a field write, not a 256-entry fill.
     */
    public void interceptTable(boolean[] table) {
        if (table.length != 256) {
            throw new IllegalArgumentException("an intercept table has 256 entries");
        }
        intercepted = table;
        sharedTable = true;
    }

    /** A table for {@link #interceptTable}: these message types, or all but them with {@code except}. */
    public static boolean[] typeTable(boolean except, byte... types) {
        boolean[] t = new boolean[256];
        if (except) {
            java.util.Arrays.fill(t, true);
        }
        for (byte type : types) {
            t[type & 0xFF] = !except;
        }
        return t;
    }

    private void ownTable() {
        if (sharedTable) {
            intercepted = intercepted.clone();
            sharedTable = false;
        }
    }

    /**
     * Accept only messages of this type (0: any), checked on the type byte before the length
     * and body arrive: during authentication PostgreSQL takes nothing but 'p' and refuses
     * anything else at once, rather than waiting for a length it should not trust.
     */
    public void onlyType(byte type) {
        this.onlyType = type;
    }

    /** The maximum message length, from now on. */
    public void maxMessageLength(int max) {
        this.maxMessageLength = max;
    }

    public void mode(Mode mode) {
        this.mode = mode;
    }

    public Mode mode() {
        return mode;
    }

    public boolean stopped() {
        return stopped;
    }

    /** Bytes received but not framed yet (an unfinished message, or what waits after STOP). */
    public int buffered() {
        return carry == null ? 0 : carry.readableBytes();
    }

    /**
     * Frames what {@code in} holds. Takes ownership of {@code in}.
     *
     * @throws PgException 08P01 on a length below the minimum or above the limit, checked
     *     before anything is allocated for the message
     */
    public void feed(ByteBuf in) {
        if (closed) {
            in.release();
            return;
        }
        if (stopped) {
            appendCarry(in);
            return;
        }
        if (carry != null) {
            // Only the straddling message is copied: complete it, frame it, then frame the rest in place.
            if (!completeCarry(in)) {
                in.release();
                return;
            }
            ByteBuf one = carry;
            carry = null;
            frame(one);
            if (stopped || carry != null) {
                appendCarry(in);
                return;
            }
        }
        frame(in);
    }

    /** Continues after a {@link #STOP}: frames what waited, starting with the stopped message. */
    public void resume() {
        if (!stopped) {
            return;
        }
        stopped = false;
        if (carry != null) {
            drainCarry();
        }
    }

    /** Forwards the run gathered so far; call it inside onMessage before writing to the peer. */
    public void flushRun() {
        if (runEnd > runStart) {
            listener.forward(runBuf.retainedSlice(runStart, runEnd - runStart));
        }
        runStart = runEnd;
    }

    /**
     * Inside onMessage, for the message being handled ({@code offset}, {@code length} of
     * {@code buf}): forwards the run gathered so far and this message as one slice when they are
     * adjacent (one buffer for the socket to write, not two), else as two. The caller then
     * returns {@link #CONSUME}.
     */
    public void flushRunWith(ByteBuf buf, int offset, int length) {
        if (buf == runBuf && runEnd == offset) {
            runEnd = offset + length;
            flushRun();
            return;
        }
        flushRun();
        listener.forward(buf.retainedSlice(offset, length));
    }

    /**
     * For a connection another reader takes over (the admin console's hand-over): returns the
     * bytes not framed yet (what waits after a {@link #STOP}, an unfinished message), owned by the
     * caller, or null when there are none; the framer frames nothing after this.
     */
    public ByteBuf detach() {
        ByteBuf rest = carry;
        carry = null;
        close();
        return rest;
    }

    /** Releases what the framer holds; it frames nothing after this. */
    public void close() {
        if (carry != null) {
            carry.release();
            carry = null;
        }
        stopped = true;
        closed = true;
    }

    private void drainCarry() {
        ByteBuf buf = carry;
        carry = null;
        frame(buf);
    }

    private void appendCarry(ByteBuf in) {
        try {
            if (in.isReadable()) {
                if (carry == null) {
                    carry = in.alloc().buffer(in.readableBytes());
                }
                carry.writeBytes(in);
            }
        } finally {
            in.release();
        }
    }

    /** Moves bytes from in to carry until carry holds one whole message; false if in ran out. */
    private boolean completeCarry(ByteBuf in) {
        int headerLen = mode == Mode.MESSAGE ? HEADER : STARTUP_HEADER;
        if (carry.isReadable()) {
            checkType(carry.getByte(carry.readerIndex()));
        }
        if (carry.readableBytes() < headerLen) {
            carry.writeBytes(in, Math.min(headerLen - carry.readableBytes(), in.readableBytes()));
            if (carry.readableBytes() < headerLen) {
                return false;
            }
        }
        int need = declaredTotal(carry, carry.readerIndex()) - carry.readableBytes();
        int n = Math.min(need, in.readableBytes());
        carry.writeBytes(in, n);
        return n == need;
    }

    /** Frames all complete messages of buf; keeps the rest in carry. Releases buf. */
    private void frame(ByteBuf buf) {
        runBuf = buf;
        runStart = runEnd = buf.readerIndex();
        try {
            int end = buf.writerIndex();
            int pos = buf.readerIndex();
            while (!stopped) {
                int avail = end - pos;
                int total = completeLength(buf, pos, avail);
                if (total < 0) {
                    break;
                }
                byte type = mode == Mode.MESSAGE ? buf.getByte(pos) : 0;
                if (mode == Mode.MESSAGE && !intercepted[type & 0xFF]) {
                    pos += total;
                    runEnd = pos;
                    continue;
                }
                int action = listener.onMessage(type, buf, pos, total);
                if (action == FORWARD) {
                    pos += total;
                    runEnd = pos;
                } else if (action == CONSUME) {
                    flushRun();
                    pos += total;
                    runStart = runEnd = pos;
                } else {
                    flushRun();
                    stopped = true;
                }
            }
            flushRun();
            if (pos < end && !closed) {
                keepRest(buf, pos, end);
            }
        } finally {
            runBuf = null;
            if (buf.refCnt() > 0) {
                buf.release();
            }
        }
    }

    private void keepRest(ByteBuf buf, int pos, int end) {
        int rest = end - pos;
        ByteBufAllocator alloc = buf.alloc();
        int want = rest;
        int headerLen = mode == Mode.MESSAGE ? HEADER : STARTUP_HEADER;
        if (!stopped && rest >= headerLen) {
            // An unfinished message whose length is known (and was checked): size it once.
            want = declaredTotal(buf, pos);
        }
        ByteBuf c = alloc.buffer(Math.max(want, rest));
        c.writeBytes(buf, pos, rest);
        carry = c;
    }

    /** The whole length of the message starting at pos, or -1 when it is not complete yet. */
    private int completeLength(ByteBuf buf, int pos, int avail) {
        if (avail > 0) {
            checkType(buf.getByte(pos));
        }
        if (avail < (mode == Mode.MESSAGE ? HEADER : STARTUP_HEADER)) {
            return -1;
        }
        int total = declaredTotal(buf, pos);
        return avail >= total ? total : -1;
    }

    /**
     * The whole length the header at pos declares, checked against the limits before anything
     * is allocated for the message.
     */
    private int declaredTotal(ByteBuf buf, int pos) {
        if (mode == Mode.MESSAGE) {
            int length = buf.getInt(pos + 1);
            if (length < 4) {
                throw new PgException(SqlState.PROTOCOL_VIOLATION,
                    "invalid message length " + length + " for message type '" + printable(buf.getByte(pos)) + "'");
            }
            if (length > maxMessageLength) {
                throw new PgException(SqlState.PROTOCOL_VIOLATION,
                    "message of type '" + printable(buf.getByte(pos)) + "' is " + length
                        + " bytes, over the limit of " + maxMessageLength + " bytes");
            }
            return length + 1;
        }
        int length = buf.getInt(pos);
        if (length < 8 || length > PgProtocol.MAX_STARTUP_PACKET_LENGTH) {
            throw new PgException(SqlState.PROTOCOL_VIOLATION, "invalid length of startup packet");
        }
        return length;
    }

    private void checkType(byte type) {
        if (onlyType != 0 && mode == Mode.MESSAGE && type != onlyType) {
            throw new PgException(SqlState.PROTOCOL_VIOLATION,
                "expected message type '" + (char) onlyType + "', got message type '" + printable(type) + "'");
        }
    }

    private static String printable(byte type) {
        return type >= 32 && type < 127 ? String.valueOf((char) type) : String.format("\\x%02x", type & 0xFF);
    }
}
