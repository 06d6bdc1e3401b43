package dev.pgfleet.shared.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads PgFleet's TOML configuration (PgCat's {@code pgcat.toml} layout, plus PgFleet keys).
 *
 * <h2>Sources and overrides</h2>
 * {@link #load} reads through a vertx-config {@link ConfigRetriever} with three stores, later ones
 * winning (ARCHITECTURE.md, Configuration):
 * <ol>
 *   <li>the file, format {@code "toml"} ({@link TomlConfigProcessor});</li>
 *   <li>environment variables {@code PGFLEET_GENERAL_<KEY>}, e.g. {@code PGFLEET_GENERAL_PORT=7000};</li>
 *   <li>system properties {@code pgfleet.general.<key>}, e.g. {@code -Dpgfleet.general.port=7000}.</li>
 * </ol>
 * Overrides reach scalar keys of {@code [general]} only (the list is {@link Overrides#GENERAL_KEYS});
 * pools, users and shards come from the file alone, since their table keys ({@code users.0})
 * do not map onto variable names without ambiguity. Digits and {@code true}/{@code false} are read
 * as integers and booleans, except for string keys such as {@code admin_password}. Each override
 * applied is logged at INFO by name, never by value. Only these names are read, so unrelated
 * environment variables and JVM properties are never mistaken for configuration.
 *
 * <h2>Errors</h2>
 * Every problem is collected, then one {@link ConfigException} lists them all, each line naming
 * the file and the key: {@code conf/pgfleet.toml: pools.app.users.0.pool_size: must be at least 1, got 0}.
 * Unknown keys are not errors: they are logged at WARN and listed in {@link PgFleetConfig#warnings()}.
 *
 * <p>Both methods may be called again at any time (a reload reads the file afresh); each call
 * builds its own retriever and closes it.
 */
public final class ConfigLoader {

    private ConfigLoader() {
    }

    /**
     * Parses TOML text without touching files, environment or system properties.
     *
     * @param sourceName how messages name the text, usually the file path
     * @throws ConfigException if the text is not TOML or the configuration is invalid
     */
    public static PgFleetConfig parse(String toml, String sourceName) {
        return ConfigBinder.bind(Toml.parse(toml, sourceName), sourceName);
    }

    /**
     * Reads {@code file} with environment and system property overrides. The file is read and
     * parsed by vertx-config off the event loop; binding is small and runs on the context.
     *
     * @return the configuration, or a failure holding a {@link ConfigException}
     */
    public static Future<PgFleetConfig> load(Vertx vertx, Path file) {
        String source = file.toString();
        return read(vertx, file).map(tree -> bind(tree.tree(), source));
    }

    /**
     * Reads {@code file} with its overrides like {@link #load}, without binding: the merged tree
     * and where each {@code [general]} key came from. A reload binds it itself ({@link #bind}),
     * after putting back what must not change while running and the runtime SETs.
     *
     * @return the tree, or a failure holding a {@link ConfigException} (the file is unreadable or not TOML)
     */
    public static Future<ConfigTree> read(Vertx vertx, Path file) {
        String source = file.toString();
        ConfigStoreOptions fileStore = new ConfigStoreOptions()
                .setType("file")
                .setFormat(TomlConfigProcessor.FORMAT)
                .setConfig(new JsonObject().put("path", source));
        ConfigStoreOptions envStore = new ConfigStoreOptions()
                .setType("env")
                // raw-data: keep the text; Overrides decides what is a number.
                .setConfig(new JsonObject().put("keys", new JsonArray(Overrides.envNames())).put("raw-data", true));
        ConfigStoreOptions sysStore = new ConfigStoreOptions()
                .setType("json")
                .setConfig(Overrides.systemProperties(System.getProperties()));
        ConfigRetriever retriever = ConfigRetriever.create(vertx, new ConfigRetrieverOptions()
                // No periodic scan: reload is driven by PgFleet, not by the retriever.
                .setScanPeriod(0)
                .setStores(List.of(fileStore, envStore, sysStore)));
        return retriever.getConfig()
                .recover(e -> Future.failedFuture(e instanceof ConfigException ce ? ce
                        : new ConfigException(source, List.of(source + ": cannot read: " + message(e)))))
                .map(merged -> {
                    Map<String, String> sources = new LinkedHashMap<>();
                    if (merged.getValue("general") instanceof JsonObject g) {
                        g.fieldNames().forEach(k -> sources.put(k, ConfigTree.FILE));
                    }
                    JsonObject tree = Overrides.apply(merged, source, sources);
                    return new ConfigTree(tree, sources);
                })
                .eventually(retriever::close);
    }

    /**
     * Binds and validates a tree from {@link #read} (the tree itself is left as it was).
     *
     * @param source how messages name the file
     * @throws ConfigException listing every problem, each naming {@code source} and the key
     */
    public static PgFleetConfig bind(JsonObject tree, String source) {
        return ConfigBinder.bind(tree.copy(), source);
    }

    private static String message(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
