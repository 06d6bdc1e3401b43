package dev.pgfleet.admin.config;

import dev.pgfleet.shared.admin.AdminBus;
import dev.pgfleet.shared.admin.AdminReply;
import dev.pgfleet.shared.admin.AdminRequest;
import dev.pgfleet.shared.config.ConfigBus;
import dev.pgfleet.shared.config.ConfigEpoch;
import dev.pgfleet.shared.config.ConfigException;
import dev.pgfleet.shared.config.ConfigLoader;
import dev.pgfleet.shared.config.ConfigTree;
import dev.pgfleet.shared.config.GeneralKeys;
import dev.pgfleet.shared.config.PgFleetConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owner of the configuration in force: epoch 1 is the one PgFleet started with; each reload
 * or SET that changes something is the next epoch, published on {@link ConfigBus#APPLIED} for the
 * router, proxy and health verticles, and answered on {@link ConfigBus#CURRENT}. Commands on
 * {@link AdminBus#CONFIG}: {@code RELOAD}, {@code SET key value}, {@code CONFIG} (SHOW CONFIG's rows).
 *
 * <h2>Reload</h2>
 * On RELOAD, SIGHUP (dist sends RELOAD) and, with {@code [general] autoreload} set, when the
 * file's content differs from the last one read. The file is read (its bytes, through every
 * symlink), not its modification time: a Kubernetes ConfigMap volume changes by swapping the
 * {@code ..data} symlink to a new directory, which leaves {@code pgfleet.toml}, itself a symlink
 * through {@code ..data}, with the old link's mtime. vertx-config's own scan is not used: it
 * reports a file it cannot parse to its own logger and never to the operator's RELOAD, and this
 * class must log and answer the same refusal either way. The read itself goes through vertx-config
 * ({@link ConfigLoader#read}: file, environment, system properties).
 *
 * <p>A file that fails validation is refused whole and nothing is published. Keys in
 * {@link LiveKeys#RESTART_ONLY} keep their running value in the new epoch, and the log and the
 * reply name them. A file that changes nothing publishes nothing ("no change").
 *
 * <h2>SET</h2>
 * A SET is a runtime override on top of the file, bound and validated with the file as one
 * configuration (so {@code SET connect_timeout} reaches every pool that does not set its own).
 * A later reload keeps a SET only for keys the file (or its overrides) does not set: as
 * PgBouncer's RELOAD, the file's values win for keys it sets.
 *
 * <p>Everything runs on this verticle's context; reloads and SETs are queued one after another.
 */
public final class ConfigVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigVerticle.class);

    static final String CONFIG_FILE_ERROR = "F0000";
    static final String UNDEFINED_OBJECT = "42704";
    static final String CANT_CHANGE_RUNTIME_PARAM = "55P02";
    static final String INVALID_PARAMETER_VALUE = "22023";
    static final String OBJECT_NOT_IN_PREREQUISITE_STATE = "55000";
    static final String SYNTAX_ERROR = "42601";
    static final String SET_SOURCE = "SET";
    /**
     * Published (local) for each refused file, as JSON {@code {file, trigger, epoch, errors}}: what
     * the log line says, for whatever counts refusals (the epoch in force stays; nothing else is sent).
     */
    public static final String REFUSED = "pgfleet.config.refused";

    private final PgFleetConfig initial;
    private final Path file;
    private final UnaryOperator<PgFleetConfig> edit;

    private ConfigEpoch current;
    /** The file as last read and accepted (SETs and pins not in it); null when never read. */
    private ConfigTree loaded;
    /** Where each key came from at start: restart-only keys keep it with their value. */
    private Map<String, String> startSources = Map.of();
    /** Runtime SETs by key, typed as TOML would type them. */
    private final Map<String, Object> sets = new LinkedHashMap<>();
    /** The file's bytes at the last read: a scan that finds the same bytes does nothing. */
    private Buffer lastSeen;
    private boolean scanning;
    private boolean scanFailed;
    private long scanTimer = -1;
    private Optional<Duration> scanPeriod = Optional.empty();
    private Future<?> queue = Future.succeededFuture();
    private final List<MessageConsumer<?>> consumers = new ArrayList<>();

    /**
     * @param initial the configuration PgFleet started with (epoch 1)
     * @param file    the file it came from, or null (RELOAD and SET are then refused)
     * @param edit    applied to each configuration bound from the file, as it was to
     *                {@code initial} (the demo points pools at the servers it started)
     */
    public ConfigVerticle(PgFleetConfig initial, Path file, UnaryOperator<PgFleetConfig> edit) {
        this.initial = Objects.requireNonNull(initial, "initial");
        this.file = file;
        this.edit = Objects.requireNonNull(edit, "edit");
    }

    public ConfigVerticle(PgFleetConfig initial, Path file) {
        this(initial, file, UnaryOperator.identity());
    }

    @Override
    public Future<?> start() {
        ConfigBus.register(vertx.eventBus());
        current = new ConfigEpoch(1, initial, Instant.now());
        MessageConsumer<Object> currentConsumer = vertx.eventBus().localConsumer(ConfigBus.CURRENT,
                m -> m.reply(current));
        MessageConsumer<JsonObject> commands = vertx.eventBus().consumer(AdminBus.CONFIG, this::onCommand);
        consumers.add(currentConsumer);
        consumers.add(commands);
        return Future.all(currentConsumer.completion(), commands.completion(), readAtStart())
                .onSuccess(v -> armScan(initial.general().autoreload()));
    }

    @Override
    public Future<?> stop() {
        if (scanTimer >= 0) {
            vertx.cancelTimer(scanTimer);
        }
        return Future.all(consumers.stream().map(MessageConsumer::unregister).toList());
    }

    /** The tree SET builds on; a file that cannot be read now is not fatal (PgFleet already read it). */
    private Future<Void> readAtStart() {
        if (file == null) {
            return Future.succeededFuture();
        }
        return vertx.fileSystem().readFile(file.toString())
                .compose(bytes -> ConfigLoader.read(vertx, file).map(tree -> {
                    lastSeen = bytes;
                    loaded = tree;
                    startSources = tree.sources();
                    if (!edit.apply(ConfigLoader.bind(tree.tree(), file.toString())).equals(initial)) {
                        LOG.info("{}: differs from the configuration PgFleet started with; RELOAD and SET"
                                + " start from the file", file);
                    }
                    return (Void) null;
                }))
                .recover(e -> {
                    LOG.warn("{}: cannot read it again at start ({}); the next RELOAD will", file, e.getMessage());
                    return Future.succeededFuture();
                });
    }

    // ------------------------------------------------------------------------ commands

    private void onCommand(Message<JsonObject> m) {
        AdminRequest req;
        try {
            req = AdminRequest.fromJson(m.body());
        } catch (RuntimeException e) {
            m.reply(AdminReply.error(SYNTAX_ERROR, "malformed admin request").toJson());
            return;
        }
        Future<AdminReply> reply = switch (req.command()) {
            case "RELOAD" -> reload("RELOAD");
            case "SET" -> serially(() -> Future.succeededFuture(set(req)));
            case "CONFIG" -> Future.succeededFuture(AdminReply.ok("CONFIG", new JsonObject().put("rows", rows())));
            default -> Future.succeededFuture(AdminReply.error(SYNTAX_ERROR,
                    "unknown configuration command \"" + req.command() + "\"", "RELOAD, SET, CONFIG"));
        };
        reply.onComplete(ar -> m.reply((ar.succeeded() ? ar.result()
                : AdminReply.error(INTERNAL_ERROR, "internal error: " + ar.cause())).toJson()));
    }

    private static final String INTERNAL_ERROR = "XX000";

    /** Reads the file again and applies it (or refuses it); queued behind any reload or SET under way. */
    private Future<AdminReply> reload(String trigger) {
        return serially(() -> doReload(trigger));
    }

    private <T> Future<T> serially(Supplier<Future<T>> task) {
        Future<T> f = queue.transform(ignored -> task.get());
        queue = f;
        return f;
    }

    private Future<AdminReply> doReload(String trigger) {
        if (file == null) {
            return Future.succeededFuture(AdminReply.error(OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "PgFleet was started without a configuration file: nothing to reload"));
        }
        String source = file.toString();
        return vertx.fileSystem().readFile(source)
                .compose(bytes -> {
                    lastSeen = bytes;
                    return ConfigLoader.read(vertx, file);
                })
                .map(tree -> applyFile(tree, trigger))
                .recover(e -> Future.succeededFuture(refuse(e, trigger)));
    }

    private AdminReply applyFile(ConfigTree tree, String trigger) {
        // PgBouncer: RELOAD re-reads the file, and its values win for the keys it sets.
        List<String> dropped = new ArrayList<>();
        Map<String, Object> kept = new LinkedHashMap<>();
        sets.forEach((key, value) -> {
            if (GeneralKeys.spellings(key).stream().anyMatch(tree.sources()::containsKey)) {
                dropped.add(key);
            } else {
                kept.put(key, value);
            }
        });
        Candidate c = candidate(tree, kept);
        loaded = tree;
        sets.clear();
        sets.putAll(kept);
        String restart = restartNote(c.restartPending());
        String setNote = dropped.isEmpty() ? "" : "; SET of " + String.join(", ", dropped)
                + " replaced by the file's value";
        ConfigDiff diff = ConfigDiff.of(current.config(), c.config());
        JsonObject data = diff.toJson().put("restartRequired", new JsonArray(c.restartPending()))
                .put("setsDropped", new JsonArray(dropped));
        if (diff.empty()) {
            LOG.info("{} ({}): no change, epoch {} stays{}{}", file, trigger, current.epoch(), restart, setNote);
            return AdminReply.ok("RELOAD: no change" + restart + setNote, data.put("epoch", current.epoch()));
        }
        ConfigEpoch next = publish(c.config());
        LOG.info("{} ({}): configuration epoch {}: {}{}{}", file, trigger, next.epoch(), diff.describe(), restart, setNote);
        return AdminReply.ok("RELOAD: epoch " + next.epoch() + ": " + diff.describe() + restart + setNote,
                data.put("epoch", next.epoch()));
    }

    private AdminReply refuse(Throwable e, String trigger) {
        List<String> errors = e instanceof ConfigException ce ? ce.errors()
                : List.of(file + ": cannot read: " + e.getMessage());
        LOG.warn("{} ({}): refused, configuration epoch {} stays in force: {}", file, trigger, current.epoch(),
                e instanceof ConfigException ? e.getMessage() : String.join("; ", errors));
        vertx.eventBus().publish(REFUSED, new JsonObject().put("file", file.toString()).put("trigger", trigger)
                .put("epoch", current.epoch()).put("errors", new JsonArray(errors)), new DeliveryOptions().setLocalOnly(true));
        String more = errors.size() > 1 ? " (and " + (errors.size() - 1) + " more)" : "";
        return new AdminReply(CONFIG_FILE_ERROR, "configuration file " + file + " refused, epoch " + current.epoch()
                + " stays in force: " + errors.get(0) + more, String.join("\n", errors),
                new JsonObject().put("epoch", current.epoch()).put("errors", new JsonArray(errors)));
    }

    private AdminReply set(AdminRequest req) {
        if (req.args().size() != 2) {
            return AdminReply.error(SYNTAX_ERROR, "SET takes a key and a value: SET key = value");
        }
        String key = req.arg(0).toLowerCase(Locale.ROOT);
        String text = unquote(req.arg(1));
        if (!GeneralKeys.known(key)) {
            return AdminReply.error(UNDEFINED_OBJECT, "unrecognized configuration parameter \"" + key + "\"");
        }
        if (LiveKeys.restartOnly(key)) {
            return AdminReply.error(CANT_CHANGE_RUNTIME_PARAM,
                    "parameter \"" + key + "\" cannot be changed without restarting PgFleet");
        }
        if (GeneralKeys.secret(key)) {
            return AdminReply.error(CANT_CHANGE_RUNTIME_PARAM, "parameter \"" + key + "\" cannot be changed with SET",
                    "Set it in the configuration file and RELOAD.");
        }
        if (loaded == null) {
            return AdminReply.error(OBJECT_NOT_IN_PREREQUISITE_STATE, file == null
                    ? "PgFleet was started without a configuration file: SET needs one to build on"
                    : "the configuration file has not been read since start: RELOAD first");
        }
        Map<String, Object> withSet = new LinkedHashMap<>(sets);
        withSet.put(key, GeneralKeys.typed(key, text));
        Candidate c;
        try {
            c = candidate(loaded, withSet);
        } catch (ConfigException e) {
            return AdminReply.error(INVALID_PARAMETER_VALUE,
                    "invalid value for parameter \"" + key + "\": " + reason(e, key));
        } catch (RuntimeException e) {
            return AdminReply.error(INVALID_PARAMETER_VALUE, "invalid value for parameter \"" + key + "\": " + e.getMessage());
        }
        sets.clear();
        sets.putAll(withSet);
        ConfigDiff diff = ConfigDiff.of(current.config(), c.config());
        if (diff.empty()) {
            return AdminReply.ok("SET " + key + " = " + text + " (no change)", new JsonObject().put("epoch", current.epoch()));
        }
        ConfigEpoch next = publish(c.config());
        // SET never takes a secret (above), so the value may be logged.
        LOG.info("SET {} = {}: configuration epoch {}: {}", key, text, next.epoch(), diff.describe());
        return AdminReply.ok("SET " + key + " = " + text, diff.toJson().put("epoch", next.epoch()));
    }

    /** The binder's words for the key's problem, without the file and key it prefixes them with. */
    private static String reason(ConfigException e, String key) {
        for (String line : e.errors()) {
            for (String spelling : GeneralKeys.spellings(key)) {
                int at = line.indexOf("general." + spelling + ": ");
                if (at >= 0) {
                    return line.substring(at + ("general." + spelling + ": ").length());
                }
            }
        }
        return e.errors().isEmpty() ? e.getMessage() : e.errors().get(0);
    }

    private static String unquote(String s) {
        if (s.length() >= 2 && (s.startsWith("'") && s.endsWith("'") || s.startsWith("\"") && s.endsWith("\""))) {
            return s.substring(1, s.length() - 1);
        }
        return s;
    }

    // ------------------------------------------------------------------------ building an epoch

    private record Candidate(PgFleetConfig config, List<String> restartPending) {
    }

    /**
     * The file's tree with the SETs on top, bound; restart-only keys whose value would change are
     * put back to the running value and bound again, so the result differs from the running
     * configuration only where it may.
     *
     * @throws ConfigException when the file, or a SET on it, does not validate
     */
    private Candidate candidate(ConfigTree tree, Map<String, Object> setsOnTop) {
        String source = file.toString();
        JsonObject t = tree.tree();
        for (Map.Entry<String, Object> e : setsOnTop.entrySet()) {
            t = GeneralKeys.withGeneral(t, e.getKey(), e.getValue());
        }
        PgFleetConfig bound = edit.apply(ConfigLoader.bind(t, source));
        PgFleetConfig running = current.config();
        List<String> pending = new ArrayList<>();
        for (String key : GeneralKeys.names()) {
            if (LiveKeys.restartOnly(key)
                    && !GeneralKeys.text(running.general(), key).equals(GeneralKeys.text(bound.general(), key))) {
                pending.add(key);
                String value = GeneralKeys.text(running.general(), key);
                // The default is written as no key: some defaults (worker_threads 0) are not valid file values.
                t = GeneralKeys.withGeneral(t, key, value.equals(GeneralKeys.defaultText(key)) ? null
                        : GeneralKeys.typed(key, value));
                for (String older : GeneralKeys.spellings(key)) {
                    if (!older.equals(key)) {
                        t = GeneralKeys.withGeneral(t, older, null);
                    }
                }
            }
        }
        if (!pending.isEmpty()) {
            bound = edit.apply(ConfigLoader.bind(t, source));
        }
        return new Candidate(bound, List.copyOf(pending));
    }

    private static String restartNote(List<String> pending) {
        return pending.isEmpty() ? "" : "; needs a restart, running value kept: " + String.join(", ", pending);
    }

    private ConfigEpoch publish(PgFleetConfig config) {
        ConfigEpoch next = new ConfigEpoch(current.epoch() + 1, config, Instant.now());
        current = next;
        // Local only: a configuration holds passwords (ConfigBus).
        vertx.eventBus().publish(ConfigBus.APPLIED, next, new DeliveryOptions().setLocalOnly(true));
        armScan(config.general().autoreload());
        return next;
    }

    // ------------------------------------------------------------------------ SHOW CONFIG

    private JsonArray rows() {
        JsonArray rows = new JsonArray();
        for (String key : GeneralKeys.names()) {
            boolean secret = GeneralKeys.secret(key);
            String value = GeneralKeys.text(current.config().general(), key);
            String def = GeneralKeys.defaultText(key);
            rows.add(new JsonObject()
                    .put("key", key)
                    .put("value", secret && !value.isEmpty() ? "********" : value)
                    .put("default", secret && !def.isEmpty() ? "********" : def)
                    .put("changeable", LiveKeys.settable(key) ? "yes" : "no")
                    .put("source", source(key)));
        }
        return rows;
    }

    /** SET, else where the file's read put it (for restart-only keys: the read at start). */
    private String source(String key) {
        if (sets.containsKey(key)) {
            return SET_SOURCE;
        }
        Map<String, String> sources = LiveKeys.restartOnly(key) ? startSources
                : loaded == null ? Map.of() : loaded.sources();
        String best = ConfigTree.DEFAULT;
        for (String spelling : GeneralKeys.spellings(key)) {
            best = stronger(best, sources.getOrDefault(spelling, ConfigTree.DEFAULT));
        }
        return best;
    }

    private static String stronger(String a, String b) {
        return rank(b) > rank(a) ? b : a;
    }

    private static int rank(String source) {
        return switch (source) {
            case ConfigTree.SYSTEM_PROPERTY -> 3;
            case ConfigTree.ENVIRONMENT -> 2;
            case ConfigTree.FILE -> 1;
            default -> 0;
        };
    }

    // ------------------------------------------------------------------------ autoreload

    private void armScan(Optional<Duration> period) {
        if (file == null || period.equals(scanPeriod)) {
            return;
        }
        if (scanTimer >= 0) {
            vertx.cancelTimer(scanTimer);
            scanTimer = -1;
        }
        scanPeriod = period;
        period.ifPresent(p -> scanTimer = vertx.setPeriodic(p.toMillis(), id -> scan()));
        LOG.info("{}: autoreload {}", file, period.map(p -> "every " + p.toMillis() + " ms").orElse("off"));
    }

    private void scan() {
        if (scanning) {
            return;
        }
        scanning = true;
        vertx.fileSystem().readFile(file.toString()).onComplete(ar -> {
            scanning = false;
            if (ar.failed()) {
                if (!scanFailed) {
                    LOG.warn("{}: cannot read it to look for changes: {}", file, ar.cause().getMessage());
                    scanFailed = true;
                }
                return;
            }
            scanFailed = false;
            if (ar.result().equals(lastSeen)) {
                return;
            }
            lastSeen = ar.result();
            reload("file changed");
        });
    }
}
