package dev.pgfleet.proxy;

import dev.pgfleet.shared.admin.ProxyStats;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One event loop's counters and connections, touched by that loop only (no lock): the counters
 * of each pool its clients use ({@link PoolCounters}), server connects per server pool, and the
 * client and server connections living on it (added at connect, removed at close, never per
 * message). {@link #snapshot} runs on the loop, so what it copies is exact.
 */
final class LoopStats {

    /** connects, connect errors of one server pool on this loop. */
    static final int CONNECTS = 0;
    static final int CONNECT_ERRORS = 1;

    private final Map<PoolRouting, PoolCounters> counters = new HashMap<>();
    private final Map<ServerPool, long[]> serverCounters = new HashMap<>();
    private final Set<ClientSession> clients = new LinkedHashSet<>();
    private final Set<ServerConnection> servers = new LinkedHashSet<>();

    /** This loop's counters of {@code routing}'s pool; looked up once per client login. */
    PoolCounters counters(PoolRouting routing) {
        PoolCounters c = counters.get(routing);
        if (c == null) {
            c = new PoolCounters();
            counters.put(routing, c);
        }
        return c;
    }

    /** This loop's connect counters of {@code pool} (see {@link #CONNECTS}); looked up per connect. */
    long[] serverCounters(ServerPool pool) {
        return serverCounters.computeIfAbsent(pool, p -> new long[2]);
    }

    void clientOpened(ClientSession s) {
        clients.add(s);
    }

    void clientClosed(ClientSession s) {
        clients.remove(s);
    }

    void serverOpened(ServerConnection c) {
        servers.add(c);
    }

    void serverClosed(ServerConnection c) {
        servers.remove(c);
    }

    Set<ClientSession> clients() {
        return clients;
    }

    Set<ServerConnection> servers() {
        return servers;
    }

    /** Client gauges of a pool on this loop. */
    static final class ClientGauges {
        int active;
        int waiting;
        int idle;
        long maxWaitMicros;
    }

    /** Server gauges and connect counters of a server pool on this loop. */
    static final class ServerGauges {
        int active;
        int idle;
        int used;
        int tested;
        int login;
        long connects;
        long connectErrors;
        /** Server name (pgfleet_N) -> connections of this pool on this loop that have it. */
        final Map<String, Integer> prepared = new HashMap<>();
    }

    /** What one loop reported, copied on that loop. */
    record Snapshot(Map<PoolRouting, PoolCounters> counters, Map<PoolRouting, ClientGauges> clientGauges,
                                    Map<ServerPool, ServerGauges> serverGauges, List<ProxyStats.ConnectionStats> clients,
                                    List<ProxyStats.ConnectionStats> servers) {
    }

    /**
     * Copies this loop's counters and reads its connections. Call on the loop.
     *
     * @param names (database, user) of each server pool, for the server rows
     */
    Snapshot snapshot(Map<ServerPool, String[]> names, boolean withStatements) {
        long now = System.nanoTime();
        Map<PoolRouting, PoolCounters> copies = new HashMap<>();
        counters.forEach((r, c) -> copies.put(r, c.copy()));
        Map<PoolRouting, ClientGauges> cg = new HashMap<>();
        List<ProxyStats.ConnectionStats> clientRows = new ArrayList<>(clients.size());
        for (ClientSession s : clients) {
            PoolRouting r = s.statsRouting();
            String state = s.statsState();
            if (r != null) {
                ClientGauges g = cg.computeIfAbsent(r, k -> new ClientGauges());
                switch (state) {
                    case "waiting" -> {
                        g.waiting++;
                        g.maxWaitMicros = Math.max(g.maxWaitMicros, s.waitedMicros(now));
                    }
                    case "active" -> g.active++;
                    case "idle" -> {
                        g.active++;   // PgBouncer's cl_active counts clients idle between transactions too
                        g.idle++;
                    }
                    default -> {
                    }
                }
            }
            clientRows.add(s.connectionStats(now, state));
        }
        Map<ServerPool, ServerGauges> sg = new HashMap<>();
        serverCounters.forEach((p, c) -> {
            ServerGauges g = sg.computeIfAbsent(p, k -> new ServerGauges());
            g.connects = c[CONNECTS];
            g.connectErrors = c[CONNECT_ERRORS];
        });
        List<ProxyStats.ConnectionStats> serverRows = new ArrayList<>(servers.size());
        for (ServerConnection c : servers) {
            String state = c.statsState(now);
            if (state == null) {
                continue;
            }
            ServerGauges g = sg.computeIfAbsent(c.pool(), k -> new ServerGauges());
            switch (state) {
                case "active" -> g.active++;
                case "idle" -> g.idle++;
                case "used" -> g.used++;
                case "tested" -> g.tested++;
                default -> g.login++;
            }
            if (withStatements) {
                c.forEachPrepared(name -> g.prepared.merge(name, 1, Integer::sum));
            }
            String[] name = names.getOrDefault(c.pool(), new String[] {"", ""});
            serverRows.add(c.connectionStats(now, state, name[0], name[1]));
        }
        return new Snapshot(copies, cg, sg, clientRows, serverRows);
    }
}
