package dev.pgfleet.testkit;

import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JVM-wide PostgreSQL fixture for tests: servers start on first use and are shared by
 * every test class of the JVM (surefire runs one JVM per module), then stop at JVM exit.
 *
 * <ul>
 *   <li>{@link #cluster()}: a primary and 2 streaming replicas;</li>
 *   <li>{@link #shards()}: 2 standalone servers;</li>
 *   <li>{@link #newCluster(String, int)}: a private cluster for destructive tests (promotion,
 *       killing the primary) that the caller closes;</li>
 *   <li>{@link #reset()}: between tests, an empty {@value TestUsers#DATABASE} and no other
 *       client session on the shared servers.</li>
 * </ul>
 *
 * The servers are real PostgreSQL processes from the binaries jar (backend {@code embedded},
 * see {@link Backend}): no Docker, no system PostgreSQL. A Testcontainers backend (selected by
 * {@code -Dpgfleet.testkit.backend=testcontainers}) is not built in this version; any other
 * value fails.
 *
 * <p>Files go to {@code <pgfleet.build.dir or ./target>/pgfleet-testkit/}: the binaries once,
 * and the servers of this JVM under {@code servers/jvm-<pid>/}, locked while it runs. At
 * first use, the directories of earlier JVMs that died without cleaning up (SIGKILL) are
 * swept: their postmasters killed, their data deleted.
 */
public final class TestPostgres {
    private static final Logger LOG = LoggerFactory.getLogger(TestPostgres.class);
    private static final Duration REPLAY_TIMEOUT = Duration.ofSeconds(30);

    private static Path runDir;
    /** Held, not used: an unreachable FileChannel may be closed by its cleaner, dropping the lock. */
    @SuppressWarnings("unused")
    private static DirectoryLock runLock;
    private static PgCluster cluster;
    private static Shards shards;

    private TestPostgres() {
    }

    /** The shared primary + 2 replicas, started on first call. */
    public static synchronized PgCluster cluster() {
        if (cluster == null) {
            cluster = PgCluster.builder().name("main").baseDir(runDir()).binariesDir(KitPaths.kitHome())
                    .replicas(2).start();
        }
        return cluster;
    }

    /** The shared 2 standalone shard servers, started on first call. */
    public static synchronized Shards shards() {
        if (shards == null) {
            shards = Shards.builder().name("shard").baseDir(runDir()).binariesDir(KitPaths.kitHome())
                    .count(2).start();
        }
        return shards;
    }

    /** A fresh cluster only the caller uses; the caller closes it (else it stops at JVM exit). */
    public static PgCluster newCluster(String name, int replicas) {
        Path base;
        synchronized (TestPostgres.class) {
            base = runDir();
        }
        return PgCluster.builder().name(name).baseDir(base).binariesDir(KitPaths.kitHome())
                .replicas(replicas).start();
    }

    /**
     * Makes the shared servers as new: restarts any a test stopped or killed, ends every other
     * client session (walsenders stay), recreates the test database on the primary and the
     * shards, and waits until the replicas have replayed it. Servers not started yet are left
     * alone: they will start clean.
     */
    public static synchronized void reset() {
        List<PgServer> all = new ArrayList<>();
        List<PgServer> writable = new ArrayList<>();
        if (cluster != null) {
            all.addAll(cluster.servers());
            writable.add(cluster.primary());
        }
        if (shards != null) {
            all.addAll(shards.servers());
            writable.addAll(shards.servers());
        }
        try {
            for (PgServer server : all) {
                server.start(); // no-op when running
                TestDatabase.terminateClients(server);
            }
            for (PgServer server : writable) {
                TestDatabase.recreate(server);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot reset the test servers", e);
        }
        if (cluster != null) {
            cluster.awaitReplicasCaughtUp(REPLAY_TIMEOUT);
        }
    }

    /**
     * This JVM's directory. Created on first use, after sweeping the directories of dead
     * JVMs; its lock is held until the JVM exits.
     */
    private static Path runDir() {
        Backend.selected();
        if (runDir == null) {
            Path servers = KitPaths.defaultServersDir();
            StaleServers.sweepUnlocked(servers);
            Path dir = servers.resolve("jvm-" + ProcessHandle.current().pid());
            runLock = DirectoryLock.acquire(dir);
            runDir = dir;
            LOG.info("PostgreSQL test servers go to {}", runDir);
        }
        return runDir;
    }
}
