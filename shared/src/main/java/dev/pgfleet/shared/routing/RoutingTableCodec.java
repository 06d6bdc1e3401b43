package dev.pgfleet.shared.routing;

import dev.pgfleet.shared.config.DefaultRole;
import dev.pgfleet.shared.config.LoadBalancingMode;
import dev.pgfleet.shared.config.PoolMode;
import dev.pgfleet.shared.config.ServerRole;
import dev.pgfleet.shared.health.ServerKey;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Event-bus codec of {@link RoutingTable}. Within one process a table travels as the same
 * (immutable) instance, configuration included: {@link #transform} returns it. Across the cluster
 * it travels as a format byte ({@value #FORMAT}), a length and a JSON document without the
 * configuration (it holds passwords; the table itself has none); a node that reads a format it
 * does not know fails loudly rather than guess. Register it on every node with {@link #register}.
 */
public final class RoutingTableCodec extends dev.pgfleet.shared.bus.JsonRecordCodec<RoutingTable> {

    /** The codec name, versioned with the wire format. */
    public static final String NAME = "pgfleet.router.table.v1";
    static final byte FORMAT = 1;

    /**
     * Registers the codec as the default for {@link RoutingTable} on {@code bus}, unless a codec
     * already is: several verticles of one node may call it.
     *
     * @return whether this call registered it
     */
    public static boolean register(EventBus bus) {
        return registerDefault(bus, RoutingTable.class, new RoutingTableCodec());
    }

    public RoutingTableCodec() {
        super(NAME, FORMAT);
    }

    @Override
    protected JsonObject json(RoutingTable table) {
        return toJson(table);
    }

    @Override
    protected RoutingTable value(JsonObject json) {
        return fromJson(json);
    }

    // ------------------------------------------------------------------ JSON

    static JsonObject toJson(RoutingTable t) {
        JsonObject pools = new JsonObject();
        t.pools().forEach((name, p) -> pools.put(name, poolJson(p)));
        return new JsonObject().put("version", t.version()).put("configEpoch", t.configEpoch())
                .put("healthVersion", t.healthVersion()).put("builtAt", t.builtAt().toString()).put("pools", pools);
    }

    static RoutingTable fromJson(JsonObject o) {
        Map<String, PoolRoute> pools = new LinkedHashMap<>();
        JsonObject p = o.getJsonObject("pools");
        for (String name : p.fieldNames()) {
            pools.put(name, pool(p.getJsonObject(name)));
        }
        return new RoutingTable(o.getLong("version"), o.getLong("configEpoch"), o.getLong("healthVersion"),
                Instant.parse(o.getString("builtAt")), pools, null);
    }

    private static JsonObject poolJson(PoolRoute p) {
        JsonArray users = new JsonArray();
        p.users().forEach(u -> {
            PoolSettings s = u.settings();
            users.add(new JsonObject().put("username", u.username()).put("serverUsername", u.serverUsername())
                    .put("poolMode", u.poolMode().configName()).put("poolSize", s.poolSize())
                    .put("minPoolSize", s.minPoolSize()).put("idleTimeoutMs", s.idleTimeout().toMillis())
                    .put("serverLifetimeMs", s.serverLifetime().toMillis())
                    .put("healthcheckDelayMs", s.healthcheckDelay().toMillis())
                    .put("healthcheckTimeoutMs", s.healthcheckTimeout().toMillis()));
        });
        JsonArray shards = new JsonArray();
        p.shards().forEach(s -> {
            JsonArray servers = new JsonArray();
            s.servers().forEach(v -> servers.add(new JsonObject().put("server", v.server().toString())
                    .put("role", v.role().configName()).put("weight", v.weight()).put("readable", v.readable())));
            shards.add(new JsonObject().put("index", s.index()).put("database", s.database()).put("servers", servers)
                    .put("primary", s.primary()).put("primaryReachable", s.primaryReachable()));
        });
        return new JsonObject().put("name", p.name()).put("poolMode", p.poolMode().configName())
                .put("defaultRole", p.defaultRole().configName()).put("loadBalancing", p.loadBalancing().configName())
                .put("splitting", p.splitting()).put("primaryReads", p.primaryReads()).put("users", users)
                .put("shards", shards);
    }

    private static PoolRoute pool(JsonObject o) {
        List<UserRoute> users = new ArrayList<>();
        o.getJsonArray("users").forEach(x -> {
            JsonObject u = (JsonObject) x;
            users.add(new UserRoute(u.getString("username"), u.getString("serverUsername"),
                    named(PoolMode.class, u.getString("poolMode")), new PoolSettings(u.getInteger("poolSize"),
                    u.getInteger("minPoolSize"), Duration.ofMillis(u.getLong("idleTimeoutMs")),
                    Duration.ofMillis(u.getLong("serverLifetimeMs")), Duration.ofMillis(u.getLong("healthcheckDelayMs")),
                    Duration.ofMillis(u.getLong("healthcheckTimeoutMs")))));
        });
        List<ShardRoute> shards = new ArrayList<>();
        o.getJsonArray("shards").forEach(x -> {
            JsonObject s = (JsonObject) x;
            List<ServerRoute> servers = new ArrayList<>();
            s.getJsonArray("servers").forEach(y -> {
                JsonObject v = (JsonObject) y;
                servers.add(new ServerRoute(ServerKey.parse(v.getString("server")), named(ServerRole.class,
                        v.getString("role")), v.getInteger("weight"), v.getBoolean("readable")));
            });
            shards.add(new ShardRoute(s.getInteger("index"), s.getString("database"), servers, s.getInteger("primary"),
                    s.getBoolean("primaryReachable")));
        });
        return new PoolRoute(o.getString("name"), named(PoolMode.class, o.getString("poolMode")),
                named(DefaultRole.class, o.getString("defaultRole")),
                named(LoadBalancingMode.class, o.getString("loadBalancing")), o.getBoolean("splitting"),
                o.getBoolean("primaryReads"), users, shards);
    }

    private static <E extends Enum<E>> E named(Class<E> type, String name) {
        for (E e : type.getEnumConstants()) {
            if (configName(e).equals(name)) {
                return e;
            }
        }
        throw new IllegalStateException(NAME + ": unknown " + type.getSimpleName() + " \"" + name + "\"");
    }

    private static String configName(Enum<?> e) {
        if (e instanceof PoolMode m) {
            return m.configName();
        } else if (e instanceof DefaultRole r) {
            return r.configName();
        } else if (e instanceof LoadBalancingMode l) {
            return l.configName();
        }
        return ((ServerRole) e).configName();
    }
}
