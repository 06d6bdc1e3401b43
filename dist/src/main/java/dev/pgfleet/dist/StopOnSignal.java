package dev.pgfleet.dist;

import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a stop action from a JVM shutdown hook: SIGTERM (Kubernetes, systemd) and SIGINT
 * (Ctrl-C) both run hooks. The main thread parks in {@link #awaitStopped()} meanwhile, so
 * the process lives exactly as long as the service.
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
        return signal;
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
