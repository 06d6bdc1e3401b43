package dev.pgfleet.health;

import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.UserConfig;

/**
 * The login a pool's servers are probed with. PgCat probes with the pool's first user's server
 * credentials; {@link #firstUser()} does the same. The proxy integrator may pass another rule.
 */
@FunctionalInterface
public interface ProbeCredentials {

    Login forPool(PoolConfig pool);

    /** {@code server_username}/{@code server_password} of the pool's first user (PgCat's choice). */
    static ProbeCredentials firstUser() {
        return pool -> {
            UserConfig user = pool.users().get(0);
            return new Login(user.serverUsername(), user.serverPassword());
        };
    }

    /**
     * {@code healthcheck_user}/{@code healthcheck_password} when set, else {@link #firstUser()}:
     * what a process built from the configuration probes with.
     */
    static ProbeCredentials configured(dev.pgfleet.shared.config.HealthProbe probe) {
        return probe.user().isPresent() ? fixed(probe.user().get(), probe.password().orElse(null)) : firstUser();
    }

    /** The same login for every pool (tests, a dedicated monitoring role). */
    static ProbeCredentials fixed(String user, String password) {
        Login login = new Login(user, password);
        return pool -> login;
    }

    /** A PostgreSQL login; {@code password} may be null (trust). */
    record Login(String user, String password) {
        /** Never prints the password (STYLE.md). */
        @Override
        public String toString() {
            return "Login[user=" + user + ", password=***]";
        }
    }
}
