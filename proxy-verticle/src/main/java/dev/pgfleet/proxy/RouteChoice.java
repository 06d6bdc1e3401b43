package dev.pgfleet.proxy;

import dev.pgfleet.router.Classification;
import dev.pgfleet.router.PgFleetCommand;
import dev.pgfleet.router.Route;
import dev.pgfleet.router.SqlReader;
import dev.pgfleet.router.StatementKeys;
import dev.pgfleet.shared.config.CrossShardWrites;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.ShardedTable;
import dev.pgfleet.shared.protocol.AsciiSql;
import dev.pgfleet.shared.protocol.ExtendedMessages;
import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.PgProtocol;
import dev.pgfleet.shared.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import java.util.List;
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

    /** Whether shardFor's last answer came from the client's choice (a hint, SET SHARD) rather than a key. */
    private boolean explicitChoice;

    /** shardFor's answer when the message was answered (an error, a deferred BEGIN) or taken by a binding. */
    private static final int HANDLED = -1;
    /** shardFor's answer for a Parse whose key is a parameter: answered here, the shard is chosen at Bind. */
    private static final int AT_BIND = -2;

    /** The shard of the transaction the session's server connection serves (sharded pools). */
    private int currentShard;
    /** That shard was chosen by the client (a hint, SET SHARD): its statements are not checked against keys. */
    private boolean currentShardExplicit;
    /**
     * A BEGIN (its SQL) that PgFleet answered without a server on a sharded pool: the shard is
     * not known until the transaction's first keyed statement, where it is sent first.
     */
    private String pendingBegin;
    /** A statement of the deferred transaction failed: as PostgreSQL's, it is aborted until its end. */
    private boolean pendingBeginFailed;

    /** The transaction status the client was told while no server connection is linked: 'I', or 'T'/'E' in a deferred BEGIN. */
    byte deferredStatus() {
        return pendingBegin == null ? PgProtocol.TX_IDLE : pendingBeginFailed ? PgProtocol.TX_FAILED : PgProtocol.TX_IN_BLOCK;
    }

    /** The deferred BEGIN, taken: to run on the server connection just checked out. */
    String takePendingBegin() {
        String b = pendingBegin;
        pendingBegin = null;
        transactionBegin = b;
        return b;
    }

    /** The last deferred BEGIN sent: how a transaction that moves to more shards begins on them. */
    private String transactionBegin;

    /**
     * The server pool for the transaction this message starts: the shard's routing (read once
     * per transaction), then its primary or a replica. Null when the message was answered here
     * instead (an error, a BEGIN or Parse answered without a server) or taken by a binding that
     * spreads it over several shards.
     */
    ServerPool pick(byte type, ByteBuf buf, int offset, int length) {
        PoolRouting.View route;
        if (shardCount() == 1) {
            route = session.routing.view;
        } else {
            transactionBegin = null;   // a new transaction: its own BEGIN, if deferred, is taken after this
            int shard = shardFor(type, buf, offset, length);
            if (shard == AT_BIND) {
                session.statements.parseWithoutServer(buf, offset, length);
                return null;
            }
            if (shard < 0) {
                return null;
            }
            currentShard = shard;
            currentShardExplicit = explicitChoice;
            route = shardRouting(shard).view;
        }
        return route.splitting || roleOverride != null ? route.pick(routeFor(type, buf, offset, length),
            primaryReadsOverride != null ? primaryReadsOverride : route.primaryReads) : route.primary;
    }

    /** The SQL a Query, Parse or Bind runs (a Bind: its statement's), or null. */
    CharSequence statementSql(byte type, ByteBuf buf, int offset, int length) {
        if (type != PgProtocol.BIND_REQUEST) {
            return sqlOf(type, buf, offset, length);
        }
        String name = ExtendedMessages.bindStatement(buf, offset, length);
        if (name.isEmpty()) {
            PreparedStatements.Unnamed u = session.statements.unnamed();
            return u != null ? u.query() : null;
        }
        PreparedStatements.Statement st = session.statements.named(name);
        return st != null ? st.query() : null;
    }

    /**
     * The shard of the transaction this message starts, on a sharded pool: a comment hint
     * ({@code /* shard_id: n *}{@code /}, {@code /* sharding_key: k *}{@code /}), else the client's
     * selection (SET SHARD, SET SHARDING KEY, the startup option), else the sharding key in the
     * SQL, else default_shard; a statement on a sharded table that names no key gets 0A000 until
     * PgFleet merges cross-shard queries. Statements that touch no sharded table go to the default
     * shard (shard 0 without default_shard). {@link #HANDLED} when answered here or bound to
     * several shards, {@link #AT_BIND} for a Parse whose key is a parameter.
     */
    private int shardFor(byte type, ByteBuf buf, int offset, int length) {
        explicitChoice = true;
        CharSequence sql = statementSql(type, buf, offset, length);
        Classification c = null;
        PoolSharding regexes = session.routing.sharding;
        if (sql != null) {
            c = session.runtime.classifier().classify(sql);
            if (pendingBeginFailed) {
                return abortedTransaction(type, c);
            }
            if (regexes != null) {
                // PgCat's shard_id_regex and sharding_key_regex, when configured, before PgFleet's own comments.
                String id = regexes.shardIdFromRegex(sql);
                if (id != null) {
                    int n = parseShard(id);
                    return n >= 0 ? n : refuse(type, new PgException(SqlState.INVALID_PARAMETER_VALUE, "shard_id_regex "
                        + "found shard " + id + ": pool \"" + pool().name() + "\" has shards 0 to " + (shardCount() - 1),
                        null, false));
                }
                String key = regexes.shardingKeyFromRegex(sql);
                if (key != null) {
                    try {
                        return shardOfKey(key);
                    } catch (PgException e) {
                        return refuse(type, e);
                    }
                }
            }
            if (c.shardHint() >= 0) {
                if (c.shardHint() < shardCount()) {
                    return c.shardHint();
                }
                return refuse(type, new PgException(SqlState.INVALID_PARAMETER_VALUE, "shard hint out of range: pool \""
                    + pool().name() + "\" has shards 0 to " + (shardCount() - 1), null, false));
            }
            if (c.shardingKeyHint() != null) {
                try {
                    return shardOfKey(c.shardingKeyHint());
                } catch (PgException e) {
                    return refuse(type, e);
                }
            }
        }
        if (selectedShard >= 0) {
            return selectedShard;
        }
        explicitChoice = false;
        PoolSharding sharding = session.routing.sharding;
        if (sharding == null || sql == null) {
            return defaultShard(sharding);
        }
        if (c.transactionControl() != Classification.TransactionControl.NONE && c.statementCount() == 1) {
            // A Bind too: pgjdbc names its BEGIN after a few uses and binds it again.
            int deferred = deferTransactionControl(type, buf, offset, length, c, sql);
            if (deferred != 0) {
                return HANDLED;
            }
        }
        if (!sharding.hasTables()) {
            return defaultShard(sharding);
        }
        StatementKeys keys = sharding.keys(sql.toString());
        return shardOfStatement(type, buf, offset, length, sharding, keys, sql, c);
    }

    private int defaultShard(PoolSharding sharding) {
        int d = sharding != null ? sharding.defaultShard() : -1;
        return d >= 0 ? d : 0;
    }

    /**
     * BEGIN, COMMIT and ROLLBACK outside a transaction on a sharded pool where no shard is
     * selected: BEGIN is answered here and sent with the transaction's first keyed statement,
     * to the shard that statement names; a COMMIT or ROLLBACK of such a transaction with nothing
     * in it is answered here too. 0 when the statement is not one of these.
     */
    private int deferTransactionControl(byte type, ByteBuf buf, int offset, int length, Classification c, CharSequence sql) {
        Classification.TransactionControl tc = c.transactionControl();
        String tag;
        if (tc == Classification.TransactionControl.BEGIN && pendingBegin == null && c.leavesTransactionOpen()) {
            pendingBegin = sql.toString();
            tag = "BEGIN";
        } else if (pendingBegin != null && (tc == Classification.TransactionControl.COMMIT
            || tc == Classification.TransactionControl.ROLLBACK) && !c.startsTransaction()) {
            pendingBegin = null;
            tag = tc == Classification.TransactionControl.COMMIT ? "COMMIT" : "ROLLBACK";
        } else {
            return 0;
        }
        if (type == PgProtocol.PARSE_REQUEST) {
            session.statements.rememberParse(buf, offset, length);
        }
        LocalReplies.LocalReply reply = new LocalReplies.LocalReply(tag, null, null);
        session.replies.replyStatement(type, reply);
        return 1;
    }

    /** The shard of a statement by its sharding keys (see {@link #shardFor}). */
    private int shardOfStatement(byte type, ByteBuf buf, int offset, int length, PoolSharding sharding,
                                 StatementKeys keys, CharSequence sql, Classification c) {
        switch (keys.kind()) {
            case UNSHARDED -> {
                String omni = sharding.omnishardedTable(sql.toString());
                if (omni != null) {
                    return omnisharded(type, buf, offset, length, sharding, omni, sql.toString(), c);
                }
                return defaultShard(sharding);
            }
            case KEYLESS -> {
                StatementKeys.CopyStatement copy = keys.copy();
                if (copy != null && copy.table() != null && type == PgProtocol.QUERY_REQUEST) {
                    return copy(sharding, copy, sql.toString());
                }
                int d = sharding.defaultShard();
                if (d >= 0) {
                    return d;
                }
                if (isSelect(sql)) {
                    return crossShard(type, buf, offset, length, sharding, allShards(), sql.toString(), c);
                }
                int explained = explain(type, buf, offset, length, sharding, sql.toString());
                if (explained != Integer.MIN_VALUE) {
                    return explained;
                }
                if (sharding.crossShard.writes() == CrossShardWrites.ALL && isUpdateOrDelete(sql)) {
                    return everyShard(type, buf, offset, length, sql.toString(), false,
                        "an UPDATE or DELETE of sharded table " + keys.table() + " without its sharding key");
                }
                return refuse(type, noKey(sharding, keys));
            }
            default -> {
                ShardedTable table = sharding.table(keys.table());
                if (table == null) {
                    return defaultShard(sharding);
                }
                if (!keys.rows().isEmpty()) {
                    return insertRows(type, buf, offset, length, sharding, table, keys, sql.toString());
                }
                int shard = -1;
                java.util.BitSet several = null;
                for (StatementKeys.KeyValue k : keys.keys()) {
                    int s;
                    try {
                        s = shardOfValue(type, buf, offset, length, sharding, table, k);
                    } catch (PgException e) {
                        return refuse(type, e);
                    }
                    if (s == AT_BIND) {
                        return AT_BIND;
                    }
                    if (shard >= 0 && s != shard) {
                        if (!isSelect(sql)) {
                            return refuse(type, spansShards(sharding, keys, shard, s));
                        }
                        if (several == null) {
                            several = new java.util.BitSet();
                            several.set(shard);
                        }
                        several.set(s);
                    }
                    shard = s;
                }
                if (several != null) {
                    return crossShard(type, buf, offset, length, sharding, several.stream().toArray(), sql.toString(), c);
                }
                return shard >= 0 ? shard : defaultShard(sharding);
            }
        }
    }

    /** A key value's shard: a constant now, a parameter from the Bind ({@link #AT_BIND} at Parse). */
    private int shardOfValue(byte type, ByteBuf buf, int offset, int length, PoolSharding sharding, ShardedTable table,
                             StatementKeys.KeyValue k) {
        if (k instanceof StatementKeys.KeyValue.Constant constant) {
            return sharding.schema.shardOfText(table, constant.text());
        }
        int param = ((StatementKeys.KeyValue.Param) k).param();
        if (type != PgProtocol.BIND_REQUEST) {
            return AT_BIND;
        }
        return BindParameters.shard(buf, offset, length, param - 1, sharding.schema, table);
    }

    /** A multi-row INSERT: one shard, or split over several in a transaction per shard (outside a transaction block). */
    private int insertRows(byte type, ByteBuf buf, int offset, int length, PoolSharding sharding, ShardedTable table,
                           StatementKeys keys, String sql) {
        List<StatementKeys.InsertRow> rows = keys.rows();
        int[] shardOfRow = new int[rows.size()];
        int first = -1;
        boolean several = false;
        for (int i = 0; i < rows.size(); i++) {
            StatementKeys.KeyValue k = rows.get(i).key();
            if (k == null) {
                return refuse(type, new PgException(SqlState.FEATURE_NOT_SUPPORTED, "row " + (i + 1) + " of an INSERT into "
                    + "sharded table " + keys.table() + " of pool \"" + sharding.poolName + "\" has no sharding key value ("
                    + keys.column() + " must be a constant or a parameter)", null, false));
            }
            try {
                shardOfRow[i] = shardOfValue(type, buf, offset, length, sharding, table, k);
            } catch (PgException e) {
                return refuse(type, e);
            }
            if (shardOfRow[i] == AT_BIND) {
                return AT_BIND;
            }
            if (first < 0) {
                first = shardOfRow[i];
            } else if (shardOfRow[i] != first) {
                several = true;
            }
        }
        if (!several) {
            return first;
        }
        if (type == PgProtocol.PARSE_REQUEST && !hasParams(keys)) {
            return AT_BIND;   // split at its Bind, which must follow (an unnamed statement, as drivers send it)
        }
        if (hasParams(keys) || deferredStatus() != PgProtocol.TX_IDLE || keys.valuesStart() < 0) {
            return refuse(type, new PgException(SqlState.FEATURE_NOT_SUPPORTED, "a multi-row INSERT whose rows belong to "
                + "several shards is split only outside a transaction block and with its sharding keys as constants, "
                + "not parameters", null, false));
        }
        // One INSERT per shard: the text before the rows, that shard's rows, the text after.
        String prefix = sql.substring(0, keys.valuesStart());
        String suffix = sql.substring(keys.valuesEnd());
        java.util.TreeMap<Integer, StringBuilder> byShard = new java.util.TreeMap<>();
        for (int i = 0; i < rows.size(); i++) {
            StatementKeys.InsertRow r = rows.get(i);
            StringBuilder b = byShard.computeIfAbsent(shardOfRow[i], k -> new StringBuilder(prefix));
            if (b.length() > prefix.length()) {
                b.append(", ");
            }
            b.append(sql, r.start(), r.end());
        }
        int[] shards = new int[byShard.size()];
        String[] statements = new String[byShard.size()];
        int n = 0;
        for (Map.Entry<Integer, StringBuilder> e : byShard.entrySet()) {
            shards[n] = e.getKey();
            statements[n++] = e.getValue().append(suffix).toString();
        }
        ShardedInsert insert = new ShardedInsert(session, shards, statements);
        if (type == PgProtocol.BIND_REQUEST) {
            insert.extended();   // its Describe, Execute and Sync follow
        }
        session.bind(insert);
        insert.start();
        return HANDLED;
    }

    private static boolean hasParams(StatementKeys keys) {
        for (StatementKeys.InsertRow r : keys.rows()) {
            if (r.key() instanceof StatementKeys.KeyValue.Param) {
                return true;
            }
        }
        return false;
    }

    /** COPY FROM STDIN split over every shard, or COPY TO STDOUT of every shard. */
    private int copy(PoolSharding sharding, StatementKeys.CopyStatement copy, String sql) {
        ShardedTable table = sharding.table(copy.table());
        int[] all = new int[shardCount()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        ShardFanOut fanOut;
        if (copy.from()) {
            fanOut = new ShardedCopyIn(session, all, sql, copy, sharding.schema, table);
        } else {
            fanOut = new ShardedCopyOut(session, all, sql, copy.format() == StatementKeys.CopyStatement.Format.BINARY,
                copy.header());
        }
        session.bind(fanOut);
        fanOut.start();
        return HANDLED;
    }

    private int[] allShards() {
        int[] all = new int[shardCount()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        return all;
    }

    /** A SELECT (or WITH ... SELECT, a read): what a cross-shard merge can answer. */
    private static boolean isSelect(CharSequence sql) {
        // Any route: a SELECT the classifier sends to the primary (FOR UPDATE, a function) is the
        // planner's to merge or to refuse by name; a data-modifying WITH is refused there.
        int i = firstWord(sql);
        return wordAt(sql, i, "select") || wordAt(sql, i, "with");
    }

    private static final java.util.regex.Pattern EXPLAIN = java.util.regex.Pattern.compile(
        "(?is)\\s*explain(?:\\s*\\([^)]*\\)|\\s+(?:analy[sz]e|verbose))*\\s+");

    /**
     * {@code EXPLAIN} of a SELECT that spans shards ({@link ShardedExplain}); Integer.MIN_VALUE when
     * the statement is not an EXPLAIN of a SELECT.
     */
    private int explain(byte type, ByteBuf buf, int offset, int length, PoolSharding sharding, String sql) {
        java.util.regex.Matcher m = EXPLAIN.matcher(sql);
        if (!m.lookingAt()) {
            return Integer.MIN_VALUE;
        }
        String statement = sql.substring(m.end());
        if (!isSelect(statement)) {
            return Integer.MIN_VALUE;
        }
        if (type == PgProtocol.PARSE_REQUEST) {
            return AT_BIND;
        }
        String options = sql.substring(0, m.end()).toLowerCase(Locale.ROOT);
        if (options.contains("format") && !options.matches("(?s).*format\\s+text.*")) {
            return refuse(type, new PgException(SqlState.FEATURE_NOT_SUPPORTED, "EXPLAIN of a cross-shard query is "
                + "given in FORMAT TEXT only", null, false));
        }
        if (type == PgProtocol.BIND_REQUEST && BindParameters.count(buf, offset, length) > 0) {
            return refuse(type, new PgException(SqlState.FEATURE_NOT_SUPPORTED, "EXPLAIN of a cross-shard query with "
                + "parameters is not supported: write the values in the statement", null, false));
        }
        Object plan = sharding.plan(statement);
        if (plan instanceof dev.pgfleet.router.merge.CrossShardRefusal r) {
            return refuse(type, new PgException(SqlState.FEATURE_NOT_SUPPORTED, r.getMessage(), null, false));
        }
        ShardedExplain e = new ShardedExplain(session, allShards(), sql.substring(0, m.end()).trim(),
            (dev.pgfleet.router.merge.CrossShardPlan) plan);
        if (type == PgProtocol.BIND_REQUEST) {
            e.extended();
        }
        session.bind(e);
        e.start();
        return HANDLED;
    }

    /** Where the SQL's first word starts, after blanks, comments and opening parentheses. */
    private static int firstWord(CharSequence sql) {
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char ch = sql.charAt(i);
            if (Character.isWhitespace(ch) || ch == '(') {
                i++;
            } else if (ch == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                while (i < n && sql.charAt(i) != '\n') {
                    i++;
                }
            } else if (ch == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int end = sql.toString().indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
            } else {
                break;
            }
        }
        return i;
    }

    private static boolean wordAt(CharSequence sql, int i, String word) {
        int end = i + word.length();
        if (end > sql.length() || end < sql.length() && Character.isLetterOrDigit(sql.charAt(end))) {
            return false;
        }
        for (int k = 0; k < word.length(); k++) {
            if (Character.toLowerCase(sql.charAt(i + k)) != word.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /**
     * A SELECT that spans {@code shards}: planned (or refused, 0A000), then run on every one of
     * them and merged by a {@link ShardedSelect}. A Parse is answered here and the query runs at
     * its Bind; inside a transaction the client began (a deferred BEGIN with no shard yet) the
     * query runs outside it, as one more read.
     */
    private int crossShard(byte type, ByteBuf buf, int offset, int length, PoolSharding sharding, int[] shards,
                           String sql, Classification c) {
        if (type == PgProtocol.PARSE_REQUEST) {
            return AT_BIND;
        }
        if (c.statementCount() > 1) {
            return refuse(type, new PgException(SqlState.FEATURE_NOT_SUPPORTED, "a cross-shard SELECT must be the only "
                + "statement of its Query: PgFleet merges one statement's rows at a time", null, false));
        }
        if (session.mode == dev.pgfleet.shared.config.PoolMode.SESSION) {
            return refuse(type, new PgException(SqlState.FEATURE_NOT_SUPPORTED, "a cross-shard SELECT needs transaction "
                + "or statement pool mode: in session mode the client holds one shard's connection", null, false));
        }
        Object plan = sharding.plan(sql);
        if (plan instanceof dev.pgfleet.router.merge.CrossShardRefusal r) {
            return refuse(type, new PgException(SqlState.FEATURE_NOT_SUPPORTED, r.getMessage(), null, false));
        }
        byte[] types;
        ShardedSelect.ClientBind bind;
        if (type == PgProtocol.BIND_REQUEST) {
            bind = ShardedSelect.ClientBind.of(buf, offset, length);
            types = statementTypes(buf, offset, length);
        } else {
            bind = ShardedSelect.ClientBind.QUERY;
            types = new byte[] {0, 0};
        }
        String efd = session.settings.get("extra_float_digits");
        int extraFloatDigits = 1;
        try {
            extraFloatDigits = efd == null ? 1 : Integer.parseInt(efd.trim());
        } catch (NumberFormatException e) {
            // PostgreSQL refused it already; its default applies
        }
        ShardedSelect select = new ShardedSelect(session, shards, (dev.pgfleet.router.merge.CrossShardPlan) plan, sql,
            types, bind.parameters(), bind.resultFormats(), sharding.crossShard.memoryLimit(), extraFloatDigits);
        if (type == PgProtocol.BIND_REQUEST) {
            select.extended();
        }
        session.bind(select);
        select.start();
        return HANDLED;
    }

    /**
     * A statement on an omnisharded table (the same rows on every shard): a read goes to one shard,
     * the client's own (its session's number modulo the shards, so a client reads its writes from
     * one place); a write goes to every shard, each in a transaction of its own, committed together.
     */
    private int omnisharded(byte type, ByteBuf buf, int offset, int length, PoolSharding sharding, String table,
                            String sql, Classification c) {
        if (c.route() == Route.REPLICA || c.route() == Route.ANY) {
            return (int) (session.id % shardCount());
        }
        return everyShard(type, buf, offset, length, sql, true, "a write of omnisharded table " + table);
    }

    /**
     * A write for every shard, outside a transaction block, with no parameters: a {@link ShardedInsert}
     * of the same statement on each. {@code replicated}: the shards hold the same rows (omnisharded),
     * so the client is answered as one shard answered.
     */
    private int everyShard(byte type, ByteBuf buf, int offset, int length, String sql, boolean replicated, String what) {
        if (type == PgProtocol.PARSE_REQUEST) {
            return AT_BIND;
        }
        if (deferredStatus() != PgProtocol.TX_IDLE) {
            return refuse(type, new PgException(SqlState.FEATURE_NOT_SUPPORTED, what + " goes to every shard, which "
                + "PgFleet does only outside a transaction block", "Run it on its own, in autocommit.", false));
        }
        if (type == PgProtocol.BIND_REQUEST && BindParameters.count(buf, offset, length) > 0) {
            return refuse(type, new PgException(SqlState.FEATURE_NOT_SUPPORTED, what + " goes to every shard, which "
                + "PgFleet does only for a statement without parameters", null, false));
        }
        int[] all = allShards();
        String[] statements = new String[all.length];
        java.util.Arrays.fill(statements, sql);
        ShardedInsert write = new ShardedInsert(session, all, statements, replicated);
        if (type == PgProtocol.BIND_REQUEST) {
            write.extended();
        }
        session.bind(write);
        write.start();
        return HANDLED;
    }

    private static boolean isUpdateOrDelete(CharSequence sql) {
        int i = firstWord(sql);
        return wordAt(sql, i, "update") || wordAt(sql, i, "delete");
    }

    private static final java.util.regex.Pattern UNIQUE_ID = java.util.regex.Pattern.compile(
        "(?is)\\s*select\\s+pgfleet\\s*\\.\\s*unique_id\\s*\\(\\s*\\)\\s*(?:(?:as\\s+)?(\"[^\"]+\"|[a-z_][a-z0-9_]*))?\\s*;?\\s*");

    /** Whether the word after SELECT (at {@code from}, blanks skipped) is {@code pgfleet}: a few byte reads per SELECT. */
    private static boolean startsWithPgFleet(ByteBuf buf, int from, int to) {
        int i = from;
        while (i < to && (buf.getByte(i) == ' ' || buf.getByte(i) == '\n' || buf.getByte(i) == '\t' || buf.getByte(i) == '\r')) {
            i++;
        }
        String word = "pgfleet";
        if (i + word.length() > to) {
            return false;
        }
        for (int k = 0; k < word.length(); k++) {
            if ((buf.getByte(i + k) | 0x20) != word.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** {@code SELECT pgfleet.unique_id() [AS name]}: answered here with the next id ({@link UniqueIds}). */
    private int uniqueId(byte type, ByteBuf buf, int offset, int length) {
        String sql = type == PgProtocol.QUERY_REQUEST ? ExtendedMessages.queryText(buf, offset, length)
            : ExtendedMessages.decodeParse(buf, offset, length).query();
        if (sql.length() > 200 || !session.requests.isEmpty()) {
            return -1;
        }
        java.util.regex.Matcher m = UNIQUE_ID.matcher(sql);
        if (!m.matches()) {
            return -1;
        }
        String column = m.group(1) == null ? "unique_id" : m.group(1).startsWith("\"")
            ? m.group(1).substring(1, m.group(1).length() - 1) : m.group(1).toLowerCase(Locale.ROOT);
        if (type == PgProtocol.PARSE_REQUEST && !ExtendedMessages.firstNameEmpty(buf, offset)) {
            // A named statement (pgjdbc names it after a few runs): each Bind of it is answered here too.
            if (localStatements == null) {
                localStatements = new java.util.HashMap<>();
            }
            localStatements.put(ExtendedMessages.firstName(buf, offset, length), column);
        }
        long id = session.runtime.uniqueIds().next();
        return session.replies.reply(type, new LocalReplies.LocalReply("SELECT 1", column, Long.toString(id), 20));
    }

    /** Named statements PgFleet answers itself ({@code pgfleet.unique_id()}): name to column name. */
    Map<String, String> localStatements;

    /** A Bind of a statement PgFleet answers itself, answered up to Sync; -1 for any other. */
    int bindLocal(ByteBuf buf, int offset, int length) {
        String column = localStatements.get(ExtendedMessages.bindStatement(buf, offset, length));
        if (column == null || !session.requests.isEmpty()) {
            return -1;
        }
        long id = session.runtime.uniqueIds().next();
        return session.replies.reply(PgProtocol.BIND_REQUEST, new LocalReplies.LocalReply("SELECT 1", column,
            Long.toString(id), 20));
    }

    /** The parameter types of the statement a Bind names (int16 count and the oids), as its Parse gave them. */
    private byte[] statementTypes(ByteBuf buf, int offset, int length) {
        String name = ExtendedMessages.bindStatement(buf, offset, length);
        if (name.isEmpty()) {
            PreparedStatements.Unnamed u = session.statements.unnamed();
            byte[] parse = u.parse();
            io.netty.buffer.ByteBuf p = io.netty.buffer.Unpooled.wrappedBuffer(parse);
            return ExtendedMessages.decodeParse(p, 0, parse.length).parameterTypes();
        }
        return session.statements.named(name).parameterTypes();
    }

    private PgException noKey(PoolSharding sharding, StatementKeys keys) {
        return new PgException(SqlState.FEATURE_NOT_SUPPORTED, "query on sharded table " + keys.table() + " of pool \""
            + sharding.poolName + "\" has no sharding key" + (keys.column() != null ? " (" + keys.column() + ")" : "")
            + ": " + keys.reason(),
            "PgFleet does not merge cross-shard queries yet: name the key (WHERE " + (keys.column() != null ? keys.column()
                : "key") + " = ...), or choose a shard with SET SHARD TO n or SET SHARDING KEY TO 'k'.", false);
    }

    private PgException spansShards(PoolSharding sharding, StatementKeys keys, int a, int b) {
        return new PgException(SqlState.FEATURE_NOT_SUPPORTED, "query on sharded table " + keys.table() + " of pool \""
            + sharding.poolName + "\" has sharding keys on shards " + Math.min(a, b) + " and " + Math.max(a, b)
            + "; cross-shard queries are not supported yet", null, false);
    }

    /** A deferred transaction that failed: COMMIT or ROLLBACK end it (as ROLLBACK), anything else gets 25P02. */
    private int abortedTransaction(byte type, Classification c) {
        Classification.TransactionControl tc = c.transactionControl();
        if (tc == Classification.TransactionControl.COMMIT || tc == Classification.TransactionControl.ROLLBACK) {
            pendingBegin = null;
            pendingBeginFailed = false;
            LocalReplies.LocalReply reply = new LocalReplies.LocalReply("ROLLBACK", null, null);
            session.replies.replyStatement(type, reply);
            return HANDLED;
        }
        return refuse(type, new PgException("25P02",
            "current transaction is aborted, commands ignored until end of transaction block", null, false));
    }

    /** Refuses the message with {@code e}: a Query gets it with ReadyForQuery, a Parse or Bind up to Sync. */
    private int refuse(byte type, PgException e) {
        if (pendingBegin != null) {
            pendingBeginFailed = true;   // as PostgreSQL: an error aborts the transaction the client began
        }
        if (type == PgProtocol.BIND_REQUEST) {
            session.statements.refuse(e);
        } else {
            session.replies.refuse(type, e);
        }
        return HANDLED;
    }

    /**
     * Inside a transaction on a sharded pool: a statement whose key names another shard than the
     * transaction's is refused (two-phase commit comes with cross-shard writes). The server's
     * transaction fails with it, as it would with an error of PostgreSQL's own. -1: go on.
     */
    int checkInTransaction(byte type, ByteBuf buf, int offset, int length) {
        PoolSharding sharding = session.routing.sharding;
        if (sharding == null || !sharding.hasTables() || currentShardExplicit) {
            return -1;
        }
        PgException moveFailed = session.takeSwitchFailure();
        if (moveFailed != null) {
            return failTransaction(type, moveFailed);   // the statement that would have moved the transaction
        }
        CharSequence sql = statementSql(type, buf, offset, length);
        if (sql == null) {
            return -1;
        }
        StatementKeys keys = sharding.keys(sql.toString());
        if (keys.kind() == StatementKeys.Kind.KEYLESS) {
            // No key (a COPY into a sharded table included): only the default shard may take it.
            int d = sharding.defaultShard();
            if (d >= 0 && keys.copy() == null) {
                return d == currentShard ? -1 : failTransaction(type, new PgException(SqlState.FEATURE_NOT_SUPPORTED,
                    "the transaction is on shard " + currentShard + " and this statement has no sharding key (its "
                        + "default_shard is " + d + ")", null, false));
            }
            return failTransaction(type, keys.copy() == null && isSelect(sql) ? inTransaction(sharding, sql.toString())
                : noKey(sharding, keys));
        }
        if (keys.kind() != StatementKeys.Kind.KEYED
            || !keys.rows().isEmpty() && type == PgProtocol.PARSE_REQUEST && !twoPhaseCommit()) {
            return -1;
        }
        ShardedTable table = sharding.table(keys.table());
        if (table == null) {
            return -1;
        }
        int other = -1;
        boolean atBind = false;
        boolean onCurrent = false;
        for (StatementKeys.KeyValue k : keys.keys()) {
            int s;
            try {
                s = shardOfValue(type, buf, offset, length, sharding, table, k);
            } catch (PgException e) {
                return failTransaction(type, e);
            }
            if (s == AT_BIND) {
                atBind = true;
            } else if (s == currentShard) {
                onCurrent = true;
            } else {
                if (!twoPhaseCommit()) {
                    return failTransaction(type, new PgException(SqlState.FEATURE_NOT_SUPPORTED, "the transaction is on "
                        + "shard " + currentShard + " of pool \"" + sharding.poolName + "\" and this statement's sharding "
                        + "key is on shard " + s + "; a transaction over several shards needs two_phase_commit = true",
                        null, false));
                }
                if (other >= 0 && other != s) {
                    return failTransaction(type, new PgException(SqlState.FEATURE_NOT_SUPPORTED, "this statement's "
                        + "sharding keys are on shards " + Math.min(other, s) + " and " + Math.max(other, s) + " of pool \""
                        + sharding.poolName + "\": inside a transaction block each statement must go to one shard", null,
                        false));
                }
                other = s;
            }
        }
        if (other >= 0 && onCurrent) {
            return failTransaction(type, new PgException(SqlState.FEATURE_NOT_SUPPORTED, "this statement's sharding keys "
                + "are on shards " + Math.min(other, currentShard) + " and " + Math.max(other, currentShard) + " of pool \""
                + sharding.poolName + "\": inside a transaction block each statement must go to one shard", null, false));
        }
        if (atBind && type == PgProtocol.PARSE_REQUEST && twoPhaseCommit()) {
            // The shard is known at Bind, which may move the transaction there: nothing goes to a server now.
            return session.statements.parseInOrder(buf, offset, length);
        }
        if (other >= 0) {
            PgException refused = TwoPhaseCommit.refusal(session.runtime.twoPhase(), pool().name());
            if (refused != null) {
                return failTransaction(type, refused);
            }
            return session.switchShard(currentShard, other);
        }
        return -1;
    }

    /** Whether the pool commits transactions over several shards (two_phase_commit, with recovery running). */
    private boolean twoPhaseCommit() {
        TwoPhaseRecovery tp = session.runtime.twoPhase();
        return tp != null && tp.enabled(pool().name());
    }

    /** The shard of the transaction the session's linked server connection serves. */
    int currentShard() {
        return currentShard;
    }

    /** The transaction went on on {@code shard}'s connection (a transaction over several shards). */
    void movedTo(int shard) {
        currentShard = shard;
    }

    /** The statement that began the client's transaction block (a deferred BEGIN), or null. */
    String transactionBegin() {
        return transactionBegin;
    }

    /**
     * A SELECT without the key inside a transaction on one shard: the construct PgFleet would refuse
     * anyway, else why it cannot run here.
     */
    private PgException inTransaction(PoolSharding sharding, String sql) {
        Object plan = sharding.plan(sql);
        if (plan instanceof dev.pgfleet.router.merge.CrossShardRefusal r) {
            return new PgException(SqlState.FEATURE_NOT_SUPPORTED, r.getMessage(), null, false);
        }
        return new PgException(SqlState.FEATURE_NOT_SUPPORTED, "the transaction is on shard " + currentShard
            + " of pool \"" + sharding.poolName + "\" and this SELECT has no sharding key: PgFleet runs cross-shard "
            + "queries outside transaction blocks (or before a transaction's first keyed statement)", null, false);
    }

    /** The statement fails inside the server's transaction (which aborts, as with PostgreSQL's own errors). */
    int failTransaction(byte type, PgException e) {
        if (type != PgProtocol.QUERY_REQUEST) {
            return session.statements.refuse(e);
        }
        // A Query: the server raises the error itself, so its transaction is aborted ('E') like PostgreSQL's would be.
        String msg = e.getMessage().replace("'", "''");
        String sql = "DO $pgfleet$ BEGIN RAISE EXCEPTION USING ERRCODE = '" + e.sqlState() + "', MESSAGE = '" + msg
            + "'; END $pgfleet$";
        ServerConnection s = session.server;
        ByteBuf q = s.alloc(sql.length() * 3 + 6);
        dev.pgfleet.shared.protocol.FrontendMessages.query(q, sql);
        session.framer.flushRun();
        session.writeServer(q);
        session.requests.add(RequestQueue.QUERY, false);
        s.requestSent();
        return dev.pgfleet.shared.protocol.MessageFramer.CONSUME;
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
     * The shard a sharding key names (SET SHARDING KEY, a comment hint): as the pool's key type
     * and sharding function (ShardingSchema#shardOfKey).
     */
    private int shardOfKey(String key) {
        PoolSharding sharding = session.routing.sharding;
        return sharding != null ? sharding.schema.shardOfKey(key) : 0;   // null: a pool of one shard
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
        if (SqlReader.isKeyword(buf, keyword, end, "SELECT")) {
            return startsWithPgFleet(buf, keyword + 6, end) ? uniqueId(type, buf, offset, length) : -1;
        }
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
                int n;
                try {
                    n = cmd.type() == PgFleetCommand.Type.SET_SHARD ? cmd.shard() : shardOfKey(cmd.value());
                } catch (PgException e) {
                    return replies.refuse(type, e);
                }
                if (n >= shardCount()) {
                    return replies.refuse(type, new PgException(SqlState.INVALID_PARAMETER_VALUE, "shard " + n
                        + " does not exist: pool \"" + pool().name() + "\" has shards 0 to " + (shardCount() - 1), null, false));
                }
                if (session.mode == dev.pgfleet.shared.config.PoolMode.SESSION && Math.max(n, 0) != Math.max(selectedShard, 0)
                    && !session.moveToShard(shardRouting(Math.max(n, 0)))) {
                    return replies.refuse(type, new PgException("25001", "SET SHARD in session mode cannot run inside a "
                        + "transaction block", null, false));
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
