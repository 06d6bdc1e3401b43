package dev.pgfleet.testkit;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A primary and N streaming replicas, each a real PostgreSQL server with the
 * {@link TestUsers} roles and database. Replicas are copies of the cleanly stopped primary's
 * data directory with standby.signal and primary_conninfo (no pg_basebackup needed).
 *
 * <pre>{@code
 * try (PgCluster cluster = PgCluster.builder().name("main").baseDir(Path.of("pgfleet-demo")).replicas(2).start()) {
 *     cluster.primary().jdbcUrl(TestUsers.DATABASE);
 * }
 * }</pre>
 *
 * Servers live in {@code <baseDir>/<name>/}; that directory is locked while the cluster runs
 * and wiped at the next start (leftover postmasters included).
 */
public final class PgCluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PgCluster.class);
    private static final Duration STREAMING_TIMEOUT = Duration.ofSeconds(60);

    private final String name;
    private final Path directory;
    private final DirectoryLock lock;
    private final List<PgServer> servers = new ArrayList<>();

    private PgCluster(String name, Path directory, DirectoryLock lock) {
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

    public PgServer primary() {
        return servers.get(0);
    }

    public List<PgServer> replicas() {
        return List.copyOf(servers.subList(1, servers.size()));
    }

    /** The primary first, then the replicas. */
    public List<PgServer> servers() {
        return List.copyOf(servers);
    }

    /** Waits until the primary's pg_stat_replication shows every replica as streaming. */
    public void awaitStreaming(Duration timeout) {
        Set<String> expected = new HashSet<>();
        replicas().forEach(r -> expected.add(r.name()));
        long deadline = System.nanoTime() + timeout.toNanos();
        Set<String> streaming = new HashSet<>();
        while (true) {
            streaming.clear();
            try (Connection c = primary().connectSuperuser("postgres"); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery(
                         "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'")) {
                while (rs.next()) {
                    streaming.add(rs.getString(1));
                }
            } catch (SQLException e) {
                throw new IllegalStateException("cannot read pg_stat_replication on " + primary(), e);
            }
            if (streaming.containsAll(expected)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(name + ": replicas " + expected + " not all streaming after "
                        + timeout + " (streaming: " + streaming + "); see the logs in " + directory);
            }
            Processes.sleep(50);
        }
    }

    /**
     * Waits until every running replica that is still in recovery has replayed the primary's
     * WAL up to the primary's current position: what the primary has committed is visible.
     */
    public void awaitReplicasCaughtUp(Duration timeout) {
        String lsn;
        try (Connection c = primary().connectSuperuser("postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            lsn = rs.getString(1);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the WAL position of " + primary(), e);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (PgServer replica : replicas()) {
            if (!replica.isRunning()) {
                continue;
            }
            while (!replayed(replica, lsn)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(replica + " has not replayed up to " + lsn + " after " + timeout);
                }
                Processes.sleep(20);
            }
        }
    }

    private static boolean replayed(PgServer replica, String lsn) {
        try (Connection c = replica.connectSuperuser("postgres");
             PreparedStatement st = c.prepareStatement(
                     "SELECT NOT pg_is_in_recovery() OR pg_last_wal_replay_lsn() >= ?::pg_lsn")) {
            st.setString(1, lsn);
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        } catch (SQLException e) {
            return false; // restarting: retry until the deadline
        }
    }

    /** Stops the replicas, then the primary; keeps the directory (logs) until the next start. */
    @Override
    public void close() {
        try {
            for (int i = servers.size() - 1; i >= 0; i--) {
                servers.get(i).stop();
            }
        } finally {
            lock.close();
        }
    }

    @Override
    public String toString() {
        return "PgCluster " + name + " " + servers;
    }

    private void start(Path binariesDir, int replicaCount) {
        long started = System.nanoTime();
        StaleServers.killAndDelete(directory);
        ServerFactory factory = ServerFactory.in(binariesDir, directory);
        PgServer primary = factory.initServer(name + "-primary");
        servers.add(primary);
        primary.stop();
        for (int i = 1; i <= replicaCount; i++) {
            servers.add(factory.copyAsStandby(primary, name + "-replica-" + i));
        }
        primary.startOnFreePort();
        for (PgServer replica : replicas()) {
            factory.configureStandby(replica, primary);
            replica.startOnFreePort();
        }
        awaitStreaming(STREAMING_TIMEOUT);
        LOG.info("Started cluster {} ({} replicas) in {} ms: {}", name, replicaCount,
                (System.nanoTime() - started) / 1_000_000, servers);
    }

    /** Builds and starts {@link PgCluster}. */
    public static final class Builder extends ServerSetBuilder<Builder, PgCluster> {
        private int replicas = 2;

        private Builder() {
            super("main");
        }

        public Builder replicas(int replicas) {
            if (replicas < 0) {
                throw new IllegalArgumentException("replicas: " + replicas);
            }
            this.replicas = replicas;
            return this;
        }

        @Override
        Builder self() {
            return this;
        }

        @Override
        PgCluster create(String name, Path directory, DirectoryLock lock) {
            return new PgCluster(name, directory, lock);
        }

        @Override
        void startServers(PgCluster set, Path binaries) {
            set.start(binaries, replicas);
        }
    }
}
