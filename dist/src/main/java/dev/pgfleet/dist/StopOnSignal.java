package dev.pgfleet.dist;

import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a stop action from a JVM shutdown hook: SIGTERM (Kubernetes, systemd) and SIGINT
 * (Ctrl-C) both run hooks. The main thread parks in {@link #awaitStopped()} meanwhile, so
 * the process lives exactly as long as the service.
 *
 * <p>SIGHUP is caught too: the JVM's default for it is to exit (status 129), while a pooler's
 * operators, and conf/pgfleet.toml, expect SIGHUP to mean "reload" (PgBouncer, PostgreSQL).
 * Until reload exists it is logged and ignored, so a {@code systemctl reload} or a
 * {@code kill -HUP} from habit does not drop every client.
 */
final class StopOnSignal {

    private static final Logger LOG = LoggerFactory.getLogger(StopOnSignal.class);

    private final CountDownLatch stopped = new CountDownLatch(1);

    private StopOnSignal() {
    }

    static StopOnSignal install(String name, Runnable stop) {
        StopOnSignal signal = new StopOnSignal();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                stop.run();
            } catch (RuntimeException e) {
                LOG.error("Error while stopping", e);
            } finally {
                signal.stopped.countDown();
            }
        }, name));
        ignoreSighup();
        return signal;
    }

    /**
     * sun.misc.Signal (module jdk.unsupported) is the only way to handle a signal in Java 17;
     * the handler runs on a thread of the JVM's signal dispatcher, so it only logs. Where the JVM
     * does not let SIGHUP be handled (it was ignored when the process started, as under nohup,
     * or the JVM runs with -Xrs) nothing changes: SIGHUP cannot kill PgFleet there either.
     */
    private static void ignoreSighup() {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"),
                    sig -> LOG.warn("SIGHUP received: reload is not implemented yet; SIGHUP ignored"));
        } catch (IllegalArgumentException e) {
            LOG.debug("SIGHUP handler not installed: {}", e.getMessage());
        }
    }

    /** Blocks until the hook has finished its stop action. */
    void awaitStopped() {
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
