package dev.pgfleet.health;

import dev.pgfleet.shared.admin.AdminBus;
import dev.pgfleet.shared.admin.AdminReply;
import dev.pgfleet.shared.admin.AdminRequest;
import dev.pgfleet.shared.health.ServerKey;
import dev.pgfleet.testkit.PgCluster;
import dev.pgfleet.testkit.TestPostgres;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;

import static dev.pgfleet.health.HealthFixture.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The AdminBus.HEALTH commands against the shared primary + 2 replicas, through the event bus. */
class HealthCommandsTest {

    private static AdminReply ask(HealthFixture f, String command, String... args) {
        JsonObject body = f.vertx.eventBus().<JsonObject>request(AdminBus.HEALTH, AdminRequest.of(command, args).toJson())
                .await().body();
        return AdminReply.fromJson(body);
    }

    private static JsonArray rows(AdminReply reply) {
        assertNull(reply.sqlState(), reply::toString);
        return reply.data().getJsonArray("rows");
    }

    private static JsonObject row(JsonArray rows, ServerKey server) {
        return rows.stream().map(JsonObject.class::cast).filter(r -> r.getString("server").equals(server.toString()))
                .findFirst().orElseThrow(() -> new AssertionError(server + " not in " + rows));
    }

    @Test
    void healthRowsPerServerWithDetectedRoles() {
        PgCluster cluster = TestPostgres.cluster();
        try (HealthFixture f = new HealthFixture(HealthFixture.config(cluster.servers(), "auto", 60, "app"))) {
            JsonArray rows = rows(ask(f, "HEALTH"));
            assertEquals(3, rows.size(), rows::encodePrettily);
            JsonObject primary = row(rows, key(cluster.primary()));
            assertEquals("app", primary.getString("pool"));
            assertEquals(0, primary.getInteger("shard"));
            assertEquals("primary", primary.getString("role"));
            assertEquals("auto", primary.getString("configured_role"));
            assertEquals(0L, primary.getLong("lag_bytes"));
            assertEquals(0L, primary.getLong("lag_ms"));
            for (var replica : cluster.replicas()) {
                JsonObject r = row(rows, key(replica));
                assertEquals("replica", r.getString("role"), r::encode);
                assertTrue(r.getBoolean("up"));
                assertFalse(r.getBoolean("banned"));
                assertTrue(r.getBoolean("serves_reads"));
                assertTrue(r.getLong("lag_bytes") >= 0, r::encode);
                assertNull(r.getString("last_error"));
                // start() returned after the first round: one answered probe at least, none failed.
                assertTrue(r.getLong("probes_ok") >= 1, r::encode);
                assertEquals(0L, r.getLong("probes_failed"));
                Instant.parse(r.getString("last_probe"));
            }
            assertEquals(0, rows(ask(f, "BANS")).size());
        }
    }

    @Test
    void banIsPublishedBeforeTheReplyAndUnbanLiftsIt() {
        PgCluster cluster = TestPostgres.cluster();
        try (HealthFixture f = new HealthFixture(HealthFixture.config(cluster.servers(), "auto", 60, "app"))) {
            ServerKey r2 = key(cluster.replicas().get(1));
            AdminReply banned = ask(f, "BAN", r2.toString(), "30");
            assertNull(banned.sqlState(), banned::toString);
            // No wait: the reply comes after the snapshot that routing reads.
            assertEquals(List.of(r2), f.shard("app").banned());
            assertEquals(List.of(key(cluster.replicas().get(0))), f.shard("app").readReplicas());
            assertTrue(banned.data().getLong("snapshot_version") <= f.current().version());

            JsonArray bans = rows(ask(f, "BANS"));
            assertEquals(1, bans.size());
            JsonObject ban = bans.getJsonObject(0);
            assertEquals(r2.toString(), ban.getString("server"));
            assertTrue(ban.getString("reason").startsWith("admin BAN"), ban::encode);
            assertEquals(Duration.ofSeconds(30),
                    Duration.between(Instant.parse(ban.getString("since")), Instant.parse(ban.getString("expires"))));
            JsonObject row = row(rows(ask(f, "HEALTH")), r2);
            assertTrue(row.getBoolean("banned"));
            assertFalse(row.getBoolean("serves_reads"));

            AdminReply lifted = ask(f, "UNBAN", r2.toString());
            assertNull(lifted.sqlState(), lifted::toString);
            assertTrue(lifted.data().getBoolean("was_banned"));
            assertEquals(2, f.shard("app").readReplicas().size(), () -> f.shard("app").toString());
            assertEquals(0, rows(ask(f, "BANS")).size());
            // Again: nothing to lift, not an error.
            AdminReply again = ask(f, "UNBAN", r2.toString());
            assertNull(again.sqlState());
            assertFalse(again.data().getBoolean("was_banned"));
        }
    }

    @Test
    void banWithoutSecondsLastsBanTimeAndPgCatSpellingWorks() {
        PgCluster cluster = TestPostgres.cluster();
        try (HealthFixture f = new HealthFixture(HealthFixture.config(cluster.servers(), "auto", 45, "app"))) {
            ServerKey r1 = key(cluster.replicas().get(0));
            assertNull(ask(f, "BAN", r1.host(), String.valueOf(r1.port())).sqlState());
            JsonObject ban = rows(ask(f, "BANS")).getJsonObject(0);
            assertEquals(Duration.ofSeconds(45),
                    Duration.between(Instant.parse(ban.getString("since")), Instant.parse(ban.getString("expires"))));
            // The primary can be banned (reads only); the reply says writes still go there.
            AdminReply primary = ask(f, "BAN", key(cluster.primary()).toString(), "5");
            assertNull(primary.sqlState());
            assertNotNull(primary.detail());
            assertTrue(primary.detail().contains("writes still go to it"), primary::toString);
        }
    }

    @Test
    void errorsCarrySqlStates() {
        PgCluster cluster = TestPostgres.cluster();
        try (HealthFixture f = new HealthFixture(HealthFixture.config(cluster.servers(), "auto", 60, "app"))) {
            String r1 = key(cluster.replicas().get(0)).toString();
            assertEquals("42704", ask(f, "BAN", "127.0.0.1:1").sqlState());
            assertEquals("42704", ask(f, "UNBAN", "127.0.0.1:1").sqlState());
            assertEquals("42601", ask(f, "BAN").sqlState());
            assertEquals("42601", ask(f, "BAN", "nonsense").sqlState());
            assertEquals("42601", ask(f, "BAN", r1, "soon").sqlState());
            assertEquals("42601", ask(f, "BAN", r1, "5", "extra").sqlState());
            assertEquals("22023", ask(f, "BAN", r1, "0").sqlState());
            assertEquals("42601", ask(f, "UNBAN").sqlState());
            assertEquals("42601", ask(f, "FROBNICATE").sqlState());
            assertTrue(f.bans.bans().isEmpty(), () -> f.bans.bans().toString());
        }
    }

    @Test
    void probeResultsAreCountedPerServer() throws IOException {
        PgCluster cluster = TestPostgres.cluster();
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        String list = "[\"" + cluster.primary().host() + "\", " + cluster.primary().port() + ", \"primary\"], "
                + "[\"127.0.0.1\", " + closed + ", \"replica\"]";
        try (HealthFixture f = new HealthFixture(HealthFixture.config("healthcheck_max_retries = 0", list, 60, "app"))) {
            long first = f.current().version();
            // Two more rounds (each publishes); a ban change publishes too, so wait on the count.
            f.await("three rounds", HealthFixture.ONE_ROUND.multipliedBy(3), s -> {
                JsonArray rows = rows(ask(f, "HEALTH"));
                return row(rows, key(cluster.primary())).getLong("probes_ok") >= 3;
            });
            assertTrue(f.current().version() > first);
            JsonArray rows = rows(ask(f, "HEALTH"));
            JsonObject primary = row(rows, key(cluster.primary()));
            assertEquals(0L, primary.getLong("probes_failed"));
            JsonObject dead = row(rows, new ServerKey("127.0.0.1", closed));
            assertEquals(0L, dead.getLong("probes_ok"));
            assertTrue(dead.getLong("probes_failed") >= 2, dead::encode);
            assertFalse(dead.getBoolean("up"));
            assertTrue(dead.getBoolean("banned"));
            assertEquals("unknown", dead.getString("role"));
            assertNull(dead.getValue("lag_bytes"));
            assertNotNull(dead.getString("last_error"));
            assertEquals(List.of(dead.getString("server")),
                    rows(ask(f, "BANS")).stream().map(o -> ((JsonObject) o).getString("server"))
                            .collect(Collectors.toList()));
        }
    }
}
