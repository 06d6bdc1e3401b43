package dev.pgfleet.router;

import static dev.pgfleet.router.SqlLexer.COMMA;
import static dev.pgfleet.router.SqlLexer.DOT;
import static dev.pgfleet.router.SqlLexer.EOF;
import static dev.pgfleet.router.SqlLexer.ERROR;
import static dev.pgfleet.router.SqlLexer.LPAREN;
import static dev.pgfleet.router.SqlLexer.QIDENT;
import static dev.pgfleet.router.SqlLexer.RPAREN;
import static dev.pgfleet.router.SqlLexer.SEMI;
import static dev.pgfleet.router.SqlLexer.STRING;
import static dev.pgfleet.router.SqlLexer.WORD;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * What a query string does to the session-level settings of the server connection that runs it,
 * read statement by statement with {@link SqlLexer} (so words inside literals, dollar quotes,
 * quoted identifiers and comments do not count): {@code SET} (not {@code SET LOCAL}),
 * {@code RESET}, {@code SET x TO DEFAULT}, {@code DISCARD ALL}, {@code DEALLOCATE}, and a call of
 * {@code set_config(name, value, is_local)} anywhere in any statement unless its third argument
 * is the literal {@code true}.
 *
 * <p>The proxy calls it only for strings whose bytes contain "set", "discard" or "deallocate"
 * (in any case), so a query without those words costs a byte scan and no allocation.
 */
public final class SessionCommands {

    /** One change in statement order: a setting set to a value, or back to its default (RESET). */
    public record Change(String name, boolean toDefault) {
        /** The name RESET ALL (and DISCARD ALL) stands for. */
        public static final String ALL = "";

        public boolean all() {
            return name.isEmpty();
        }
    }

    /** The result for one query string; immutable. */
    public static final class Effects {
        /** Nothing that touches session state. */
        public static final Effects NONE = new Effects(false, false, false, false, List.of(), List.of());

        private final boolean settings;
        private final boolean discardAll;
        private final boolean deallocate;
        private final boolean opaque;
        private final List<String> customNames;
        private final List<Change> changes;

        Effects(boolean settings, boolean discardAll, boolean deallocate, boolean opaque, List<String> customNames,
                List<Change> changes) {
            this.settings = settings;
            this.discardAll = discardAll;
            this.deallocate = deallocate;
            this.opaque = opaque;
            this.customNames = customNames;
            this.changes = changes;
        }

        /** Session-level settings may change: read them back after the transaction. */
        public boolean settings() {
            return settings;
        }

        /** {@code DISCARD ALL}: settings, prepared statements, everything of the session goes. */
        public boolean discardAll() {
            return discardAll;
        }

        /** {@code DEALLOCATE}: prepared statements go. */
        public boolean deallocate() {
            return deallocate;
        }

        /** A {@code set_config} whose setting name is not a literal: PgFleet cannot know which one. */
        public boolean opaque() {
            return opaque;
        }

        /** Custom ({@code prefix.name}) settings named, lower case: pg_settings does not list them. */
        public List<String> customNames() {
            return customNames;
        }

        /** What was set and reset, in statement order (lower-case names). */
        public List<Change> changes() {
            return changes;
        }

        /** Some setting goes back to its default (RESET, SET ... TO DEFAULT, RESET ALL, DISCARD ALL). */
        public boolean resetsSomething() {
            for (Change c : changes) {
                if (c.toDefault()) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public String toString() {
            return "Effects[settings=" + settings + ", discardAll=" + discardAll + ", deallocate=" + deallocate
                    + ", opaque=" + opaque + ", customNames=" + customNames + ", changes=" + changes + "]";
        }
    }

    private final SqlLexer lx;
    private boolean settings;
    private boolean discardAll;
    private boolean deallocate;
    private boolean opaque;
    private List<String> customNames;
    private List<Change> changes;

    private SessionCommands(CharSequence sql) {
        this.lx = new SqlLexer(sql, null);
    }

    /** Reads a query string (a simple Query's, or a Parse's). Never throws on bad SQL. */
    public static Effects scan(CharSequence sql) {
        return new SessionCommands(sql).run();
    }

    private Effects run() {
        int t = lx.next();
        while (true) {
            while (t == SEMI) {
                t = lx.next();
            }
            if (t == EOF) {
                break;
            }
            if (t == ERROR) {
                // The server reads what PgFleet cannot: assume the worst it can do to settings.
                settings = true;
                break;
            }
            lx.depth = 0;
            statement();
            t = lx.type;
            if (t == ERROR) {
                settings = true;
                break;
            }
        }
        if (!settings && !discardAll && !deallocate) {
            return Effects.NONE;
        }
        return new Effects(settings, discardAll, deallocate, opaque,
                customNames == null ? List.of() : Collections.unmodifiableList(customNames),
                changes == null ? List.of() : Collections.unmodifiableList(changes));
    }

    private boolean atStatementEnd() {
        int t = lx.type;
        return t == EOF || t == ERROR || (t == SEMI && lx.depth <= 0);
    }

    private void statement() {
        if (lx.is(Keywords.SET)) {
            lx.next();
            set();
        } else if (lx.is(Keywords.RESET)) {
            lx.next();
            reset();
        } else if (lx.is(Keywords.DISCARD)) {
            lx.next();
            if (word("all")) {
                discardAll = true;
                settings = true;
                change(Change.ALL, true);
                lx.next();
            }
        } else if (lx.is(Keywords.DEALLOCATE)) {
            deallocate = true;
        }
        // set_config can be called anywhere, in any kind of statement.
        while (!atStatementEnd()) {
            if ((lx.type == WORD && word("set_config") || lx.type == QIDENT && quoted("set_config"))
                    && lx.next() == LPAREN) {
                setConfig();
            } else {
                lx.next();
            }
        }
    }

    /** After SET: {@code [SESSION | LOCAL] name {TO | =} value}, and the special forms. */
    private void set() {
        if (lx.is(Keywords.LOCAL) || lx.is(Keywords.TRANSACTION) || word("constraints")) {
            return;   // ends with the transaction, or not a setting
        }
        if (lx.is(Keywords.SESSION)) {
            lx.next();
            if (lx.is(Keywords.CHARACTERISTICS)) {
                settings = true;   // default_transaction_*: read back
                return;
            }
            if (word("authorization")) {
                lx.next();
                change("session_authorization", word("default"));
                return;
            }
        }
        String special = specialName();
        if (special != null) {
            // SET TIME ZONE {value | LOCAL | DEFAULT}, SET ROLE {name | NONE}, SET NAMES, SET SCHEMA, SET XML OPTION.
            change(special, word("default") || special.equals("timezone") && lx.is(Keywords.LOCAL)
                    || special.equals("role") && word("none"));
            return;
        }
        String name = name();
        if (name == null) {
            settings = true;   // something PgFleet does not know: read back
            return;
        }
        if (lx.is(Keywords.TO) || lx.isOperator('=')) {
            lx.next();
        }
        boolean toDefault = false;
        if (word("default")) {
            lx.next();
            toDefault = atStatementEnd();
        }
        change(name, toDefault);
    }

    /** After RESET: {@code name | ALL | TIME ZONE | SESSION AUTHORIZATION | ROLE}. */
    private void reset() {
        if (word("all")) {
            lx.next();
            change(Change.ALL, true);
            return;
        }
        if (lx.is(Keywords.SESSION)) {
            lx.next();
            if (word("authorization")) {
                lx.next();
                change("session_authorization", true);
                return;
            }
        }
        String special = specialName();
        String name = special != null ? special : name();
        if (name == null) {
            settings = true;
            return;
        }
        change(name, true);
    }

    /** The setting behind SET's and RESET's own syntax, moved past its words; null if none. */
    private String specialName() {
        if (word("time")) {
            lx.next();
            if (word("zone")) {
                lx.next();
                return "timezone";
            }
            return "time";
        }
        if (lx.is(Keywords.ROLE)) {
            lx.next();
            return "role";
        }
        if (word("names")) {
            lx.next();
            return "client_encoding";
        }
        if (word("schema")) {
            lx.next();
            return "search_path";
        }
        if (word("xml")) {
            lx.next();
            if (word("option")) {
                lx.next();
            }
            return "xmloption";
        }
        return null;
    }

    /** A setting name ({@code a}, {@code a.b}, quoted parts), lower case, moved past it; null if none. */
    private String name() {
        StringBuilder name = new StringBuilder();
        while (true) {
            if (lx.type != WORD && lx.type != QIDENT) {
                return null;
            }
            name.append(lx.sql(), lx.start, lx.end);
            if (lx.next() != DOT) {
                break;
            }
            name.append('.');
            lx.next();
        }
        return name.toString().toLowerCase(Locale.ROOT);
    }

    /** At the parenthesis after set_config. */
    private void setConfig() {
        int depth = lx.depth;
        lx.next();
        String name = null;
        if (lx.type == STRING && lx.prevType == LPAREN) {
            name = literal();
            lx.next();
        }
        if (name == null || lx.type != COMMA) {
            settings = true;
            opaque = true;   // set_config($1, ...) or an expression: the name is the server's to know
            return;
        }
        lx.next();
        boolean isNull = word("null");
        int valueTokens = 0;
        while (!atStatementEnd() && !(lx.type == COMMA && lx.depth == depth) && !(lx.type == RPAREN && lx.depth < depth)) {
            valueTokens++;
            lx.next();
        }
        boolean local = false;
        if (lx.type == COMMA && lx.depth == depth) {
            lx.next();
            local = word("true") && lx.next() == RPAREN;
        }
        if (!local) {
            // set_config(name, NULL, false) resets, as RESET does.
            change(name, isNull && valueTokens == 1);
        }
    }

    private String literal() {
        return lx.sql().subSequence(lx.start, lx.end).toString().replace("''", "'").toLowerCase(Locale.ROOT);
    }

    private void change(String name, boolean toDefault) {
        settings = true;
        if (changes == null) {
            changes = new ArrayList<>(2);
        }
        changes.add(new Change(name, toDefault));
        if (name.indexOf('.') > 0) {
            if (customNames == null) {
                customNames = new ArrayList<>(2);
            }
            if (!customNames.contains(name)) {
                customNames.add(name);
            }
        }
    }

    /** The current token is the unquoted word {@code lower}, in any case. */
    private boolean word(String lower) {
        if (lx.type != WORD || lx.end - lx.start != lower.length()) {
            return false;
        }
        CharSequence sql = lx.sql();
        for (int i = 0; i < lower.length(); i++) {
            char c = sql.charAt(lx.start + i);
            if (c >= 'A' && c <= 'Z') {
                c = (char) (c + 32);
            }
            if (c != lower.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private boolean quoted(String exact) {
        return lx.end - lx.start == exact.length() && lx.sql().subSequence(lx.start, lx.end).toString().equals(exact);
    }
}
