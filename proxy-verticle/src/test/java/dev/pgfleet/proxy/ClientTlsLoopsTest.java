package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.testkit.TestUsers;
import io.vertx.core.net.SelfSignedCertificate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Client TLS with as many proxy verticles as dist's default worker_threads (4): the listeners
 * share one port, and every one of them must be able to answer SSLRequest with a handshake
 * (the connection lands on any of them).
 */
class ClientTlsLoopsTest {

    private static final int LOGINS = 100;

    private static String tlsGeneral(SelfSignedCertificate cert) {
        return "tls_certificate = \"" + cert.certificatePath() + "\"\ntls_private_key = \"" + cert.privateKeyPath() + "\"\n";
    }

    @Test
    void concurrentTlsLoginsWithPgjdbc() throws Exception {
        assertAllSecure("pgjdbc TLS logins (sslmode=require)", ClientTlsLoopsTest::pgjdbc, "secure"::equals);
    }

    /** psql's default sslmode is prefer: SSLRequest first, and it must get a working 'S'. */
    @Test
    void concurrentTlsLoginsWithPsql() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/psql")),
            "psql is not installed (Debian's postgresql-client); the pgjdbc test covers the same TLS path");
        assertAllSecure("psql logins (sslmode=prefer)", ClientTlsLoopsTest::psql, r -> r.contains("SSL connection"));
    }

    /** LOGINS concurrent logins through 4 proxy verticles (event loops), each of which must end secure. */
    private static void assertAllSecure(String what, java.util.function.Function<ProxyFixture, String> login,
                                                                            java.util.function.Predicate<String> secure) throws Exception {
        SelfSignedCertificate cert = SelfSignedCertificate.create("localhost");
        try (ProxyFixture proxy = ProxyFixture.startInstances("transaction", 10, tlsGeneral(cert), 4)) {
            ExecutorService pool = Executors.newFixedThreadPool(20);
            try {
                List<Callable<String>> logins = new ArrayList<>();
                for (int i = 0; i < LOGINS; i++) {
                    logins.add(() -> login.apply(proxy));
                }
                List<String> failures = new ArrayList<>();
                for (Future<String> f : pool.invokeAll(logins)) {
                    String r = f.get();
                    if (!secure.test(r)) {
                        failures.add(r);
                    }
                }
                assertEquals(List.of(), failures, failures.size() + " of " + LOGINS + " " + what + " failed");
            } finally {
                pool.shutdownNow();
            }
        }
    }

    private static String pgjdbc(ProxyFixture proxy) {
        Properties p = new Properties();
        p.setProperty("user", TestUsers.SCRAM_USER);
        p.setProperty("password", TestUsers.SCRAM_PASSWORD);
        p.setProperty("sslmode", "require");
        p.setProperty("connectTimeout", "20");
        String url = "jdbc:postgresql://127.0.0.1:" + proxy.port + "/" + TestUsers.DATABASE + "?gssEncMode=disable";
        try (Connection c = DriverManager.getConnection(url, p);
                  ResultSet rs = c.createStatement().executeQuery("SELECT 'secure'")) {
            assertTrue(rs.next());
            return rs.getString(1);
        } catch (Exception e) {
            return e.toString();
        }
    }

    /**
     * psql with its default sslmode (prefer), printing \conninfo: prefer falls back to plaintext
     * when the answer to SSLRequest is an error, so only "SSL connection" in the output counts.
     */
    private static String psql(ProxyFixture proxy) {
        try {
            ProcessBuilder pb = new ProcessBuilder("/usr/bin/psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "postgresql://" + TestUsers.SCRAM_USER + "@127.0.0.1:" + proxy.port + "/" + TestUsers.DATABASE,
                "-c", "\\conninfo").redirectErrorStream(true);
            pb.environment().put("PGPASSWORD", TestUsers.SCRAM_PASSWORD);
            pb.environment().remove("PGSSLMODE");
            Process proc = pb.start();
            String out = new String(proc.getInputStream().readAllBytes()).trim();
            if (!proc.waitFor(60, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
                return "psql timed out";
            }
            return proc.exitValue() == 0 ? out : "psql exit " + proc.exitValue() + ": " + out;
        } catch (Exception e) {
            return e.toString();
        }
    }
}
