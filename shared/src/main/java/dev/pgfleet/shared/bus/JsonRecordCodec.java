package dev.pgfleet.shared.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

/**
 * The event-bus codec shape of PgFleet's immutable control-plane records (health snapshots,
 * routing tables). Within one process a record travels as the same instance: {@link #transform}
 * returns it. Across the cluster it travels as a format byte, a length and a JSON document; a node
 * that reads a format it does not know fails loudly rather than guess (a newer PgFleet in the
 * fleet). Subclasses give the name (versioned with the format) and the JSON mapping.
 *
 * @param <T> the record type
 */
public abstract class JsonRecordCodec<T> implements MessageCodec<T, T> {

    private final String name;
    private final byte format;

    protected JsonRecordCodec(String name, byte format) {
        this.name = name;
        this.format = format;
    }

    /**
     * Registers {@code codec} as the default for {@code type} on {@code bus}, unless a codec already
     * is: several verticles of one node may call it.
     *
     * @return whether this call registered it
     */
    protected static synchronized <T> boolean registerDefault(EventBus bus, Class<T> type, JsonRecordCodec<T> codec) {
        try {
            bus.registerDefaultCodec(type, codec);
            return true;
        } catch (IllegalStateException alreadyRegistered) {
            return false;
        }
    }

    /** The wire form (what may cross the cluster). */
    protected abstract JsonObject json(T value);

    protected abstract T value(JsonObject json);

    @Override
    public final void encodeToWire(Buffer buffer, T value) {
        Buffer json = json(value).toBuffer();
        buffer.appendByte(format).appendInt(json.length()).appendBuffer(json);
    }

    @Override
    public final T decodeFromWire(int pos, Buffer buffer) {
        byte got = buffer.getByte(pos);
        if (got != format) {
            throw new IllegalStateException(name + ": unknown format " + got + " (a newer PgFleet in the fleet?)");
        }
        int length = buffer.getInt(pos + 1);
        return value(new JsonObject(buffer.getBuffer(pos + 5, pos + 5 + length)));
    }

    @Override
    public final T transform(T value) {
        return value;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final byte systemCodecID() {
        return -1;
    }
}
