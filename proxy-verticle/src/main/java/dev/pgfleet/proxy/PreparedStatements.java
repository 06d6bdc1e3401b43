package dev.pgfleet.proxy;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The named prepared statements of one pool, shared by its clients: one server-side name
 * per distinct (query text, parameter types), so a statement prepared by one client on a
 * server connection serves every client that prepares the same text (as PgBouncer 1.21+
 * and PgCat do). Thread safe; touched at Parse, not at Bind.
 */
final class PreparedStatements {

  /** A statement as PgFleet prepares it on servers. */
  record Statement(String serverName, String query, byte[] parameterTypes) {
  }

  private record Key(String query, byte[] types) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && query.equals(k.query) && Arrays.equals(types, k.types);
    }

    @Override
    public int hashCode() {
      return query.hashCode() * 31 + Arrays.hashCode(types);
    }
  }

  /** Bounds the shared map; past it, new texts still work, under a fresh name each time. */
  private static final int MAX_SHARED = 100_000;

  private final ConcurrentHashMap<Key, Statement> byText = new ConcurrentHashMap<>();
  private final AtomicLong counter = new AtomicLong();

  Statement statement(String query, byte[] parameterTypes) {
    Key key = new Key(query, parameterTypes);
    Statement s = byText.get(key);
    if (s != null) {
      return s;
    }
    Statement fresh = new Statement("pgfleet_" + counter.incrementAndGet(), query, parameterTypes);
    if (byText.size() >= MAX_SHARED) {
      return fresh;
    }
    s = byText.putIfAbsent(key, fresh);
    return s != null ? s : fresh;
  }

  int size() {
    return byText.size();
  }
}
