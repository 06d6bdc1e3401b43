package dev.pgfleet.proxy;

import dev.pgfleet.router.Classification;
import dev.pgfleet.router.PgFleetCommand;
import dev.pgfleet.router.Route;
import dev.pgfleet.router.ShardHash;
import dev.pgfleet.router.SqlReader;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.protocol.AsciiSql;
import dev.pgfleet.shared.protocol.ExtendedMessages;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.PgProtocol;
import dev.pgfleet.shared.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import java.util.Locale;
import java.util.Map;

/**
 * Where a client's next transaction goes, and the session commands that steer it: which shard
 * (SET SHARD, SET SHARDING KEY, a comment hint, the startup option {@code -c pgfleet.shard=n}),
 * and which server of the shard (SET SERVER ROLE, SET PRIMARY READS, a role hint, else the
 * classifier's read/write verdict). PgFleet's own SET and SHOW commands are answered here,
 * through {@link LocalReplies}, and never reach a server.
 */
final class RouteChoice {

    /** The startup option ({@code options=-c pgfleet.shard=n}) that picks the client's shard. */
    static final String SHARD_OPTION = "pgfleet.shard";

    private final ClientSession session;
    /** SET SERVER ROLE: null for auto (the classifier decides). */
    private Route roleOverride;
    /** SET PRIMARY READS: null for the pool's primary_reads_enabled. */
    private Boolean primaryReadsOverride;
    /**
     * SET SHARD, SET SHARDING KEY or the startup option: the shard of the client's transactions
     * (session mode: of its session); -1 for none ('any'), which is shard 0.
     */
    private int selectedShard = -1;

    RouteChoice(ClientSession session) {
        this.session = session;
    }

    private PoolConfig pool() {
        return session.poolConfig;
    }

    private int shardCount() {
        return pool().shards().size();
    }

    /**
     * At login: takes PgFleet's startup option out of the settings that go to servers.
     *
     * @return null, or the FATAL for a shard the pool does not have
     */
    PgException startupOption(Map<String, String> asked) {
        String startupShard = asked.remove(SHARD_OPTION);   // PgFleet's, not the server's
        if (startupShard == null) {
            return null;
        }
        int n = parseShard(startupShard);
        if (n < 0) {
            return new PgException(SqlState.INVALID_PARAMETER_VALUE, "invalid value for " + SHARD_OPTION + ": \""
                + startupShard + "\": pool \"" + pool().name() + "\" has shards 0 to " + (shardCount() - 1));
        }
        selectedShard = n;
        return null;
    }

    /** Session mode: the routing of the shard the session is bound to for good. */
    PoolRouting sessionShard() {
        selectedShard = Math.max(selectedShard, 0);
        return shardRouting(selectedShard);
    }

    /**
     * The server pool for the transaction this message starts: the shard's routing (read once
     * per transaction), then its primary or a replica. Null when the message was answered with
     * an error instead (a shard hint naming no shard of the pool).
     */
    ServerPool pick(byte type, ByteBuf buf, int offset, int length) {
        PoolRouting.View route;
        if (shardCount() == 1) {
            route = session.routing.view;
        } else {
            int shard = shardFor(type, buf, offset, length);
            if (shard < 0) {
                PgException e = new PgException(SqlState.INVALID_PARAMETER_VALUE, "shard hint out of range: pool \""
                    + pool().name() + "\" has shards 0 to " + (shardCount() - 1), null, false);
                session.replies.refuse(type, e);
                return null;
            }
            route = shardRouting(shard).view;
        }
        return route.splitting || roleOverride != null ? route.pick(routeFor(type, buf, offset, length),
            primaryReadsOverride != null ? primaryReadsOverride : route.primaryReads) : route.primary;
    }

    /**
     * Where the transaction that starts with this message goes: SET SERVER ROLE if the client
     * set one, else a comment hint, else the classifier's verdict on the SQL (the Query, the
     * Parse, or the text of the named statement a Bind uses); anything else to the primary.
     * The SQL is decoded only here, when read/write splitting is on.
     */
    private Route routeFor(byte type, ByteBuf buf, int offset, int length) {
        if (roleOverride != null) {
            return roleOverride;
        }
        if (type == PgProtocol.BIND_REQUEST) {
            PreparedStatements.Statement st = session.statements.boundStatement(buf, offset, length);
            if (st != null) {
                return st.route(session.runtime.classifier());   // a prepared statement is classified once
            }
        }
        CharSequence sql = sqlOf(type, buf, offset, length);
        if (sql == null) {
            return Route.PRIMARY;
        }
        return session.runtime.classifier().classify(sql).effectiveRoute();
    }

    /**
     * The SQL of a Query or Parse, as a view of the bytes when they are ASCII (a classification
     * cache hit copies nothing); null for other messages.
     */
    private static CharSequence sqlOf(byte type, ByteBuf buf, int offset, int length) {
        if (type == PgProtocol.QUERY_REQUEST) {
            return AsciiSql.ofQuery(buf, offset, length);
        }
        if (type == PgProtocol.PARSE_REQUEST) {
            return AsciiSql.ofParse(buf, offset, length);
        }
        return null;
    }

    /** The routing of one shard of this client's pool (shard 0: the session's own). */
    PoolRouting shardRouting(int shard) {
        PoolRouting r = shard == 0 ? null : session.runtime.routing(pool().name(), session.user.username(), shard);
        return r != null ? r : session.routing;
    }

    /** A shard number as SET SHARD or the startup option give it; -1 when not a shard of this pool. */
    private int parseShard(String value) {
        try {
            int n = Integer.parseInt(value.trim());
            return n >= 0 && n < shardCount() ? n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * The shard a sharding key names: an integer key by PostgreSQL's bigint hash partitioning,
     * any other by its text hash, with MODULUS = the pool's number of shards (pg_bigint_hash).
     */
    private int shardOfKey(String key) {
        try {
            return ShardHash.bigintRemainder(Long.parseLong(key.trim()), shardCount());
        } catch (NumberFormatException e) {
            return ShardHash.textRemainder(key, shardCount());
        }
    }

    /**
     * The shard of the transaction this message starts, on a sharded pool: a comment hint
     * ({@code /* shard_id: n *}{@code /}, {@code /* sharding_key: k *}{@code /}), else the client's
     * selection, else shard 0. -1 for a hint naming no shard of the pool.
     */
    private int shardFor(byte type, ByteBuf buf, int offset, int length) {
        CharSequence sql;
        if (type == PgProtocol.BIND_REQUEST) {
            PreparedStatements.Statement st = session.statements.boundStatement(buf, offset, length);
            sql = st != null ? st.query() : null;
        } else {
            sql = sqlOf(type, buf, offset, length);
        }
        if (sql != null) {
            Classification c = session.runtime.classifier().classify(sql);
            if (c.shardHint() >= 0) {
                return c.shardHint() < shardCount() ? c.shardHint() : -1;
            }
            if (c.shardingKeyHint() != null) {
                return shardOfKey(c.shardingKeyHint());
            }
        }
        return Math.max(selectedShard, 0);
    }

    /**
     * PgFleet's own commands (SET/SHOW SERVER ROLE, SET/SHOW PRIMARY READS, SET SHARD,
     * SET SHARDING KEY, SHOW SHARD), answered here:
     * only a Query or Parse whose SQL starts with SET or SHOW is looked at.
     *
     * @param keyword where the SQL's first keyword starts (-1: none), {@code end} where the SQL ends
     * @return CONSUME when answered, -1 otherwise
     */
    int command(byte type, ByteBuf buf, int offset, int length, int keyword, int end) {
        if (!SqlReader.isKeyword(buf, keyword, end, "SET") && !SqlReader.isKeyword(buf, keyword, end, "SHOW")) {
            return -1;
        }
        String sql = type == PgProtocol.QUERY_REQUEST ? ExtendedMessages.queryText(buf, offset, length)
            : ExtendedMessages.decodeParse(buf, offset, length).query();
        PgFleetCommand cmd = session.runtime.classifier().classify(sql).command();
        if (cmd == null || !session.requests.isEmpty()) {
            return -1;
        }
        LocalReplies replies = session.replies;
        LocalReplies.LocalReply reply;
        switch (cmd.type()) {
            case SET_SERVER_ROLE -> {
                roleOverride = cmd.role();
                reply = new LocalReplies.LocalReply("SET", null, null);
            }
            case SET_PRIMARY_READS -> {
                primaryReadsOverride = "default".equalsIgnoreCase(cmd.value()) ? null
                    : cmd.value().equalsIgnoreCase("on") || cmd.value().equalsIgnoreCase("true");
                reply = new LocalReplies.LocalReply("SET", null, null);
            }
            case SHOW_SERVER_ROLE -> reply = new LocalReplies.LocalReply("SHOW", "server_role",
                roleOverride == null ? "auto" : roleOverride.name().toLowerCase(Locale.ROOT));
            case SHOW_PRIMARY_READS -> reply = new LocalReplies.LocalReply("SHOW", "primary_reads",
                (primaryReadsOverride != null ? primaryReadsOverride : session.routing.view.primaryReads) ? "on" : "off");
            case SET_SHARD, SET_SHARDING_KEY -> {
                int n = cmd.type() == PgFleetCommand.Type.SET_SHARD ? cmd.shard() : shardOfKey(cmd.value());
                if (n >= shardCount()) {
                    return replies.refuse(type, new PgException(SqlState.INVALID_PARAMETER_VALUE, "shard " + n
                        + " does not exist: pool \"" + pool().name() + "\" has shards 0 to " + (shardCount() - 1), null, false));
                }
                selectedShard = n;   // the next transactions'; -1 ('any'): shard 0
                reply = new LocalReplies.LocalReply("SET", null, null);
            }
            case SHOW_SHARD -> reply = new LocalReplies.LocalReply("SHOW", "shard",
                selectedShard < 0 ? "any" : Integer.toString(selectedShard));
            case INVALID -> {
                return replies.refuse(type, new PgException(SqlState.INVALID_PARAMETER_VALUE, cmd.value(), null, false));
            }
            default -> {
                return -1;
            }
        }
        return replies.reply(type, reply);
    }
}
