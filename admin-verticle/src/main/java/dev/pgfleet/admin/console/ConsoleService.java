package dev.pgfleet.admin.console;

import dev.pgfleet.shared.admin.AdminBus;
import dev.pgfleet.shared.admin.AdminConsole;
import dev.pgfleet.shared.admin.AdminReply;
import dev.pgfleet.shared.admin.AdminRequest;
import dev.pgfleet.shared.admin.ProxyStats;
import dev.pgfleet.shared.admin.ProxyStats.ConnectionStats;
import dev.pgfleet.shared.config.ConfigBus;
import dev.pgfleet.shared.config.ConfigEpoch;
import dev.pgfleet.shared.config.PgFleetConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PgFleet's admin console: the sessions the proxy hands over ({@link AdminConsole}), what each
 * statement does, and the stats_period samples behind the averages. Every answer comes from the
 * event bus ({@link AdminBus}): STATS from the proxy, BANS and HEALTH from the health verticle,
 * CONFIG from the configuration's owner; commands go to the address of their family and their
 * reply is rendered as PgBouncer's console renders its own.
 */
public final class ConsoleService implements AdminConsole {

    private static final Logger log = LoggerFactory.getLogger(ConsoleService.class);

    /** PgBouncer's stats_period default: the averages are over the last completed period. */
    public static final Duration DEFAULT_STATS_PERIOD = Duration.ofSeconds(60);

    /** The PgBouncer version whose console PgFleet's follows (columns, SHOW VERSION's form). */
    static final String PGBOUNCER_VERSION = "1.24.1";

    static final List<String> SHOWS = List.of("POOLS", "STATS", "STATS_TOTALS", "STATS_AVERAGES", "TOTALS",
            "SERVERS", "CLIENTS", "DATABASES", "USERS", "CONFIG", "CONFIG_SOURCES", "LISTS", "VERSION", "STATE", "MEM", "BANS",
            "HEALTH", "PREPARED", "FLEET");

    static final String HINT = "Commands: SHOW {" + String.join("|", SHOWS) + "}, SHOW <config key>, RELOAD,"
            + " PAUSE [db], RESUME [db], SUSPEND, RECONNECT [db], KILL db, KILL_CLIENT id, WAIT_CLOSE [db],"
            + " DISABLE db, ENABLE db, SHUTDOWN [WAIT_FOR_SERVERS|WAIT_FOR_CLIENTS], SET key = value,"
            + " BAN server [seconds], UNBAN server.";

    /** Session parameters a driver sets on connect (pgjdbc for an old server_version): accepted, ignored (PgBouncer's fake_param_list). */
    private static final Map<String, String> SESSION_PARAMETERS = Map.of("client_encoding", "UTF8",
            "default_transaction_isolation", "read committed", "standard_conforming_strings", "on",
            "datestyle", "ISO", "timezone", "GMT", "extra_float_digits", "3", "application_name", "");

    /** Commands, their address and their arguments (least, most). */
    private record Spec(String address, int minArgs, int maxArgs, Duration timeout) {
    }

    /** PAUSE, WAIT_CLOSE, SHUTDOWN answer once done, as PgBouncer's do: no short timeout for them. */
    private static final Duration LONG = Duration.ofHours(1);
    private static final Duration SHORT = Duration.ofSeconds(30);

    private static final Map<String, Spec> COMMANDS = Map.ofEntries(
            Map.entry("PAUSE", new Spec(AdminBus.PROXY, 0, 1, LONG)),
            Map.entry("RESUME", new Spec(AdminBus.PROXY, 0, 1, SHORT)),
            Map.entry("SUSPEND", new Spec(AdminBus.PROXY, 0, 0, LONG)),
            Map.entry("RECONNECT", new Spec(AdminBus.PROXY, 0, 1, SHORT)),
            Map.entry("KILL", new Spec(AdminBus.PROXY, 1, 1, SHORT)),
            Map.entry("KILL_CLIENT", new Spec(AdminBus.PROXY, 1, 1, SHORT)),
            Map.entry("WAIT_CLOSE", new Spec(AdminBus.PROXY, 0, 1, LONG)),
            Map.entry("DISABLE", new Spec(AdminBus.PROXY, 1, 1, SHORT)),
            Map.entry("ENABLE", new Spec(AdminBus.PROXY, 1, 1, SHORT)),
            Map.entry("SHUTDOWN", new Spec(AdminBus.PROXY, 0, 1, LONG)),
            Map.entry("BAN", new Spec(AdminBus.HEALTH, 1, 2, SHORT)),
            Map.entry("UNBAN", new Spec(AdminBus.HEALTH, 1, 1, SHORT)),
            Map.entry("RELOAD", new Spec(AdminBus.CONFIG, 0, 0, LONG)),
            Map.entry("SET", new Spec(AdminBus.CONFIG, 2, 2, SHORT)));

    private final Vertx vertx;
    private final Duration statsPeriod;
    private final String version;
    private volatile PgFleetConfig config;
    private final StatsSampler sampler = new StatsSampler();
    private final Set<ConsoleSession> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicInteger ids = new AtomicInteger();
    private MessageConsumer<ConfigEpoch> configConsumer;
    private long statsTimer;

    /**
     * @param config      the configuration at start (DATABASES, USERS); newer ones arrive on ConfigBus.APPLIED
     * @param statsPeriod how often the averages' sample is taken (PgBouncer's stats_period)
     */
    public ConsoleService(Vertx vertx, PgFleetConfig config, Duration statsPeriod) {
        this.vertx = vertx;
        this.config = config;
        this.statsPeriod = statsPeriod;
        Package p = ConsoleService.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        this.version = v == null ? "0.1.0" : v;
    }

    /** Follows accepted configurations and starts the stats_period samples. */
    public Future<Void> start() {
        ConfigBus.register(vertx.eventBus());
        configConsumer = vertx.eventBus().localConsumer(ConfigBus.APPLIED, m -> config = m.body().config());
        statsTimer = vertx.setPeriodic(statsPeriod.toMillis(), id -> proxyStats()
                .onSuccess(sampler::tick)
                .onFailure(err -> log.debug("stats_period sample: {}", err.toString())));
        return configConsumer.completion();
    }

    public Future<Void> stop() {
        vertx.cancelTimer(statsTimer);
        sessions.forEach(ConsoleSession::close);
        return configConsumer == null ? Future.succeededFuture() : configConsumer.unregister();
    }

    @Override
    public void open(Client client) {
        ConsoleSession s = new ConsoleSession(this, client, ids.incrementAndGet());
        sessions.add(s);
        s.start();
    }

    void ended(ConsoleSession s) {
        sessions.remove(s);
    }

    String version() {
        return version;
    }

    // -- statements -----------------------------------------------------------------------

    /**
     * The columns a statement answers with, known without running it (Describe), or null when
     * it answers with no rows (a command); an error it would raise comes at Execute.
     */
    static List<Result.Column> columnsOf(ConsoleSql.Statement st) {
        if (!st.verb().equals("SHOW") || st.args().size() != 1) {
            return null;
        }
        String what = st.arg(0).toUpperCase(Locale.ROOT);
        return switch (what) {
            case "POOLS" -> Shows.POOLS;
            case "STATS" -> Shows.STATS;
            case "STATS_TOTALS" -> Shows.STATS_TOTALS;
            case "STATS_AVERAGES" -> Shows.STATS_AVERAGES;
            case "TOTALS" -> Shows.TOTALS;
            case "SERVERS", "CLIENTS" -> Shows.SOCKETS;
            case "DATABASES" -> Shows.DATABASES;
            case "USERS" -> Shows.USERS;
            case "CONFIG" -> Shows.CONFIG;
            case "CONFIG_SOURCES" -> Shows.CONFIG_SOURCES;
            case "LISTS" -> Shows.LISTS;
            case "VERSION" -> Shows.VERSION;
            case "STATE" -> Shows.STATE;
            case "MEM" -> Shows.MEM;
            case "BANS" -> Shows.BANS;
            case "HEALTH" -> Shows.HEALTH;
            case "PREPARED" -> Shows.PREPARED;
            case "FLEET" -> Shows.FLEET;
            case "HELP" -> null;
            default -> List.of(Result.text(st.arg(0).toLowerCase(Locale.ROOT)));
        };
    }

    /** Runs one statement; never a failed future (a failure is a Result with an error). */
    Future<Result> execute(ConsoleSql.Statement st, ConsoleSession from) {
        if (st.error() != null) {
            return Future.succeededFuture(syntaxError(st.error() + ": " + st.text()));
        }
        if (st.verb().equals("SHOW")) {
            if (st.args().size() != 1) {
                return Future.succeededFuture(syntaxError("invalid command '" + st.text() + "'"));
            }
            return show(st.arg(0), from);
        }
        if (st.verb().equals("SET") && SESSION_PARAMETERS.containsKey(st.arg(0).toLowerCase(Locale.ROOT))) {
            return Future.succeededFuture(Result.command("SET").notice("SET ignored"));
        }
        Spec spec = COMMANDS.get(st.verb());
        if (spec == null) {
            return Future.succeededFuture(syntaxError("invalid command '" + st.text() + "'"));
        }
        if (st.args().size() < spec.minArgs() || st.args().size() > spec.maxArgs()) {
            String want = spec.minArgs() == spec.maxArgs() ? (spec.minArgs() == 0 ? "no" : String.valueOf(spec.minArgs()))
                    : spec.minArgs() + " to " + spec.maxArgs();
            return Future.succeededFuture(syntaxError(st.verb() + " takes " + want + " argument"
                    + (spec.maxArgs() == 1 && spec.minArgs() == 1 ? "" : "s") + ": " + st.text()));
        }
        AdminRequest request = new AdminRequest(st.verb(), st.args(), "");
        String tag = st.verb().equals("SET") ? "SET " + st.arg(0) + "=" + st.arg(1) : st.verb();
        return request(spec.address(), request, spec.timeout()).map(reply -> {
            if (reply.failed()) {
                return Result.error(reply.sqlState(), reply.message(), reply.detail(), null);
            }
            Result r = Result.command(tag);
            // The message as a NOTICE when it says more than the tag (the proxy's replies name the command).
            if (!reply.message().isEmpty() && !reply.message().equalsIgnoreCase(st.verb())
                    && !reply.message().equalsIgnoreCase(tag)) {
                r.notice(reply.message());
            }
            return r;
        });
    }

    private static Result syntaxError(String message) {
        return Result.error("42601", message, null, HINT);
    }

    private Future<Result> show(String what, ConsoleSession from) {
        String upper = what.toUpperCase(Locale.ROOT);
        PgFleetConfig cfg = config;
        switch (upper) {
            case "VERSION":
                return Future.succeededFuture(Result.rows(Shows.VERSION)
                        .row("PgBouncer " + PGBOUNCER_VERSION + " (PgFleet " + version + ")"));
            case "MEM":
                return Future.succeededFuture(Shows.mem());
            case "HELP":
                // PgBouncer's SHOW HELP: the commands as a NOTICE, no rows.
                return Future.succeededFuture(Result.command("SHOW").notice(HINT));
            case "CONFIG":
                return configRows().map(rows -> rows == null ? ownerMissing(AdminBus.CONFIG) : Shows.config(rows));
            case "CONFIG_SOURCES":
                return configRows().map(rows -> rows == null ? ownerMissing(AdminBus.CONFIG) : Shows.configSources(rows));
            case "BANS":
                return rows(AdminBus.HEALTH, "BANS").map(rows -> rows == null ? ownerMissing(AdminBus.HEALTH)
                        : Shows.fromRows(Shows.BANS, rows));
            case "HEALTH":
                return rows(AdminBus.HEALTH, "HEALTH").map(rows -> rows == null ? ownerMissing(AdminBus.HEALTH)
                        : Shows.fromRows(Shows.HEALTH, rows));
            default:
                break;
        }
        if (SHOWS.contains(upper)) {
            return proxyStats().map(stats -> {
                List<ConnectionStats> consoles = consoleClients();
                return switch (upper) {
                    case "POOLS" -> Shows.pools(stats, cfg);
                    case "STATS" -> Shows.stats(stats, sampler.averages(stats));
                    case "STATS_TOTALS" -> Shows.statsTotals(stats);
                    case "STATS_AVERAGES" -> Shows.statsAverages(stats, sampler.averages(stats));
                    case "TOTALS" -> Shows.totals(stats, sampler.averages(stats));
                    case "SERVERS" -> Shows.sockets(stats.servers(), stats.takenAtMillis());
                    case "CLIENTS" -> {
                        List<ConnectionStats> all = new ArrayList<>(stats.clients());
                        all.addAll(consoles);
                        yield Shows.sockets(all, stats.takenAtMillis());
                    }
                    case "DATABASES" -> Shows.databases(stats, cfg);
                    case "USERS" -> Shows.users(stats, cfg, consoles);
                    case "LISTS" -> Shows.lists(stats, cfg, consoles.size());
                    case "STATE" -> Shows.state(stats);
                    case "PREPARED" -> Shows.prepared(stats);
                    case "FLEET" -> Shows.fleet(stats, consoles.size());
                    default -> throw new IllegalStateException(upper);
                };
            }).recover(err -> Future.succeededFuture(unavailable(AdminBus.PROXY, err)));
        }
        // SHOW of a configuration key: one text column named after it, as PostgreSQL's SHOW.
        String key = what.toLowerCase(Locale.ROOT);
        return configRows().map(rows -> {
            if (rows != null) {
                for (Object o : rows) {
                    JsonObject row = (JsonObject) o;
                    if (key.equalsIgnoreCase(row.getString("key"))) {
                        Object v = row.getValue("value");
                        return Result.rows(List.of(Result.text(key))).row(v == null ? null : v.toString());
                    }
                }
            }
            String fake = SESSION_PARAMETERS.get(key);
            if (fake != null && !key.equals("application_name") && !key.equals("extra_float_digits")) {
                return Result.rows(List.of(Result.text(key))).row(fake);
            }
            return syntaxError("invalid command 'SHOW " + what + "'");
        });
    }

    private static Result ownerMissing(String address) {
        return Result.error("55000", "nothing answers on " + address, null, null);
    }

    private static Result unavailable(String address, Throwable err) {
        return Result.error("55000", "nothing answers on " + address + ": " + err.getMessage(), null, null);
    }

    /** CONFIG's rows, or null when the configuration's owner does not answer. */
    private Future<JsonArray> configRows() {
        return rows(AdminBus.CONFIG, "CONFIG");
    }

    private Future<JsonArray> rows(String address, String command) {
        return request(address, AdminRequest.of(command), SHORT).map(reply -> reply.failed() ? null
                : reply.data().getJsonArray("rows", new JsonArray()));
    }

    Future<ProxyStats> proxyStats() {
        return request(AdminBus.PROXY, AdminRequest.of("STATS"), SHORT).compose(reply -> reply.failed()
                ? Future.failedFuture(reply.message()) : Future.succeededFuture(ProxyStats.fromJson(reply.data())));
    }

    /** A request's reply; a missing consumer or a timeout is a reply with an error, never a failed future. */
    private Future<AdminReply> request(String address, AdminRequest request, Duration timeout) {
        return vertx.eventBus().<JsonObject>request(address, request.toJson(),
                        new DeliveryOptions().setSendTimeout(timeout.toMillis()).setLocalOnly(true))
                .map(m -> AdminReply.fromJson(m.body()))
                .otherwise(err -> AdminReply.error("55000", "nothing answers on " + address + ": " + err.getMessage()));
    }

    /** The console's own clients, for SHOW CLIENTS (PgBouncer lists its admin clients too). */
    List<ConnectionStats> consoleClients() {
        List<ConnectionStats> out = new ArrayList<>();
        for (ConsoleSession s : sessions) {
            out.add(s.stats());
        }
        out.sort((a, b) -> Long.compare(a.id(), b.id()));
        return out;
    }
}
