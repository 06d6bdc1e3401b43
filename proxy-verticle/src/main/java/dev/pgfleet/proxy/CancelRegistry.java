package dev.pgfleet.proxy;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BackendKeyData PgFleet gives its clients: its own process id and secret per client,
 * never a server's, so that a CancelRequest reaches the server connection that runs that
 * client's query now (PostgreSQL docs, "Canceling Requests in Progress").
 */
final class CancelRegistry {

    private final SecureRandom random = new SecureRandom();
    private final ConcurrentHashMap<Integer, ClientSession> sessions = new ConcurrentHashMap<>();

    /** Registers a session under a fresh, unique process id; returns the id. */
    int register(ClientSession session) {
        while (true) {
            // Positive ids look like real PIDs to clients that print them.
            int pid = random.nextInt(Integer.MAX_VALUE - 1) + 1;
            if (sessions.putIfAbsent(pid, session) == null) {
                return pid;
            }
        }
    }

    int newSecret() {
        return random.nextInt();
    }

    void unregister(int pid, ClientSession session) {
        sessions.remove(pid, session);
    }

    /** The session the key names, if the secret matches (compared in constant time). */
    ClientSession lookup(int pid, int secret) {
        ClientSession s = sessions.get(pid);
        if (s == null) {
            return null;
        }
        byte[] a = intBytes(s.cancelSecret());
        byte[] b = intBytes(secret);
        return MessageDigest.isEqual(a, b) ? s : null;
    }

    int size() {
        return sessions.size();
    }

    private static byte[] intBytes(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }
}
