package dev.pgfleet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The OS user PostgreSQL runs as. PostgreSQL refuses to run as root ("root execution of the
 * PostgreSQL server is not permitted"), so when the JVM is root the server programs run as
 * {@code nobody} through setpriv (runuser where setpriv is missing), and their directories are
 * chown'ed to nobody. Otherwise they run as the JVM's user.
 */
final class ServerUser {
    private static final String NOBODY = "nobody";

    private final boolean dropPrivileges;
    private final String group;
    /** Absolute paths, or null where missing: /usr/sbin may not be on a build's PATH. */
    private final String setpriv;
    private final String runuser;

    private ServerUser(boolean dropPrivileges, String group, String setpriv, String runuser) {
        this.dropPrivileges = dropPrivileges;
        this.group = group;
        this.setpriv = setpriv;
        this.runuser = runuser;
    }

    static ServerUser detect() {
        boolean root = "root".equals(System.getProperty("user.name")) || procUid() == 0;
        String setpriv = find("setpriv");
        if (!root) {
            return new ServerUser(false, null, setpriv, null);
        }
        String runuser = find("runuser");
        if (setpriv == null && runuser == null) {
            throw new IllegalStateException("running as root, and neither setpriv nor runuser is on the PATH"
                    + " to run PostgreSQL as 'nobody' (PostgreSQL refuses to run as root)");
        }
        // nobody's primary group is nogroup on Debian, nobody on Red Hat: ask rather than guess.
        return new ServerUser(true, primaryGroup(NOBODY), setpriv, runuser);
    }

    boolean dropsPrivileges() {
        return dropPrivileges;
    }

    /** A short-lived program (initdb) as the server user. */
    List<String> command(List<String> program) {
        return wrap(program, false);
    }

    /**
     * The postmaster as the server user; with setpriv, also with PR_SET_PDEATHSIG=SIGKILL so
     * it dies with the JVM (see {@link Processes}). setpriv sets it after changing the uid:
     * the kernel clears it on a credential change, so the order matters, and it was checked.
     */
    List<String> serverCommand(List<String> program) {
        return wrap(program, setpriv != null);
    }

    private List<String> wrap(List<String> program, boolean pdeathsig) {
        List<String> command = new ArrayList<>();
        if (dropPrivileges && setpriv != null) {
            command.addAll(List.of(setpriv, "--reuid=" + NOBODY, "--regid=" + group, "--clear-groups"));
        } else if (dropPrivileges) {
            // runuser forks and waits instead of exec'ing: the Process pid is runuser's, so
            // PgServer signals the pid from postmaster.pid, and no pdeathsig here.
            command.addAll(List.of(runuser, "-u", NOBODY, "--"));
        } else if (pdeathsig) {
            command.add(setpriv);
        }
        if (pdeathsig) { // only when setpriv exists, so command starts with it
            command.addAll(List.of("--pdeathsig", "SIGKILL"));
        }
        command.addAll(program);
        return command;
    }

    /** Hands a directory tree to the server user (no-op when not root). */
    void own(Path tree) {
        if (!dropPrivileges) {
            return;
        }
        try {
            UserPrincipalLookupService lookup = tree.getFileSystem().getUserPrincipalLookupService();
            UserPrincipal user = lookup.lookupPrincipalByName(NOBODY);
            GroupPrincipal nobodyGroup = lookup.lookupPrincipalByGroupName(group);
            try (Stream<Path> paths = Files.walk(tree)) {
                for (Path path : (Iterable<Path>) paths::iterator) {
                    PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class,
                            java.nio.file.LinkOption.NOFOLLOW_LINKS);
                    view.setOwner(user);
                    view.setGroup(nobodyGroup);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot chown " + tree + " to " + NOBODY, e);
        }
    }

    /**
     * nobody must be able to enter every directory above the data directories and binaries.
     * A base dir under /root (mode 700) is the usual trap: fail with the reason up front
     * rather than with initdb's "could not change directory" later.
     */
    void checkTraversable(Path dir) {
        if (!dropPrivileges) {
            return;
        }
        for (Path p = dir.toAbsolutePath().normalize(); p != null; p = p.getParent()) {
            if (!Files.exists(p)) {
                continue;
            }
            try {
                if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                    throw new IllegalStateException("PostgreSQL runs as '" + NOBODY + "' because this JVM runs as"
                            + " root, and '" + NOBODY + "' cannot enter " + p + " (no o+x). Choose a base directory"
                            + " every user can traverse (e.g. under /tmp or the build directory), or chmod o+x " + p);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static int procUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.UTF_8)) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.substring(4).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux: user.name decides.
        }
        return -1;
    }

    private static String find(String program) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : (path + ":/usr/bin:/bin:/usr/sbin:/sbin").split(":")) {
            Path candidate = dir.isEmpty() ? null : Path.of(dir, program);
            if (candidate != null && Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return null;
    }

    private static String primaryGroup(String user) {
        try {
            Process id = new ProcessBuilder("id", "-gn", user).redirectErrorStream(true).start();
            String out = new String(id.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (id.waitFor(10, TimeUnit.SECONDS) && id.exitValue() == 0 && !out.isEmpty()) {
                return out;
            }
            throw new IllegalStateException("id -gn " + user + " failed: " + out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run id -gn " + user, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
