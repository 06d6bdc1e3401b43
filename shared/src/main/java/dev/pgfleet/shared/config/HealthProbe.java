package dev.pgfleet.shared.config;

import java.time.Duration;
import java.util.Optional;

/**
 * How the background health probe logs in and how often it tries before a failure counts
 * ({@code [general]} keys {@code healthcheck_*}; PgFleet additions, named in PgCat's style after
 * pgpool's {@code health_check_user}, {@code health_check_database},
 * {@code health_check_max_retries} and {@code health_check_retry_delay}).
 *
 * @param user       {@code healthcheck_user}; empty: each pool's first user's server login (PgCat)
 * @param password   {@code healthcheck_password}, with {@code healthcheck_user}
 * @param database   {@code healthcheck_database}; empty: each shard's own database
 * @param maxRetries {@code healthcheck_max_retries}: probes repeated after a failure before the
 *                   server counts as failed (and a replica is banned)
 * @param retryDelay {@code healthcheck_retry_delay}: the wait before each retry (ms)
 */
public record HealthProbe(Optional<String> user, Optional<String> password, Optional<String> database,
                          int maxRetries, Duration retryDelay) {

    /** Never prints the password (STYLE.md). */
    @Override
    public String toString() {
        return "HealthProbe[user=" + user + ", password=" + (password.isPresent() ? "***" : "(none)")
                + ", database=" + database + ", maxRetries=" + maxRetries + ", retryDelay=" + retryDelay + "]";
    }
}
