package dev.pgfleet.dist;

import dev.pgfleet.shared.config.PoolConfig;
import dev.pgfleet.shared.config.ServerConfig;
import dev.pgfleet.shared.config.ShardConfig;
import java.util.Locale;

/** What {@code pgfleet demo} prints once it is up: how to connect and what to try. */
final class DemoBanner {

    private DemoBanner() {
    }

    static String text(Demo demo) {
        ProxyNode node = demo.node();
        StringBuilder sb = new StringBuilder("\n");
        sb.append(String.format(Locale.ROOT, "PgFleet demo is up (started in %.1f s).%n%n",
                demo.startupTime().toMillis() / 1000.0));
        sb.append("Connect with psql:\n");
        for (String pool : demo.config().pools().keySet()) {
            sb.append("  psql \"").append(url(node, pool)).append("\"\n");
        }
        sb.append("Open the admin console (SHOW POOLS; SHOW STATS; SHOW HELP lists the commands):\n");
        sb.append("  psql \"").append(consoleUrl(node, demo.config())).append("\"\n");
        sb.append("""

                Then try:
                  SELECT count(*) FROM users;
                  SELECT u.email, sum(p.amount) AS total FROM users u JOIN payments p ON p.user_id = u.id
                    GROUP BY u.email ORDER BY total DESC LIMIT 3;
                  SELECT inet_server_port(), pg_is_in_recovery();  -- which PostgreSQL server answered

                PostgreSQL servers behind it:
                """);
        for (PoolConfig pool : demo.config().pools().values()) {
            for (ShardConfig shard : pool.shards()) {
                for (ServerConfig server : shard.servers()) {
                    sb.append(String.format(Locale.ROOT, "  %-8s shard %d  %-8s %s/%s%n", pool.name(), shard.index(),
                            server.role().configName(), server.address(), shard.database()));
                }
            }
        }
        sb.append("\nCtrl-C to stop (stops PgFleet and every PostgreSQL server).\n");
        return sb.toString();
    }

    /** The demo's admin login (its file's admin_username and admin_password) on database pgfleet. */
    static String consoleUrl(ProxyNode node, dev.pgfleet.shared.config.PgFleetConfig config) {
        return "postgres://" + config.general().adminUsername() + ":" + config.general().adminPassword() + "@"
                + node.host() + ":" + node.port() + "/pgfleet";
    }

    static String url(ProxyNode node, String database) {
        return "postgres://" + DemoSchema.USER + ":" + DemoSchema.PASSWORD + "@" + node.host() + ":" + node.port()
                + "/" + database;
    }
}
