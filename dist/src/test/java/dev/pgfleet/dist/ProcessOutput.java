package dev.pgfleet.dist;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** The stdout and stderr of a PgFleet process a test started, collected by a reader thread. */
final class ProcessOutput {

    private final StringBuilder text = new StringBuilder();
    private final Thread reader;
    private final long deadlineMs;

    ProcessOutput(Process process, long deadlineMs) {
        this.deadlineMs = deadlineMs;
        reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (text) {
                        text.append(line).append('\n');
                        text.notifyAll();
                    }
                }
            } catch (IOException e) {
                // the process is gone
            }
        }, "pgfleet-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** Waits for a line containing {@code what}; fails at once if the process exits first. */
    void await(String what, Process process) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(deadlineMs);
        synchronized (text) {
            while (text.indexOf(what) < 0) {
                if (!process.isAlive()) {
                    fail("pgfleet exited (" + process.exitValue() + ") before \"" + what + "\":\n" + text);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    fail("no \"" + what + "\" within " + deadlineMs + " ms:\n" + text);
                }
                text.wait(Math.min(200, TimeUnit.NANOSECONDS.toMillis(left) + 1));
            }
        }
    }

    /** After the process exited: everything it wrote has been read. */
    void awaitEnd() throws InterruptedException {
        reader.join(TimeUnit.SECONDS.toMillis(30));
    }

    @Override
    public String toString() {
        synchronized (text) {
            return text.toString();
        }
    }
}
