package dev.pgfleet.admin.metrics;

import dev.pgfleet.shared.admin.ProxyStats;
import dev.pgfleet.shared.config.PgFleetConfig;
import dev.pgfleet.shared.health.HealthSnapshot;
import dev.pgfleet.shared.health.ServerHealth;
import dev.pgfleet.shared.health.ShardHealth;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Whether this instance should get clients (Kubernetes readiness, a TCP load balancer's check):
 * the proxy answers and listens and is not draining, a configuration is loaded, and each pool has
 * at least one server that answered its last health probe (banned or not: a banned replica still
 * answers, and the primary is never banned). A pure function of what one check gathered.
 */
record Readiness(boolean ready, List<String> reasons) {

    static Readiness of(ProxyStats stats, String statsError, PgFleetConfig config, HealthSnapshot health,
                        String healthError) {
        List<String> reasons = new ArrayList<>();
        if (stats == null) {
            reasons.add("the proxy does not answer STATS: " + statsError);
        } else {
            if (stats.draining()) {
                reasons.add("draining: shutting down, no new clients");
            }
            if (!stats.listening()) {
                reasons.add("the proxy is not listening");
            }
        }
        if (config == null) {
            reasons.add("no configuration loaded");
        } else if (health == null) {
            reasons.add("no health snapshot: " + healthError);
        } else if (health.version() == 0) {
            reasons.add("no health probe round yet");
        } else {
            for (String pool : config.pools().keySet()) {
                List<ShardHealth> shards = health.pools().get(pool);
                if (shards == null) {
                    reasons.add("pool " + pool + ": not probed yet");
                    continue;
                }
                List<ServerHealth> servers = shards.stream().flatMap(s -> s.servers().stream()).toList();
                if (servers.stream().noneMatch(ServerHealth::reachable)) {
                    reasons.add("pool " + pool + ": no server reachable ("
                            + servers.stream().map(h -> h.server() + ": " + h.error().orElse("down"))
                            .collect(Collectors.joining("; ")) + ")");
                }
            }
        }
        return new Readiness(reasons.isEmpty(), List.copyOf(reasons));
    }

    /** The body of /ready: "ready", or "not ready" and one reason a line. */
    String body() {
        return ready ? "ready\n" : "not ready\n" + String.join("\n", reasons) + "\n";
    }
}
