package dev.pgfleet.dist;

import dev.pgfleet.shared.config.ConfigException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pgfleet demo}: a primary, a replica and two shards behind PgFleet, until Ctrl-C. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Start embedded PostgreSQL servers (a primary with a streaming replica, two shards),"
                + " seed a demo database and serve it through PgFleet until Ctrl-C.",
                "Needs no PostgreSQL installation: the servers come from the PgFleet jar."})
final class DemoCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(DemoCommand.class);
    static final String DEFAULT_CONFIG = "conf/demo.toml";

    @Option(names = "--port", defaultValue = "6432", paramLabel = "PORT",
            description = "Port PgFleet listens on (default: ${DEFAULT-VALUE}).")
    private int port;

    @Option(names = "--dir", defaultValue = "pgfleet-demo", paramLabel = "DIR",
            description = "Directory for the PostgreSQL binaries, data and logs (default: ./${DEFAULT-VALUE})."
                    + " Wiped at each start, kept after stop.")
    private Path dir;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "Demo configuration; server addresses in it are replaced by the started servers'."
                    + " Default: " + DEFAULT_CONFIG)
    private Path config;

    @Override
    public Integer call() {
        Path file = ConfigFiles.resolve(config, DEFAULT_CONFIG);
        Demo demo = new Demo(new Demo.Options(file, dir, port));
        // Installed first, so that Ctrl-C during the start stops what has started.
        StopOnSignal signal = StopOnSignal.install("pgfleet-demo-shutdown", demo::stop, () -> {
            ProxyNode node = demo.node();
            if (node != null) {
                node.reload();
            }
        });
        try {
            demo.start();
        } catch (ConfigException e) {
            System.err.println("pgfleet: " + e.getMessage());
            return PgFleetMain.EXIT_CONFIG;
        } catch (IOException e) {
            System.err.println("pgfleet: cannot read " + file + ": " + e);
            return PgFleetMain.EXIT_CONFIG;
        } catch (RuntimeException e) {
            LOG.error("Cannot start the demo", e);
            return PgFleetMain.EXIT_FAILURE;
        }
        System.out.println(DemoBanner.text(demo));
        System.out.flush();
        signal.awaitStopped();
        return 0;
    }
}
