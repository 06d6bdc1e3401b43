package dev.pgfleet.proxy;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the admin commands put in force for the data plane: PAUSE (all or some databases),
 * SUSPEND, DISABLE, RECONNECT's pools, draining. The hot path reads one volatile int,
 * {@link #flags}, where it read the draining flag before (at a transaction's start), and looks
 * further only when it is not zero. Written by {@link ProxyAdmin} (rarely), read by every loop.
 */
final class ProxyControl {

    static final int DRAINING = 1;
    static final int PAUSED = 2;
    static final int SUSPENDED = 4;

    /** Non-zero when something holds or ends transactions; the only volatile the hot path reads. */
    private volatile int flags;
    private volatile boolean pausedAll;
    private volatile boolean suspended;
    private final Set<String> pausedDatabases = ConcurrentHashMap.newKeySet();
    private final Set<String> disabledDatabases = ConcurrentHashMap.newKeySet();
    /** Sessions holding a transaction (or a login) until RESUME. */
    private final Set<ClientSession> held = ConcurrentHashMap.newKeySet();

    int flags() {
        return flags;
    }

    synchronized void draining() {
        flags |= DRAINING;
    }

    boolean pausedAll() {
        return pausedAll;
    }

    boolean suspended() {
        return suspended;
    }

    boolean paused(String database) {
        return pausedAll || pausedDatabases.contains(database);
    }

    /** Whether a transaction (or login) of {@code database} must wait now. */
    boolean holds(String database) {
        return suspended || paused(database);
    }

    boolean anyDatabasePaused() {
        return !pausedDatabases.isEmpty();
    }

    synchronized void pauseAll(boolean on) {
        pausedAll = on;
        update();
    }

    synchronized void pause(String database, boolean on) {
        if (on) {
            pausedDatabases.add(database);
        } else {
            pausedDatabases.remove(database);
        }
        update();
    }

    synchronized void suspend(boolean on) {
        suspended = on;
        update();
    }

    private void update() {
        int f = flags & DRAINING;
        if (pausedAll || !pausedDatabases.isEmpty()) {
            f |= PAUSED;
        }
        if (suspended) {
            f |= SUSPENDED;
        }
        flags = f;
    }

    boolean disabled(String database) {
        return !disabledDatabases.isEmpty() && disabledDatabases.contains(database);
    }

    void disable(String database, boolean on) {
        if (on) {
            disabledDatabases.add(database);
        } else {
            disabledDatabases.remove(database);
        }
    }

    void hold(ClientSession s) {
        held.add(s);
    }

    boolean unhold(ClientSession s) {
        return held.remove(s);
    }

    /** After a RESUME: every held session that nothing holds any more goes on, on its loop. */
    void releaseHeld() {
        for (ClientSession s : held) {
            if (!holds(s.database()) && held.remove(s)) {
                s.context().runOnContext(v -> s.resumeHeld());
            }
        }
    }
}
