package dev.pgfleet.shared.config;

import java.time.Duration;
import java.util.Optional;

/** Binds one {@code [pools.<db>.users.<index>]} table, resolving overrides against its pool. */
final class UserBinder {

    private UserBinder() {
    }

    /** What a user inherits when it does not override it. */
    record Inherited(AuthType authType, PoolMode poolMode, Duration serverLifetime, Duration idleTimeout,
            Duration connectTimeout) {
    }

    static UserConfig bind(Section s, String index, Inherited from) {
        String username = s.requiredString("username");
        // PgCat allows no password when auth_query fetches hashes; PgFleet has no auth_query.
        String password = s.requiredString("password");
        AuthType authType = s.enumValue("auth_type", AuthType.class, from.authType());
        int poolSize = s.requiredInt("pool_size", 1, Integer.MAX_VALUE);
        int minPoolSize = s.integer("min_pool_size", Defaults.MIN_POOL_SIZE, 0, Integer.MAX_VALUE);
        if (minPoolSize > poolSize && s.has("pool_size")) {
            s.error("min_pool_size", "must not exceed pool_size (" + poolSize + "), got " + minPoolSize);
        }
        PoolMode poolMode = s.enumValue("pool_mode", PoolMode.class, from.poolMode());
        Duration statementTimeout = s.millis("statement_timeout", Defaults.STATEMENT_TIMEOUT);
        Optional<String> serverUsername = s.optString("server_username");
        Optional<String> serverPassword = s.optString("server_password");
        Duration serverLifetime = s.millis("server_lifetime", from.serverLifetime());
        Duration idleTimeout = s.millis("idle_timeout", from.idleTimeout());
        Duration connectTimeout = s.millis("connect_timeout", from.connectTimeout());
        s.reportUnknownKeys();
        return new UserConfig(index, username, password, authType, poolSize, minPoolSize, poolMode,
                statementTimeout, serverUsername.orElse(username), serverPassword.orElse(password),
                serverLifetime, idleTimeout, connectTimeout);
    }
}
