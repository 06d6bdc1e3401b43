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

    /**
     * A statement as PgFleet prepares it on servers, with its read/write route once classified
     * (at the first Bind that starts a transaction; Binds after that reuse it).
     */
    static final class Statement {
        private final PreparedStatements owner;
        private final String serverName;
        private final String query;
        private final byte[] parameterTypes;
        /** Set once, from any loop: an enum constant, safe to publish without a fence (the worst case classifies twice). */
        private dev.pgfleet.router.Route route;
        /** What its SQL does to session settings, read on first use (published as route is). */
        private dev.pgfleet.router.SessionCommands.Effects sessionEffects;
        /** A server answered its Parse with ParseComplete: a client's Parse of it can be answered without a server. */
        private volatile boolean prepared;
        /**
         * A server's answer to Describe of it: ParameterDescription then RowDescription or NoData,
         * as sent (immutable once set), for a Describe answered without a server.
         */
        private volatile byte[] description;
        /** Its result type changed under it (0A000): no new Parse maps to it, clients move off it. */
        private volatile boolean retired;

        Statement(PreparedStatements owner, String serverName, String query, byte[] parameterTypes) {
            this.owner = owner;
            this.serverName = serverName;
            this.query = query;
            this.parameterTypes = parameterTypes;
        }

        boolean prepared() {
            return prepared;
        }

        void markPrepared() {
            if (!prepared) {
                prepared = true;
            }
        }

        byte[] description() {
            return description;
        }

        void description(byte[] bytes) {
            if (!retired) {
                description = bytes;
            }
        }

        boolean retired() {
            return retired;
        }

        /**
         * A server said "cached plan must not change result type" (0A000) for it: the table
         * behind it changed. PostgreSQL's answer is to prepare again; so the next Parse of this
         * text gets a fresh server name (prepared anew, described anew), and clients that
         * hold this one move to that one at their next Bind or Describe.
         */
        void retire() {
            retired = true;
            description = null;
            owner.byText.remove(new Key(query, parameterTypes), this);
        }

        String serverName() {
            return serverName;
        }

        String query() {
            return query;
        }

        byte[] parameterTypes() {
            return parameterTypes;
        }

        /** What running it does to session state (SET, RESET, set_config...), read once. */
        dev.pgfleet.router.SessionCommands.Effects sessionEffects() {
            dev.pgfleet.router.SessionCommands.Effects e = sessionEffects;
            if (e == null) {
                e = dev.pgfleet.router.SessionCommands.scan(query);
                sessionEffects = e;
            }
            return e;
        }

        /** Where a transaction starting with this statement goes, classified on first use. */
        dev.pgfleet.router.Route route(dev.pgfleet.router.QueryClassifier classifier) {
            dev.pgfleet.router.Route r = route;
            if (r == null) {
                r = classifier.classify(query).effectiveRoute();
                route = r;
            }
            return r;
        }
    }

    /**
     * A client's unnamed statement in transaction mode: its Parse message as the client sent
     * it, to parse again on whatever server connection its Bind or Describe lands on.
     * Compared by identity: a server connection knows which one it holds (see
     * ServerConnection#unnamed); a Parse("") makes a new one unless its bytes are the client's
     * current one's, which then stands for it (the same text and parameter types).
     */
    static final class Unnamed {
        private final byte[] parse;
        /** What its SQL does to session settings, counted at each Bind (when it runs). */
        private final dev.pgfleet.router.SessionCommands.Effects sessionEffects;

        Unnamed(byte[] parse, dev.pgfleet.router.SessionCommands.Effects sessionEffects) {
            this.parse = parse;
            this.sessionEffects = sessionEffects;
        }

        byte[] parse() {
            return parse;
        }

        /** Whether {@code buf[offset, offset + length)} is this Parse message, byte for byte. */
        boolean sameMessage(io.netty.buffer.ByteBuf buf, int offset, int length) {
            if (length != parse.length) {
                return false;
            }
            for (int i = 0; i < length; i++) {
                if (buf.getByte(offset + i) != parse[i]) {
                    return false;
                }
            }
            return true;
        }

        dev.pgfleet.router.SessionCommands.Effects sessionEffects() {
            return sessionEffects;
        }

        /** Its SQL (decoded from the Parse message: sharded pools read its sharding key). */
        String query() {
            return dev.pgfleet.shared.protocol.ExtendedMessages.decodeParse(
                io.netty.buffer.Unpooled.wrappedBuffer(parse), 0, parse.length).query();
        }
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
        Statement fresh = new Statement(this, "pgfleet_" + counter.incrementAndGet(), query, parameterTypes);
        if (byText.size() >= MAX_SHARED) {
            return fresh;
        }
        s = byText.putIfAbsent(key, fresh);
        return s != null ? s : fresh;
    }

    int size() {
        return byText.size();
    }

    /** The statements now (SHOW PREPARED); a weakly consistent view, read from any thread. */
    java.util.Collection<Statement> all() {
        return byText.values();
    }
}
