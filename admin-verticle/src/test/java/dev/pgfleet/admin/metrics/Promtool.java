package dev.pgfleet.admin.metrics;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Prometheus' own parser and linter ({@code promtool check metrics}, Go's expfmt) where the
 * machine has it (Debian's {@code prometheus} package); skipped where it has not. A parse error
 * fails; lint problems fail for PgFleet's {@code pgfleet_} series only (Micrometer's JVM and
 * Vert.x names are theirs).
 */
final class Promtool {

    private static final Path PROMTOOL = List.of(Path.of("/usr/bin/promtool"), Path.of("/usr/local/bin/promtool"))
            .stream().filter(Files::isExecutable).findFirst().orElse(null);

    private Promtool() {
    }

    static boolean available() {
        return PROMTOOL != null;
    }

    static void check(String exposition) {
        try {
            // The last scrape, for a person reading a failure.
            Files.writeString(Path.of("target", "last-scrape.prom"), exposition);
        } catch (IOException e) {
            // target/ missing: only the copy is lost
        }
        if (PROMTOOL == null) {
            return;
        }
        try {
            Process p = new ProcessBuilder(PROMTOOL.toString(), "check", "metrics").redirectErrorStream(true).start();
            p.getOutputStream().write(exposition.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("promtool did not finish");
            }
            if (out.contains("error while linting") || out.contains("parsing error")) {
                throw new AssertionError("promtool cannot parse /metrics: " + out);
            }
            String ours = out.lines().filter(l -> l.startsWith("pgfleet_")).collect(Collectors.joining("\n"));
            if (!ours.isEmpty()) {
                throw new AssertionError("promtool lint: " + ours);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
