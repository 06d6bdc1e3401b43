/**
 * The routing table: what the router verticle decides from the configuration and the health
 * snapshots (pools, shards, servers, roles, weights, pool sizes), as immutable records, their
 * event-bus codec and addresses. The proxy reads it; neither module depends on the other.
 */
package dev.pgfleet.shared.routing;
