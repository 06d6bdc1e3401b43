package dev.pgfleet.admin.metrics;

import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects the data points of one scrape by metric family, in first-use order, and builds the
 * Prometheus snapshots. Counter names are given without {@code _total}: the text writer adds it.
 */
final class Families {

    private final Map<String, MetricSnapshot.Builder<?>> families = new LinkedHashMap<>();

    void gauge(String name, String help, double value, String... labels) {
        GaugeSnapshot.Builder b = (GaugeSnapshot.Builder) families.computeIfAbsent(name,
                n -> GaugeSnapshot.builder().name(n).help(help));
        b.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(value).labels(Labels.of(labels)).build());
    }

    void counter(String name, String help, double value, String... labels) {
        CounterSnapshot.Builder b = (CounterSnapshot.Builder) families.computeIfAbsent(name,
                n -> CounterSnapshot.builder().name(n).help(help));
        b.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value(value).labels(Labels.of(labels)).build());
    }

    /**
     * A classic histogram.
     *
     * @param upperBounds the buckets' upper bounds, the last one {@code +Inf}
     * @param counts      per bucket, not cumulative, as long as {@code upperBounds}
     */
    void histogram(String name, String help, double[] upperBounds, long[] counts, double sum, String... labels) {
        HistogramSnapshot.Builder b = (HistogramSnapshot.Builder) families.computeIfAbsent(name,
                n -> HistogramSnapshot.builder().name(n).help(help));
        b.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                .classicHistogramBuckets(ClassicHistogramBuckets.of(upperBounds, counts)).sum(sum)
                .labels(Labels.of(labels)).build());
    }

    /** A family exists once it has a point, so none prints a TYPE without samples. */
    MetricSnapshots build() {
        List<MetricSnapshot> out = new ArrayList<>();
        families.values().forEach(b -> out.add(b.build()));
        return new MetricSnapshots(out);
    }
}
