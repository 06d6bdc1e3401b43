package dev.pgfleet.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decision log's file: records, compaction at open, a torn last line. */
class TwoPhaseLogTest {

    @Test
    void compactsDonePairsAndIgnoresATornLastRecord(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sub").resolve("2pc.log");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "COMMIT a\nCOMMIT b\nDONE a\nCOMMIT c\nCOMMIT d");   // d: torn, never forced
        try (TwoPhaseLog log = TwoPhaseLog.open(file)) {
            assertEquals(Set.of("b", "c"), log.committed());
            assertEquals(List.of("COMMIT b", "COMMIT c"), Files.readAllLines(file));
        }
    }

    @Test
    void recordsAreAppendedOffTheLoopAndDoneClearsACommit(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("2pc.log");
        Vertx vertx = Vertx.vertx();
        try (TwoPhaseLog log = TwoPhaseLog.open(file)) {
            var ctx = vertx.getOrCreateContext();
            String[] thread = new String[1];
            log.commit(ctx, "x").onSuccess(v -> thread[0] = Thread.currentThread().getName())
                .toCompletionStage().toCompletableFuture().get();
            assertTrue(log.isCommitted("x"));
            assertEquals(List.of("COMMIT x"), Files.readAllLines(file));
            log.done(ctx, "x").toCompletionStage().toCompletableFuture().get();
            assertFalse(log.isCommitted("x"));
            assertEquals(List.of("COMMIT x", "DONE x"), Files.readAllLines(file));
            assertTrue(thread[0].startsWith("vert.x-eventloop"), "completed on the caller's context: " + thread[0]);
        } finally {
            vertx.close().await();
        }
        try (TwoPhaseLog again = TwoPhaseLog.open(file)) {
            assertEquals(Set.of(), again.committed());
            assertEquals(List.of(), Files.readAllLines(file));
        }
    }
}
