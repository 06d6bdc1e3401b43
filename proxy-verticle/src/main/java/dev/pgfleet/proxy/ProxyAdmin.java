package dev.pgfleet.proxy;

import dev.pgfleet.shared.admin.AdminReply;
import dev.pgfleet.shared.admin.AdminRequest;
import dev.pgfleet.shared.admin.ProxyStats;
import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.PoolMode;
import dev.pgfleet.shared.config.UserConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's side of the control plane: the consumer of {@link dev.pgfleet.shared.admin.AdminBus#PROXY}.
 * Every request is answered with an {@link AdminReply} (a failed command is a reply with a
 * SQLSTATE). STATS runs a task on every event loop that copies that loop's counters and reads
 * its connections ({@link LoopStats#snapshot}), then merges them here: exact numbers, nothing
 * shared written by the data plane.
 */
final class ProxyAdmin {

  private static final Logger log = LoggerFactory.getLogger(ProxyAdmin.class);

  private final Vertx vertx;
  private final ProxyRuntime runtime;

  ProxyAdmin(Vertx vertx, ProxyRuntime runtime) {
    this.vertx = vertx;
    this.runtime = runtime;
  }

  void handle(Message<JsonObject> message) {
    AdminRequest request;
    try {
      request = AdminRequest.fromJson(message.body());
    } catch (RuntimeException e) {
      message.reply(AdminReply.error("42601", "malformed admin request: " + e.getMessage()).toJson());
      return;
    }
    Future<AdminReply> reply;
    try {
      reply = execute(request);
    } catch (RuntimeException e) {
      log.warn("admin command {} failed", request.command(), e);
      reply = Future.succeededFuture(AdminReply.error("XX000", request.command() + " failed: " + e));
    }
    reply.onComplete(ar -> message.reply((ar.succeeded() ? ar.result()
      : AdminReply.error("XX000", request.command() + " failed: " + ar.cause())).toJson()));
  }

  Future<AdminReply> execute(AdminRequest request) {
    switch (request.command()) {
      case "STATS":
        return stats().map(s -> AdminReply.ok("STATS", s.toJson()));
      default:
        return Future.succeededFuture(AdminReply.error("42601", "unknown proxy command: " + request.command()));
    }
  }

  /** One snapshot of every loop, merged. */
  Future<ProxyStats> stats() {
    Map<ServerPool, String[]> names = new HashMap<>();
    List<Pool> pools = pools();
    for (Pool p : pools) {
      for (ServerPool sp : p.routing.servers) {
        names.put(sp, new String[] {p.database, p.user.username()});
      }
    }
    List<Future<LoopStats.Snapshot>> parts = new ArrayList<>();
    for (ProxyVerticle v : runtime.verticles()) {
      Promise<LoopStats.Snapshot> part = Promise.promise();
      v.loopContext().runOnContext(x -> {
        try {
          part.complete(v.stats().snapshot(names, true));
        } catch (RuntimeException e) {
          part.fail(e);
        }
      });
      parts.add(part.future());
    }
    io.vertx.core.Context here = vertx.getOrCreateContext();
    Promise<ProxyStats> done = Promise.promise();
    Future.all(parts).onComplete(ar -> here.runOnContext(x -> {
      if (ar.failed()) {
        done.fail(ar.cause());
      } else {
        done.complete(merge(pools, ar.result().list()));
      }
    }));
    return done.future();
  }

  /** A configured (database, user) pool and its routing, in configuration order. */
  private record Pool(String database, PoolConfig config, UserConfig user, PoolRouting routing) {
  }

  private List<Pool> pools() {
    List<Pool> out = new ArrayList<>();
    for (PoolConfig p : runtime.config().pools().values()) {
      for (UserConfig u : p.users()) {
        PoolRouting r = runtime.existingRouting(p.name(), u.username());
        if (r != null) {
          out.add(new Pool(p.name(), p, u, r));
        }
      }
    }
    return out;
  }

  private ProxyStats merge(List<Pool> pools, List<LoopStats.Snapshot> loops) {
    List<ProxyStats.PoolStats> poolRows = new ArrayList<>();
    List<ProxyStats.ConnectionStats> clients = new ArrayList<>();
    List<ProxyStats.ConnectionStats> servers = new ArrayList<>();
    List<ProxyStats.StatementStats> statements = new ArrayList<>();
    for (LoopStats.Snapshot s : loops) {
      clients.addAll(s.clients());
      servers.addAll(s.servers());
    }
    for (Pool p : pools) {
      PoolCounters c = new PoolCounters();
      int clActive = 0;
      int clWaiting = 0;
      int clIdle = 0;
      long maxWait = 0;
      for (LoopStats.Snapshot s : loops) {
        PoolCounters lc = s.counters().get(p.routing);
        if (lc != null) {
          c.add(lc);
        }
        LoopStats.ClientGauges g = s.clientGauges().get(p.routing);
        if (g != null) {
          clActive += g.active;
          clWaiting += g.waiting;
          clIdle += g.idle;
          maxWait = Math.max(maxWait, g.maxWaitMicros);
        }
      }
      List<ProxyStats.ServerPoolStats> serverRows = new ArrayList<>();
      int[] sv = new int[5];
      long connects = 0;
      long connectErrors = 0;
      Map<String, Integer> prepared = new HashMap<>();
      ServerPool primary = p.routing.primary;
      for (ServerPool sp : p.routing.servers) {
        int[] g = new int[5];
        long spConnects = 0;
        long spErrors = 0;
        for (LoopStats.Snapshot s : loops) {
          LoopStats.ServerGauges lg = s.serverGauges().get(sp);
          if (lg != null) {
            g[0] += lg.active;
            g[1] += lg.idle;
            g[2] += lg.used;
            g[3] += lg.tested;
            g[4] += lg.login;
            spConnects += lg.connects;
            spErrors += lg.connectErrors;
            lg.prepared.forEach((name, n) -> prepared.merge(name, n, Integer::sum));
          }
        }
        for (int i = 0; i < 5; i++) {
          sv[i] += g[i];
        }
        connects += spConnects;
        connectErrors += spErrors;
        serverRows.add(new ProxyStats.ServerPoolStats(sp.server().host() + ":" + sp.server().port(), 0,
          sp == primary ? "primary" : "replica", g[0], g[1], g[2], g[3], g[4], spConnects, spErrors));
      }
      PoolMode mode = p.user.poolMode() != null ? p.user.poolMode() : p.config.poolMode();
      poolRows.add(new ProxyStats.PoolStats(p.database, p.user.username(), mode.configName(), false, false,
        primary.maxSize(), p.user.minPoolSize(), clActive, clWaiting, clIdle, 0, 0, sv[0], 0, 0, sv[1], sv[2], sv[3],
        sv[4], maxWait, c.serverAssignments, c.xacts, c.queries, c.bytesReceived, c.bytesSent, c.xactMicros,
        c.queryMicros, c.waitMicros, c.clientParses, c.serverParses, c.binds, connects, connectErrors, c.preparedHits,
        c.preparedMisses, c.preparedEvictions, c.errorsByClassMap(), c.xactBuckets, c.queryBuckets, serverRows));
      for (PreparedStatements.Statement st : p.routing.statements.all()) {
        statements.add(new ProxyStats.StatementStats(p.database, p.user.username(), st.serverName(), st.query(),
          parameterTypes(st.parameterTypes()), prepared.getOrDefault(st.serverName(), 0)));
      }
    }
    boolean draining = runtime.shuttingDown();
    return new ProxyStats(runtime.instanceId(), runtime.startedAtMillis(), System.currentTimeMillis(), !draining,
      draining, false, runtime.clientCount(), runtime.config().general().maxClientConn(), poolRows, clients, servers,
      statements);
  }

  /** Parse's parameter type OIDs, as kept: an int16 count, then an int32 per parameter. */
  private static List<Integer> parameterTypes(byte[] raw) {
    List<Integer> out = new ArrayList<>(raw.length / 4);
    for (int i = 2; i + 3 < raw.length; i += 4) {
      out.add(((raw[i] & 0xFF) << 24) | ((raw[i + 1] & 0xFF) << 16) | ((raw[i + 2] & 0xFF) << 8) | (raw[i + 3] & 0xFF));
    }
    return out;
  }
}
