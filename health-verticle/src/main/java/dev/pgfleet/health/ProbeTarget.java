package dev.pgfleet.health;

import dev.pgfleet.shared.config.ServerTlsMode;
import dev.pgfleet.shared.health.ServerKey;

/**
 * One thing to probe: a server, the database and login a pool uses on it. Pools that share all
 * four share the probe. The password takes part in equality (a changed password is a new probe)
 * and never in {@link #toString()}.
 */
record ProbeTarget(ServerKey server, String database, ProbeCredentials.Login login, ServerTlsMode tlsMode) {

    @Override
    public String toString() {
        return login.user() + "@" + server + "/" + database;
    }
}
