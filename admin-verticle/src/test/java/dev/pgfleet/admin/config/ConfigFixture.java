package dev.pgfleet.admin.config;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.admin.AdminBus;
import dev.pgfleet.shared.admin.AdminReply;
import dev.pgfleet.shared.admin.AdminRequest;
import dev.pgfleet.shared.config.ConfigBus;
import dev.pgfleet.shared.config.ConfigEpoch;
import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.shared.config.PgFleetConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A Vert.x with a {@link ConfigVerticle} started from a real file, a queue of every epoch it
 * publishes on {@link ConfigBus#APPLIED}, and the admin commands as a console sends them.
 */
final class ConfigFixture implements AutoCloseable {

    static final long WAIT_SECONDS = 20;

    final Vertx vertx = Vertx.vertx();
    final BlockingQueue<ConfigEpoch> applied = new LinkedBlockingQueue<>();
    final BlockingQueue<JsonObject> refused = new LinkedBlockingQueue<>();
    final Path file;

    ConfigFixture(Path file) {
        this.file = file;
        ConfigBus.register(vertx.eventBus());
        await(vertx.eventBus().<ConfigEpoch>localConsumer(ConfigBus.APPLIED, m -> applied.add(m.body())).completion());
        await(vertx.eventBus().<JsonObject>localConsumer(ConfigVerticle.REFUSED, m -> refused.add(m.body())).completion());
        PgFleetConfig initial = await(ConfigLoader.load(vertx, file));
        await(vertx.deployVerticle(new ConfigVerticle(initial, file)));
    }

    static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    AdminReply command(String command, String... args) {
        Message<JsonObject> m = await(vertx.eventBus().request(AdminBus.CONFIG, AdminRequest.of(command, args).toJson()));
        return AdminReply.fromJson(m.body());
    }

    ConfigEpoch current() {
        return await(vertx.eventBus().<ConfigEpoch>request(ConfigBus.CURRENT, null)).body();
    }

    /** The next published epoch, failing after {@code millis}. */
    ConfigEpoch nextApplied(long millis) throws InterruptedException {
        ConfigEpoch e = applied.poll(millis, TimeUnit.MILLISECONDS);
        assertTrue(e != null, "no configuration published within " + millis + " ms");
        return e;
    }

    JsonObject row(String key) {
        return command("CONFIG").data().getJsonArray("rows").stream().map(JsonObject.class::cast)
                .filter(r -> r.getString("key").equals(key)).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + key));
    }

    @Override
    public void close() {
        await(vertx.close());
    }

    /** A valid file: [general] lines, then pools app (and {@code extraPools}). */
    static String toml(String general, String extraPools) {
        return """
                [general]
                host = "127.0.0.1"
                port = 16432
                admin_username = "admin"
                admin_password = "admin-secret-1"
                %s

                [pools.app.users.0]
                username = "app"
                password = "app-secret-1"
                pool_size = 5

                [pools.app.shards.0]
                database = "app"
                servers = [["127.0.0.1", 5432, "primary"]]
                %s
                """.formatted(general, extraPools);
    }

    static String pool(String name) {
        return """

                [pools.%s.users.0]
                username = "app"
                password = "app-secret-1"
                pool_size = 3

                [pools.%s.shards.0]
                database = "%s"
                servers = [["127.0.0.1", 5432, "primary"]]
                """.formatted(name, name, name);
    }
}
