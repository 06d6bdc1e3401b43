package dev.pgfleet.proxy;

import dev.pgfleet.router.SessionCommands;
import dev.pgfleet.router.SqlReader;
import dev.pgfleet.shared.config.PoolMode;
import dev.pgfleet.shared.protocol.AsciiSql;
import dev.pgfleet.shared.protocol.BackendMessages;
import dev.pgfleet.shared.protocol.ExtendedMessages;
import io.netty.buffer.ByteBuf;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What a client expects its session to have set, kept across the server connections it moves
 * between: the settings of its startup packet, what its SET, RESET and DISCARD changed (read back
 * from the server at the end of the transaction, since only a committed SET survives), the custom
 * settings it named, and the ParameterStatus values it was told. A server connection gets these
 * settings applied before the client's first message reaches it (see the session's checkout);
 * sessions with equal settings share one interned map, so the check is usually by reference.
 *
 * <p>Only SQL whose bytes hold "set", "discard" or "deallocate" is read at all
 * ({@link SqlReader#mayChangeSession}), so the common statement costs a byte scan.
 */
final class SettingsTracker {

    private final ClientSession session;
    /** What the client expects its session to have set (lower-case names). */
    private Map<String, String> settings;
    /** The client ran something that may change its settings: read them back at the end. */
    private boolean dirty;
    /** Custom ("prefix.name") settings the client has SET, read back by name. */
    private final Set<String> customSettings = new LinkedHashSet<>();
    /** The settings of the client's startup packet (and the user's config): what RESET returns to. */
    private Map<String, String> startupSettings;
    /** ParameterStatus the client was last told, by lower-case name: {reported name, value}. */
    private final Map<String, String[]> told = new HashMap<>();
    /** Startup settings to put back when the server's ReadyForQuery comes (held until then); null if none. */
    private StartupRestore restore;
    /** Session mode: the client's named statements that reset something, looked up at Bind (usually empty). */
    private final Map<String, SessionCommands.Effects> resettingStatements = new HashMap<>();

    SettingsTracker(ClientSession session) {
        this.session = session;
    }

    /** At login: the startup packet's settings (interned), which RESET returns to. */
    void start(Map<String, String> asked) {
        settings = session.runtime.intern(asked);
        startupSettings = settings;
    }

    Map<String, String> settings() {
        return settings;
    }

    /** A setting the client expects, by lower-case name (null before login or when not set). */
    String get(String name) {
        return settings == null ? null : settings.get(name);
    }

    /** Whether the settings must be read back from the server before its connection is released. */
    boolean takeDirty() {
        boolean d = dirty;
        dirty = false;
        return d;
    }

    /** The SQL that reads the settings back (see {@link SessionSettings#captureSql}). */
    String captureSql() {
        return SessionSettings.captureSql(customSettings);
    }

    /** The settings as read back from {@code s} after the transaction: the client's from now on, and what {@code s} has. */
    void captured(List<String[]> rows, ServerConnection s) {
        Map<String, String> now = new LinkedHashMap<>();
        for (String[] row : rows) {
            if (row[1] != null) {
                now.put(row[0].toLowerCase(Locale.ROOT), row[1]);
            }
        }
        settings = session.runtime.intern(now);
        s.applied(settings);
    }

    // -- session mode: the server connection keeps what the client sets; only RESET needs PgFleet --

    /** A Query in session mode: a byte scan decides whether the SQL is read at all. */
    void sessionModeQuery(ByteBuf buf, int offset, int length) {
        if (SqlReader.mayChangeSession(buf, offset + 5, offset + length - 1)) {
            noteEffects(SessionCommands.scan(AsciiSql.ofQuery(buf, offset, length)));
        }
    }

    /**
     * Session mode: a Parse that resets something takes effect when executed: at once for the
     * unnamed statement (its Bind follows in the same batch), at each Bind for a named one.
     */
    void sessionModeParse(ByteBuf buf, int offset, int length) {
        int from = ExtendedMessages.parseQueryStart(buf, offset, length);
        boolean named = !ExtendedMessages.firstNameEmpty(buf, offset);
        SessionCommands.Effects fx = SqlReader.mayChangeSession(buf, from, offset + length)
            ? SessionCommands.scan(AsciiSql.ofParse(buf, offset, length))
            : SessionCommands.Effects.NONE;
        if (!named) {
            noteEffects(fx);
        } else if (fx.resetsSomething()) {
            if (resettingStatements.size() < 1000) {
                resettingStatements.put(ExtendedMessages.firstName(buf, offset, length), fx);
            }
        } else if (!resettingStatements.isEmpty()) {
            resettingStatements.remove(ExtendedMessages.firstName(buf, offset, length));
        }
    }

    /** A Bind in session mode: a named statement that resets something does so each time it runs. */
    void sessionModeBind(ByteBuf buf, int offset, int length) {
        if (!resettingStatements.isEmpty()) {
            SessionCommands.Effects fx = resettingStatements.get(ExtendedMessages.bindStatement(buf, offset, length));
            if (fx != null) {
                noteEffects(fx);
            }
        }
    }

    // -- transaction mode --------------------------------------------------------------------

    /**
     * What the SQL of the current Query or Parse (its first keyword at {@code keyword}, -1 for
     * none; its SQL ending at {@code end}) does to session state: NONE, allocating nothing, for
     * most SQL. A named Parse takes effect at its Binds.
     */
    SessionCommands.Effects sessionEffects(ByteBuf buf, int keyword, int end) {
        if (keyword < 0 || !SqlReader.mayChangeSession(buf, keyword, end)) {
            return SessionCommands.Effects.NONE;
        }
        int nul = buf.indexOf(keyword, end + 1, (byte) 0);
        return SessionCommands.scan(AsciiSql.of(buf, keyword, nul < 0 ? end : nul));
    }

    /**
     * What a statement about to run does to session state: settings to read back after the
     * transaction (and custom names to read by name), prepared statements the server drops, and
     * startup settings a RESET takes away, put back before its ReadyForQuery reaches the client.
     */
    void noteEffects(SessionCommands.Effects fx) {
        if (fx == SessionCommands.Effects.NONE) {
            return;
        }
        if (fx.settings()) {
            dirty = true;
        }
        for (String name : fx.customNames()) {
            if (customSettings.size() < 100) {
                customSettings.add(name);
            }
        }
        ServerConnection server = session.server;
        if (session.mode != PoolMode.SESSION && server != null) {
            if (fx.discardAll()) {
                server.forgetPrepared();
            }
            if (fx.deallocate()) {
                // DEALLOCATE that reaches the server drops PgFleet's names there.
                server.forgetPrepared();
                session.statements.forgetAll();
            }
        }
        if (server != null && (restore != null || fx.resetsSomething())) {
            if (restore == null) {
                restore = new StartupRestore();
            }
            restore.apply(fx.changes());
            server.holdNextReady();
        }
    }

    // -- what the client is told -------------------------------------------------------------

    /** A ParameterStatus from the server: passed on (true), or held while a restore is pending (false). */
    boolean serverParameter(String name, String value) {
        if (restore != null) {
            restore.reported(name, value);   // the client is told the final value once the restore is done
            return false;
        }
        told.put(name.toLowerCase(Locale.ROOT), new String[] {name, value});
        return true;
    }

    /** At login: the ParameterStatus the client is greeted with, its own startup values where it set them. */
    void greeting(ByteBuf out, Map<String, String> serverParameters, ServerPool pool) {
        for (Map.Entry<String, String> e : serverParameters.entrySet()) {
            String key = e.getKey().toLowerCase(Locale.ROOT);
            String mine = settings.get(key);
            String value = e.getValue();
            if (session.mode != PoolMode.SESSION && mine != null) {
                String reported = pool.reportedSetting(key, mine);
                value = reported != null ? reported : mine;
            }
            BackendMessages.parameterStatus(out, e.getKey(), value);
            told.put(key, new String[] {e.getKey(), value});
        }
    }

    /** Whether every reported startup value of this client is known in the form the server reports it. */
    boolean knowsReportedValues(Map<String, String> serverParameters, ServerPool pool) {
        for (Map.Entry<String, String> e : serverParameters.entrySet()) {
            String key = e.getKey().toLowerCase(Locale.ROOT);
            String mine = settings.get(key);
            if (mine != null && !mine.equals(e.getValue()) && pool.reportedSetting(key, mine) == null) {
                return false;
            }
        }
        return true;
    }

    /** Records how {@code conn}, which has this session's settings, reports them. */
    void learnReported(ServerConnection conn, ServerPool pool) {
        for (Map.Entry<String, String> e : conn.parameters().entrySet()) {
            String key = e.getKey().toLowerCase(Locale.ROOT);
            String mine = settings.get(key);
            if (mine != null) {
                pool.learnReportedSetting(key, mine, e.getValue());
            }
        }
    }

    /** Whether {@code conn} has this session's settings; sessions share equal settings maps (interned), so usually by reference. */
    boolean appliedOn(ServerConnection conn) {
        Map<String, String> applied = conn.applied();
        if (applied == settings) {
            return true;
        }
        if (applied.equals(settings)) {
            conn.applied(settings);
            return true;
        }
        return false;
    }

    // -- RESET: startup settings put back before the client's ReadyForQuery -------------------

    /** The restore pending for the held ReadyForQuery: null if none. It stays pending (collecting ParameterStatus) until {@link #restoreDone}. */
    StartupRestore restore() {
        return restore;
    }

    void restoreDone() {
        restore = null;
    }

    /** What {@code r} must run to put the startup settings back ("" for nothing). */
    String restoreSql(StartupRestore r) {
        return r.sql(startupSettings);
    }

    /** The ParameterStatus for what the restore changed from what the client was told. */
    void reportRestored(StartupRestore r, ByteBuf out) {
        for (Map.Entry<String, String[]> e : r.reported.entrySet()) {
            String[] was = told.get(e.getKey());
            String[] now = e.getValue();
            if (was == null || !was[1].equals(now[1])) {
                BackendMessages.parameterStatus(out, now[0], now[1]);
                told.put(e.getKey(), now);
            }
        }
    }
}
