package dev.pgfleet.bench.jmh;

/**
 * TODO (benchmarks issue, part 4): hot-path benchmarks that wait for code not written yet.
 * Nothing here is a benchmark (no {@code @Benchmark} method), so JMH runs none of it; this file
 * only keeps the plan next to the benchmarks that exist, and compiles without the classes.
 *
 * <ul>
 *   <li>Query classification (router-verticle's classifier, being written): read/write decision
 *   for pgbench's statements and a few typical ORM ones, cached and uncached. Target: a cached
 *   classification under 200 ns, and no allocation on a cache hit.</li>
 *   <li>Prepared-statement lookup (transaction mode, issue 3): client statement name to the
 *   server connection's statement, hit and miss, with the cache at
 *   {@code prepared_statements_cache_size}.</li>
 *   <li>Shard hash: {@code pg_bigint_hash} (PostgreSQL's hashint8extended with the partition
 *   seed) and {@code sha1} over a bigint key.</li>
 * </ul>
 *
 * <p>When a class lands, add {@code pgfleet-router-verticle} (or the proxy) to this module's
 * dependencies and write the benchmark in its own class, as {@link MessageFramerBenchmark}.
 */
final class RouterBenchmarksTodo {

  private RouterBenchmarksTodo() {
  }
}
