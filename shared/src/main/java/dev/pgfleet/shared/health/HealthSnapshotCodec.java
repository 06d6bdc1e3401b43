package dev.pgfleet.shared.health;

import dev.pgfleet.shared.config.ServerRole;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Event-bus codec of {@link HealthSnapshot}. Within one process a snapshot travels as the same
 * (immutable) instance: {@link #transform} returns it. Across the cluster it travels as a format
 * byte ({@value #FORMAT}), a length and a JSON document; a node that reads a format it does not
 * know fails loudly rather than guess. Register it on every node with {@link #register}.
 */
public final class HealthSnapshotCodec extends dev.pgfleet.shared.bus.JsonRecordCodec<HealthSnapshot> {

    /** The codec name, versioned with the wire format. */
    public static final String NAME = "pgfleet.health.snapshot.v1";
    static final byte FORMAT = 1;

    /**
     * Registers the codec as the default for {@link HealthSnapshot} on {@code bus}, unless a
     * codec already is: several verticles of one node may call it.
     *
     * @return whether this call registered it
     */
    public static boolean register(EventBus bus) {
        return registerDefault(bus, HealthSnapshot.class, new HealthSnapshotCodec());
    }

    public HealthSnapshotCodec() {
        super(NAME, FORMAT);
    }

    @Override
    protected JsonObject json(HealthSnapshot snapshot) {
        return toJson(snapshot);
    }

    @Override
    protected HealthSnapshot value(JsonObject json) {
        return fromJson(json);
    }

    // ------------------------------------------------------------------ JSON

    static JsonObject toJson(HealthSnapshot s) {
        JsonObject pools = new JsonObject();
        s.pools().forEach((name, shards) -> {
            JsonArray a = new JsonArray();
            shards.forEach(shard -> a.add(shardJson(shard)));
            pools.put(name, a);
        });
        JsonArray bans = new JsonArray();
        s.bans().values().forEach(b -> bans.add(new JsonObject().put("server", b.server().toString())
                .put("since", b.since().toString()).put("until", b.until().toString()).put("reason", b.reason())));
        return new JsonObject().put("version", s.version()).put("takenAt", s.takenAt().toString())
                .put("pools", pools).put("bans", bans);
    }

    static HealthSnapshot fromJson(JsonObject o) {
        Map<String, List<ShardHealth>> pools = new LinkedHashMap<>();
        JsonObject p = o.getJsonObject("pools");
        for (String name : p.fieldNames()) {
            List<ShardHealth> shards = new ArrayList<>();
            p.getJsonArray(name).forEach(x -> shards.add(shard(name, (JsonObject) x)));
            pools.put(name, shards);
        }
        Map<ServerKey, Ban> bans = new LinkedHashMap<>();
        o.getJsonArray("bans").forEach(x -> {
            JsonObject b = (JsonObject) x;
            ServerKey key = ServerKey.parse(b.getString("server"));
            bans.put(key, new Ban(key, Instant.parse(b.getString("since")), Instant.parse(b.getString("until")),
                    b.getString("reason")));
        });
        return new HealthSnapshot(o.getLong("version"), Instant.parse(o.getString("takenAt")), pools, bans);
    }

    private static JsonObject shardJson(ShardHealth s) {
        JsonArray servers = new JsonArray();
        s.servers().forEach(h -> servers.add(new JsonObject()
                .put("server", h.server().toString())
                .put("role", h.role().configName())
                .put("reachable", h.reachable())
                .put("inRecovery", h.inRecovery())
                .put("walLsn", h.walLsn().orElse(null))
                .put("lagBytes", h.lagBytes())
                .put("lagMillis", h.lagMillis())
                .put("lastChecked", h.lastChecked().toString())
                .put("error", h.error().orElse(null))));
        return new JsonObject()
                .put("index", s.index())
                .put("database", s.database())
                .put("primary", s.primary().map(ServerKey::toString).orElse(null))
                .put("primaryReachable", s.primaryReachable())
                .put("servers", servers)
                .put("readReplicas", keys(s.readReplicas()))
                .put("lagging", keys(s.lagging()))
                .put("banned", keys(s.banned()));
    }

    private static ShardHealth shard(String pool, JsonObject o) {
        List<ServerHealth> servers = new ArrayList<>();
        o.getJsonArray("servers").forEach(x -> {
            JsonObject h = (JsonObject) x;
            servers.add(new ServerHealth(ServerKey.parse(h.getString("server")), role(h.getString("role")),
                    h.getBoolean("reachable"), h.getBoolean("inRecovery"), Optional.ofNullable(h.getString("walLsn")),
                    h.getLong("lagBytes"), h.getLong("lagMillis"), Instant.parse(h.getString("lastChecked")),
                    Optional.ofNullable(h.getString("error"))));
        });
        return new ShardHealth(pool, o.getInteger("index"), o.getString("database"),
                Optional.ofNullable(o.getString("primary")).map(ServerKey::parse), o.getBoolean("primaryReachable"),
                servers, keys(o.getJsonArray("readReplicas")), keys(o.getJsonArray("lagging")),
                keys(o.getJsonArray("banned")));
    }

    private static JsonArray keys(List<ServerKey> keys) {
        JsonArray a = new JsonArray();
        keys.forEach(k -> a.add(k.toString()));
        return a;
    }

    private static List<ServerKey> keys(JsonArray a) {
        List<ServerKey> out = new ArrayList<>();
        a.forEach(x -> out.add(ServerKey.parse((String) x)));
        return out;
    }

    private static ServerRole role(String name) {
        for (ServerRole r : ServerRole.values()) {
            if (r.configName().equals(name)) {
                return r;
            }
        }
        throw new IllegalStateException(NAME + ": unknown role \"" + name + "\"");
    }
}
