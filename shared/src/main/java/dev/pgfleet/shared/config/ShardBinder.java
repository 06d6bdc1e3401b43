package dev.pgfleet.shared.config;

import io.vertx.core.json.JsonArray;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Binds one {@code [pools.<db>.shards.<index>]} table and applies PgCat's shard checks. */
final class ShardBinder {

    private ShardBinder() {
    }

    static ShardConfig bind(Section s, int index) {
        String database = s.requiredString("database");
        List<ServerConfig> servers = servers(s);
        List<MirrorConfig> mirrors = mirrors(s, servers.size());
        s.reportUnknownKeys();
        return new ShardConfig(index, database, servers, mirrors);
    }

    private static List<ServerConfig> servers(Section s) {
        List<ServerConfig> servers = new ArrayList<>();
        if (!s.has("servers")) {
            s.error("servers", "required key is missing; a shard needs at least one [host, port, role]");
            return servers;
        }
        Optional<JsonArray> array = s.optArray("servers");
        if (array.isEmpty()) {
            return servers;
        }
        if (array.get().isEmpty()) {
            s.error("servers", "a shard needs at least one server, got an empty array");
        }
        Set<String> addresses = new HashSet<>();
        int primaries = 0;
        for (int i = 0; i < array.get().size(); i++) {
            String path = s.path("servers") + "[" + i + "]";
            Optional<ServerConfig> server = server(s.problems(), path, array.get().getValue(i));
            if (server.isEmpty()) {
                continue;
            }
            ServerConfig c = server.get();
            if (!addresses.add(c.address())) {
                s.problems().error(path, "duplicate server " + c.address() + " in this shard");
            }
            if (c.role() == ServerRole.PRIMARY && ++primaries == 2) {
                // As PgCat: zero or one primary per shard.
                s.problems().error(path, "a shard has at most one primary, this is the second");
            }
            servers.add(c);
        }
        return servers;
    }

    private static Optional<ServerConfig> server(Problems p, String path, Object entry) {
        if (!(entry instanceof JsonArray a) || a.size() < 3 || a.size() > 4) {
            p.error(path, "expected [host, port, role] or [host, port, role, weight], e.g. [\"127.0.0.1\", 5432, \"primary\"]");
            return Optional.empty();
        }
        int weight = ServerConfig.DEFAULT_WEIGHT;
        if (a.size() == 4) {
            Object w = a.getValue(3);
            if (w instanceof Number n && n.doubleValue() == n.longValue() && n.longValue() >= 0 && n.longValue() <= 1000) {
                weight = n.intValue();
            } else {
                p.error(path, "weight (fourth element) must be a whole number from 0 to 1000, got " + w);
                return Optional.empty();
            }
        }
        Optional<String> host = host(p, path, a.getValue(0));
        Optional<Integer> port = port(p, path, a.getValue(1));
        Optional<ServerRole> role = Optional.empty();
        if (a.getValue(2) instanceof String r) {
            role = Section.parseEnum(r, ServerRole.class);
            if (role.isEmpty()) {
                p.error(path, "unknown role \"" + r + "\"; accepted: " + Section.accepted(ServerRole.class));
            }
        } else {
            p.error(path, "role (third element) must be a string, got " + Section.typeName(a.getValue(2)));
        }
        if (host.isEmpty() || port.isEmpty() || role.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new ServerConfig(host.get(), port.get(), role.get(), weight));
    }

    private static List<MirrorConfig> mirrors(Section s, int serverCount) {
        List<MirrorConfig> mirrors = new ArrayList<>();
        Optional<JsonArray> array = s.optArray("mirrors");
        if (array.isEmpty()) {
            return mirrors;
        }
        for (int i = 0; i < array.get().size(); i++) {
            String path = s.path("mirrors") + "[" + i + "]";
            if (!(array.get().getValue(i) instanceof JsonArray a) || a.size() != 3) {
                s.problems().error(path, "expected [host, port, server_index]");
                continue;
            }
            Optional<String> host = host(s.problems(), path, a.getValue(0));
            Optional<Integer> port = port(s.problems(), path, a.getValue(1));
            Object idx = a.getValue(2);
            if (!isIntegral(idx) || ((Number) idx).longValue() < 0 || ((Number) idx).longValue() >= serverCount) {
                s.problems().error(path, "server_index (third element) must be an index into servers, 0.."
                        + (serverCount - 1) + ", got " + idx);
                continue;
            }
            if (host.isPresent() && port.isPresent()) {
                mirrors.add(new MirrorConfig(host.get(), port.get(), ((Number) idx).intValue()));
            }
        }
        return mirrors;
    }

    private static Optional<String> host(Problems p, String path, Object v) {
        if (v instanceof String h && !h.isEmpty()) {
            return Optional.of(h);
        }
        p.error(path, "host (first element) must be a non-empty string, got " + Section.typeName(v));
        return Optional.empty();
    }

    private static Optional<Integer> port(Problems p, String path, Object v) {
        if (!isIntegral(v)) {
            p.error(path, "port (second element) must be an integer, got " + Section.typeName(v));
            return Optional.empty();
        }
        long port = ((Number) v).longValue();
        if (port < 1 || port > 65_535 || v instanceof BigInteger) {
            p.error(path, "port must be between 1 and 65535, got " + v);
            return Optional.empty();
        }
        return Optional.of((int) port);
    }

    private static boolean isIntegral(Object v) {
        return v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte
                || v instanceof BigInteger;
    }
}
