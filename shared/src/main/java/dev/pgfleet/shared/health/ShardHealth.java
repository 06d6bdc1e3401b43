package dev.pgfleet.shared.health;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The health of one shard of one pool, as of one probe round. Immutable.
 *
 * <p>Reads: {@link #readReplicas()} are the standbys fit for reads: reachable, not banned, within
 * the pool's lag limits, in configuration order. When there is none, {@link #readTargets()} falls
 * back to the primary (if reachable). PgCat, when every replica is banned, clears the ban list
 * and tries them all again; PgFleet sends reads to the primary instead, because the bans and the
 * lag are evidence: a replica that failed its probe would fail the client too, and a lagging one
 * would serve stale rows, while the primary is known to answer and is never stale. Bans still
 * expire after {@code ban_time} and lagging replicas come back on their first probe under the
 * limits, so the fallback lasts only as long as the evidence.
 *
 * @param pool         the pool name ({@code [pools.<name>]})
 * @param index        the shard index
 * @param database     the PostgreSQL database of the shard
 * @param primary      the server that takes writes: the one reachable and out of recovery
 *                     (role {@code primary} first, then role {@code auto}); else the configured
 *                     primary, or the last one seen, even unreachable; empty when none is known.
 *                     Never removed for a ban: a failed primary shows as {@code primaryReachable}
 *                     false
 * @param primaryReachable whether the primary answered its last probe out of recovery
 * @param servers      every server of the shard with its last probe, in configuration order
 * @param readReplicas standbys usable for reads, with lag under the limits
 * @param lagging      reachable, unbanned standbys over {@code max_replica_lag_bytes} or
 *                     {@code max_replica_lag_ms}: no reads until a probe finds them under both
 * @param banned       servers other than the primary that are banned in the {@link BanRegistry}
 *                     or failed their last probe
 */
public record ShardHealth(
        String pool,
        int index,
        String database,
        Optional<ServerKey> primary,
        boolean primaryReachable,
        List<ServerHealth> servers,
        List<ServerKey> readReplicas,
        List<ServerKey> lagging,
        List<ServerKey> banned) {

    public ShardHealth {
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(primary, "primary");
        servers = List.copyOf(servers);
        readReplicas = List.copyOf(readReplicas);
        lagging = List.copyOf(lagging);
        banned = List.copyOf(banned);
    }

    /**
     * Where reads may go: the usable replicas; when none is left, the primary if it answers
     * (see the class comment for why not PgCat's "clear the bans"); else nothing.
     */
    public List<ServerKey> readTargets() {
        if (!readReplicas.isEmpty()) {
            return readReplicas;
        }
        return primaryReachable ? List.of(primary.orElseThrow()) : List.of();
    }

    /** True when reads fall back to the primary because no replica is usable. */
    public boolean readsOnPrimary() {
        return readReplicas.isEmpty() && primaryReachable;
    }

    /** The last probe of {@code server}, if it belongs to this shard. */
    public Optional<ServerHealth> health(ServerKey server) {
        return servers.stream().filter(h -> h.server().equals(server)).findFirst();
    }
}
