package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.TestUsers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * psql (Debian's postgresql-client, where installed) through PgFleet in both pool modes.
 * psql sends GSSENCRequest first (it must get 'N'), then its startup with application_name.
 */
@EnabledIf("hasPsql")
class PsqlTest {

    static boolean hasPsql() {
        return Files.isExecutable(Path.of("/usr/bin/psql"));
    }

    private static String psql(ProxyFixture proxy, String... sql) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("/usr/bin/psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "postgresql://" + TestUsers.SCRAM_USER + "@127.0.0.1:" + proxy.port + "/" + TestUsers.DATABASE));
        for (String s : sql) {
            cmd.add("-c");
            cmd.add(s);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", TestUsers.SCRAM_PASSWORD);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void sessionAndTransactionMode() throws Exception {
        for (String mode : List.of("session", "transaction")) {
            try (ProxyFixture proxy = ProxyFixture.start(mode, 3, null)) {
                assertEquals("1\n2\npsql", psql(proxy, "SELECT 1", "SELECT 2", "SELECT current_setting('application_name')"));
            }
        }
    }
}
