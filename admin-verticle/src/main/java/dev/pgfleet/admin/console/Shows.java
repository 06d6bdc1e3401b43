package dev.pgfleet.admin.console;

import static dev.pgfleet.admin.console.Result.int4;
import static dev.pgfleet.admin.console.Result.int8;
import static dev.pgfleet.admin.console.Result.numeric;
import static dev.pgfleet.admin.console.Result.text;

import dev.pgfleet.shared.admin.ProxyStats;
import dev.pgfleet.shared.admin.ProxyStats.ConnectionStats;
import dev.pgfleet.shared.admin.ProxyStats.PoolStats;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.ServerConfig;
import dev.pgfleet.shared.config.UserConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Turns what the proxy, the health verticle and the configuration report into the rows of
 * each SHOW. Columns, their order and their types are PgBouncer 1.24's where PgBouncer has the
 * command (admin.c, stats.c; checked against a live capture by bench/console-columns and
 * ConsoleColumnsTest), so pgbouncer_exporter, Datadog's check and dashboards read PgFleet as
 * they read PgBouncer.
 */
final class Shows {

    private Shows() {
    }

    static final List<Result.Column> POOLS = List.of(text("database"), text("user"), int4("cl_active"),
            int4("cl_waiting"), int4("cl_active_cancel_req"), int4("cl_waiting_cancel_req"), int4("sv_active"),
            int4("sv_active_cancel"), int4("sv_being_canceled"), int4("sv_idle"), int4("sv_used"), int4("sv_tested"),
            int4("sv_login"), int4("maxwait"), int4("maxwait_us"), text("pool_mode"), text("load_balance_hosts"));

    private static final String[] STAT_NAMES = {"server_assignment_count", "xact_count", "query_count",
        "received", "sent", "xact_time", "query_time", "wait_time", "client_parse_count", "server_parse_count",
        "bind_count"};

    static final List<Result.Column> STATS = statsColumns();

    static final List<Result.Column> STATS_TOTALS = List.of(text("database"), numeric("server_assignment_count"),
            numeric("xact_count"), numeric("query_count"), numeric("bytes_received"), numeric("bytes_sent"),
            numeric("xact_time"), numeric("query_time"), numeric("wait_time"), numeric("client_parse_count"),
            numeric("server_parse_count"), numeric("bind_count"));

    static final List<Result.Column> STATS_AVERAGES = List.of(text("database"), numeric("server_assignment_count"),
            numeric("xact_count"), numeric("query_count"), numeric("bytes_received"), numeric("bytes_sent"),
            numeric("xact_time"), numeric("query_time"), numeric("wait_time"), numeric("avg_client_parse_count"),
            numeric("avg_server_parse_count"), numeric("avg_bind_count"));

    static final List<Result.Column> TOTALS = List.of(text("name"), numeric("value"));

    /** SHOW CLIENTS and SHOW SERVERS (the same columns in PgBouncer). */
    static final List<Result.Column> SOCKETS = List.of(text("type"), text("user"), text("database"),
            text("replication"), text("state"), text("addr"), int4("port"), text("local_addr"), int4("local_port"),
            text("connect_time"), text("request_time"), int4("wait"), int4("wait_us"), int4("close_needed"),
            text("ptr"), text("link"), int4("remote_pid"), text("tls"), text("application_name"),
            int4("prepared_statements"), int4("id"));

    static final List<Result.Column> DATABASES = List.of(text("name"), text("host"), int4("port"), text("database"),
            text("force_user"), int4("pool_size"), int4("min_pool_size"), int4("reserve_pool_size"),
            int4("server_lifetime"), text("pool_mode"), text("load_balance_hosts"), int4("max_connections"),
            int4("current_connections"), int4("max_client_connections"), int4("current_client_connections"),
            int4("paused"), int4("disabled"));

    static final List<Result.Column> USERS = List.of(text("name"), text("pool_size"), text("reserve_pool_size"),
            text("pool_mode"), int4("max_user_connections"), int4("current_connections"),
            int4("max_user_client_connections"), int4("current_client_connections"));

    static final List<Result.Column> CONFIG = List.of(text("key"), text("value"), text("default"), text("changeable"));
    /**
     * PgFleet's: where each running value came from (default, file, environment, system property,
     * SET). Not a column of SHOW CONFIG, whose columns are PgBouncer's contract.
     */
    static final List<Result.Column> CONFIG_SOURCES = List.of(text("key"), text("value"), text("source"));
    static final List<Result.Column> LISTS = List.of(text("list"), int4("items"));
    static final List<Result.Column> VERSION = List.of(text("version"));
    static final List<Result.Column> STATE = List.of(text("key"), text("value"));
    static final List<Result.Column> MEM = List.of(text("name"), int4("size"), int4("used"), int4("free"),
            int4("memtotal"));

    // PgFleet's own (PgBouncer has no such command).
    /** The health verticle's BANS rows (health-verticle's HealthCommands), in its order. */
    static final List<Result.Column> BANS = List.of(text("server"), text("reason"), text("since"), text("expires"));
    /** The health verticle's HEALTH rows: role as detected now, lag (NULL when unknown), last probe, counts. */
    static final List<Result.Column> HEALTH = List.of(text("pool"), int4("shard"), text("database"), text("server"),
            text("role"), text("configured_role"), text("up"), int8("lag_bytes"), int8("lag_ms"), text("last_probe"),
            text("last_error"), text("banned"), text("serves_reads"), text("lagging"), int8("probes_ok"),
            int8("probes_failed"), int8("probes_inconclusive"));
    static final List<Result.Column> PREPARED = List.of(text("database"), text("user"), text("name"), text("query"),
            text("parameter_types"), int4("servers"));
    static final List<Result.Column> FLEET = List.of(text("instance"), text("self"), text("state"),
            text("started_at"), int4("clients"), int4("pools"), int4("servers"));

    private static List<Result.Column> statsColumns() {
        List<Result.Column> c = new ArrayList<>();
        c.add(text("database"));
        for (String n : STAT_NAMES) {
            c.add(numeric("total_" + n));
        }
        for (String n : STAT_NAMES) {
            c.add(numeric("avg_" + (n.equals("received") ? "recv" : n)));
        }
        return List.copyOf(c);
    }

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    static String time(long epochMillis) {
        return TIME.format(Instant.ofEpochMilli(epochMillis));
    }

    // -- from the proxy's STATS -----------------------------------------------------------

    static Result pools(ProxyStats s, PgFleetConfig config) {
        Result r = Result.rows(POOLS);
        for (PoolStats p : s.pools()) {
            r.row(p.database(), p.user(), p.clActive(), p.clWaiting(), p.clActiveCancelReq(), p.clWaitingCancelReq(),
                    p.svActive(), p.svActiveCancel(), p.svBeingCanceled(), p.svIdle(), p.svUsed(), p.svTested(),
                    p.svLogin(), p.maxWaitMicros() / 1_000_000, p.maxWaitMicros() % 1_000_000, p.poolMode(),
                    loadBalanceHosts(config, p.database()));
        }
        return r;
    }

    /** PgBouncer names it only for a database of several hosts; PgFleet's load_balancing_mode. */
    private static String loadBalanceHosts(PgFleetConfig config, String database) {
        return config.pool(database)
                .filter(pc -> pc.shards().stream().anyMatch(sh -> sh.servers().size() > 1))
                .map(pc -> pc.loadBalancingMode().toString().toLowerCase(Locale.ROOT))
                .orElse(null);
    }

    /** The eleven counters PgBouncer keeps per pool and sums per database, in its order. */
    static long[] counters(PoolStats p) {
        return new long[] {p.serverAssignments(), p.xacts(), p.queries(), p.bytesReceived(), p.bytesSent(),
            p.xactMicros(), p.queryMicros(), p.waitMicros(), p.clientParses(), p.serverParses(), p.binds()};
    }

    /** Counters summed per database, in the order the databases first appear. */
    static Map<String, long[]> byDatabase(ProxyStats s) {
        Map<String, long[]> out = new LinkedHashMap<>();
        for (PoolStats p : s.pools()) {
            long[] sum = out.computeIfAbsent(p.database(), k -> new long[STAT_NAMES.length]);
            long[] c = counters(p);
            for (int i = 0; i < c.length; i++) {
                sum[i] += c[i];
            }
        }
        return out;
    }

    static long[] total(Map<String, long[]> byDatabase) {
        long[] sum = new long[STAT_NAMES.length];
        for (long[] c : byDatabase.values()) {
            for (int i = 0; i < c.length; i++) {
                sum[i] += c[i];
            }
        }
        return sum;
    }

    static Result stats(ProxyStats s, StatsSampler.Averages avg) {
        Result r = Result.rows(STATS);
        for (Map.Entry<String, long[]> e : byDatabase(s).entrySet()) {
            long[] a = avg.of(e.getKey(), e.getValue());
            Object[] row = new Object[1 + 2 * STAT_NAMES.length];
            row[0] = e.getKey();
            for (int i = 0; i < STAT_NAMES.length; i++) {
                row[1 + i] = e.getValue()[i];
                row[1 + STAT_NAMES.length + i] = a[i];
            }
            r.row(row);
        }
        return r;
    }

    static Result statsTotals(ProxyStats s) {
        Result r = Result.rows(STATS_TOTALS);
        for (Map.Entry<String, long[]> e : byDatabase(s).entrySet()) {
            Object[] row = new Object[1 + STAT_NAMES.length];
            row[0] = e.getKey();
            for (int i = 0; i < STAT_NAMES.length; i++) {
                row[1 + i] = e.getValue()[i];
            }
            r.row(row);
        }
        return r;
    }

    static Result statsAverages(ProxyStats s, StatsSampler.Averages avg) {
        Result r = Result.rows(STATS_AVERAGES);
        for (Map.Entry<String, long[]> e : byDatabase(s).entrySet()) {
            long[] a = avg.of(e.getKey(), e.getValue());
            Object[] row = new Object[1 + STAT_NAMES.length];
            row[0] = e.getKey();
            for (int i = 0; i < STAT_NAMES.length; i++) {
                row[1 + i] = a[i];
            }
            r.row(row);
        }
        return r;
    }

    /** SHOW TOTALS: PgBouncer's own names here (client_bytes, ps_*), not SHOW STATS' ones. */
    private static final String[] TOTAL_NAMES = {"server_assignment_count", "xact_count", "query_count",
        "client_bytes", "server_bytes", "xact_time", "query_time", "wait_time", "ps_client_parse_count",
        "ps_server_parse_count", "ps_bind_count"};

    static Result totals(ProxyStats s, StatsSampler.Averages avg) {
        Map<String, long[]> byDb = byDatabase(s);
        long[] total = total(byDb);
        long[] a = avg.ofTotal(total);
        Result r = Result.rows(TOTALS);
        for (int i = 0; i < TOTAL_NAMES.length; i++) {
            r.row("total_" + TOTAL_NAMES[i], total[i]);
        }
        for (int i = 0; i < TOTAL_NAMES.length; i++) {
            r.row("avg_" + TOTAL_NAMES[i], a[i]);
        }
        return r;
    }

    static Result sockets(List<ConnectionStats> list, long nowMillis) {
        Result r = Result.rows(SOCKETS);
        for (ConnectionStats c : list) {
            r.row(socketRow(c));
        }
        return r;
    }

    static Object[] socketRow(ConnectionStats c) {
        return new Object[] {c.type(), c.user(), c.database(), "none", c.state(), c.addr(), c.port(),
            c.localAddr(), c.localPort(), time(c.connectTimeMillis()), time(c.requestTimeMillis()),
            c.waitMicros() / 1_000_000, c.waitMicros() % 1_000_000, c.closeNeeded() ? 1 : 0,
            ptr(c.type(), c.id()), c.link() == 0 ? null : ptr(c.type().equals("C") ? "S" : "C", c.link()),
            c.remotePid(), c.tls(), c.applicationName(), c.preparedStatements(), c.id()};
    }

    /** PgBouncer's ptr is the socket's address; PgFleet's is the connection's id, unique per type. */
    static String ptr(String type, long id) {
        return "0x" + (type.equals("S") ? "5" : "c") + String.format(Locale.ROOT, "%011x", id);
    }

    static Result databases(ProxyStats s, PgFleetConfig config) {
        Result r = Result.rows(DATABASES);
        for (PoolConfig pc : config.pools().values()) {
            List<ServerConfig> servers = pc.shards().isEmpty() ? List.of() : pc.shards().get(0).servers();
            String host = servers.stream().map(ServerConfig::host).collect(Collectors.joining(","));
            Integer port = servers.isEmpty() ? null : servers.get(0).port();
            String dbname = pc.shards().isEmpty() ? pc.name() : pc.shards().get(0).database();
            UserConfig first = pc.users().isEmpty() ? null : pc.users().get(0);
            int servers0 = 0;
            boolean paused = false;
            boolean disabled = false;
            Integer poolSize = first == null ? 0 : first.poolSize();
            Integer minPoolSize = first == null ? 0 : first.minPoolSize();
            boolean seen = false;
            for (PoolStats p : s.pools()) {
                if (p.database().equals(pc.name())) {
                    servers0 += p.svActive() + p.svIdle() + p.svUsed() + p.svTested() + p.svLogin();
                    paused |= p.paused();
                    disabled |= p.disabled();
                    if (!seen) {
                        poolSize = p.poolSize();
                        minPoolSize = p.minPoolSize();
                        seen = true;
                    }
                }
            }
            int clients = (int) s.clients().stream().filter(c -> pc.name().equals(c.database())).count();
            long lifetime = (first != null ? first.serverLifetime() : pc.serverLifetime()).toSeconds();
            r.row(pc.name(), host.isEmpty() ? null : host, port, dbname, null, poolSize, minPoolSize, 0,
                    lifetime, pc.poolMode().toString().toLowerCase(Locale.ROOT), loadBalanceHosts(config, pc.name()),
                    0, servers0, 0, clients, paused, disabled);
        }
        return r;
    }

    static Result users(ProxyStats s, PgFleetConfig config, List<ConnectionStats> consoleClients) {
        Set<String> names = new LinkedHashSet<>();
        names.add(config.general().adminUsername());
        for (PoolConfig pc : config.pools().values()) {
            for (UserConfig u : pc.users()) {
                names.add(u.username());
            }
        }
        Result r = Result.rows(USERS);
        for (String name : names) {
            int servers = 0;
            for (PoolStats p : s.pools()) {
                if (p.user().equals(name)) {
                    servers += p.svActive() + p.svIdle() + p.svUsed() + p.svTested() + p.svLogin();
                }
            }
            long clients = s.clients().stream().filter(c -> name.equals(c.user())).count()
                    + consoleClients.stream().filter(c -> name.equals(c.user())).count();
            // A user's own pool_size and pool_mode, as PgBouncer shows a [users] override: PgFleet's
            // users carry them in each pool, so they are shown when the user has one pool only.
            List<UserConfig> of = config.pools().values().stream().flatMap(pc -> pc.user(name).stream()).toList();
            String poolSize = of.size() == 1 ? String.valueOf(of.get(0).poolSize()) : null;
            String poolMode = of.size() == 1 && of.get(0).poolMode() != null
                    ? of.get(0).poolMode().toString().toLowerCase(Locale.ROOT) : null;
            r.row(name, poolSize, null, poolMode, 0, servers, 0, clients);
        }
        return r;
    }

    static Result lists(ProxyStats s, PgFleetConfig config, int consoleClients) {
        Set<String> users = new LinkedHashSet<>();
        config.pools().values().forEach(pc -> pc.users().forEach(u -> users.add(u.username())));
        long login = s.clients().stream().filter(c -> "login".equals(c.state())).count();
        return Result.rows(LISTS)
                .row("databases", config.pools().size())
                .row("users", users.size())
                .row("peers", 0)
                .row("pools", s.pools().size())
                .row("peer_pools", 0)
                .row("free_clients", 0)
                .row("used_clients", s.clients().size() + consoleClients)
                .row("login_clients", login)
                .row("free_servers", 0)
                .row("used_servers", s.servers().size())
                .row("dns_names", 0)
                .row("dns_zones", 0)
                .row("dns_queries", 0)
                .row("dns_pending", 0);
    }

    static Result state(ProxyStats s) {
        boolean paused = !s.pools().isEmpty() && s.pools().stream().allMatch(PoolStats::paused);
        return Result.rows(STATE)
                .row("active", yesNo(s.listening() && !s.draining() && !paused && !s.suspended()))
                .row("paused", yesNo(paused))
                .row("suspended", yesNo(s.suspended()));
    }

    /**
     * What PgFleet can report of its memory: the JVM's pools in KiB (size is the unit, 1024
     * bytes; used, free and memtotal count KiB), where PgBouncer lists its slab caches.
     */
    static Result mem() {
        Result r = Result.rows(MEM);
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        MemoryUsage nonHeap = ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage();
        memRow(r, "jvm_heap", heap.getUsed(), heap.getCommitted());
        memRow(r, "jvm_non_heap", nonHeap.getUsed(), nonHeap.getCommitted());
        for (java.lang.management.BufferPoolMXBean b
                : ManagementFactory.getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class)) {
            memRow(r, "jvm_buffers_" + b.getName().replaceAll("[^A-Za-z0-9]+", "_"), b.getMemoryUsed(),
                    Math.max(b.getTotalCapacity(), b.getMemoryUsed()));
        }
        return r;
    }

    private static void memRow(Result r, String name, long used, long committed) {
        long usedK = used / 1024;
        long totalK = Math.max(committed, used) / 1024;
        r.row(name, 1024, clampInt(usedK), clampInt(totalK - usedK), clampInt(totalK));
    }

    private static long clampInt(long v) {
        return Math.min(Integer.MAX_VALUE, Math.max(0, v));
    }

    static String yesNo(boolean b) {
        return b ? "yes" : "no";
    }

    static Result prepared(ProxyStats s) {
        Result r = Result.rows(PREPARED);
        for (ProxyStats.StatementStats st : s.statements()) {
            r.row(st.database(), st.user(), st.name(), st.query(),
                    st.parameterTypes().stream().map(String::valueOf).collect(Collectors.joining(",")), st.servers());
        }
        return r;
    }

    static Result fleet(ProxyStats s, int consoleClients) {
        String state = s.draining() ? "draining" : s.suspended() ? "suspended" : s.listening() ? "active" : "starting";
        return Result.rows(FLEET).row(s.instanceId(), "yes", state, time(s.startedAtMillis()),
                s.clients().size() + consoleClients, s.pools().size(), s.servers().size());
    }

    // -- from the health verticle and the configuration's owner ---------------------------

    /**
     * Rows of the health verticle's BANS or HEALTH: each value taken by the column's name (or its
     * camelCase form), so added fields do not disturb the columns; a missing one is NULL.
     */
    static Result fromRows(List<Result.Column> columns, JsonArray rows) {
        Result r = Result.rows(columns);
        for (Object o : rows) {
            JsonObject row = o instanceof JsonObject j ? j : new JsonObject();
            Object[] values = new Object[columns.size()];
            for (int i = 0; i < values.length; i++) {
                Object v = value(row, columns.get(i).name());
                values[i] = v instanceof Boolean b ? yesNo(b) : v;
            }
            r.row(values);
        }
        return r;
    }

    private static Object value(JsonObject row, String name) {
        if (row.containsKey(name)) {
            return row.getValue(name);
        }
        StringBuilder camel = new StringBuilder();
        boolean up = false;
        for (char ch : name.toCharArray()) {
            if (ch == '_') {
                up = true;
            } else {
                camel.append(up ? Character.toUpperCase(ch) : ch);
                up = false;
            }
        }
        return row.getValue(camel.toString());
    }

    static Result config(JsonArray rows) {
        Result r = Result.rows(CONFIG);
        for (Object o : rows) {
            JsonObject row = (JsonObject) o;
            Object changeable = row.getValue("changeable");
            r.row(row.getString("key"), string(row.getValue("value")), string(row.getValue("default")),
                    changeable instanceof Boolean b ? yesNo(b) : string(changeable));
        }
        return r;
    }

    static Result configSources(JsonArray rows) {
        Result r = Result.rows(CONFIG_SOURCES);
        for (Object o : rows) {
            JsonObject row = (JsonObject) o;
            r.row(row.getString("key"), string(row.getValue("value")), string(row.getValue("source")));
        }
        return r;
    }

    private static String string(Object v) {
        return v == null ? null : v.toString();
    }
}
