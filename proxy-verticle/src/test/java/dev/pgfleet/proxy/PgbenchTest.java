package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * pgbench through transaction mode, where the machine has pgbench (Debian's postgresql-client
 * package; CI's machines have it). 50 clients on a pool of 10, with -M prepared and extended.
 */
@EnabledIf("hasPgbench")
class PgbenchTest {

    static ProxyFixture proxy;

    static boolean hasPgbench() {
        return Files.isExecutable(Path.of("/usr/bin/pgbench"));
    }

    @BeforeAll
    static void start() throws Exception {
        TestPostgres.reset();
        proxy = ProxyFixture.start("transaction", 10, null);
        // Initialise through PgFleet too: COPY, DDL and VACUUM in transaction mode.
        Result init = pgbench(List.of("-i", "-s", "1", "-q"));
        assertEquals(0, init.exit, init.output);
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    record Result(int exit, String output) {
    }

    private static Result pgbench(List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/pgbench", "-h", "127.0.0.1", "-p", String.valueOf(proxy.port),
            "-U", TestUsers.SCRAM_USER));
        cmd.addAll(args);
        cmd.add(TestUsers.DATABASE);
        // Output to a file, so that a pgbench that stalls fails the test at the deadline instead of hanging it.
        Path log = Files.createTempFile("pgbench", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("PGPASSWORD", TestUsers.SCRAM_PASSWORD);
        pb.environment().put("PGGSSENCMODE", "disable");
        Process p = pb.start();
        boolean finished = p.waitFor(120, TimeUnit.SECONDS);
        if (!finished) {
            p.destroyForcibly().waitFor();
        }
        String out = Files.readString(log);
        Files.delete(log);
        assertTrue(finished, "pgbench did not finish: " + out);
        return new Result(p.exitValue(), out);
    }

    private static void run(String mode) throws Exception {
        Result r = pgbench(List.of("-M", mode, "-c", "50", "-j", "2", "-t", "40", "-S"));
        assertEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("number of failed transactions: 0"), r.output);
        assertTrue(r.output.contains("number of transactions actually processed: 2000/2000"), r.output);
    }

    @Test
    void preparedFiftyClients() throws Exception {
        run("prepared");
    }

    @Test
    void extendedFiftyClients() throws Exception {
        run("extended");
    }

    /** TPC-B (multi-statement transactions) with the extended protocol. */
    @Test
    void tpcbWrites() throws Exception {
        Result r = pgbench(List.of("-M", "extended", "-c", "20", "-j", "2", "-t", "25"));
        assertEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("number of transactions actually processed: 500/500"), r.output);
    }

    /**
     * TPC-B with -M prepared and more clients per pgbench thread than server connections.
     * pgbench prepares each client's statements with a blocking PQprepare (Parse, Sync): a
     * thread waiting for one client's Parse serves none of its other clients, which may hold
     * every server connection in a transaction. PgFleet answers a Parse of a statement the
     * pool knows without a server connection, so the thread goes on.
     */
    @Test
    void tpcbPreparedMoreClientsThanConnections() throws Exception {
        Result r = pgbench(List.of("-M", "prepared", "-c", "40", "-j", "2", "-t", "25"));
        assertEquals(0, r.exit, r.output);
        assertTrue(r.output.contains("number of transactions actually processed: 1000/1000"), r.output);
    }
}
