package dev.pgfleet.shared.config;

import java.time.Duration;

/**
 * {@code [pools.<db>.users.<index>]}: a client login and the server pool it gets.
 * Settings PgCat lets a user override ({@code pool_mode}, {@code server_lifetime},
 * {@code idle_timeout}, {@code connect_timeout}) are already resolved against the pool and
 * {@code [general]}, so readers never fall back themselves. {@code serverUsername} and
 * {@code serverPassword} are resolved too: PgCat uses the client credentials when unset.
 *
 * @param index            the table key ({@code users.0} is "0")
 * @param poolSize         maximum server connections for this user in this pool
 * @param minPoolSize      idle server connections kept open (0 = none)
 * @param statementTimeout maximum query duration, {@link Duration#ZERO} = disabled
 */
public record UserConfig(
        String index,
        String username,
        String password,
        AuthType authType,
        int poolSize,
        int minPoolSize,
        PoolMode poolMode,
        Duration statementTimeout,
        String serverUsername,
        String serverPassword,
        Duration serverLifetime,
        Duration idleTimeout,
        Duration connectTimeout) {

    /** Never prints the passwords (STYLE.md: never log passwords). */
    @Override
    public String toString() {
        return "UserConfig[index=" + index + ", username=" + username + ", password=***, authType=" + authType
                + ", poolSize=" + poolSize + ", minPoolSize=" + minPoolSize + ", poolMode=" + poolMode
                + ", statementTimeout=" + statementTimeout + ", serverUsername=" + serverUsername
                + ", serverPassword=***, serverLifetime=" + serverLifetime + ", idleTimeout=" + idleTimeout
                + ", connectTimeout=" + connectTimeout + "]";
    }
}
