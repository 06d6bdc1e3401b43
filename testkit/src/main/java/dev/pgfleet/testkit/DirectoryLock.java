package dev.pgfleet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * An exclusive lock on {@code <dir>.lock}, held while servers run in {@code dir}. The OS
 * releases it when the JVM dies, however it dies, so a directory whose lock can be taken
 * holds only leftovers: that is how {@link StaleServers} tells them from a live run.
 */
final class DirectoryLock implements AutoCloseable {
    private final Path lockFile;
    private final FileChannel channel;
    private final FileLock lock;

    private DirectoryLock(Path lockFile, FileChannel channel, FileLock lock) {
        this.lockFile = lockFile;
        this.channel = channel;
        this.lock = lock;
    }

    static Optional<DirectoryLock> tryAcquire(Path dir) {
        Path lockFile = dir.resolveSibling(dir.getFileName() + ".lock");
        FileChannel channel = null;
        try {
            Files.createDirectories(lockFile.getParent());
            channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock != null) {
                return Optional.of(new DirectoryLock(lockFile, channel, lock));
            }
        } catch (OverlappingFileLockException e) {
            // held by this very JVM
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + lockFile, e);
        }
        closeQuietly(channel);
        return Optional.empty();
    }

    static DirectoryLock acquire(Path dir) {
        return tryAcquire(dir).orElseThrow(() -> new IllegalStateException(
                dir + " is in use by another running PgFleet testkit (its .lock is held);"
                        + " choose another name or base directory"));
    }

    /** Releases the lock and removes the lock file (for swept directories that are gone). */
    void releaseAndDelete() {
        try {
            Files.deleteIfExists(lockFile);
        } catch (IOException e) {
            // harmless: an empty lock file
        }
        close();
    }

    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException e) {
            // the channel closes below anyway
        }
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // nothing to do
            }
        }
    }
}
