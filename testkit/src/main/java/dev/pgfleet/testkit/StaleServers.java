package dev.pgfleet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cleans up after a JVM that died without running its shutdown hook (SIGKILL, a killed
 * surefire fork): postmasters still running from an old data directory, and the directory.
 */
final class StaleServers {
    private static final Logger LOG = LoggerFactory.getLogger(StaleServers.class);

    private StaleServers() {
    }

    /** For each directory in {@code parent} whose lock nobody holds: kill, delete. */
    static void sweepUnlocked(Path parent) {
        if (!Files.isDirectory(parent)) {
            return;
        }
        List<Path> dirs = new ArrayList<>();
        try (Stream<Path> children = Files.list(parent)) {
            children.filter(Files::isDirectory).forEach(dirs::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Path dir : dirs) {
            DirectoryLock.tryAcquire(dir).ifPresent(lock -> {
                killAndDelete(dir);
                lock.releaseAndDelete();
            });
        }
    }

    /** Kills the postmasters of the data directories under {@code dir}, then deletes it. */
    static void killAndDelete(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.find(dir, 3, (p, a) -> p.getFileName().toString().equals("postmaster.pid"))) {
            files.forEach(StaleServers::killIfPostgres);
            PgBinaries.deleteTree(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean up " + dir, e);
        }
    }

    /**
     * postmaster.pid holds the pid (line 1) and the data directory (line 2). The pid may have
     * been reused by an unrelated process since: kill only a postgres whose data directory
     * is this one.
     */
    private static void killIfPostgres(Path pidFile) {
        try {
            List<String> lines = Files.readAllLines(pidFile);
            long pid = Long.parseLong(lines.get(0).trim());
            Path dataDir = Path.of(lines.get(1).trim()).toAbsolutePath().normalize();
            String command = Processes.commandLine(pid);
            if (Processes.isLive(pid) && command.contains("postgres")
                    && dataDir.equals(pidFile.getParent().toAbsolutePath().normalize())) {
                LOG.warn("Killing leftover postmaster {} of {}", pid, dataDir);
                List<Long> pids = new ArrayList<>(ProcessHandle.of(pid)
                        .map(h -> h.descendants().map(ProcessHandle::pid).toList()).orElse(List.of()));
                pids.add(pid);
                pids.forEach(p -> Processes.signal(p, "KILL"));
                Processes.awaitDeath(pids, Duration.ofSeconds(10));
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("Ignoring unreadable {}", pidFile, e);
        }
    }
}
