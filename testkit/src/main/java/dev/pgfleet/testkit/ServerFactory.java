package dev.pgfleet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Makes the servers of one cluster or shard set in one directory: {@code <dir>/<name>/} is a
 * data directory, {@code <dir>/<name>.log} its log.
 */
final class ServerFactory {
    private static final Duration INITDB_TIMEOUT = Duration.ofMinutes(2);
    /** Runtime files of a running postmaster: a copy must not carry them. */
    private static final Set<String> NOT_COPIED = Set.of("postmaster.pid", "postmaster.opts");

    private final PgBinaries binaries;
    private final ServerUser user;
    private final Path dir;

    private ServerFactory(PgBinaries binaries, ServerUser user, Path dir) {
        this.binaries = binaries;
        this.user = user;
        this.dir = dir;
    }

    /** {@code dir} must be empty or absent (the caller has swept it). */
    static ServerFactory in(Path binariesDir, Path dir) {
        ServerUser user = ServerUser.detect();
        PgBinaries binaries = PgBinaries.unpackInto(binariesDir);
        try {
            Files.createDirectories(dir);
            if (user.dropsPrivileges()) {
                // nobody only needs to pass through: the data directories inside are its own.
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
        user.checkTraversable(dir);
        user.checkTraversable(binaries.postgres());
        return new ServerFactory(binaries, user, dir);
    }

    /**
     * initdb, the kit's configuration, start, then the test roles and database: a running
     * primary or standalone server.
     */
    PgServer initServer(String name) {
        Path dataDir = dir.resolve(name);
        Path pwfile = dir.resolve(name + ".pwfile");
        try {
            Files.createDirectories(dataDir);
            Files.writeString(pwfile, TestUsers.SUPERUSER_PASSWORD + "\n");
            user.own(dataDir);
            user.own(pwfile);
            Processes.run(user.command(List.of(binaries.initdb().toString(), "-D", dataDir.toString(),
                    "-U", TestUsers.SUPERUSER, "--pwfile=" + pwfile, "--auth=scram-sha-256", "-E", "UTF8",
                    "--locale=C", "--no-sync", "--no-instructions")), dir.resolve(name + "-initdb.log"),
                    INITDB_TIMEOUT);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot initialize " + dataDir, e);
        } finally {
            try {
                Files.deleteIfExists(pwfile);
            } catch (IOException e) {
                // a test password in a build directory
            }
        }
        ServerConfig.writeServerFiles(dataDir);
        user.own(dataDir);
        PgServer server = new PgServer(name, dataDir, binaries, user);
        server.startOnFreePort();
        try (Connection c = server.connectSuperuser("postgres")) {
            TestDatabase.createRoles(c);
            TestDatabase.recreate(server);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create the test roles on " + server, e);
        }
        return server;
    }

    /**
     * A standby's data directory, copied from a cleanly stopped primary: without
     * pg_basebackup (not in the binaries jar) this is the consistent copy, as the shutdown
     * checkpoint is the standby's starting point. Not started; primary_conninfo comes later,
     * once the primary's port is final.
     */
    PgServer copyAsStandby(PgServer stoppedPrimary, String name) {
        if (stoppedPrimary.isRunning()) {
            throw new IllegalStateException(stoppedPrimary + " must be stopped to be copied");
        }
        Path source = stoppedPrimary.dataDir();
        Path target = dir.resolve(name);
        try (Stream<Path> paths = Files.walk(source)) {
            for (Path from : (Iterable<Path>) paths::iterator) {
                if (!NOT_COPIED.contains(from.getFileName().toString())) {
                    Files.copy(from, target.resolve(source.relativize(from).toString()),
                            StandardCopyOption.COPY_ATTRIBUTES, java.nio.file.LinkOption.NOFOLLOW_LINKS);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + source + " to " + target, e);
        }
        user.own(target);
        return new PgServer(name, target, binaries, user);
    }

    void configureStandby(PgServer standby, PgServer primary) {
        ServerConfig.writeStandbyFiles(standby.dataDir(), standby.name(), primary.port());
        user.own(standby.dataDir());
    }
}
