package dev.pgfleet.router;

/**
 * Where a query (or a whole simple-protocol query string) should run.
 *
 * <p>Order matters: when a string holds several statements, the strongest route wins
 * ({@code PRIMARY > REPLICA > ANY}).
 */
public enum Route {
    /**
     * The statement touches no data of its own: {@code SET}, {@code SHOW}, {@code COMMIT},
     * {@code SAVEPOINT}, {@code FETCH}, an empty query, a PgFleet command. Send it to the server the
     * session or transaction already holds; with none, any server will do. Also the value of the
     * {@code pgfleet_role: any} hint and of {@code SET SERVER ROLE TO 'any'}.
     */
    ANY,
    /** A read: a hot-standby replica can run it (the primary can too, when primary reads are on). */
    REPLICA,
    /** Writes, locks, or may: only the primary can run it. Unknown and unparsable SQL lands here. */
    PRIMARY;

    /** The stronger of two routes. */
    static Route max(Route a, Route b) {
        return a.ordinal() >= b.ordinal() ? a : b;
    }
}
