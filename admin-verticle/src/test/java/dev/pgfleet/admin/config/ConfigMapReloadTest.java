package dev.pgfleet.admin.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgfleet.shared.admin.AdminReply;
import dev.pgfleet.shared.config.ConfigEpoch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A directory laid out as the kubelet mounts a ConfigMap: {@code ..<timestamp>/pgfleet.toml},
 * {@code ..data -> ..<timestamp>}, {@code pgfleet.toml -> ..data/pgfleet.toml}; an update writes a
 * new timestamped directory and renames a new {@code ..data} link over the old one (atomic_writer.go).
 */
class ConfigMapReloadTest {

    private static final long SCAN_MS = 200;

    @Test
    @Timeout(60)
    void aSwappedConfigMapIsAppliedWithinTheScanPeriodAndABrokenOneIsRefused(@TempDir Path dir) throws Exception {
        String general = "autoreload = " + SCAN_MS + "\nquery_wait_timeout = 5000";
        ConfigMap map = new ConfigMap(dir);
        map.write(ConfigFixture.toml(general, ""));
        try (ConfigFixture f = new ConfigFixture(map.file())) {
            assertEquals(1, f.current().epoch());
            FileTime linkTime = Files.getLastModifiedTime(map.file(), LinkOption.NOFOLLOW_LINKS);

            long swapped = System.nanoTime();
            map.write(ConfigFixture.toml("autoreload = " + SCAN_MS + "\nquery_wait_timeout = 7000",
                    ConfigFixture.pool("reports")));
            // The link the file is opened by did not change: only its target did.
            assertEquals(linkTime, Files.getLastModifiedTime(map.file(), LinkOption.NOFOLLOW_LINKS));
            ConfigEpoch e2 = f.nextApplied(10 * SCAN_MS + 2_000);
            long tookMs = Duration.ofNanos(System.nanoTime() - swapped).toMillis();
            assertEquals(2, e2.epoch());
            assertEquals(Duration.ofMillis(7000), e2.config().general().queryWaitTimeout());
            assertTrue(e2.config().pools().containsKey("reports"));
            // Within a scan period plus the read itself (generous for a busy 2-core machine).
            assertTrue(tookMs < SCAN_MS + 2_000, "applied after " + tookMs + " ms");

            // Broken the same way: a pool of size 0.
            map.write(ConfigFixture.toml("autoreload = " + SCAN_MS + "\nquery_wait_timeout = 9000", "")
                    .replace("pool_size = 5", "pool_size = 0"));
            AdminReply refused = f.command("RELOAD");
            assertEquals(ConfigVerticle.CONFIG_FILE_ERROR, refused.sqlState(), refused.toString());
            assertTrue(refused.message().contains(map.file().toString()), refused.message());
            assertTrue(refused.message().contains("pools.app.users.0.pool_size"), refused.message());
            ConfigEpoch still = f.current();
            assertEquals(2, still.epoch());
            assertEquals(Duration.ofMillis(7000), still.config().general().queryWaitTimeout());
            assertNull(f.applied.poll(), "nothing published for a refused file");

            // Fixed again: applied, and the refused content did not leave the scan stuck.
            map.write(ConfigFixture.toml("autoreload = " + SCAN_MS + "\nquery_wait_timeout = 9000", ""));
            ConfigEpoch e3 = f.nextApplied(10 * SCAN_MS + 2_000);
            assertEquals(3, e3.epoch());
            assertEquals(Duration.ofMillis(9000), e3.config().general().queryWaitTimeout());
            assertTrue(!e3.config().pools().containsKey("reports"));
        }
    }

    @Test
    @Timeout(60)
    void aBrokenConfigMapSeenByTheScanIsRefusedAndTheOldEpochStays(@TempDir Path dir) throws Exception {
        ConfigMap map = new ConfigMap(dir);
        map.write(ConfigFixture.toml("autoreload = " + SCAN_MS, ""));
        try (ConfigFixture f = new ConfigFixture(map.file())) {
            map.write(ConfigFixture.toml("autoreload = " + SCAN_MS + "\nban_time = \"sixty\"", ""));
            JsonObject refusal = f.refused.poll(10 * SCAN_MS + 2_000, TimeUnit.MILLISECONDS);
            assertNotNull(refusal, "the scan refused the broken file");
            assertEquals("file changed", refusal.getString("trigger"));
            assertTrue(refusal.getJsonArray("errors").getString(0)
                    .startsWith(map.file() + ": general.ban_time: expected an integer"), refusal.encode());
            assertEquals(1, f.current().epoch());
            assertNull(f.applied.poll(), "nothing published for a refused file");
            // Then a valid change: published as epoch 2, the broken one never became an epoch.
            map.write(ConfigFixture.toml("autoreload = " + SCAN_MS + "\nban_time = 61", ""));
            ConfigEpoch e = f.nextApplied(10 * SCAN_MS + 2_000);
            assertEquals(2, e.epoch());
            assertEquals(Duration.ofSeconds(61), e.config().general().banTime());
        }
    }

    /** Writes like the kubelet's AtomicWriter. */
    static final class ConfigMap {
        private final Path dir;
        private int version;

        ConfigMap(Path dir) {
            this.dir = dir;
        }

        Path file() {
            return dir.resolve("pgfleet.toml");
        }

        void write(String content) throws IOException {
            Path ts = dir.resolve("..2026_12_02_06_00_00." + (++version));
            Files.createDirectory(ts);
            Files.writeString(ts.resolve("pgfleet.toml"), content);
            Path tmp = dir.resolve("..data_tmp");
            Files.createSymbolicLink(tmp, ts.getFileName());
            Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            if (!Files.exists(file(), LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(file(), Path.of("..data", "pgfleet.toml"));
            }
        }
    }
}
