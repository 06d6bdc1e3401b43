package dev.pgfleet.shared.health;

import java.time.Instant;

/**
 * One server kept out of rotation until {@code until}.
 *
 * @param since  when the ban was placed (or last extended)
 * @param reason why, for logs and the admin console; never holds a password
 */
public record Ban(ServerKey server, Instant since, Instant until, String reason) {
}
