package dev.pgfleet.shared.admin;

import io.netty.buffer.ByteBuf;
import io.vertx.core.net.NetSocket;
import java.util.Locale;
import java.util.Map;

/**
 * The admin console as the proxy sees it: the proxy authenticates a client that asked for
 * database {@code pgfleet} (or PgBouncer's {@code pgbouncer}) with the {@code [general]} admin
 * credentials, sends AuthenticationOk, and hands the connection over here. admin-verticle
 * implements it and dist registers it with the proxy, so the proxy does not depend on the
 * console (nor the console on the proxy's classes).
 */
public interface AdminConsole {

    /** PgFleet's name of the console's database. */
    String DATABASE = "pgfleet";

    /** PgBouncer's name of it, for the tools that read PgBouncer's console. */
    String PGBOUNCER_DATABASE = "pgbouncer";

    /** Whether a startup packet's database asks for the console. */
    static boolean isConsoleDatabase(String database) {
        if (database == null) {
            return false;
        }
        String d = database.toLowerCase(Locale.ROOT);
        return d.equals(DATABASE) || d.equals(PGBOUNCER_DATABASE);
    }

    /**
     * Serves an authenticated client from now on (called on the socket's event loop, after
     * AuthenticationOk was written, unflushed): the console sends the rest of the greeting,
     * takes over the socket's handlers and owns the connection until it closes.
     */
    void open(Client client);

    /**
     * An authenticated console client.
     *
     * @param socket     the client's socket, on its event loop; TLS, if any, is already below it
     * @param parameters the startup packet's parameters (user, database, application_name...)
     * @param buffered   bytes the client sent after its last authentication message (pipelined),
     *                   to be read first; owned by the console; null when none
     * @param tls        "" without TLS, else the protocol and cipher ("TLSv1.3/TLS_AES_256_GCM_SHA384")
     * @param closed     to run once when the connection ends: frees its max_client_conn slot
     */
    record Client(NetSocket socket, Map<String, String> parameters, ByteBuf buffered, String tls, Runnable closed) {
    }
}
