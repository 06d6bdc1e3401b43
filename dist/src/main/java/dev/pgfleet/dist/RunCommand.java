package dev.pgfleet.dist;

import dev.pgfleet.shared.config.ConfigException;
import dev.pgfleet.shared.config.PgFleetConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pgfleet run}: serves a configuration until SIGTERM or SIGINT. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Start PgFleet with a configuration file and serve until SIGTERM/SIGINT.")
final class RunCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);
    static final String DEFAULT_CONFIG = "conf/pgfleet.toml";

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "TOML configuration (PgCat's pgcat.toml layout). Default: " + DEFAULT_CONFIG)
    private Path config;

    @Override
    public Integer call() {
        Path file = ConfigFiles.resolve(config, DEFAULT_CONFIG);
        PgFleetConfig loaded;
        try {
            // Warnings (unknown keys...) are logged by the loader itself, one line each.
            loaded = ConfigFiles.load(file);
        } catch (ConfigException e) {
            System.err.println("pgfleet: " + e.getMessage());
            return PgFleetMain.EXIT_CONFIG;
        }
        ProxyNode node;
        try {
            node = ProxyNode.start(loaded);
        } catch (RuntimeException e) {
            LOG.error("Cannot start PgFleet: {}", e.getMessage());
            return PgFleetMain.EXIT_FAILURE;
        }
        StopOnSignal.install("pgfleet-shutdown", node::stop).awaitStopped();
        return 0;
    }
}
