package dev.pgfleet.dist;

import org.slf4j.bridge.SLF4JBridgeHandler;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code pgfleet} command: {@code run} serves a configuration, {@code demo} starts a
 * throwaway PostgreSQL fleet behind the proxy.
 *
 * <p>Exit codes: 0 after a clean stop, 1 on a start-up failure, 2 on a usage or configuration
 * error (the same code picocli uses for usage errors, so scripts can tell "fix your input" from
 * "something broke").
 */
@Command(name = "pgfleet",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "PgFleet: a PostgreSQL connection pooler and proxy that runs as a fleet.",
        subcommands = {RunCommand.class, DemoCommand.class, CommandLine.HelpCommand.class})
public final class PgFleetMain implements Runnable {

    static final int EXIT_FAILURE = 1;
    static final int EXIT_CONFIG = 2;

    private static final String CONTEXT_TIMINGS = "vertx.disableContextTimings";

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // Vert.x times every event for its blocked-thread warning: a clock read per socket read
        // and per task, measurable at PgFleet's event rates (BENCHMARKS.md). Off unless asked for
        // with -Dvertx.disableContextTimings=false. Set before any Vert.x class is loaded.
        if (System.getProperty(CONTEXT_TIMINGS) == null) {
            System.setProperty(CONTEXT_TIMINGS, "true");
        }
        // JUL records (pgjdbc's, the JDK's) become PgFleet's own log lines, text or JSON.
        SLF4JBridgeHandler.removeHandlersForRootLogger();
        SLF4JBridgeHandler.install();
        int code = new CommandLine(new PgFleetMain()).execute(args);
        // run and demo only return once their shutdown hook has finished (or on failure):
        // exiting here ends the JVM even if a library left a non-daemon thread behind.
        System.exit(code);
    }

    /** {@code pgfleet} without a subcommand: show what there is. */
    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
