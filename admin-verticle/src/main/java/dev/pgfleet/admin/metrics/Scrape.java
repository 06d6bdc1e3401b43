package dev.pgfleet.admin.metrics;

import dev.pgfleet.shared.admin.ProxyStats;
import io.vertx.core.json.JsonArray;

/**
 * What one scrape asked and got: the proxy's {@code STATS}, the health verticle's {@code HEALTH}
 * and {@code BANS} rows. A part that did not answer is null, and its reason is kept for the log;
 * the scrape still shows the rest (and {@code pgfleet_proxy_up} / {@code pgfleet_health_up} 0).
 */
record Scrape(ProxyStats stats, String statsError, JsonArray healthRows, JsonArray bans, String healthError) {
}
