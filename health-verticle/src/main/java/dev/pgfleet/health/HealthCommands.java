package dev.pgfleet.health;

import dev.pgfleet.shared.admin.AdminBus;
import dev.pgfleet.shared.admin.AdminReply;
import dev.pgfleet.shared.admin.AdminRequest;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.ServerConfig;
import dev.pgfleet.shared.config.ShardConfig;
import dev.pgfleet.shared.health.Ban;
import dev.pgfleet.shared.health.HealthSnapshot;
import dev.pgfleet.shared.health.ServerHealth;
import dev.pgfleet.shared.health.ServerKey;
import dev.pgfleet.shared.health.ShardHealth;
import io.vertx.core.Handler;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@link AdminBus#HEALTH} command family, answered on the health verticle's context:
 * {@code BAN host:port [seconds]}, {@code UNBAN host:port}, {@code BANS}, {@code HEALTH}.
 * PgCat's console spells a server {@code host port}; both spellings are read.
 *
 * <p>A server that no pool lists is refused with 42704 (undefined_object), as PostgreSQL refuses
 * a name it does not know: a typo must not look like a ban that took. BAN and UNBAN reply once a
 * snapshot with the change is published, so the console's next SHOW HEALTH, and routing, already
 * see it.
 */
final class HealthCommands implements Handler<Message<JsonObject>> {

    private static final Logger LOG = LoggerFactory.getLogger(HealthCommands.class);

    private final HealthVerticle health;

    HealthCommands(HealthVerticle health) {
        this.health = health;
    }

    @Override
    public void handle(Message<JsonObject> message) {
        AdminReply reply;
        try {
            reply = handle(AdminRequest.fromJson(message.body()));
        } catch (RuntimeException e) {
            LOG.warn("admin health command failed", e);
            reply = AdminReply.error("XX000", "internal error: " + e.getMessage());
        }
        message.reply(reply.toJson());
    }

    AdminReply handle(AdminRequest request) {
        return switch (request.command()) {
            case "BAN" -> ban(request);
            case "UNBAN" -> unban(request);
            case "BANS" -> AdminReply.ok("", new JsonObject().put("rows", bans()));
            case "HEALTH" -> AdminReply.ok("", new JsonObject().put("rows", healthRows()));
            default -> AdminReply.error("42601", "unknown health command \"" + request.command() + "\"",
                    "commands: BAN host:port [seconds], UNBAN host:port, BANS, HEALTH");
        };
    }

    // ------------------------------------------------------------------ BAN / UNBAN

    /** A server and the index of the first argument after it, from "host:port" or "host port". */
    private record ServerArg(ServerKey server, int next) {
    }

    private static Optional<ServerArg> server(AdminRequest request) {
        String first = request.arg(0);
        if (first == null || first.isBlank()) {
            return Optional.empty();
        }
        try {
            int colon = first.lastIndexOf(':');
            if (colon > 0 && colon < first.length() - 1 && !first.endsWith("]")) {
                return Optional.of(new ServerArg(ServerKey.parse(first), 1));
            }
            String second = request.arg(1);
            if (second != null) {
                return Optional.of(new ServerArg(new ServerKey(first, Integer.parseInt(second)), 2));
            }
        } catch (IllegalArgumentException e) {
            // falls through: not a server
        }
        return Optional.empty();
    }

    private AdminReply ban(AdminRequest request) {
        Optional<ServerArg> arg = server(request);
        if (arg.isEmpty()) {
            return AdminReply.error("42601", "BAN needs a server: BAN host:port [seconds]");
        }
        ServerKey server = arg.get().server();
        PgFleetConfig config = health.configInForce();
        Duration duration = config.general().banTime();
        String seconds = request.arg(arg.get().next());
        if (seconds != null) {
            long s;
            try {
                s = Long.parseLong(seconds);
            } catch (NumberFormatException e) {
                return AdminReply.error("42601", "BAN: \"" + seconds + "\" is not a number of seconds");
            }
            if (s <= 0) {
                return AdminReply.error("22023", "BAN: the ban must last at least one second, not " + s);
            }
            duration = Duration.ofSeconds(s);
        }
        if (request.arg(arg.get().next() + 1) != null) {
            return AdminReply.error("42601", "BAN takes a server and at most a number of seconds");
        }
        List<String> where = listings(config, server);
        if (where.isEmpty()) {
            return unknown(server);
        }
        health.bans().ban(server, duration, "admin BAN" + origin(request));
        LOG.warn("{}: banned for {} s by an admin command{}", server, duration.toSeconds(), origin(request));
        long version = health.publishNow();
        List<String> primaryOf = primaryOf(server);
        String detail = primaryOf.isEmpty() ? null : server + " is the primary of " + String.join(", ", primaryOf)
                + ": a ban keeps it out of reads only, writes still go to it";
        Ban ban = health.bans().bans().get(server);
        return new AdminReply(null, "BAN " + server + " until " + (ban == null ? "?" : ban.until()), detail,
                new JsonObject().put("server", server.toString()).put("seconds", duration.toSeconds())
                        .put("snapshot_version", version));
    }

    private AdminReply unban(AdminRequest request) {
        Optional<ServerArg> arg = server(request);
        if (arg.isEmpty() || request.arg(arg.get().next()) != null) {
            return AdminReply.error("42601", "UNBAN needs one server: UNBAN host:port");
        }
        ServerKey server = arg.get().server();
        boolean banned = health.bans().isBanned(server);
        if (!banned && listings(health.configInForce(), server).isEmpty()) {
            return unknown(server);
        }
        if (!banned) {
            return AdminReply.ok("UNBAN: " + server + " is not banned",
                    new JsonObject().put("server", server.toString()).put("was_banned", false));
        }
        health.bans().unban(server);
        LOG.warn("{}: ban lifted by an admin command{}", server, origin(request));
        long version = health.publishNow();
        return AdminReply.ok("UNBAN " + server, new JsonObject().put("server", server.toString())
                .put("was_banned", true).put("snapshot_version", version));
    }

    private static AdminReply unknown(ServerKey server) {
        return AdminReply.error("42704", "server \"" + server + "\" is not in any pool",
                "servers are named host:port as in the pools' shards");
    }

    private static String origin(AdminRequest request) {
        return request.origin().isEmpty() ? "" : " (from " + request.origin() + ")";
    }

    /** "pool/shard" for every shard that lists {@code server}. */
    private static List<String> listings(PgFleetConfig config, ServerKey server) {
        List<String> where = new ArrayList<>();
        for (PoolConfig pool : config.pools().values()) {
            for (ShardConfig shard : pool.shards()) {
                for (ServerConfig s : shard.servers()) {
                    if (ServerKey.of(s).equals(server)) {
                        where.add(pool.name() + " shard " + shard.index());
                    }
                }
            }
        }
        return where;
    }

    private List<String> primaryOf(ServerKey server) {
        List<String> of = new ArrayList<>();
        health.current().pools().forEach((pool, shards) -> shards.forEach(s -> {
            if (s.primary().equals(Optional.of(server))) {
                of.add(pool + " shard " + s.index());
            }
        }));
        return of;
    }

    // ------------------------------------------------------------------ BANS / HEALTH

    private JsonArray bans() {
        JsonArray rows = new JsonArray();
        health.bans().bans().values().stream().sorted(Comparator.comparing(b -> b.server().toString()))
                .forEach(b -> rows.add(new JsonObject()
                        .put("server", b.server().toString())
                        .put("reason", b.reason())
                        .put("since", b.since().toString())
                        .put("expires", b.until().toString())));
        return rows;
    }

    /**
     * One row per server of each shard of each pool of the newest snapshot. {@code role} is what
     * the probes found: "primary" for the server the shard writes to, "replica" for a server in
     * recovery, "unknown" for one that never answered (its configured role is in
     * {@code configured_role}). Lag is null when it cannot be measured.
     */
    private JsonArray healthRows() {
        HealthSnapshot snapshot = health.current();
        Map<ServerKey, Ban> bans = health.bans().bans();
        JsonArray rows = new JsonArray();
        snapshot.pools().forEach((pool, shards) -> {
            for (ShardHealth shard : shards) {
                for (ServerHealth h : shard.servers()) {
                    ProbeCounters.Counts counts = health.probeCounts(pool, shard.index(), h.server());
                    rows.add(new JsonObject()
                            .put("pool", pool)
                            .put("shard", shard.index())
                            .put("database", shard.database())
                            .put("server", h.server().toString())
                            .put("role", role(shard, h))
                            .put("configured_role", h.role().name().toLowerCase(java.util.Locale.ROOT))
                            .put("up", h.reachable())
                            .put("lag_bytes", h.lagBytes() == ServerHealth.UNKNOWN ? null : h.lagBytes())
                            .put("lag_ms", h.lagMillis() == ServerHealth.UNKNOWN ? null : h.lagMillis())
                            .put("last_probe", h.lastChecked().toString())
                            .put("last_error", h.error().orElse(null))
                            .put("banned", bans.containsKey(h.server()))
                            .put("serves_reads", shard.readTargets().contains(h.server()))
                            .put("lagging", shard.lagging().contains(h.server()))
                            .put("probes_ok", counts.ok())
                            .put("probes_failed", counts.failed())
                            .put("probes_inconclusive", counts.inconclusive()));
                }
            }
        });
        return rows;
    }

    private static String role(ShardHealth shard, ServerHealth h) {
        if (shard.primary().equals(Optional.of(h.server()))) {
            return "primary";
        }
        if (h.reachable()) {
            return h.inRecovery() ? "replica" : "primary";
        }
        return "unknown";
    }
}
