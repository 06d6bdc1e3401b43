package dev.pgfleet.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every server the kit has started in this JVM, stopped by one shutdown hook: at a normal
 * exit, System.exit and SIGTERM/SIGINT, failed tests included. A SIGKILLed JVM runs no hook:
 * then the postmasters die of PR_SET_PDEATHSIG where setpriv exists, and {@link StaleServers}
 * cleans up whatever is left at the next start.
 */
final class RunningServers {
    private static final Logger LOG = LoggerFactory.getLogger(RunningServers.class);
    private static final Set<PgServer> SERVERS = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(RunningServers::stopAll, "pgfleet-testkit-shutdown"));
    }

    private RunningServers() {
    }

    static void add(PgServer server) {
        SERVERS.add(server);
    }

    static void remove(PgServer server) {
        SERVERS.remove(server);
    }

    /** Stops all in parallel: each fast shutdown takes a checkpoint, and the hook should be short. */
    private static void stopAll() {
        List<Thread> stoppers = new ArrayList<>();
        for (PgServer server : List.copyOf(SERVERS)) {
            Thread t = new Thread(() -> {
                try {
                    server.stop();
                } catch (RuntimeException e) {
                    LOG.warn("Could not stop {} at JVM exit", server, e);
                }
            }, "pgfleet-testkit-stop-" + server.name());
            t.start();
            stoppers.add(t);
        }
        for (Thread t : stoppers) {
            try {
                t.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
