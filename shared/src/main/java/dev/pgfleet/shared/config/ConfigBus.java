package dev.pgfleet.shared.config;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;

/**
 * How a new configuration reaches the verticles of one instance: the config owner (admin-verticle's
 * {@code ConfigVerticle}) publishes each accepted configuration on {@link #APPLIED} as a
 * {@link ConfigEpoch}, and the router, the health verticle and the proxy apply what they own.
 * Local only: a configuration holds passwords and never crosses the cluster; the fleet sends
 * {@code RELOAD} instead and every member reads its own file.
 */
public final class ConfigBus {

    /** Publish: a {@link ConfigEpoch}, after the old one, epochs increasing. */
    public static final String APPLIED = "pgfleet.config.applied";

    /** Request-reply: the ConfigEpoch in force (for a verticle that starts late). */
    public static final String CURRENT = "pgfleet.config.current";

    private ConfigBus() {
    }

    /**
     * Registers the local codec of {@link ConfigEpoch} unless it is already: any verticle may call it.
     */
    public static synchronized void register(EventBus bus) {
        try {
            bus.registerDefaultCodec(ConfigEpoch.class, new LocalCodec());
        } catch (IllegalStateException alreadyRegistered) {
            // registered by another verticle of this process
        }
    }

    /**
     * The same instance within the process; refuses the wire, since the configuration holds
     * secrets (see the class comment).
     */
    static final class LocalCodec implements MessageCodec<ConfigEpoch, ConfigEpoch> {
        @Override
        public void encodeToWire(Buffer buffer, ConfigEpoch epoch) {
            throw new IllegalStateException("a configuration never crosses the cluster");
        }

        @Override
        public ConfigEpoch decodeFromWire(int pos, Buffer buffer) {
            throw new IllegalStateException("a configuration never crosses the cluster");
        }

        @Override
        public ConfigEpoch transform(ConfigEpoch epoch) {
            return epoch;
        }

        @Override
        public String name() {
            return "pgfleet.config.epoch.local";
        }

        @Override
        public byte systemCodecID() {
            return -1;
        }
    }
}
