package dev.pgfleet.proxy;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The decisions of two-phase commits, an append-only file of one line per record:
 * {@code COMMIT <id>} once every shard of the transaction {@code id} answered PREPARE TRANSACTION
 * (written and forced to disk before the first COMMIT PREPARED is sent), {@code DONE <id>} once
 * every shard committed (not forced: a lost DONE only makes recovery look again). No record means
 * the transaction rolls back. Only whole lines count: a COMMIT torn by a crash was never forced,
 * so nothing acted on it. A shard's prepared transaction is named {@code <id>_<shard>}.
 *
 * <p>Opening it reads the file, keeps the COMMIT records without DONE and rewrites the file with
 * only those (compaction, through a temporary file renamed over it). Writes are blocking file I/O:
 * they run on one thread of the log's own, never on an event loop; the records waiting when the
 * thread wakes are written together and forced once (a group commit).
 */
final class TwoPhaseLog implements AutoCloseable {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(TwoPhaseLog.class);

    private record Pending(String line, boolean force, Context context, Promise<Void> done) {
    }

    /** A request to stop the writer thread. */
    private static final Pending STOP = new Pending("", false, null, null);

    private final Path file;
    private final FileChannel channel;
    /** Ids with a COMMIT record and no DONE: what recovery commits. */
    private final Set<String> committed = ConcurrentHashMap.newKeySet();
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread writer;

    private TwoPhaseLog(Path file, FileChannel channel, Set<String> committed) {
        this.file = file;
        this.channel = channel;
        this.committed.addAll(committed);
        this.writer = new Thread(this::writeLoop, "pgfleet-2pc-log");
        this.writer.setDaemon(true);
        this.writer.start();
    }

    /** Reads and compacts {@code file} (created if missing). Blocking: call it off the event loop. */
    static TwoPhaseLog open(Path file) throws IOException {
        Path abs = file.toAbsolutePath();
        if (abs.getParent() != null) {
            Files.createDirectories(abs.getParent());
        }
        Set<String> open = new LinkedHashSet<>();
        if (Files.exists(abs)) {
            String text = Files.readString(abs, StandardCharsets.UTF_8);
            int start = 0;
            for (int nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
                String line = text.substring(start, nl).trim();
                start = nl + 1;
                if (line.startsWith("COMMIT ")) {
                    open.add(line.substring(7).trim());
                } else if (line.startsWith("DONE ")) {
                    open.remove(line.substring(5).trim());
                } else if (!line.isEmpty()) {
                    log.warn("{}: unreadable record ignored: {}", abs, line);
                }
            }
            if (start < text.length()) {
                log.warn("{}: a torn last record ignored (never forced, so never acted on)", abs);
            }
        }
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        StringBuilder kept = new StringBuilder();
        for (String id : open) {
            kept.append("COMMIT ").append(id).append('\n');
        }
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(kept.toString().getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                out.write(b);
            }
            out.force(true);
        }
        try {
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
        }
        FileChannel channel = FileChannel.open(abs, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        channel.force(true);
        return new TwoPhaseLog(abs, channel, open);
    }

    Path file() {
        return file;
    }

    /** Whether {@code id} has a COMMIT record and no DONE. */
    boolean isCommitted(String id) {
        return committed.contains(id);
    }

    /** A snapshot of the ids with a COMMIT record and no DONE. */
    Set<String> committed() {
        return Set.copyOf(committed);
    }

    /**
     * Appends {@code COMMIT id} and forces it to disk; completes on {@code context} once it is
     * durable (fails if it could not be written: then the transaction must roll back).
     */
    Future<Void> commit(Context context, String id) {
        return append("COMMIT " + id + '\n', true, context, id);
    }

    /** Appends {@code DONE id} (not forced); completes on {@code context}. */
    Future<Void> done(Context context, String id) {
        return append("DONE " + id + '\n', false, context, id);
    }

    private Future<Void> append(String line, boolean force, Context context, String id) {
        Promise<Void> p = Promise.promise();
        if (!writer.isAlive()) {
            p.fail(new IOException("two-phase log " + file + " is closed"));
            return p.future();
        }
        if (force) {
            // In memory before it is durable: recovery on another loop must not roll back what is
            // about to be committed (it skips live transactions anyway; this is the second guard).
            committed.add(id);
        }
        queue.add(new Pending(line, force, context, p));
        return p.future();
    }

    private void writeLoop() {
        List<Pending> batch = new ArrayList<>();
        while (true) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                return;
            }
            queue.drainTo(batch);
            boolean stop = false;
            StringBuilder text = new StringBuilder();
            boolean force = false;
            for (Pending p : batch) {
                if (p == STOP) {
                    stop = true;
                } else {
                    text.append(p.line);
                    force |= p.force;
                }
            }
            IOException failure = null;
            try {
                ByteBuffer b = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
                while (b.hasRemaining()) {
                    channel.write(b);
                }
                if (force) {
                    channel.force(false);
                }
            } catch (IOException e) {
                failure = e;
                log.error("two-phase log {}: write failed", file, e);
            }
            for (Pending p : batch) {
                if (p == STOP) {
                    continue;
                }
                String id = p.line.substring(p.line.indexOf(' ') + 1).trim();
                if (failure == null && !p.force) {
                    committed.remove(id);   // DONE
                }
                if (failure != null && p.force) {
                    committed.remove(id);   // no durable decision: the transaction rolls back
                }
                IOException f = failure;
                Runnable complete = () -> {
                    if (f == null) {
                        p.done.tryComplete();
                    } else {
                        p.done.tryFail(new UncheckedIOException("cannot write the two-phase log " + file, f));
                    }
                };
                if (p.context != null) {
                    p.context.runOnContext(v -> complete.run());
                } else {
                    complete.run();
                }
            }
            batch.clear();
            if (stop) {
                return;
            }
        }
    }

    /** Writes what is queued, then stops the writer and closes the file. Blocking. */
    @Override
    public void close() {
        queue.add(STOP);
        try {
            writer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            channel.close();
        } catch (IOException e) {
            log.warn("two-phase log {}: close failed", file, e);
        }
    }
}
