package dev.pgfleet.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.shared.config.PgFleetConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command line: exit codes and messages that need no server. */
class PgFleetMainTest {

    @Test
    void invalidConfigurationExitsWith2AndNamesFileAndKey(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.toml");
        Files.writeString(file, "[general]\nport = \"x\"\n");
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = new CommandLine(new PgFleetMain()).execute("run", "-c", file.toString());
        } finally {
            System.setErr(err);
        }
        assertEquals(PgFleetMain.EXIT_CONFIG, code);
        String out = captured.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains(file + ": general.port"), out);
    }

    @Test
    void versionNamesTheProjectVersion() {
        assertTrue(VersionProvider.version().matches("\\d+\\.\\d+\\.\\d+.*"), VersionProvider.version());
    }

    @Test
    void demoConfigurationNeedsOneReplicaAndTwoShards() throws Exception {
        Path file = Path.of("..", "conf", "demo.toml");
        PgFleetConfig config = ConfigLoader.parse(Files.readString(file), file.toString());
        assertEquals(1, DemoTopology.replicasNeeded(config));
        assertEquals(2, DemoTopology.shardsNeeded(config));
    }

    @Test
    void eventLoopsFollowWorkerThreadsWithinBounds() {
        assertEquals(1, ProxyNode.eventLoops(1));
        assertEquals(3, ProxyNode.eventLoops(3, 2));
        assertEquals(4, ProxyNode.eventLoops(10_000, 2), "at most 2 x cores");
        assertTrue(ProxyNode.eventLoops(10_000) <= 2 * Runtime.getRuntime().availableProcessors());
    }

    @Test
    void unsetWorkerThreadsGiveHalfTheCores() {
        assertEquals(1, ProxyNode.eventLoops(0, 1));
        assertEquals(1, ProxyNode.eventLoops(0, 2));
        assertEquals(1, ProxyNode.eventLoops(0, 3));
        assertEquals(4, ProxyNode.eventLoops(0, 8));
        assertEquals(Math.max(1, Runtime.getRuntime().availableProcessors() / 2), ProxyNode.eventLoops(0));
    }
}
