package dev.pgfleet.dist;

import dev.pgfleet.dist.log.LogLines;
import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.testkit.PgCluster;
import dev.pgfleet.testkit.PgServer;
import dev.pgfleet.testkit.Shards;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A whole PgFleet setup on one machine, for trying it out: real PostgreSQL servers from the
 * testkit (a primary with streaming replicas, standalone shard servers), the demo role, database
 * and data on them, and the proxy in front, configured from the demo TOML file with the server
 * addresses replaced by the ones actually started (see {@link DemoTopology}).
 *
 * <p>Files: {@code <directory>/pg-binaries} (the unpacked PostgreSQL, kept for the next run),
 * {@code <directory>/demo} and {@code <directory>/shard} (data directories and server logs). The
 * data is kept after {@link #stop()} for a look at the logs, and wiped by the next start.
 *
 * <p>Used by {@code pgfleet demo} and by tests. {@link #stop()} may run from a shutdown hook while
 * {@link #start()} is still going: it stops what has started, and the start then fails. Servers
 * started in the meantime are stopped by the testkit's own shutdown hook.
 */
public final class Demo implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Demo.class);
    /** A demo's Ctrl-C should not wait out the production default (60 s) for open transactions. */
    private static final Duration MAX_GRACE = Duration.ofSeconds(5);
    private static final Duration REPLAY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration SERVER_STOP_TIMEOUT = Duration.ofSeconds(90);

    /**
     * @param config    the demo TOML (conf/demo.toml)
     * @param directory where servers and binaries go; every user must be able to enter it when
     *                  running as root (PostgreSQL then runs as {@code nobody})
     * @param port      the proxy's port, replacing the file's
     */
    public record Options(Path config, Path directory, int port) {
    }

    private final Options options;
    private final AtomicBoolean stopped = new AtomicBoolean();
    private volatile PgCluster cluster;
    private volatile Shards shards;
    private volatile ProxyNode node;
    private volatile PgFleetConfig config;
    private volatile Duration startupTime;

    public Demo(Options options) {
        this.options = options;
    }

    /**
     * Starts everything; returns once the proxy accepts clients.
     *
     * @throws dev.pgfleet.shared.config.ConfigException if the demo file is invalid
     * @throws IOException                                if the demo file cannot be read
     */
    public void start() throws IOException {
        long started = System.nanoTime();
        Path file = options.config();
        // The file alone, without environment overrides: a demo should not pick up
        // PGFLEET_GENERAL_* meant for a real deployment on the same machine.
        PgFleetConfig fromFile = ConfigLoader.parse(Files.readString(file), file.toString());
        LogLines.use(fromFile.general().logFormat());
        try {
            startServers(DemoTopology.replicasNeeded(fromFile), DemoTopology.shardsNeeded(fromFile));
            seed();
            List<PgServer> shardServers = shards == null ? List.of() : shards.servers();
            List<PgServer> clusterServers = cluster.servers();
            PgFleetConfig rewritten = DemoTopology.rewrite(fromFile, clusterServers, shardServers, options.port());
            checkNotStopped();
            // A reload (RELOAD, SIGHUP) reads the demo file again and points it at the same servers.
            node = ProxyNode.start(rewritten, file,
                    c -> DemoTopology.rewrite(c, clusterServers, shardServers, options.port()));
            config = rewritten;
        } catch (RuntimeException | SQLException e) {
            stop();
            throw e instanceof RuntimeException r ? r : new IllegalStateException("cannot seed the demo data", e);
        }
        startupTime = Duration.ofNanos(System.nanoTime() - started);
        LOG.info("Demo started in {} ms", startupTime.toMillis());
    }

    /** The replicated cluster and the shards start side by side: initdb dominates either. */
    private void startServers(int replicas, int shardCount) {
        Path dir = options.directory().toAbsolutePath().normalize();
        CompletableFuture<PgCluster> clusterStart = CompletableFuture.supplyAsync(
                () -> PgCluster.builder().name("demo").baseDir(dir).replicas(replicas).start(), Demo::newThread);
        CompletableFuture<Shards> shardsStart = shardCount == 0 ? CompletableFuture.completedFuture(null)
                : CompletableFuture.supplyAsync(
                        () -> Shards.builder().name("shard").baseDir(dir).count(shardCount).start(), Demo::newThread);
        RuntimeException failure = null;
        try {
            cluster = clusterStart.join();
        } catch (CompletionException e) {
            failure = unwrap(e);
        }
        try {
            shards = shardsStart.join();
        } catch (CompletionException e) {
            failure = failure != null ? failure : unwrap(e);
        }
        if (failure != null) {
            throw failure;
        }
        checkNotStopped();
    }

    private void seed() throws SQLException {
        DemoSchema.createOwnerAndDatabase(cluster.primary());
        DemoSchema.seedPrimary(cluster.primary());
        if (shards != null) {
            for (int i = 0; i < shards.size(); i++) {
                DemoSchema.createOwnerAndDatabase(shards.get(i));
                DemoSchema.seedShard(shards.get(i), i, shards.size());
            }
        }
        // Reads may go to the replica: it must have the role, the database and the rows.
        cluster.awaitReplicasCaughtUp(REPLAY_TIMEOUT);
        checkNotStopped();
    }

    /**
     * Stops the proxy (a short grace period for open transactions), then every PostgreSQL
     * server (fast shutdown), waiting until they have exited. Idempotent.
     */
    public void stop() {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        ProxyNode n = node;
        if (n != null) {
            Duration configured = n.runtime().config().general().shutdownTimeout();
            n.stop(configured.compareTo(MAX_GRACE) < 0 ? configured : MAX_GRACE);
        }
        // Side by side: each fast shutdown writes a checkpoint.
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        PgCluster c = cluster;
        Shards s = shards;
        if (c != null) {
            closing.add(CompletableFuture.runAsync(c::close, Demo::newThread));
        }
        if (s != null) {
            closing.add(CompletableFuture.runAsync(s::close, Demo::newThread));
        }
        try {
            CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new))
                    .get(SERVER_STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            LOG.info("Demo stopped: PostgreSQL servers stopped, data kept in {}",
                    options.directory().toAbsolutePath().normalize());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.warn("Interrupted while stopping the demo servers");
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("Demo servers may not all have stopped: {}", e.toString());
        }
    }

    @Override
    public void close() {
        stop();
    }

    /** The configuration the proxy runs with (addresses of the started servers); null until started. */
    public PgFleetConfig config() {
        return config;
    }

    public ProxyNode node() {
        return node;
    }

    /** Every PostgreSQL server of the demo: the cluster's (primary first), then the shards. */
    public List<PgServer> servers() {
        List<PgServer> all = new ArrayList<>();
        if (cluster != null) {
            all.addAll(cluster.servers());
        }
        if (shards != null) {
            all.addAll(shards.servers());
        }
        return all;
    }

    public Duration startupTime() {
        return startupTime;
    }

    private void checkNotStopped() {
        if (stopped.get()) {
            throw new IllegalStateException("demo stopped while starting");
        }
    }

    private static RuntimeException unwrap(CompletionException e) {
        return e.getCause() instanceof RuntimeException r ? r : e;
    }

    /** Own threads, not the common pool: it has a single thread on a 2-core machine. */
    private static void newThread(Runnable task) {
        Thread t = new Thread(task, "pgfleet-demo");
        t.setDaemon(true);
        t.start();
    }
}
