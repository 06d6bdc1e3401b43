package dev.pgfleet.proxy;

import dev.pgfleet.shared.config.General;
import dev.pgfleet.shared.protocol.StartupPacket;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The line per client login and per disconnect of {@code log_client_connections} and
 * {@code log_client_disconnections} (PgBouncer's log_connections/log_disconnections, PgCat's
 * names). What the client said about itself (user, database, application_name), never a
 * password or anything it sent after login; once per connection, never per message.
 */
final class ClientLog {

    private static final Logger log = LoggerFactory.getLogger(ClientLog.class);

    private ClientLog() {
    }

    static void login(General general, StartupPacket startup, NetSocket socket, boolean tls) {
        if (general.logClientConnections()) {
            log.info("client login: {}", who(startup, socket, tls));
        }
    }

    /**
     * @param reason what ended it (the FATAL sent, or PgBouncer's "client close request" for a
     *               Terminate); null when the client went without a word
     */
    static void disconnect(General general, StartupPacket startup, NetSocket socket, boolean tls, String reason,
                                                  long connectedAtMillis) {
        if (general.logClientDisconnections() && startup != null && !startup.isCancelRequest()) {
            long age = System.currentTimeMillis() - connectedAtMillis;
            log.info("client disconnect: {} reason=\"{}\" age={}.{}s", who(startup, socket, tls),
                reason == null ? "client closed the connection" : reason, age / 1000, String.format("%03d", age % 1000));
        }
    }

    private static String who(StartupPacket startup, NetSocket socket, boolean tls) {
        String app = startup.parameters().getOrDefault("application_name", "");
        return "user=" + oneLine(startup.user()) + " database=" + oneLine(startup.database()) + " address="
            + socket.remoteAddress() + " tls=" + tls(socket, tls) + " application_name=" + oneLine(app);
    }

    /** The client chose these: a line break in one must not forge a log line of its own. */
    private static String oneLine(String s) {
        return s == null ? "" : s.replace('\n', ' ').replace('\r', ' ');
    }

    private static String tls(NetSocket socket, boolean tls) {
        if (!tls) {
            return "no";
        }
        String d = dev.pgfleet.shared.net.NetSockets.tlsDescription(socket);
        return d == null ? "yes" : d;
    }
}
