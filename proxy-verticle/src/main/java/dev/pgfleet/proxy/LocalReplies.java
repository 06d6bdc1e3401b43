package dev.pgfleet.proxy;

import dev.pgfleet.shared.protocol.BackendMessages;
import dev.pgfleet.shared.protocol.ExtendedMessages;
import dev.pgfleet.shared.protocol.MessageFramer;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.PgProtocol;
import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * The answers PgFleet gives a client without a server: the responses to its own commands (a
 * command tag, or one text column and value, in simple or extended protocol), errors of its own
 * followed by ReadyForQuery or by dropping the client's messages up to Sync, and, between
 * transactions in transaction mode, what needs no server connection (Sync, Flush, the Parse and
 * Describe of a statement the pool knows, Close). Each is written in order: while the server owes
 * the client answers to earlier requests, nothing is answered here (-1, the server answers).
 */
final class LocalReplies {

    /**
     * The answer to a PgFleet command: a tag, and for SHOW (or PgFleet's functions) one column and
     * value, of type {@code type} (text, or int8 for {@code pgfleet.unique_id()}), sent in text format.
     */
    record LocalReply(String tag, String column, String value, int type) {
        LocalReply(String tag, String column, String value) {
            this(tag, column, value, 25);
        }

        void describe(ByteBuf out) {
            BackendMessages.rowDescription(out, List.of(column), type, type == 20 ? 8 : -1);
        }
    }

    private final ClientSession session;
    /** A PgFleet command sent as Parse/Bind/Describe/Execute/Sync: answered message by message until Sync. */
    private LocalReply pending;
    /** The pending reply is one statement's (a deferred BEGIN's): it ends with its Execute, not at Sync. */
    private boolean endsAtExecute;

    LocalReplies(ClientSession session) {
        this.session = session;
    }

    /** Whether the client's messages are being answered for a PgFleet command, up to its Sync. */
    boolean answering() {
        return pending != null;
    }

    /** Answers a PgFleet command: at once for a Query, message by message up to Sync for Parse. */
    int reply(byte type, LocalReply reply) {
        if (type == PgProtocol.QUERY_REQUEST) {
            return reply.column() == null ? answer(null, reply.tag()) : answerRow(reply);
        }
        pending = reply;
        return answerExtended(type);
    }

    /**
     * Answers one statement of an extended-protocol batch (Parse, Bind, Describe, Execute) that
     * has no Sync of its own: a BEGIN pgjdbc sends ahead of the transaction's first statement.
     */
    int replyUntilExecute(byte type, LocalReply reply) {
        pending = reply;
        endsAtExecute = true;
        return answerExtended(type);
    }

    /** One statement's answer: a Query's at once, an extended one's message by message up to its Execute. */
    int replyStatement(byte type, LocalReply reply) {
        return type == PgProtocol.QUERY_REQUEST ? reply(type, reply) : replyUntilExecute(type, reply);
    }

    /** An error of PgFleet's for a Query (then ReadyForQuery) or a Parse (then up to Sync dropped). */
    int refuse(byte type, PgException error) {
        return type == PgProtocol.QUERY_REQUEST ? answer(error, null) : refuseExtended(error);
    }

    /** The responses to a PgFleet command sent as Parse/Bind/Describe/Execute/Sync. */
    int answerExtended(byte type) {
        return answerExtended(type, false);
    }

    /** As {@link #answerExtended(byte)}; {@code statement}: a Describe of the statement, which also describes its (no) parameters. */
    int answerExtended(byte type, boolean statement) {
        LocalReply r = pending;
        ByteBuf out = session.channel.alloc().buffer(64);
        switch (type) {
            case PgProtocol.PARSE_REQUEST -> out.writeBytes(ExtendedMessages.parseComplete());
            case PgProtocol.BIND_REQUEST -> out.writeByte('2').writeInt(4);
            case PgProtocol.DESCRIBE_REQUEST -> {
                if (statement) {
                    out.writeByte(PgProtocol.PARAMETER_DESCRIPTION_RESPONSE).writeInt(6).writeShort(0);
                }
                if (r.column() == null) {
                    out.writeByte('n').writeInt(4);
                } else {
                    r.describe(out);
                }
            }
            case PgProtocol.EXECUTE_REQUEST -> {
                if (r.column() != null) {
                    BackendMessages.dataRowText(out, List.of(r.value()));
                }
                BackendMessages.commandComplete(out, r.tag());
                if (endsAtExecute) {
                    pending = null;
                    endsAtExecute = false;
                }
            }
            case PgProtocol.SYNC_REQUEST -> {
                BackendMessages.readyForQuery(out, txStatus());
                pending = null;
                endsAtExecute = false;
            }
            case PgProtocol.CLOSE_REQUEST -> out.writeBytes(ExtendedMessages.closeComplete());
            default -> {
                // Flush: nothing to say.
            }
        }
        return written(out);
    }

    private int answerRow(LocalReply r) {
        if (!session.requests.isEmpty()) {
            return -1;
        }
        ByteBuf out = session.channel.alloc().buffer(128);
        r.describe(out);
        BackendMessages.dataRowText(out, List.of(r.value()));
        BackendMessages.commandComplete(out, r.tag());
        BackendMessages.readyForQuery(out, txStatus());
        return written(out);
    }

    /**
     * An extended-protocol batch PgFleet refuses: the error now, then (as PostgreSQL after an
     * error) the client's messages up to Sync are dropped and Sync gets ReadyForQuery.
     */
    int refuseExtended(PgException error) {
        if (!session.requests.isEmpty()) {
            return -1;   // responses to earlier requests are still coming: let the server answer in order
        }
        session.countError(error.sqlState());
        ByteBuf out = session.channel.alloc().buffer(256);
        BackendMessages.errorResponse(out, error);
        session.discardToSync = true;
        return written(out);
    }

    /** Answers a Query without the server: an error or a command tag, then ReadyForQuery. */
    int answer(PgException error, String tag) {
        if (!session.requests.isEmpty()) {
            // Responses to earlier requests are still coming: let the server answer in order.
            return -1;
        }
        ByteBuf out = session.channel.alloc().buffer(128);
        if (error != null) {
            session.countError(error.sqlState());
            BackendMessages.errorResponse(out, error);
        } else {
            BackendMessages.commandComplete(out, tag);
        }
        BackendMessages.readyForQuery(out, txStatus());
        return written(out);
    }

    /** ReadyForQuery for a Sync, or for the Query or Sync that ends the dropping after an error ('I' but in a deferred BEGIN). */
    int ready() {
        ByteBuf out = session.channel.alloc().buffer(6);
        BackendMessages.readyForQuery(out, txStatus());
        return written(out);
    }

    /**
     * Transaction mode with no server connection linked (so no transaction open and nothing in
     * flight): what PgFleet can answer alone. Sync gets ReadyForQuery 'I'; a Parse of a statement
     * the pool has prepared successfully gets ParseComplete (prepared on a server just in time at
     * Bind, as ever), and a Describe of one the pool has described gets that description; names
     * the client did not create get their errors, a Close gets CloseComplete. (Bind, the hot
     * path, is not looked at here: it needs a server connection but for a bad name, which
     * the renamer refuses as well.) So a client that prepares (pgbench -M prepared, PQprepare)
     * does not wait for a server connection that other clients hold.
     *
     * @return CONSUME when answered, -1 to take a server connection
     */
    int withoutServer(byte type, ByteBuf buf, int offset, int length) {
        StatementRenamer statements = session.statements;
        switch (type) {
            case PgProtocol.SYNC_REQUEST -> {
                return ready();
            }
            case PgProtocol.FLUSH_REQUEST -> {
                session.clientNeedsFlush = true;
                return MessageFramer.CONSUME;
            }
            case PgProtocol.PARSE_REQUEST -> {
                if (ExtendedMessages.firstNameEmpty(buf, offset) || session.sessionCommandKeyword(buf)) {
                    return -1;
                }
                ExtendedMessages.Parse parse = ExtendedMessages.decodeParse(buf, offset, length);
                PreparedStatements.Statement st = session.routing.statements.statement(parse.query(), parse.parameterTypes());
                if (!st.prepared()) {
                    return -1;
                }
                statements.remember(parse.name(), st);
                session.counters.clientParses++;
                session.counters.preparedHits++;
                return written(ExtendedMessages.parseComplete());
            }
            case PgProtocol.DESCRIBE_REQUEST -> {
                String name = ExtendedMessages.targetName(buf, offset, length);
                if (ExtendedMessages.target(buf, offset) != 'S') {
                    // No portal outlives a transaction.
                    return name.isEmpty() ? -1 : statements.refuse(StatementRenamer.noSuchPortal(name));
                }
                if (name.isEmpty()) {
                    return statements.unnamed() == null ? statements.refuse(StatementRenamer.noUnnamedStatement()) : -1;
                }
                PreparedStatements.Statement st = statements.clientStatement(name);
                if (st == null) {
                    return statements.refuse(StatementRenamer.noSuchStatement(name));
                }
                byte[] description = st.description();
                if (description == null) {
                    return -1;
                }
                return written(session.channel.alloc().buffer(description.length).writeBytes(description));
            }
            case PgProtocol.EXECUTE_REQUEST -> {
                return ExtendedMessages.firstNameEmpty(buf, offset) ? -1
                    : statements.refuse(StatementRenamer.noSuchPortal(ExtendedMessages.firstName(buf, offset, length)));
            }
            case PgProtocol.CLOSE_REQUEST -> {
                if (ExtendedMessages.target(buf, offset) == 'S') {
                    statements.forget(ExtendedMessages.targetName(buf, offset, length));
                }
                return written(ExtendedMessages.closeComplete());
            }
            default -> {
                return -1;
            }
        }
    }

    private byte txStatus() {
        ServerConnection s = session.server;
        return s != null ? s.txStatus() : session.routeChoice.deferredStatus();
    }

    private int written(ByteBuf out) {
        session.writeClient(out);
        session.clientNeedsFlush = true;
        return MessageFramer.CONSUME;
    }
}
