package dev.pgfleet.testkit;

import java.nio.file.Path;

/**
 * What the builders of {@link PgCluster} and {@link Shards} share: a name, where the servers
 * and the binaries live, and starting the set in its locked directory (closed again if any
 * server fails to start).
 *
 * @param <B> the concrete builder, returned by the setters
 * @param <T> what it builds
 */
abstract class ServerSetBuilder<B extends ServerSetBuilder<B, T>, T extends AutoCloseable> {

    private String name;
    private Path baseDir;
    private Path binariesDir;

    ServerSetBuilder(String defaultName) {
        this.name = defaultName;
    }

    /** Names the directory and prefixes the server names. */
    public B name(String name) {
        this.name = Names.check(name);
        return self();
    }

    /** Default {@code <pgfleet.build.dir or ./target>/pgfleet-testkit/servers}. */
    public B baseDir(Path baseDir) {
        this.baseDir = baseDir;
        return self();
    }

    /** Where the binaries are unpacked; default {@code <baseDir>/pg-binaries}. */
    public B binariesDir(Path binariesDir) {
        this.binariesDir = binariesDir;
        return self();
    }

    abstract B self();

    /** The set, not started, owning {@code lock} on {@code directory}. */
    abstract T create(String name, Path directory, DirectoryLock lock);

    /** Starts its servers from the binaries in {@code binaries}. */
    abstract void startServers(T set, Path binaries);

    /** Starts every server and waits until it is ready. */
    public T start() {
        Path base = (baseDir != null ? baseDir : KitPaths.defaultServersDir()).toAbsolutePath().normalize();
        Path bin = binariesDir != null ? binariesDir : KitPaths.binariesDirFor(base);
        Path dir = base.resolve(name);
        T set = create(name, dir, DirectoryLock.acquire(dir));
        try {
            startServers(set, bin);
            return set;
        } catch (RuntimeException e) {
            try {
                set.close();
            } catch (Exception closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }
}
