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

  private byte[] kinds = new byte[16];
  private boolean[] hidden = new boolean[16];
  private ByteBuf[] synthetic = new ByteBuf[16];
  private int head;
  private int size;

  boolean isEmpty() {
    return size == 0;
  }

  int size() {
    return size;
  }

  void add(byte kind, boolean hide) {
    add(kind, hide, null);
  }

  void addSynthetic(ByteBuf response) {
    add(SYNTHETIC, false, response);
  }

  private void add(byte kind, boolean hide, ByteBuf response) {
    if (size == kinds.length) {
      grow();
    }
    int i = (head + size) & (kinds.length - 1);
    kinds[i] = kind;
    hidden[i] = hide;
    synthetic[i] = response;
    size++;
  }

  /** The kind of the oldest request, or 0 when empty. */
  byte peekKind() {
    return size == 0 ? 0 : kinds[head];
  }

  boolean peekHidden() {
    return hidden[head];
  }

  /** Removes the oldest entry; returns its synthetic response (the caller owns it) or null. */
  ByteBuf poll() {
    ByteBuf s = synthetic[head];
    synthetic[head] = null;
    head = (head + 1) & (kinds.length - 1);
    size--;
    return s;
  }

  /**
   * After an ErrorResponse the server skips every message up to Sync: those requests, and
   * the responses PgFleet would have made for them, are dropped.
   */
  void skipToSync() {
    while (size > 0 && kinds[head] != SYNC) {
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
    for (int j = 0; j < size; j++) {
      int i = (head + j) & (kinds.length - 1);
      k[j] = kinds[i];
      h[j] = hidden[i];
      s[j] = synthetic[i];
    }
    kinds = k;
    hidden = h;
    synthetic = s;
    head = 0;
  }
}
