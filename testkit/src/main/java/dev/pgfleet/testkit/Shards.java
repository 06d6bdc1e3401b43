package dev.pgfleet.testkit;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Independent standalone servers (no replication between them) to serve as shards, each with
 * the {@link TestUsers} roles and database. Shard i is {@code get(i)}, named
 * {@code <name>-<i>}, counting from 0 as shard numbers in a sharded pool do.
 *
 * <pre>{@code
 * try (Shards shards = Shards.builder().name("shards").count(2).start()) {
 *     shards.get(0).jdbcUrl(TestUsers.DATABASE);
 * }
 * }</pre>
 */
public final class Shards implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Shards.class);

    private final String name;
    private final Path directory;
    private final DirectoryLock lock;
    private final List<PgServer> servers = new ArrayList<>();

    private Shards(String name, Path directory, DirectoryLock lock) {
        this.name = name;
        this.directory = directory;
        this.lock = lock;
    }

    public static Builder builder() {
        return new Builder();
    }

    public String name() {
        return name;
    }

    public Path directory() {
        return directory;
    }

    public List<PgServer> servers() {
        return List.copyOf(servers);
    }

    public PgServer get(int shard) {
        return servers.get(shard);
    }

    public int size() {
        return servers.size();
    }

    @Override
    public void close() {
        try {
            servers.forEach(PgServer::stop);
        } finally {
            lock.close();
        }
    }

    @Override
    public String toString() {
        return "Shards " + name + " " + servers;
    }

    private void start(Path binariesDir, int count) {
        long started = System.nanoTime();
        StaleServers.killAndDelete(directory);
        ServerFactory factory = ServerFactory.in(binariesDir, directory);
        // initdb dominates and the shards are independent: make them side by side.
        // Own threads: the common pool has a single thread on a 2-core machine.
        ExecutorService executor = Executors.newFixedThreadPool(count);
        List<CompletableFuture<PgServer>> pending = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String serverName = name + "-" + i;
            pending.add(CompletableFuture.supplyAsync(() -> factory.initServer(serverName), executor));
        }
        executor.shutdown();
        RuntimeException failure = null;
        for (CompletableFuture<PgServer> future : pending) {
            try {
                servers.add(future.join());
            } catch (CompletionException e) {
                failure = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
            }
        }
        if (failure != null) {
            throw failure;
        }
        LOG.info("Started {} shards in {} ms: {}", count, (System.nanoTime() - started) / 1_000_000, servers);
    }

    /** Builds and starts {@link Shards}. */
    public static final class Builder extends ServerSetBuilder<Builder, Shards> {
        private int count = 2;

        private Builder() {
            super("shards");
        }

        public Builder count(int count) {
            if (count < 1) {
                throw new IllegalArgumentException("count: " + count);
            }
            this.count = count;
            return this;
        }

        @Override
        Builder self() {
            return this;
        }

        @Override
        Shards create(String name, Path directory, DirectoryLock lock) {
            return new Shards(name, directory, lock);
        }

        @Override
        void startServers(Shards set, Path binaries) {
            set.start(binaries, count);
        }
    }
}
