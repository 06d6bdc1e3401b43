package dev.pgfleet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One PostgreSQL server: a postmaster the kit started as a child process (not daemonized
 * through pg_ctl, so the kit holds its pid), listening on 127.0.0.1 at a free port, output in
 * {@code <dataDir>/../<name>.log}. Created by {@link PgCluster} and {@link Shards}.
 */
public final class PgServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PgServer.class);
    private static final String HOST = "127.0.0.1";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final int PORT_ATTEMPTS = 5;

    private final String name;
    private final Path dataDir;
    private final PgBinaries binaries;
    private final ServerUser user;
    private volatile int port;
    private Process process;

    PgServer(String name, Path dataDir, PgBinaries binaries, ServerUser user) {
        this.name = name;
        this.dataDir = dataDir.toAbsolutePath().normalize();
        this.binaries = binaries;
        this.user = user;
        this.port = freePort();
    }

    public String name() {
        return name;
    }

    public String host() {
        return HOST;
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path logFile() {
        return dataDir.resolveSibling(name + ".log");
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + HOST + ":" + port + "/" + database;
    }

    /** A pgjdbc connection; {@code password} may be null (trust). */
    public Connection connect(String database, String user, String password) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("sslmode", "disable"); // the servers have ssl=off: skip the SSLRequest
        props.setProperty("connectTimeout", "10");
        props.setProperty("ApplicationName", "pgfleet-testkit");
        return DriverManager.getConnection(jdbcUrl(database), props);
    }

    public Connection connectSuperuser(String database) throws SQLException {
        return connect(database, TestUsers.SUPERUSER, TestUsers.SUPERUSER_PASSWORD);
    }

    /** Starts the postmaster on its port and waits until it accepts connections. */
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        long started = System.nanoTime();
        launch();
        awaitReady();
        RunningServers.add(this);
        LOG.info("Started {} on {}:{} in {} ms", name, HOST, port, (System.nanoTime() - started) / 1_000_000);
    }

    /**
     * First start: the port was free when picked, but another process may have bound it since
     * (a race no pick can avoid); then pick another. Later starts keep the port, which
     * replicas' primary_conninfo and callers' configuration already hold.
     */
    synchronized void startOnFreePort() {
        for (int attempt = 1; ; attempt++) {
            try {
                start();
                return;
            } catch (PortTakenException e) {
                if (attempt == PORT_ATTEMPTS) {
                    throw e;
                }
                LOG.info("{}: port {} was taken, trying another", name, port);
                port = freePort();
            }
        }
    }

    /** Fast shutdown (SIGINT: roll back open transactions, end sessions), waiting for exit. */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        long pid = postmasterPid();
        Processes.signal(pid, "INT");
        if (!awaitExit(STOP_TIMEOUT)) {
            LOG.warn("{} did not stop within {}: killing it", name, STOP_TIMEOUT);
            kill();
            return;
        }
        forget();
    }

    /**
     * SIGKILL to the postmaster, as in a crash. Waits for its backends too: they exit on
     * postmaster death, and until they have, a new postmaster would refuse to start
     * ("pre-existing shared memory block is still in use").
     */
    public synchronized void kill() {
        if (process == null) {
            return;
        }
        long pid = postmasterPid();
        List<Long> backends = ProcessHandle.of(pid)
                .map(h -> h.descendants().map(ProcessHandle::pid).toList()).orElse(List.of());
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        process.destroyForcibly(); // the runuser wrapper, when that is what we started
        awaitExit(Duration.ofSeconds(10));
        if (!Processes.awaitDeath(backends, Duration.ofSeconds(10))) {
            backends.forEach(b -> Processes.signal(b, "KILL"));
            Processes.awaitDeath(backends, Duration.ofSeconds(5));
        }
        forget();
        LOG.info("Killed {} (postmaster pid {})", name, pid);
    }

    public void restart() {
        stop();
        start();
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Promotes a standby ({@code pg_promote()}, which waits until promotion is done). */
    public void promote() throws SQLException {
        try (Connection c = connectSuperuser("postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_promote(true, 60)")) {
            if (!rs.next() || !rs.getBoolean(1)) {
                throw new SQLException(name + ": pg_promote() did not complete");
            }
        }
    }

    public boolean inRecovery() throws SQLException {
        try (Connection c = connectSuperuser("postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return name + "@" + HOST + ":" + port;
    }

    private void launch() {
        List<String> program = List.of(binaries.postgres().toString(), "-D", dataDir.toString(),
                "-p", Integer.toString(port));
        ProcessBuilder builder = new ProcessBuilder(user.serverCommand(program)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()));
        // PG* variables of the caller's shell must not reach the server or its defaults.
        builder.environment().keySet().removeIf(key -> key.startsWith("PG"));
        try {
            Files.writeString(logFile(), "=== pgfleet-testkit: starting " + name + " on port " + port + " at "
                    + Instant.now() + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        process = Processes.spawn(builder);
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                forget();
                String tail = Processes.tail(logFile(), 30);
                if (tail.contains("Address already in use")) {
                    throw new PortTakenException(name + ": port " + port + " is taken");
                }
                throw new IllegalStateException(name + " exited during startup; " + logFile() + ":\n" + tail);
            }
            try (Connection c = connectSuperuser("postgres"); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT current_setting('data_directory')")) {
                rs.next();
                // Someone else's server on our port would also accept: make sure it is ours.
                if (Path.of(rs.getString(1)).equals(dataDir)) {
                    return;
                }
            } catch (SQLException e) {
                last = e; // refused, or "the database system is starting up" (57P03)
            }
            Processes.sleep(50);
        }
        kill();
        throw new IllegalStateException(name + " not ready within " + READY_TIMEOUT + " (last error: " + last
                + "); " + logFile() + ":\n" + Processes.tail(logFile(), 30));
    }

    private boolean awaitExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping " + name, e);
        }
    }

    private void forget() {
        process = null;
        RunningServers.remove(this);
    }

    /**
     * The postmaster's pid: the Process's own pid when setpriv exec'ed into postgres; the
     * first line of postmaster.pid when runuser sits in between.
     */
    private long postmasterPid() {
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"));
            long pid = Long.parseLong(lines.get(0).trim());
            if (Processes.isLive(pid)) {
                return pid;
            }
        } catch (IOException | RuntimeException e) {
            // not written yet, or already removed
        }
        return process.pid();
    }

    /** A free loopback port (never 5432 or 6432, the usual PostgreSQL and PgBouncer ports). */
    static int freePort() {
        for (int i = 0; i < 20; i++) {
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
                int port = socket.getLocalPort();
                if (port != 5432 && port != 6432) {
                    return port;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot find a free port", e);
            }
        }
        throw new IllegalStateException("no free port");
    }

    /** The server could not bind its port. */
    static final class PortTakenException extends IllegalStateException {
        PortTakenException(String message) {
            super(message);
        }
    }
}
