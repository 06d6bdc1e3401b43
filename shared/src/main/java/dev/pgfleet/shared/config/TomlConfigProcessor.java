package dev.pgfleet.shared.config;

import io.vertx.config.spi.ConfigProcessor;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;

/**
 * The {@code "toml"} format for vertx-config, so that
 * {@code new ConfigStoreOptions().setType("file").setFormat("toml")} reads a TOML file.
 * Registered in {@code META-INF/services/io.vertx.config.spi.ConfigProcessor}; ServiceLoader needs
 * the class public with a public no-argument constructor.
 *
 * <p>Parsing runs on the calling thread, like vertx-config's own JSON processor: a config file is
 * a few kilobytes and is read once per (re)load.
 */
public final class TomlConfigProcessor implements ConfigProcessor {

    /** The format name to pass to {@code ConfigStoreOptions.setFormat}. */
    public static final String FORMAT = "toml";

    @Override
    public String name() {
        return FORMAT;
    }

    @Override
    public Future<JsonObject> process(Vertx vertx, JsonObject configuration, Buffer input) {
        // The store's own configuration carries the file path; errors name it.
        String source = configuration == null ? "toml" : configuration.getString("path", "toml");
        try {
            return Future.succeededFuture(Toml.parse(input.toString(StandardCharsets.UTF_8), source));
        } catch (ConfigException e) {
            return Future.failedFuture(e);
        }
    }
}
