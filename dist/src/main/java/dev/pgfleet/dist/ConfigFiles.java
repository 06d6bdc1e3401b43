package dev.pgfleet.dist;

import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.shared.config.PgFleetConfig;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Finds and reads configuration files for the commands. */
final class ConfigFiles {

    /** Set by the {@code pgfleet} launcher to the repository (or install) directory. */
    static final String HOME_PROPERTY = "pgfleet.home";
    private static final Duration LOAD_TIMEOUT = Duration.ofSeconds(30);

    private ConfigFiles() {
    }

    /**
     * A path the user typed is taken as is, relative to their working directory. A default
     * ({@code conf/pgfleet.toml}) is looked up in the working directory first, then in the
     * PgFleet home, so that {@code /path/to/pgfleet demo} works from anywhere.
     */
    static Path resolve(Path given, String defaultPath) {
        if (given != null) {
            return given;
        }
        Path inCwd = Path.of(defaultPath);
        String home = System.getProperty(HOME_PROPERTY);
        if (Files.exists(inCwd) || home == null) {
            return inCwd;
        }
        Path inHome = Path.of(home).resolve(defaultPath);
        return Files.exists(inHome) ? inHome : inCwd;
    }

    /**
     * {@link ConfigLoader#load} (file, then environment and system property overrides) on a
     * short-lived Vert.x: the real instance's event loop count comes from this very file, and
     * a Vert.x instance cannot change it once created.
     *
     * @throws dev.pgfleet.shared.config.ConfigException listing every problem
     */
    static PgFleetConfig load(Path file) {
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
        try {
            return Futures.await(ConfigLoader.load(vertx, file), LOAD_TIMEOUT, "reading " + file);
        } finally {
            Futures.await(vertx.close(), LOAD_TIMEOUT, "closing the config reader");
        }
    }
}
