package dev.pgfleet.dist;

import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a stop action from a JVM shutdown hook: SIGTERM (Kubernetes, systemd) and SIGINT
 * (Ctrl-C) both run hooks. The main thread parks in {@link #awaitStopped()} meanwhile, so
 * the process lives exactly as long as the service.
 *
 * <p>SIGHUP reloads the configuration, as it does PgBouncer's and PostgreSQL's: the handler sends
 * RELOAD on the local event bus (the same command as the console's), and the configuration's
 * owner logs what changed or why the file was refused. The JVM's own default for SIGHUP is to
 * exit (status 129), which a {@code systemctl reload} would turn into dropping every client.
 */
final class StopOnSignal {

    private static final Logger LOG = LoggerFactory.getLogger(StopOnSignal.class);

    private final CountDownLatch stopped = new CountDownLatch(1);

    private StopOnSignal() {
    }

    /**
     * @param reload run on SIGHUP, on the JVM's signal thread: it must only hand the work over
     */
    static StopOnSignal install(String name, Runnable stop, Runnable reload) {
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
        reloadOnSighup(reload);
        return signal;
    }

    /**
     * sun.misc.Signal (module jdk.unsupported) is the only way to handle a signal in Java 17;
     * the handler runs on a thread of the JVM's signal dispatcher, so it only sends a message.
     * Where the JVM does not let SIGHUP be handled (it was ignored when the process started, as
     * under nohup, or the JVM runs with -Xrs) SIGHUP cannot kill PgFleet either; RELOAD on the
     * console and autoreload still work.
     */
    private static void reloadOnSighup(Runnable reload) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> {
                LOG.info("SIGHUP received: reloading the configuration");
                try {
                    reload.run();
                } catch (RuntimeException e) {
                    LOG.warn("SIGHUP: reload not started: {}", e.toString());
                }
            });
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
