/**
 * The contracts of the control plane that the admin verticle, the proxy, the health verticle,
 * the router and the config owner share without depending on each other: the event-bus
 * addresses ({@link dev.pgfleet.shared.admin.AdminBus}), the command and reply messages
 * ({@link dev.pgfleet.shared.admin.AdminRequest}, {@link dev.pgfleet.shared.admin.AdminReply}),
 * and what the proxy reports about itself ({@link dev.pgfleet.shared.admin.ProxyStats}).
 *
 * <p>Every message on these addresses is a {@link io.vertx.core.json.JsonObject}: they are rare
 * (an admin command, a scrape a second), and JSON crosses a clustered event bus as it is, which
 * the fleet issue needs (a command on one instance's console reaches every member).
 */
package dev.pgfleet.shared.admin;
