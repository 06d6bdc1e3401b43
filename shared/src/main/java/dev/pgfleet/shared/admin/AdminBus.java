package dev.pgfleet.shared.admin;

/**
 * Event-bus addresses of the control plane, one per command family. Each takes an
 * {@link AdminRequest} as a JsonObject ({@link AdminRequest#toJson}) and answers with an
 * {@link AdminReply} as a JsonObject ({@link AdminReply#toJson}); a command that fails is a reply
 * with a SQLSTATE, never a failed message, so that the console can show PostgreSQL's error.
 *
 * <p>Standalone, each address has one consumer in the process (a local consumer). The fleet
 * issue publishes the same requests to every member and collects one reply per member, so a
 * reply names what this instance did and never assumes it is alone.
 */
public final class AdminBus {

    /**
     * The proxy (every pool of this instance). Commands: {@code STATS} (data: a
     * {@link ProxyStats} as JSON), {@code PAUSE [db]}, {@code RESUME [db]}, {@code SUSPEND},
     * {@code RECONNECT [db]}, {@code KILL db}, {@code KILL_CLIENT id}, {@code WAIT_CLOSE [db]},
     * {@code DISABLE db}, {@code ENABLE db}, {@code SHUTDOWN [WAIT_FOR_SERVERS|WAIT_FOR_CLIENTS]}.
     * Arguments are the words after the command, as the console read them (identifiers already
     * unquoted). PAUSE and WAIT_CLOSE reply once done (all transactions ended, all server
     * connections closed), as PgBouncer's console returns then.
     */
    public static final String PROXY = "pgfleet.admin.proxy";

    /**
     * Health and bans. Commands: {@code BAN host:port [seconds]}, {@code UNBAN host:port},
     * {@code BANS} (data: {@code {"rows": [...]}}), {@code HEALTH} (data: {@code {"rows": [...]}}).
     *
     * <p>BANS rows: {@code server} ("host:port"), {@code reason}, {@code since}, {@code expires}
     * (ISO-8601 instants). HEALTH rows, one per server of each shard of each pool:
     * {@code pool}, {@code shard} (int), {@code database}, {@code server}, {@code role} (as the
     * probes found it: "primary", "replica", "unknown"), {@code configured_role}, {@code up},
     * {@code lag_bytes} and {@code lag_ms} (long, null when unknown), {@code last_probe} (ISO-8601),
     * {@code last_error} (null when it answered), {@code banned}, {@code serves_reads},
     * {@code lagging}, {@code probes_ok}, {@code probes_failed}, {@code probes_inconclusive}
     * (counters since the server entered the configuration). BAN's data: {@code server},
     * {@code seconds}, {@code snapshot_version}; UNBAN's: {@code server}, {@code was_banned}.
     * An unknown server is 42704, bad arguments 42601, a ban of zero or fewer seconds 22023.
     */
    public static final String HEALTH = "pgfleet.admin.health";

    /**
     * The configuration's owner. Commands: {@code RELOAD}, {@code SET key value},
     * {@code CONFIG} (data: {@code {"rows": [{"key","value","default","changeable","source"}...]}}).
     * RELOAD's reply says what changed, what needs a restart, or why the file was refused.
     */
    public static final String CONFIG = "pgfleet.admin.config";

    private AdminBus() {
    }
}
