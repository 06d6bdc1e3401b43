package dev.pgfleet.proxy;

import io.netty.buffer.ByteBuf;

/**
 * The requests a session has sent to its server connection and not yet seen answered, in
 * order, so that each server response can be matched to its request. Used in transaction
 * and statement mode, where PgFleet renames prepared statements: a Parse it injected has a
 * ParseComplete to hide, and a Parse or Close it answered itself has a response to insert
 * at the right place in the stream (PostgreSQL docs, "Extended Query": responses come in
 * request order; after an error, everything up to Sync is skipped).
 *
 * <p>A ring buffer of small entries; allocates only when it grows.
 */
final class RequestQueue {

    static final byte PARSE = 'P';
    static final byte BIND = 'B';
    static final byte CLOSE = 'C';
    static final byte DESCRIBE_STATEMENT = 'S';
    static final byte DESCRIBE_PORTAL = 'D';
    static final byte EXECUTE = 'E';
    static final byte SYNC = 'Y';
    static final byte QUERY = 'Q';
    static final byte FUNCTION_CALL = 'F';
    /** A response PgFleet writes itself when the entry reaches the head. */
    static final byte SYNTHETIC = '*';
    /**
     * A request PgFleet refused (a name the client did not create): the server got a message
     * that fails without touching anything, so that it ends the transaction as PostgreSQL
     * would; its ErrorResponse is replaced by PgFleet's own, held here.
     */
    static final byte REFUSED = '!';

    /** What an entry's response tells PgFleet about: a pool statement, the client's unnamed statement, an evicted name. */
    interface Skipped {
        void skipped(byte kind, boolean hidden, Object subject);
    }

    private byte[] kinds = new byte[16];
    private boolean[] hidden = new boolean[16];
    private ByteBuf[] synthetic = new ByteBuf[16];
    /**
     * What the request is about, where PgFleet must learn its outcome: the
     * {@link PreparedStatements.Statement} a Parse, Bind or Describe names on the server, the
     * {@link PreparedStatements.Unnamed} statement a Parse("") creates, the server name an
     * eviction Close drops. Null for the rest.
     */
    private Object[] subjects = new Object[16];
    private int head;
    private int size;

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    void add(byte kind, boolean hide) {
        add(kind, hide, null, null);
    }

    void add(byte kind, boolean hide, Object subject) {
        add(kind, hide, null, subject);
    }

    void addSynthetic(ByteBuf response) {
        add(SYNTHETIC, false, response, null);
    }

    /** A refused request; {@code error} is the ErrorResponse the client gets in place of the server's. */
    void addRefused(ByteBuf error) {
        add(REFUSED, false, error, null);
    }

    private void add(byte kind, boolean hide, ByteBuf response, Object subject) {
        if (size == kinds.length) {
            grow();
        }
        int i = (head + size) & (kinds.length - 1);
        kinds[i] = kind;
        hidden[i] = hide;
        synthetic[i] = response;
        subjects[i] = subject;
        size++;
    }

    /** The kind of the oldest request, or 0 when empty. */
    byte peekKind() {
        return size == 0 ? 0 : kinds[head];
    }

    boolean peekHidden() {
        return hidden[head];
    }

    /** The subject of the oldest request (see {@link #subjects}), or null. */
    Object peekSubject() {
        return size == 0 ? null : subjects[head];
    }

    /** Removes the oldest entry; returns its synthetic response (the caller owns it) or null. */
    ByteBuf poll() {
        ByteBuf s = synthetic[head];
        synthetic[head] = null;
        subjects[head] = null;
        head = (head + 1) & (kinds.length - 1);
        size--;
        return s;
    }

    /**
     * After an ErrorResponse the server skips every message up to Sync: those requests, and
     * the responses PgFleet would have made for them, are dropped.
     */
    void skipToSync(Skipped listener) {
        while (size > 0 && kinds[head] != SYNC) {
            if (subjects[head] != null) {
                listener.skipped(kinds[head], hidden[head], subjects[head]);
            }
            ByteBuf s = poll();
            if (s != null) {
                s.release();
            }
        }
    }

    void clear() {
        while (size > 0) {
            ByteBuf s = poll();
            if (s != null) {
                s.release();
            }
        }
    }

    private void grow() {
        int n = kinds.length * 2;
        byte[] k = new byte[n];
        boolean[] h = new boolean[n];
        ByteBuf[] s = new ByteBuf[n];
        Object[] o = new Object[n];
        for (int j = 0; j < size; j++) {
            int i = (head + j) & (kinds.length - 1);
            k[j] = kinds[i];
            h[j] = hidden[i];
            s[j] = synthetic[i];
            o[j] = subjects[i];
        }
        kinds = k;
        hidden = h;
        synthetic = s;
        subjects = o;
        head = 0;
    }
}
