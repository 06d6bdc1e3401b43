package dev.pgfleet.proxy;

import dev.pgfleet.router.SessionCommands;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A client's startup settings to put back after RESET, RESET ALL, SET ... TO DEFAULT or DISCARD
 * ALL. In PostgreSQL a startup parameter is the session's default (source "client"), so RESET
 * returns to it; PgFleet applies startup parameters with set_config (source "session"), after
 * which RESET returns to the server's default. So, for the request that reset something, the
 * session holds its ReadyForQuery, sets the startup values again on the same server connection
 * (inside the client's transaction if one is open: they commit or roll back with the RESET), and
 * tells the client the settings whose reported value ended up different from what it was told.
 *
 * <p>Changes are applied in statement order: {@code RESET ALL; SET datestyle = 'German'} keeps
 * German. ParameterStatus messages seen while a restore is pending are held here, so the client
 * sees only the final value of each, as PostgreSQL would have reported it.
 */
final class StartupRestore {

    private boolean all;
    private final Set<String> names = new HashSet<>();
    /** Set explicitly after a RESET ALL: not restored. */
    private final Set<String> keep = new HashSet<>();
    /** ParameterStatus held back, by lower-case name: {reported name, value}. */
    final Map<String, String[]> reported = new LinkedHashMap<>();

    void apply(List<SessionCommands.Change> changes) {
        for (SessionCommands.Change c : changes) {
            if (c.all()) {
                all = true;
                names.clear();
                keep.clear();
            } else if (c.toDefault()) {
                names.add(c.name());
                keep.remove(c.name());
            } else {
                names.remove(c.name());
                if (all) {
                    keep.add(c.name());
                }
            }
        }
    }

    void reported(String name, String value) {
        reported.put(name.toLowerCase(Locale.ROOT), new String[] {name, value});
    }

    /**
     * The query putting the startup values back ("" if none was reset). Only settings whose source
     * is no longer "session" are set: a RESET rolled back within the same string ({@code BEGIN;
     * RESET ALL; ROLLBACK}) left them as they were, and so did a SET after the RESET.
     */
    String sql(Map<String, String> startup) {
        StringBuilder values = new StringBuilder();
        for (Map.Entry<String, String> e : startup.entrySet()) {
            String name = e.getKey();
            if ((all || names.contains(name)) && !keep.contains(name)) {
                values.append(values.length() == 0 ? "" : ", ").append('(').append(SessionSettings.literal(name))
                    .append(", ").append(SessionSettings.literal(e.getValue())).append(')');
            }
        }
        if (values.length() == 0) {
            return "";
        }
        return "SELECT pg_catalog.set_config(v.name, v.value, false) FROM (VALUES " + values
            + ") AS v(name, value) LEFT JOIN pg_catalog.pg_settings s ON pg_catalog.lower(s.name) = v.name"
            + " WHERE s.source IS DISTINCT FROM 'session'";
    }
}
