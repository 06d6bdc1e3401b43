package dev.pgfleet.shared.routing;

import dev.pgfleet.shared.config.PoolMode;

/**
 * A user of a pool as routing sees it: the login PgFleet uses toward the servers and the size and
 * timeouts of its server pools. No password: those stay in the configuration.
 *
 * @param serverUsername the role PgFleet logs in as (server_username, else the username)
 * @param poolMode       the user's pool_mode, resolved against the pool's
 */
public record UserRoute(String username, String serverUsername, PoolMode poolMode, PoolSettings settings) {
}
