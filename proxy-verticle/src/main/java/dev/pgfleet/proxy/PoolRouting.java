package dev.pgfleet.proxy;

import dev.pgfleet.router.LoadBalancer;
import dev.pgfleet.router.Route;
import dev.pgfleet.shared.config.DefaultRole;
import java.util.List;

/**
 * The server pools one (database, user) can use: the primary's, and one per replica, with
 * the pool's routing settings. A transaction goes to the primary unless read/write splitting
 * (query_parser_enabled and query_parser_read_write_splitting) sends a read to a replica,
 * chosen by the load balancer. Named prepared statements are shared by all of them: each
 * server connection tracks which it has.
 *
 * <p>Health (bans, lag) is not consulted yet: every replica counts as usable.
 */
final class PoolRouting {

  final ServerPool primary;
  final List<ServerPool> replicas;
  final PreparedStatements statements = new PreparedStatements();
  final boolean splitting;
  final DefaultRole defaultRole;
  final boolean primaryReads;
  private final LoadBalancer balancer;

  PoolRouting(ServerPool primary, List<ServerPool> replicas, boolean splitting, DefaultRole defaultRole,
              boolean primaryReads, LoadBalancer.Mode mode) {
    this.primary = primary;
    this.replicas = replicas;
    this.splitting = splitting && !replicas.isEmpty();
    this.defaultRole = defaultRole;
    this.primaryReads = primaryReads;
    this.balancer = new LoadBalancer(mode);
  }

  /**
   * The pool for a transaction routed to {@code route}; {@code primaryReads} (the session's
   * SET PRIMARY READS, else the pool's primary_reads_enabled) puts the primary among the
   * candidates for reads.
   */
  ServerPool pick(Route route, boolean primaryReads) {
    if (route == Route.ANY) {
      route = switch (defaultRole) {
        case PRIMARY -> Route.PRIMARY;
        case REPLICA -> Route.REPLICA;
        case ANY -> Route.ANY;
      };
    }
    if (route == Route.PRIMARY || replicas.isEmpty()) {
      return primary;
    }
    boolean withPrimary = route == Route.ANY || primaryReads;
    int n = replicas.size() + (withPrimary ? 1 : 0);
    int i = balancer.pick(new LoadBalancer.Candidates() {
      @Override
      public int size() {
        return n;
      }

      @Override
      public boolean healthy(int index) {
        return true;
      }

      @Override
      public int outstanding(int index) {
        ServerPool p = index < replicas.size() ? replicas.get(index) : primary;
        return p.size() - p.idle();
      }
    });
    return i == LoadBalancer.NONE || i >= replicas.size() ? primary : replicas.get(i);
  }
}
