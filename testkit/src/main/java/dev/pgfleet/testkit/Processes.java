package dev.pgfleet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** Starting, signalling and watching OS processes. */
final class Processes {
    /*
     * Every child process is forked from this one long-lived daemon thread. The postmaster is
     * started with PR_SET_PDEATHSIG=SIGKILL (setpriv --pdeathsig) so that it dies with the JVM
     * even when the JVM itself is SIGKILLed, and that signal fires when the *thread* that
     * forked the child exits, not the process. A JUnit worker, a Vert.x worker or the demo's
     * main thread may come and go; this thread lives as long as the JVM. It survives task
     * failures because submit() captures exceptions in the Future.
     */
    private static final ExecutorService SPAWNER = Executors.newSingleThreadExecutor(task -> {
        Thread thread = new Thread(task, "pgfleet-testkit-spawner");
        thread.setDaemon(true);
        return thread;
    });

    private Processes() {
    }

    static Process spawn(ProcessBuilder builder) {
        try {
            return SPAWNER.submit(builder::start).get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw new UncheckedIOException("cannot start " + builder.command(), io);
            }
            throw new IllegalStateException("cannot start " + builder.command(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting " + builder.command(), e);
        }
    }

    /** Runs a short command to completion, output to {@code log}; fails with the log's tail. */
    static void run(List<String> command, Path log, Duration timeout) {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Process process = spawn(builder);
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("timed out after " + timeout + ": " + command
                        + "\n" + tail(log, 30));
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + command, e);
        }
        if (process.exitValue() != 0) {
            throw new IllegalStateException("exit code " + process.exitValue() + ": " + command
                    + "\n" + tail(log, 30));
        }
    }

    /** Sends a signal by name (INT, KILL...) with kill(1): Java has no API for SIGINT. */
    static void signal(long pid, String signal) {
        try {
            Process process = new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run kill -" + signal + " " + pid, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Whether a pid is a live process. A zombie counts as dead: its memory (and its attachment
     * to PostgreSQL's shared memory) is gone, but nobody may reap it when PID 1 of a container
     * does not, and ProcessHandle would call it alive.
     */
    static boolean isLive(long pid) {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        if (Files.isReadable(stat)) {
            try {
                String text = Files.readString(stat, StandardCharsets.UTF_8);
                // "pid (comm) S ...": the state follows the last ')' since comm may hold one.
                int close = text.lastIndexOf(')');
                return close > 0 && close + 2 < text.length() && text.charAt(close + 2) != 'Z'
                        && text.charAt(close + 2) != 'X';
            } catch (IOException e) {
                return false; // it exited between the two calls
            }
        }
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** Waits until none of {@code pids} is live; false on timeout. */
    static boolean awaitDeath(List<Long> pids, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (pids.stream().anyMatch(Processes::isLive)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            sleep(50);
        }
        return true;
    }

    /** The command line of a process, or "" if it is gone or unreadable. */
    static String commandLine(long pid) {
        return ProcessHandle.of(pid)
                .map(handle -> handle.info().commandLine().or(() -> handle.info().command()).orElse(""))
                .orElse("");
    }

    static String tail(Path file, int lines) {
        try {
            if (!Files.exists(file)) {
                return "(no " + file + ")";
            }
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
