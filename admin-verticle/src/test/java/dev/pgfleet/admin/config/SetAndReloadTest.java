package dev.pgfleet.admin.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.admin.AdminReply;
import dev.pgfleet.shared.config.ConfigEpoch;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** SET and RELOAD on a real file, and the CONFIG rows SHOW CONFIG is drawn from. */
@Timeout(60)
class SetAndReloadTest {

    private static final long WAIT_MS = 10_000;

    @Test
    void setChangesALiveKeyAndRefusesTheRest(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("pgfleet.toml");
        Files.writeString(file, ConfigFixture.toml("ban_time = 30", ""));
        try (ConfigFixture f = new ConfigFixture(file)) {
            AdminReply ok = f.command("SET", "query_wait_timeout", "2500");
            assertNull(ok.sqlState(), ok.toString());
            ConfigEpoch e2 = f.nextApplied(WAIT_MS);
            assertEquals(2, e2.epoch());
            assertEquals(Duration.ofMillis(2500), e2.config().general().queryWaitTimeout());
            // A [general] timeout the pool inherits reaches the pool too: the file is bound again.
            assertNull(f.command("SET", "idle_timeout", "'4000'").sqlState());
            ConfigEpoch e3 = f.nextApplied(WAIT_MS);
            assertEquals(Duration.ofMillis(4000), e3.config().pools().get("app").idleTimeout());
            assertEquals(Duration.ofMillis(4000), e3.config().pools().get("app").users().get(0).idleTimeout());

            AdminReply same = f.command("SET", "query_wait_timeout", "2500");
            assertNull(same.sqlState());
            assertTrue(same.message().contains("no change"), same.message());

            assertRefused(f.command("SET", "no_such_key", "1"), "42704", "unrecognized configuration parameter \"no_such_key\"");
            assertRefused(f.command("SET", "port", "7000"), "55P02", "parameter \"port\" cannot be changed without restarting PgFleet");
            assertRefused(f.command("SET", "worker_threads", "2"), "55P02", "parameter \"worker_threads\"");
            // Each event loop's client to the servers is built with it at start.
            assertRefused(f.command("SET", "connect_timeout", "4000"), "55P02", "parameter \"connect_timeout\"");
            assertRefused(f.command("SET", "admin_password", "x"), "55P02", "parameter \"admin_password\" cannot be changed with SET");
            assertRefused(f.command("SET", "ban_time", "soon"), "22023",
                    "invalid value for parameter \"ban_time\": expected an integer, got a string \"soon\"");
            assertRefused(f.command("SET", "max_client_conn", "0"), "22023",
                    "invalid value for parameter \"max_client_conn\": must be at least 1, got 0");
            assertRefused(f.command("SET", "log_client_connections", "maybe"), "22023",
                    "expected a boolean (true or false), got a string \"maybe\"");
            assertRefused(f.command("SET", "ban_time"), "42601", "SET takes a key and a value");

            ConfigEpoch now = f.current();
            assertEquals(3, now.epoch(), "refusals publish nothing");
            assertNull(f.applied.poll());
            assertEquals(Duration.ofSeconds(30), now.config().general().banTime());

            assertEquals("SET", f.row("query_wait_timeout").getString("source"));
            assertEquals("2500", f.row("query_wait_timeout").getString("value"));
        }
    }

    @Test
    void reloadKeepsSetsForKeysTheFileDoesNotSetAndRestartKeysAtTheirRunningValue(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("pgfleet.toml");
        Files.writeString(file, ConfigFixture.toml("ban_time = 30", ""));
        try (ConfigFixture f = new ConfigFixture(file)) {
            AdminReply unchanged = f.command("RELOAD");
            assertNull(unchanged.sqlState());
            assertEquals("RELOAD: no change", unchanged.message());
            assertNull(f.applied.poll(), "an unchanged file publishes nothing");

            assertNull(f.command("SET", "ban_time", "45").sqlState());
            assertNull(f.command("SET", "idle_timeout", "1234").sqlState());
            assertEquals(2, f.nextApplied(WAIT_MS).epoch());
            assertEquals(3, f.nextApplied(WAIT_MS).epoch());

            // The file changes ban_time (it sets it: the file wins), the port and worker_threads
            // (restart-only: kept), a password (named, never shown) and adds a pool.
            Files.writeString(file, ConfigFixture.toml("ban_time = 31\nworker_threads = 3", ConfigFixture.pool("reports"))
                    .replace("port = 16432", "port = 16433").replace("app-secret-1", "app-secret-2"));
            AdminReply r = f.command("RELOAD");
            assertNull(r.sqlState(), r.toString());
            assertEquals("RELOAD: epoch 4: changed: ban_time; pools added: reports; pools changed: app;"
                    + " needs a restart, running value kept: port, worker_threads;"
                    + " SET of ban_time replaced by the file's value", r.message());
            assertFalse(r.toJson().encode().contains("app-secret"), r.toJson().encode());
            ConfigEpoch e4 = f.nextApplied(WAIT_MS);
            assertEquals(4, e4.epoch());
            assertEquals(16432, e4.config().general().port());
            assertEquals(0, e4.config().general().workerThreads());
            assertEquals(Duration.ofSeconds(31), e4.config().general().banTime());
            assertEquals(Duration.ofMillis(1234), e4.config().general().idleTimeout(), "a SET the file does not set stays");
            assertEquals("app-secret-2", e4.config().pools().get("app").users().get(0).password());
            assertEquals("SET", f.row("idle_timeout").getString("source"));
            assertEquals("file", f.row("ban_time").getString("source"));
            assertEquals("16432", f.row("port").getString("value"));

            // Only a restart-only key differs from what runs: nothing to publish.
            AdminReply again = f.command("RELOAD");
            assertEquals("RELOAD: no change; needs a restart, running value kept: port, worker_threads", again.message());
            assertNull(f.applied.poll());
        }
    }

    @Test
    void setAutoreloadStartsWatchingTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("pgfleet.toml");
        Files.writeString(file, ConfigFixture.toml("", ""));
        try (ConfigFixture f = new ConfigFixture(file)) {
            assertNull(f.command("SET", "autoreload", "100").sqlState());
            assertEquals(2, f.nextApplied(WAIT_MS).epoch());
            Files.writeString(file, ConfigFixture.toml("ban_time = 5", ""));
            ConfigEpoch e3 = f.nextApplied(WAIT_MS);
            assertEquals(Duration.ofSeconds(5), e3.config().general().banTime());
            assertEquals(Duration.ofMillis(100), e3.config().general().autoreload().orElseThrow(), "the SET stays");
        }
    }

    @Test
    void configRowsShowEveryGeneralKeyWithItsSourceAndNoSecret(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("pgfleet.toml");
        Files.writeString(file, ConfigFixture.toml("ban_time = 30\nserver_tls = true\nhealthcheck_user = \"probe\""
                + "\nhealthcheck_password = \"probe-secret-1\"", ""));
        System.setProperty("pgfleet.general.shutdown_timeout", "7000");
        try (ConfigFixture f = new ConfigFixture(file)) {
            JsonObject reply = f.command("CONFIG").toJson();
            assertFalse(reply.encode().contains("secret-1"), reply.encode());
            assertEquals(dev.pgfleet.shared.config.GeneralKeys.names().size(),
                    reply.getJsonObject("data").getJsonArray("rows").size());
            assertEquals(new JsonObject().put("key", "ban_time").put("value", "30").put("default", "60")
                    .put("changeable", "yes").put("source", "file"), f.row("ban_time"));
            assertEquals(new JsonObject().put("key", "admin_password").put("value", "********").put("default", "")
                    .put("changeable", "no").put("source", "file"), f.row("admin_password"));
            assertEquals("********", f.row("healthcheck_password").getString("value"));
            assertEquals(new JsonObject().put("key", "port").put("value", "16432").put("default", "6432")
                    .put("changeable", "no").put("source", "file"), f.row("port"));
            assertEquals(new JsonObject().put("key", "query_wait_timeout").put("value", "120000")
                    .put("default", "120000").put("changeable", "yes").put("source", "default"), f.row("query_wait_timeout"));
            assertEquals(new JsonObject().put("key", "shutdown_timeout").put("value", "7000")
                    .put("default", "60000").put("changeable", "yes").put("source", "system property"),
                    f.row("shutdown_timeout"));
            // PgCat's server_tls folds into server_tls_mode: set by the file.
            assertEquals("require", f.row("server_tls_mode").getString("value"));
            assertEquals("file", f.row("server_tls_mode").getString("source"));
            assertEquals("false", f.row("log_client_connections").getString("value"));
            assertEquals("0", f.row("autoreload").getString("value"));
            assertEquals("text", f.row("log_format").getString("value"));
            assertEquals("no", f.row("log_format").getString("changeable"));
        } finally {
            System.clearProperty("pgfleet.general.shutdown_timeout");
        }
    }

    private static void assertRefused(AdminReply r, String sqlState, String messagePart) {
        assertEquals(sqlState, r.sqlState(), r.toString());
        assertTrue(r.message().contains(messagePart), r.message());
    }
}
