package dev.pgfleet.proxy;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * Clients reading through the proxy in a loop ({@code SELECT inet_server_port()}, autocommit,
 * pgjdbc), counting reads per server port and recording each failed read with the time it
 * started. A client whose connection fails opens a new one and goes on.
 */
final class ReadLoad implements AutoCloseable {

    /** A read that failed: when it started ({@link System#nanoTime()}) and why. */
    record Failure(long startedNanos, SQLException error) {
        @Override
        public String toString() {
            return error.getSQLState() + " " + error.getMessage();
        }
    }

    private final ClusterProxy proxy;
    private final Map<Integer, LongAdder> byPort = new ConcurrentHashMap<>();
    private final List<Failure> failures = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopped;

    ReadLoad(ClusterProxy proxy, int clients) {
        this.proxy = proxy;
        for (int i = 0; i < clients; i++) {
            Thread t = new Thread(this::run, "read-load-" + i);
            t.setDaemon(true);
            threads.add(t);
        }
    }

    ReadLoad start() {
        threads.forEach(Thread::start);
        return this;
    }

    private void run() {
        while (!stopped) {
            try (Connection c = proxy.connect(); Statement st = c.createStatement()) {
                while (!stopped) {
                    long started = System.nanoTime();
                    try {
                        byPort.computeIfAbsent(ClusterProxy.readPort(st), k -> new LongAdder()).increment();
                    } catch (SQLException e) {
                        failures.add(new Failure(started, e));
                        break;   // the session is gone (the proxy closes it when its server dies): a new one
                    }
                }
            } catch (SQLException e) {
                failures.add(new Failure(System.nanoTime(), e));   // connecting failed
            }
        }
    }

    /** Reads served so far by the server on {@code port}. */
    long reads(int port) {
        LongAdder n = byPort.get(port);
        return n == null ? 0 : n.sum();
    }

    List<Failure> failures() {
        return List.copyOf(failures);
    }

    Map<Integer, Long> counts() {
        Map<Integer, Long> out = new java.util.TreeMap<>();
        byPort.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    @Override
    public void close() throws InterruptedException {
        stopped = true;
        for (Thread t : threads) {
            t.join(30_000);
        }
    }
}
