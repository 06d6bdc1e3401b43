package dev.pgfleet.shared.routing;

import java.time.Duration;

/**
 * What a server pool of one (pool, user, server) is held to; changeable at run time: a new table
 * resizes the pools in place (see the proxy's ServerPool).
 *
 * @param poolSize           pool_size: most server connections open at once
 * @param minPoolSize        min_pool_size, kept open on the primary's pool
 * @param idleTimeout        idle_timeout, resolved against the pool and [general]; ZERO = never
 * @param serverLifetime     server_lifetime; ZERO = forever
 * @param healthcheckDelay   an idle connection unused this long is checked before it is handed out
 * @param healthcheckTimeout time given to that check
 */
public record PoolSettings(int poolSize, int minPoolSize, Duration idleTimeout, Duration serverLifetime,
                           Duration healthcheckDelay, Duration healthcheckTimeout) {
}
