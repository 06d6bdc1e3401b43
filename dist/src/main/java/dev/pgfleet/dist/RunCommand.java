package dev.pgfleet.dist;

import dev.pgfleet.dist.log.LogLines;
import dev.pgfleet.shared.config.ConfigException;
import dev.pgfleet.shared.config.PgFleetConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pgfleet run}: serves a configuration until SIGTERM or SIGINT; SIGHUP reloads it. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Start PgFleet with a configuration file and serve until SIGTERM/SIGINT; SIGHUP reloads the file.")
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
            LogLines.use(loaded.general().logFormat());
        } catch (ConfigException e) {
            System.err.println("pgfleet: " + e.getMessage());
            return PgFleetMain.EXIT_CONFIG;
        }
        ProxyNode node;
        try {
            node = ProxyNode.start(loaded, file, UnaryOperator.identity());
        } catch (RuntimeException e) {
            LOG.error("Cannot start PgFleet: {}", e.getMessage());
            return PgFleetMain.EXIT_FAILURE;
        }
        StopOnSignal.install("pgfleet-shutdown", node::stop, node::reload).awaitStopped();
        return 0;
    }
}
