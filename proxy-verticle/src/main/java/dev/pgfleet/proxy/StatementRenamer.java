package dev.pgfleet.proxy;

import dev.pgfleet.router.SqlReader;
import dev.pgfleet.shared.protocol.BackendMessages;
import dev.pgfleet.shared.protocol.ExtendedMessages;
import dev.pgfleet.shared.protocol.MessageFramer;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.PgProtocol;
import dev.pgfleet.shared.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Transaction mode's prepared statements and portals for one client: the client's statement
 * names are its own, mapped to the pool's server-side statements ({@code pgfleet_N}, see
 * {@link PreparedStatements}) and prepared just in time on whichever server connection a Bind or
 * Describe lands on; its unnamed statement is parsed again where it is needed; its portals live
 * until the end of the transaction. A name the client did not create is refused here, in order,
 * and never reaches a statement of another client.
 */
final class StatementRenamer {

    /**
     * A statement name no server connection has: clients' protocol-level names are renamed to
     * pgfleet_N, and SQL PREPARE truncates names to NAMEDATALEN - 1 (63) bytes, so a longer name
     * is never created.
     */
    private static final String REFUSED_NAME = "pgfleet_refused_" + "x".repeat(64);

    private final ClientSession session;
    /** The client's named statements, by the client's name. */
    private final Map<String, PreparedStatements.Statement> statements = new HashMap<>();
    /** The client's unnamed statement (its last Parse("")), null when it has none. */
    private PreparedStatements.Unnamed unnamed;
    /** The named portals the client's Binds created in the current transaction. */
    private final Set<String> portals = new HashSet<>();

    StatementRenamer(ClientSession session) {
        this.session = session;
    }

    /** How many named statements the client has (SHOW CLIENTS' prepared_statements). */
    int count() {
        return statements.size();
    }

    PreparedStatements.Unnamed unnamed() {
        return unnamed;
    }

    void remember(String name, PreparedStatements.Statement st) {
        statements.put(name, st);
    }

    /**
     * A named Parse PgFleet answers itself (a transaction's BEGIN or COMMIT it runs on its own): the
     * client's later Binds of the name find it, and it is prepared on a server when one runs it.
     */
    void rememberParse(ByteBuf buf, int offset, int length) {
        if (!ExtendedMessages.firstNameEmpty(buf, offset)) {
            ExtendedMessages.Parse parse = ExtendedMessages.decodeParse(buf, offset, length);
            statements.put(parse.name(), session.routing.statements.statement(parse.query(), parse.parameterTypes()));
        }
    }

    /** Close of a statement: the unnamed one for {@code ""}. */
    void forget(String name) {
        if (name.isEmpty()) {
            unnamed = null;
        } else {
            statements.remove(name);
        }
    }

    /** DEALLOCATE ALL, or a DEALLOCATE that reached the server: every name is gone. */
    void forgetAll() {
        statements.clear();
    }

    /** The named statement a Bind uses, as the client sees it (null if none). */
    PreparedStatements.Statement boundStatement(ByteBuf buf, int offset, int length) {
        return statements.get(ExtendedMessages.bindStatement(buf, offset, length));
    }

    /** The client's statement of that name (null if none). */
    PreparedStatements.Statement named(String name) {
        return statements.get(name);
    }

    /** A Query: "a simple Query message also destroys the unnamed statement" (PostgreSQL docs, Extended Query). */
    void query(ServerConnection s) {
        unnamed = null;
        s.unnamed(null);
    }

    /** Portals end with their transaction (WITH HOLD cursors stay, but not the client's names for them). */
    void transactionEnded() {
        if (!portals.isEmpty()) {
            portals.clear();
        }
    }

    int onExecute(ByteBuf buf, int offset, int length) {
        session.server.extendedSent();
        if (!ExtendedMessages.firstNameEmpty(buf, offset) && !portals.contains(ExtendedMessages.firstName(buf, offset, length))) {
            return refuse(noSuchPortal(ExtendedMessages.firstName(buf, offset, length)));
        }
        session.requests.add(RequestQueue.EXECUTE, false);
        return MessageFramer.FORWARD;
    }

    int onParse(ByteBuf buf, int offset, int length) {
        ServerConnection server = session.server;
        server.extendedSent();
        session.counters.clientParses++;
        if (ExtendedMessages.firstNameEmpty(buf, offset)) {
            // Kept as sent, to parse again wherever a later Bind or Describe of it lands; what its SQL
            // does to settings counts at its Binds, which may come in a later transaction. A client that
            // parses the same message again (a driver's unnamed statement per execution) keeps the one
            // it has: no copy, no allocation, and a connection holding it holds the same statement.
            PreparedStatements.Unnamed u = keepUnnamed(buf, offset, length);
            server.unnamed(u);
            session.requests.add(RequestQueue.PARSE, false, u);
            session.counters.serverParses++;
            return MessageFramer.FORWARD;
        }
        ExtendedMessages.Parse parse = ExtendedMessages.decodeParse(buf, offset, length);
        PreparedStatements.Statement st = session.routing.statements.statement(parse.query(), parse.parameterTypes());
        statements.put(parse.name(), st);
        session.framer.flushRun();
        if (server.hasPrepared(st.serverName())) {
            // Already on this server connection: answer the client's Parse ourselves, in order.
            session.counters.preparedHits++;
            session.requests.addSynthetic(ExtendedMessages.parseComplete());
            server.emitSynthetic();
        } else {
            prepareOnServer(st, false);
        }
        return MessageFramer.CONSUME;
    }

    /**
     * A sharded pool's Parse whose sharding key is a parameter: the shard is known at Bind, so
     * PgFleet answers ParseComplete itself and the statement is parsed on the shard's connection
     * just before its Bind (as for a statement that connection has not seen). An error in its SQL
     * then comes at the Bind, before Sync, where drivers read it as the batch's error.
     */
    void parseWithoutServer(ByteBuf buf, int offset, int length) {
        session.counters.clientParses++;
        if (ExtendedMessages.firstNameEmpty(buf, offset)) {
            keepUnnamed(buf, offset, length);
        } else {
            ExtendedMessages.Parse parse = ExtendedMessages.decodeParse(buf, offset, length);
            statements.put(parse.name(), session.routing.statements.statement(parse.query(), parse.parameterTypes()));
        }
        session.writeClient(ExtendedMessages.parseComplete());
        session.clientNeedsFlush = true;
    }

    /**
     * As {@link #parseWithoutServer}, inside a transaction over several shards (its server connection
     * linked): the ParseComplete goes in order after what the server still owes the client, and the
     * statement is parsed at its Bind on whichever shard's connection the Bind names.
     */
    int parseInOrder(ByteBuf buf, int offset, int length) {
        session.counters.clientParses++;
        if (ExtendedMessages.firstNameEmpty(buf, offset)) {
            keepUnnamed(buf, offset, length);
        } else {
            ExtendedMessages.Parse parse = ExtendedMessages.decodeParse(buf, offset, length);
            statements.put(parse.name(), session.routing.statements.statement(parse.query(), parse.parameterTypes()));
        }
        session.framer.flushRun();
        session.requests.addSynthetic(ExtendedMessages.parseComplete());
        session.server.emitSynthetic();
        return MessageFramer.CONSUME;
    }

    /** The client's unnamed statement as this Parse makes it (the one it has when the message is the same). */
    private PreparedStatements.Unnamed keepUnnamed(ByteBuf buf, int offset, int length) {
        PreparedStatements.Unnamed u = unnamed;
        if (u == null || !u.sameMessage(buf, offset, length)) {
            byte[] message = new byte[length];
            buf.getBytes(offset, message);
            u = new PreparedStatements.Unnamed(message, session.settings.sessionEffects(buf, session.keyword, session.keywordEnd));
            unnamed = u;
        }
        return u;
    }

    int onBind(ByteBuf buf, int offset, int length) {
        ServerConnection server = session.server;
        server.extendedSent();
        session.counters.binds++;
        String name = ExtendedMessages.bindStatement(buf, offset, length);
        if (name.isEmpty()) {
            if (unnamed == null) {
                return refuse(noUnnamedStatement());
            }
            notePortal(buf, offset, length);
            session.settings.noteEffects(unnamed.sessionEffects());
            if (server.unnamed() != unnamed) {
                session.framer.flushRun();
                prepareUnnamedOnServer();
            }
            session.requests.add(RequestQueue.BIND, false);
            return MessageFramer.FORWARD;
        }
        PreparedStatements.Statement st = clientStatement(name);
        if (st == null) {
            // A name the client never prepared: it must not reach a pgfleet_N of another client.
            return refuse(noSuchStatement(name));
        }
        notePortal(buf, offset, length);
        session.settings.noteEffects(st.sessionEffects());   // what its SQL does to settings happens now, when it runs
        session.framer.flushRun();
        if (!server.hasPrepared(st.serverName())) {
            prepareOnServer(st, true);
        }
        ByteBuf out = server.alloc(length + st.serverName().length());
        ExtendedMessages.renameBind(out, buf, offset, length, st.serverName());
        session.writeServer(out);
        session.requests.add(RequestQueue.BIND, false, st);
        return MessageFramer.CONSUME;
    }

    /** A named portal the Bind creates: this client's until the transaction ends. */
    private void notePortal(ByteBuf buf, int offset, int length) {
        if (!ExtendedMessages.firstNameEmpty(buf, offset)) {
            portals.add(ExtendedMessages.firstName(buf, offset, length));
        }
    }

    /** The client's statement of that name, moved to the pool's current one if its result type changed. */
    PreparedStatements.Statement clientStatement(String name) {
        PreparedStatements.Statement st = statements.get(name);
        if (st != null && st.retired()) {
            st = session.routing.statements.statement(st.query(), st.parameterTypes());
            statements.put(name, st);
        }
        return st;
    }

    int onDescribe(ByteBuf buf, int offset, int length) {
        ServerConnection server = session.server;
        server.extendedSent();
        String name = ExtendedMessages.targetName(buf, offset, length);
        if (ExtendedMessages.target(buf, offset) != 'S') {
            if (!name.isEmpty() && !portals.contains(name)) {
                return refuse(noSuchPortal(name));
            }
            session.requests.add(RequestQueue.DESCRIBE_PORTAL, false);
            return MessageFramer.FORWARD;
        }
        if (name.isEmpty()) {
            if (unnamed == null) {
                return refuse(noUnnamedStatement());
            }
            if (server.unnamed() != unnamed) {
                session.framer.flushRun();
                prepareUnnamedOnServer();
            }
            session.requests.add(RequestQueue.DESCRIBE_STATEMENT, false);
            return MessageFramer.FORWARD;
        }
        PreparedStatements.Statement st = clientStatement(name);
        if (st == null) {
            return refuse(noSuchStatement(name));
        }
        session.framer.flushRun();
        if (!server.hasPrepared(st.serverName())) {
            prepareOnServer(st, true);
        }
        ByteBuf out = server.alloc(st.serverName().length() + 8);
        ExtendedMessages.describeStatement(out, st.serverName());
        session.writeServer(out);
        session.requests.add(RequestQueue.DESCRIBE_STATEMENT, false, st);
        return MessageFramer.CONSUME;
    }

    /**
     * Close: statements are PgFleet's to forget (a pool statement stays on the server for the
     * other clients), and so is a portal the client did not bind. "It is not an error to issue
     * Close against a nonexistent statement or portal name" (PostgreSQL docs, Close), so those
     * get CloseComplete from PgFleet, in order. Only the client's own portals reach the server.
     */
    int onClose(ByteBuf buf, int offset, int length) {
        ServerConnection server = session.server;
        String name = ExtendedMessages.targetName(buf, offset, length);
        if (ExtendedMessages.target(buf, offset) == 'S') {
            forget(name);   // the pool keeps its statement: answered here, nothing reaches the server
        } else if (name.isEmpty() || portals.remove(name)) {
            server.extendedSent();
            session.requests.add(RequestQueue.CLOSE, false);
            return MessageFramer.FORWARD;
        }
        session.framer.flushRun();
        session.requests.addSynthetic(ExtendedMessages.closeComplete());
        server.emitSynthetic();
        return MessageFramer.CONSUME;
    }

    /** Parses a pool statement on this server connection, closing the least recently used one past the limit. */
    private void prepareOnServer(PreparedStatements.Statement st, boolean hideParseComplete) {
        ServerConnection server = session.server;
        PoolCounters counters = session.counters;
        String evicted = server.addPrepared(st.serverName(), session.runtime.preparedStatementsCacheSize());
        counters.preparedMisses++;
        counters.serverParses++;
        if (evicted != null) {
            counters.preparedEvictions++;
            ByteBuf close = server.alloc(evicted.length() + 8);
            ExtendedMessages.closeStatement(close, evicted);
            session.writeServer(close);
            session.requests.add(RequestQueue.CLOSE, true, evicted);
        }
        ByteBuf parse = server.alloc(st.query().length() * 3 + st.serverName().length() + st.parameterTypes().length + 8);
        ExtendedMessages.parse(parse, st.serverName(), st.query(), st.parameterTypes());
        session.writeServer(parse);
        session.requests.add(RequestQueue.PARSE, hideParseComplete, st);
    }

    /** The client's unnamed statement, parsed again on this server connection (its ParseComplete hidden). */
    private void prepareUnnamedOnServer() {
        byte[] message = unnamed.parse();
        session.counters.serverParses++;
        ServerConnection server = session.server;
        ByteBuf parse = server.alloc(message.length);
        parse.writeBytes(message);
        session.writeServer(parse);
        server.unnamed(unnamed);
        session.requests.add(RequestQueue.PARSE, true, unnamed);
    }

    /** A server connection dropped the client's unnamed statement (see ServerConnection.Peer). */
    void unnamedStatementLost(PreparedStatements.Unnamed statement) {
        if (unnamed == statement) {
            unnamed = null;
        }
    }

    static PgException noUnnamedStatement() {
        return new PgException(SqlState.INVALID_SQL_STATEMENT_NAME, "unnamed prepared statement does not exist", null, false);
    }

    static PgException noSuchStatement(String name) {
        return new PgException(SqlState.INVALID_SQL_STATEMENT_NAME, "prepared statement \"" + name + "\" does not exist",
            null, false);
    }

    static PgException noSuchPortal(String name) {
        return new PgException(SqlState.INVALID_CURSOR_NAME, "portal \"" + name + "\" does not exist", null, false);
    }

    /**
     * A statement does not exist for PostgreSQL when this client did not create it: PgFleet says
     * so itself, and the name reaches no server. With a server connection linked, the server
     * still has to fail here (its transaction aborts, the requests before keep their answers, in
     * order): it gets a Describe of {@link #REFUSED_NAME}, and its error is replaced by this one.
     * Then, as PostgreSQL after an error, the client's messages up to Sync are dropped.
     */
    int refuse(PgException error) {
        session.countError(error.sqlState());
        ByteBuf out = session.channel.alloc().buffer(128);
        BackendMessages.errorResponse(out, error);
        session.discardToSync = true;
        ServerConnection server = session.server;
        if (server == null) {
            session.writeClient(out);
            session.clientNeedsFlush = true;
            return MessageFramer.CONSUME;
        }
        session.framer.flushRun();
        ByteBuf describe = server.alloc(REFUSED_NAME.length() + 8);
        ExtendedMessages.describeStatement(describe, REFUSED_NAME);
        session.writeServer(describe);
        server.extendedSent();
        session.requests.addRefused(out);
        return MessageFramer.CONSUME;
    }

    /**
     * Commands of a simple Query that PgFleet answers itself in transaction mode, without a
     * server: DEALLOCATE (the client's statement names are PgFleet's to forget), and SQL-level
     * PREPARE/EXECUTE, refused with a clear error because a statement prepared that way would
     * stay on one server connection while the client moves between them.
     *
     * @param keyword where the SQL's first keyword starts (-1: none), {@code end} where the SQL ends
     * @return CONSUME when answered here, -1 to go on
     */
    int sqlCommand(byte type, ByteBuf buf, int keyword, int end) {
        if (keyword < 0) {
            return -1;
        }
        LocalReplies replies = session.replies;
        if (SqlReader.isKeyword(buf, keyword, end, "PREPARE") || SqlReader.isKeyword(buf, keyword, end, "EXECUTE")) {
            PgException refused = new PgException(SqlState.FEATURE_NOT_SUPPORTED,
                "SQL-level PREPARE and EXECUTE are not supported in transaction pooling mode",
                "Use protocol-level prepared statements (your driver's prepared statements), which PgFleet supports, "
                    + "or pool_mode = \"session\".", false);
            return replies.refuse(type, refused);
        }
        int w = type == PgProtocol.QUERY_REQUEST ? SqlReader.deallocateTarget(buf, keyword, end) : -1;
        if (w < 0) {
            return -1;
        }
        if (SqlReader.isKeyword(buf, w, end, "ALL")) {
            statements.clear();
            return replies.answer(null, "DEALLOCATE ALL");
        }
        String target = SqlReader.nameAt(buf, w, end);
        if (statements.remove(target) == null) {
            return replies.answer(new PgException("26000", "prepared statement \"" + target + "\" does not exist", null, false), null);
        }
        return replies.answer(null, "DEALLOCATE");
    }
}
