package dev.pgfleet.dist;

import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Blocking waits for the main thread and the shutdown hook, never for an event loop
 * (STYLE.md: {@code await} only in main and tests). Every wait is bounded: a stuck close
 * must not hang Ctrl-C.
 */
final class Futures {

    private Futures() {
    }

    /**
     * The result, or the failure's own exception (not wrapped), or an
     * {@link IllegalStateException} when {@code timeout} passes first.
     */
    static <T> T await(Future<T> future, Duration timeout, String what) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(what + ": " + cause.getMessage(), cause);
        } catch (TimeoutException e) {
            throw new IllegalStateException(what + ": not done after " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + ": interrupted", e);
        }
    }
}
