package dev.pgfleet.health;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;

import java.util.Objects;

/**
 * The in-process window on health, one per {@link Vertx} instance: the newest
 * {@link HealthSnapshot} and the {@link BanRegistry}. Both are read through volatile fields, no
 * lock, so the proxy's event loops can read them on every checkout.
 *
 * <pre>{@code
 * HealthView health = HealthView.of(vertx);          // once, e.g. in ProxyVerticle.start()
 * ShardHealth shard = health.current().shard(pool, 0).orElse(null);   // per checkout
 * health.bans().ban(server, banTime, "connect failed: ...");          // on a failed connect
 * }</pre>
 *
 * Held in the Vert.x instance's local shared data, so every verticle of that instance finds the
 * same view without wiring, and two Vert.x instances in one JVM (tests) do not mix.
 */
public final class HealthView implements Shareable {

    private static final String MAP = "pgfleet.health";
    private static final String KEY = "view";

    private volatile HealthSnapshot current = HealthSnapshot.EMPTY;
    private volatile BanRegistry bans;

    public HealthView(BanRegistry bans) {
        this.bans = Objects.requireNonNull(bans, "bans");
    }

    /** The view of {@code vertx}, created on first use with a {@link LocalBanRegistry}. */
    public static HealthView of(Vertx vertx) {
        LocalMap<String, HealthView> views = vertx.sharedData().getLocalMap(MAP);
        HealthView view = views.get(KEY);
        if (view == null) {
            HealthView fresh = new HealthView(new LocalBanRegistry());
            HealthView raced = views.putIfAbsent(KEY, fresh);
            view = raced != null ? raced : fresh;
        }
        return view;
    }

    /** The newest snapshot; {@link HealthSnapshot#EMPTY} until the first probe round ends. */
    public HealthSnapshot current() {
        return current;
    }

    /**
     * The bans of this process (of the fleet, once clustered). Ask this method each time rather
     * than keeping the result: a {@link HealthVerticle} given its own registry installs it here
     * when it starts.
     */
    public BanRegistry bans() {
        return bans;
    }

    void publish(HealthSnapshot snapshot) {
        current = snapshot;
    }

    void useBans(BanRegistry registry) {
        bans = Objects.requireNonNull(registry, "registry");
    }
}
