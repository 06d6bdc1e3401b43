package dev.pgfleet.testkit;

import java.nio.file.Path;

/** Where the kit puts things when the caller does not say. */
final class KitPaths {
    private KitPaths() {
    }

    /**
     * {@code <build dir>/pgfleet-testkit}: surefire sets {@code pgfleet.build.dir} to the
     * module's target/ (root pom), so each module's tests get their own binaries and servers
     * and {@code mvn clean} removes them.
     */
    static Path kitHome() {
        return Path.of(System.getProperty("pgfleet.build.dir", "target")).toAbsolutePath().normalize()
                .resolve("pgfleet-testkit");
    }

    static Path defaultServersDir() {
        return kitHome().resolve("servers");
    }

    static Path binariesDirFor(Path baseDir) {
        return baseDir.toAbsolutePath().normalize().resolve("pg-binaries");
    }
}
