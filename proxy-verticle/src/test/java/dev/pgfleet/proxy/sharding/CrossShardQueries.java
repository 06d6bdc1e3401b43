package dev.pgfleet.proxy.sharding;

import static dev.pgfleet.proxy.sharding.CorpusQuery.bag;
import static dev.pgfleet.proxy.sharding.CorpusQuery.ties;
import static dev.pgfleet.proxy.sharding.CorpusQuery.total;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

/**
 * The corpus of cross-shard SELECTs over {@link CrossShardCorpus}'s tables. Every query is one the proxy
 * should answer (the constructs it refuses are {@link CrossShardRefusalTest}'s). A LIMIT never cuts
 * through ties: a query with LIMIT/OFFSET orders totally (the key, or every GROUP BY column, last).
 */
final class CrossShardQueries {

    private CrossShardQueries() {
    }

    /** @param keys keys[s]: items ids on shard s (see {@link CrossShardCorpus#keysOnShard}) */
    static List<CorpusQuery> all(long[][] keys) {
        List<CorpusQuery> q = new ArrayList<>();
        orderBy(q);
        limitOffset(q);
        distinct(q);
        aggregates(q);
        groupBy(q);
        countDistinct(q);
        having(q);
        overGroups(q);
        emptyAndSolo(q);
        joins(q);
        where(q);
        inLists(q, keys);
        return List.copyOf(q);
    }

    private static void orderBy(List<CorpusQuery> q) {
        // columns, ASC/DESC, NULLS FIRST/LAST
        q.add(total("SELECT id, i FROM items ORDER BY id LIMIT 50"));
        q.add(total("SELECT id, i FROM items ORDER BY id DESC LIMIT 50"));
        q.add(total("SELECT * FROM items ORDER BY id OFFSET 11900"));
        q.add(total("SELECT id, s, t FROM items ORDER BY id"));
        q.add(total("SELECT i, id FROM items ORDER BY i NULLS FIRST, id LIMIT 100"));
        q.add(total("SELECT i, id FROM items ORDER BY i DESC NULLS LAST, id LIMIT 100"));
        q.add(total("SELECT i, id FROM items ORDER BY i DESC, id LIMIT 100"));
        q.add(total("SELECT i, id FROM items ORDER BY i ASC NULLS LAST, id DESC LIMIT 100"));
        q.add(total("SELECT i, id FROM items ORDER BY i, id OFFSET 11500"));
        // positions
        q.add(total("SELECT s, id FROM items ORDER BY 1, 2 LIMIT 100"));
        q.add(total("SELECT s, id FROM items ORDER BY 1 DESC NULLS LAST, 2 DESC LIMIT 100"));
        q.add(total("SELECT u, id, t FROM items ORDER BY 1 DESC NULLS LAST, 2 LIMIT 60"));
        // aliases
        q.add(total("SELECT id AS key, b AS big FROM items ORDER BY big, key LIMIT 100"));
        q.add(total("SELECT id AS \"Key\", t AS \"Text\" FROM items ORDER BY \"Text\" DESC, \"Key\" LIMIT 80"));
        // expressions of the select list
        q.add(total("SELECT id, i * 2 AS dbl FROM items ORDER BY i * 2, id LIMIT 100"));
        q.add(total("SELECT id, abs(i) FROM items ORDER BY abs(i) DESC NULLS LAST, id LIMIT 100"));
        q.add(total("SELECT id, i % 100 AS m FROM items ORDER BY m DESC, id LIMIT 100"));
        q.add(total("SELECT lower(t), id FROM items ORDER BY 1, 2 LIMIT 100"));
        q.add(total("SELECT id, coalesce(i, 0) + coalesce(s, 0) AS z FROM items ORDER BY z, id LIMIT 100"));
        q.add(total("SELECT id, t || '-' || v AS tv FROM items ORDER BY tv NULLS FIRST, id LIMIT 100"));
        q.add(total("SELECT id, i::text AS it FROM items ORDER BY it, id LIMIT 100"));
        q.add(total("SELECT id, length(t) AS len, t FROM items ORDER BY len DESC NULLS LAST, t, id LIMIT 50"));
        // a column not in the select list
        q.add(total("SELECT id, t FROM items ORDER BY i, id LIMIT 100"));
        q.add(total("SELECT t FROM items ORDER BY id DESC LIMIT 100"));
        // every type
        q.add(total("SELECT n, id FROM items ORDER BY n, id LIMIT 100"));
        q.add(total("SELECT n, id FROM items ORDER BY n DESC NULLS LAST, id LIMIT 100"));
        q.add(total("SELECT f, id FROM items ORDER BY f, id LIMIT 100"));
        q.add(total("SELECT f, id FROM items ORDER BY f DESC, id LIMIT 100"));
        q.add(total("SELECT f, id FROM items ORDER BY f NULLS FIRST, id DESC LIMIT 300"));
        q.add(total("SELECT t, id FROM items ORDER BY t, id LIMIT 100"));
        q.add(total("SELECT t, id FROM items ORDER BY t DESC, id LIMIT 2500"));
        q.add(total("SELECT v, id FROM items ORDER BY v, id LIMIT 100"));
        q.add(total("SELECT d, id FROM items ORDER BY d, id LIMIT 100"));
        q.add(total("SELECT d, id FROM items ORDER BY d DESC NULLS LAST, id LIMIT 100"));
        q.add(total("SELECT ts, id FROM items ORDER BY ts, id LIMIT 100"));
        q.add(total("SELECT ts, id FROM items ORDER BY ts DESC, id LIMIT 100"));
        q.add(total("SELECT tz, id FROM items ORDER BY tz DESC, id LIMIT 100"));
        q.add(total("SELECT tz, id FROM items ORDER BY tz NULLS FIRST, id LIMIT 100"));
        q.add(total("SELECT u, id FROM items ORDER BY u, id LIMIT 100"));
        q.add(total("SELECT u, id FROM items ORDER BY u DESC, id LIMIT 100"));
        q.add(total("SELECT flag, id FROM items ORDER BY flag DESC NULLS LAST, id LIMIT 100"));
        q.add(total("SELECT b, id FROM items ORDER BY b, id LIMIT 100"));
        q.add(total("SELECT s, id FROM items ORDER BY s DESC, id DESC LIMIT 100"));
        q.add(total("SELECT cc, id FROM items ORDER BY cc DESC NULLS LAST, id LIMIT 100"));
        // several keys
        q.add(total("SELECT grp, grp2, id FROM items ORDER BY grp DESC, grp2 NULLS FIRST, id LIMIT 200"));
        q.add(total("SELECT v, d, id FROM items ORDER BY v, d DESC, id LIMIT 150"));
        q.add(total("SELECT flag, n, ts, id FROM items ORDER BY flag NULLS FIRST, n DESC, ts, id LIMIT 150"));
        q.add(total("SELECT cc, u, id FROM items ORDER BY cc, u NULLS FIRST, id LIMIT 150"));
        q.add(total("SELECT * FROM items WHERE grp = 3 AND grp2 = 1 ORDER BY id"));
        // ties: the keys' sequence and the rows as a multiset
        q.add(ties("SELECT grp, t FROM items WHERE id < 0 ORDER BY grp", 1));
        q.add(ties("SELECT v, i FROM items WHERE i > 40000 ORDER BY v NULLS FIRST", 1));
        q.add(ties("SELECT flag, id FROM items ORDER BY flag", 1));
        q.add(ties("SELECT grp2, grp, s FROM items ORDER BY grp2 DESC, grp", 1, 2));
        q.add(ties("SELECT cc, d FROM items WHERE grp = 2 ORDER BY cc NULLS FIRST, d DESC", 1, 2));
        q.add(ties("SELECT status, amount FROM orders ORDER BY status DESC", 1));
    }

    private static void limitOffset(List<CorpusQuery> q) {
        q.add(total("SELECT id FROM items ORDER BY id LIMIT 10 OFFSET 5000"));
        q.add(total("SELECT id, i FROM items ORDER BY i, id OFFSET 20 LIMIT 30"));
        q.add(total("SELECT id FROM items ORDER BY id FETCH FIRST 7 ROWS ONLY"));
        q.add(total("SELECT id FROM items ORDER BY id DESC OFFSET 3 ROWS FETCH NEXT 12 ROWS ONLY"));
        q.add(total("SELECT id, b FROM items ORDER BY b DESC NULLS LAST, id FETCH FIRST ROW ONLY"));
        q.add(total("SELECT id FROM items ORDER BY id LIMIT 0"));
        q.add(total("SELECT id FROM items WHERE grp = 1 ORDER BY id LIMIT ALL"));
        q.add(total("SELECT id FROM items WHERE grp = 2 ORDER BY id LIMIT NULL"));
        q.add(total("SELECT id FROM items ORDER BY id OFFSET 20000"));
        q.add(total("SELECT id FROM items ORDER BY id OFFSET 11995"));
        q.add(total("SELECT id, t FROM items ORDER BY t DESC, id LIMIT 2 + 3").orRefused("limit"));
        q.add(ties("SELECT grp, id FROM items ORDER BY grp FETCH FIRST 5 ROWS WITH TIES", 1).orRefused("with ties"));
        // as parameters
        q.add(total("SELECT id FROM items ORDER BY id LIMIT ?").with(25L));
        q.add(total("SELECT id FROM items ORDER BY id DESC LIMIT ?").with(0L));
        q.add(total("SELECT id, t FROM items ORDER BY t, id LIMIT ? OFFSET ?").with(40L, 100L));
        q.add(total("SELECT id FROM items ORDER BY id OFFSET ? ROWS FETCH FIRST ? ROWS ONLY").with(11990L, 20L));
        q.add(total("SELECT id, f FROM items ORDER BY f DESC NULLS LAST, id OFFSET ?").with(11900L));
    }

    private static void distinct(List<CorpusQuery> q) {
        q.add(total("SELECT DISTINCT grp FROM items ORDER BY grp"));
        q.add(bag("SELECT DISTINCT grp2 FROM items"));
        q.add(total("SELECT DISTINCT v FROM items ORDER BY v NULLS FIRST"));
        q.add(total("SELECT DISTINCT grp, grp2 FROM items ORDER BY 1, 2"));
        q.add(total("SELECT DISTINCT flag FROM items ORDER BY flag"));
        q.add(total("SELECT DISTINCT cc FROM items ORDER BY cc"));
        q.add(bag("SELECT DISTINCT cc, flag FROM items"));
        q.add(total("SELECT DISTINCT n FROM items WHERE grp = 4 ORDER BY n").approx(1));
        q.add(total("SELECT DISTINCT f FROM items WHERE grp IN (9, 11, 13, 15) ORDER BY f").approx(1));
        q.add(total("SELECT DISTINCT d FROM items WHERE grp = 4 ORDER BY d DESC"));
        q.add(total("SELECT DISTINCT t FROM items WHERE grp = 7 ORDER BY t LIMIT 30"));
        q.add(total("SELECT DISTINCT grp2 FROM items ORDER BY grp2 DESC NULLS LAST LIMIT 3"));
        q.add(total("SELECT DISTINCT u FROM items WHERE grp = 1 ORDER BY u"));
        q.add(total("SELECT DISTINCT i % 10 AS m FROM items ORDER BY m NULLS FIRST"));
        q.add(total("SELECT DISTINCT status FROM orders ORDER BY status"));
        // DISTINCT ON
        q.add(total("SELECT DISTINCT ON (grp) grp, id, t FROM items ORDER BY grp, id"));
        q.add(total("SELECT DISTINCT ON (grp) grp, id, i FROM items ORDER BY grp, i DESC NULLS LAST, id"));
        q.add(total("SELECT DISTINCT ON (grp2) grp2, v, id FROM items ORDER BY grp2 NULLS FIRST, id DESC"));
        q.add(total("SELECT DISTINCT ON (v) v, id FROM items ORDER BY v, id LIMIT 20"));
        q.add(total("SELECT DISTINCT ON (cc, flag) cc, flag, id FROM items ORDER BY cc, flag, id"));
        q.add(total("SELECT DISTINCT ON (i % 10) i % 10 AS m, id FROM items WHERE i IS NOT NULL ORDER BY i % 10, id"));
        q.add(total("SELECT DISTINCT ON (grp) grp, id FROM items ORDER BY grp, id OFFSET 5 LIMIT 5"));
        q.add(total("SELECT DISTINCT ON (d) d, ts, id FROM items WHERE grp = 5 ORDER BY d DESC, ts, id"));
        q.add(total("SELECT DISTINCT ON (status) status, id, amount FROM orders ORDER BY status, amount DESC NULLS LAST, id"));
    }

    private static void aggregates(List<CorpusQuery> q) {
        q.add(bag("SELECT count(*) FROM items"));
        q.add(bag("SELECT count(*), count(i), count(t), count(f), count(u), count(tz) FROM items"));
        q.add(bag("SELECT count(1) AS one, count(*) AS \"All rows\" FROM items"));
        q.add(bag("SELECT sum(s), sum(i), sum(b), sum(n) FROM items"));
        q.add(bag("SELECT sum(n) FROM items WHERE n <> 'NaN'"));
        q.add(bag("SELECT sum(f) FROM items WHERE f BETWEEN -1e9 AND 1e9").approx(1));
        q.add(bag("SELECT sum(f), min(f), max(f) FROM items"));
        q.add(bag("SELECT min(s), max(s), min(i), max(i), min(b), max(b) FROM items"));
        q.add(bag("SELECT min(n), max(n) FROM items"));
        q.add(bag("SELECT min(n), max(n) FROM items WHERE n <> 'NaN'"));
        q.add(bag("SELECT min(t), max(t), min(v), max(v), min(cc), max(cc) FROM items"));
        q.add(bag("SELECT min(d), max(d), min(ts), max(ts), min(tz), max(tz) FROM items"));
        q.add(bag("SELECT min(d), max(d), min(ts), max(ts) FROM items WHERE d < 'infinity' AND ts > '-infinity'"));
        q.add(bag("SELECT bool_and(flag), bool_or(flag), every(flag) FROM items"));
        q.add(bag("SELECT bool_and(i > -60000), bool_or(i > 49990), every(f > 0) FROM items"));
        q.add(bag("SELECT avg(s), avg(i), avg(b) FROM items"));
        q.add(bag("SELECT avg(n) FROM items WHERE n <> 'NaN'"));
        q.add(bag("SELECT avg(n) FROM items"));
        q.add(bag("SELECT avg(f) FROM items WHERE f < 'Infinity' AND f > '-Infinity'").approx(1));
        q.add(bag("SELECT avg(f) FROM items"));
        q.add(bag("SELECT stddev(i), stddev_samp(b), stddev_pop(s), variance(i), var_samp(b), var_pop(s) FROM items"));
        q.add(bag("SELECT stddev(n), variance(n), stddev_pop(n), var_pop(n) FROM items WHERE n <> 'NaN'"));
        q.add(bag("SELECT stddev(f), variance(f), stddev_pop(f), var_pop(f), stddev_samp(f), var_samp(f)"
            + " FROM items WHERE f BETWEEN -1000 AND 1000").approx(1, 2, 3, 4, 5, 6));
        q.add(bag("SELECT count(*), sum(amount), avg(amount), min(created), max(created) FROM orders"));
        q.add(bag("SELECT count(*), sum(i), avg(i), min(t), stddev(i) FROM items WHERE false"));
        q.add(bag("SELECT count(*), count(*) FROM items WHERE grp = 3"));
    }

    private static void groupBy(List<CorpusQuery> q) {
        q.add(total("SELECT grp, count(*), sum(i), min(t), max(d) FROM items GROUP BY grp ORDER BY grp"));
        q.add(bag("SELECT grp2, count(*), avg(i) FROM items GROUP BY grp2"));
        q.add(total("SELECT grp2, count(*) FROM items GROUP BY grp2 ORDER BY grp2 NULLS FIRST"));
        q.add(total("SELECT flag, count(*), sum(b) FROM items GROUP BY flag ORDER BY flag"));
        q.add(total("SELECT v, count(*), max(i) FROM items GROUP BY v ORDER BY v"));
        q.add(total("SELECT cc, grp2, count(*) FROM items GROUP BY cc, grp2 ORDER BY cc, grp2"));
        q.add(total("SELECT i % 7 AS m, count(*) FROM items GROUP BY i % 7 ORDER BY m NULLS FIRST"));
        q.add(total("SELECT grp, grp2, sum(s) FROM items GROUP BY 1, 2 ORDER BY 1, 2"));
        q.add(total("SELECT grp AS g, count(*) AS c FROM items GROUP BY g ORDER BY g"));
        q.add(total("SELECT extract(year FROM d) AS y, count(*) FROM items GROUP BY 1 ORDER BY 1"));
        q.add(total("SELECT date_trunc('month', ts) AS mth, count(*) FROM items WHERE ts < '2021-01-01' GROUP BY 1 ORDER BY 1"));
        q.add(total("SELECT n, count(*) FROM items WHERE grp = 5 GROUP BY n ORDER BY n").approx(1));
        q.add(total("SELECT f, count(*) FROM items WHERE grp = 9 GROUP BY f ORDER BY f").approx(1));
        q.add(total("SELECT u, count(*) FROM items WHERE grp = 2 GROUP BY u ORDER BY u NULLS FIRST"));
        q.add(total("SELECT ts, count(*) FROM items WHERE grp = 3 GROUP BY ts ORDER BY ts DESC"));
        q.add(total("SELECT tz, count(*) FROM items WHERE grp = 3 GROUP BY tz ORDER BY tz LIMIT 50"));
        q.add(total("SELECT t, count(*) FROM items WHERE grp = 6 GROUP BY t ORDER BY t"));
        q.add(total("SELECT d, count(*), min(id) FROM items WHERE grp = 8 GROUP BY d ORDER BY d NULLS FIRST"));
        q.add(bag("SELECT s, count(*) FROM items GROUP BY s"));
        q.add(total("SELECT grp, avg(i), avg(s), avg(b) FROM items GROUP BY grp ORDER BY grp"));
        q.add(total("SELECT grp, avg(n), sum(n), min(n), max(n) FROM items GROUP BY grp ORDER BY grp"));
        q.add(total("SELECT grp, avg(f), stddev(f), variance(f), sum(f) FROM items GROUP BY grp ORDER BY grp")
            .approx(2, 3, 4, 5));
        q.add(total("SELECT grp, stddev(i), var_pop(i), stddev_pop(b), var_samp(s) FROM items GROUP BY grp ORDER BY grp"));
        q.add(total("SELECT grp2, stddev_samp(n), variance(n) FROM items WHERE n <> 'NaN' GROUP BY grp2 ORDER BY grp2"));
        q.add(total("SELECT grp, bool_and(flag), bool_or(flag), every(i > 0) FROM items GROUP BY grp ORDER BY grp"));
        q.add(total("SELECT grp2, min(u::text), max(tz), min(ts) FROM items GROUP BY grp2 ORDER BY grp2"));
        q.add(total("SELECT grp2 FROM items GROUP BY grp2 ORDER BY grp2"));
        q.add(total("SELECT status, created, count(*) FROM orders GROUP BY status, created ORDER BY created, status"));
        q.add(total("SELECT user_id, count(*), sum(amount) FROM orders GROUP BY user_id ORDER BY user_id LIMIT 100"));
        q.add(bag("SELECT user_id, count(*) FROM orders GROUP BY user_id"));
    }

    private static void countDistinct(List<CorpusQuery> q) {
        q.add(bag("SELECT count(DISTINCT grp) FROM items"));
        q.add(bag("SELECT count(DISTINCT v), count(DISTINCT cc), count(DISTINCT grp2) FROM items").orRefused("distinct"));
        q.add(total("SELECT grp, count(DISTINCT v), count(*) FROM items GROUP BY grp ORDER BY grp"));
        q.add(bag("SELECT count(DISTINCT n) FROM items"));
        q.add(bag("SELECT count(DISTINCT f) FROM items"));
        q.add(bag("SELECT count(DISTINCT d), count(DISTINCT u), count(DISTINCT flag) FROM items").orRefused("distinct"));
        q.add(total("SELECT grp2, count(DISTINCT t) FROM items GROUP BY grp2 ORDER BY grp2"));
        q.add(total("SELECT cc, count(DISTINCT grp), sum(i), avg(s) FROM items GROUP BY cc ORDER BY cc"));
        q.add(bag("SELECT count(DISTINCT user_id), count(DISTINCT status) FROM orders").orRefused("distinct"));
        // Answered, not refused: a DISTINCT sum is merged from the distinct values, and a CTE over no
        // sharded table is the same on every shard.
        q.add(total("SELECT sum(DISTINCT i) FROM items"));
        q.add(total("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3)"
            + " SELECT count(*) FROM items, r"));
    }

    private static void having(List<CorpusQuery> q) {
        q.add(total("SELECT grp, count(*) FROM items GROUP BY grp HAVING count(*) > 705 ORDER BY grp"));
        q.add(total("SELECT v, sum(i) FROM items GROUP BY v HAVING sum(i) > 0 ORDER BY v"));
        q.add(total("SELECT grp2, avg(i) FROM items GROUP BY grp2 HAVING avg(i) < 0 ORDER BY grp2"));
        q.add(total("SELECT cc FROM items GROUP BY cc HAVING max(i) > 49000 ORDER BY cc"));
        q.add(total("SELECT grp, min(t) FROM items GROUP BY grp HAVING count(*) > 700 AND min(i) < -49000 ORDER BY grp"));
        q.add(total("SELECT grp, count(*) FROM items GROUP BY grp HAVING grp > 10 ORDER BY grp"));
        q.add(total("SELECT grp, count(DISTINCT v) FROM items GROUP BY grp HAVING count(DISTINCT v) >= 50 ORDER BY grp"));
        q.add(bag("SELECT count(*) FROM items HAVING count(*) > 0"));
        q.add(bag("SELECT count(*) FROM items HAVING count(*) > 1000000"));
        q.add(total("SELECT grp FROM items GROUP BY grp HAVING bool_and(flag) IS NOT TRUE ORDER BY grp").orRefused("having"));
        q.add(total("SELECT grp2, sum(n) FROM items WHERE n <> 'NaN' GROUP BY grp2 HAVING sum(n) > 1000 OR grp2 IS NULL"
            + " ORDER BY grp2"));
        q.add(total("SELECT status, count(*) FROM orders GROUP BY status HAVING avg(amount) > 49.5 ORDER BY status"));
    }

    private static void overGroups(List<CorpusQuery> q) {
        q.add(total("SELECT grp, count(*) AS c FROM items GROUP BY grp ORDER BY c DESC, grp LIMIT 5"));
        q.add(total("SELECT v, sum(i) AS total FROM items GROUP BY v ORDER BY total DESC NULLS LAST, v LIMIT 10"));
        q.add(total("SELECT cc, avg(i) FROM items GROUP BY cc ORDER BY 2, 1 LIMIT 4"));
        q.add(total("SELECT grp, max(t) FROM items GROUP BY grp ORDER BY max(t) DESC, grp OFFSET 3 LIMIT 5"));
        q.add(total("SELECT grp2, count(*) FROM items GROUP BY grp2 ORDER BY count(*) DESC, grp2 NULLS FIRST LIMIT ?")
            .with(3L));
        q.add(total("SELECT grp, count(*) FROM items GROUP BY grp ORDER BY grp LIMIT ? OFFSET ?").with(4L, 2L));
        q.add(total("SELECT grp, min(n) FROM items GROUP BY grp ORDER BY min(n), grp"));
        q.add(total("SELECT user_id, sum(amount) AS spent FROM orders GROUP BY user_id ORDER BY spent DESC NULLS LAST,"
            + " user_id LIMIT 20"));
        q.add(ties("SELECT grp2, count(DISTINCT grp) AS kinds FROM items GROUP BY grp2 ORDER BY kinds", 2));
    }

    private static void emptyAndSolo(List<CorpusQuery> q) {
        q.add(total("SELECT * FROM empty_t ORDER BY id"));
        q.add(bag("SELECT * FROM empty_t"));
        q.add(bag("SELECT count(*), sum(x), avg(x), min(y), max(y), bool_and(x > 0), stddev(x) FROM empty_t"));
        q.add(bag("SELECT x, count(*) FROM empty_t GROUP BY x"));
        q.add(total("SELECT DISTINCT y FROM empty_t ORDER BY y LIMIT 5"));
        q.add(bag("SELECT count(DISTINCT x) FROM empty_t"));
        q.add(bag("SELECT count(*) FROM empty_t HAVING count(*) > 0"));
        q.add(total("SELECT * FROM solo ORDER BY id"));
        q.add(total("SELECT x, count(*), sum(id), avg(id) FROM solo GROUP BY x ORDER BY x"));
        q.add(bag("SELECT count(*), min(y), max(y), sum(x) FROM solo"));
        q.add(total("SELECT DISTINCT x FROM solo ORDER BY x DESC"));
        q.add(total("SELECT id, y FROM solo ORDER BY y DESC LIMIT 10 OFFSET 10"));
        q.add(bag("SELECT stddev(id), variance(x), var_pop(id) FROM solo"));
        q.add(total("SELECT DISTINCT ON (x) x, id FROM solo ORDER BY x, id DESC"));
    }

    private static void joins(List<CorpusQuery> q) {
        q.add(total("SELECT i.id, o.id AS order_id, o.amount FROM items i JOIN orders o ON o.user_id = i.id ORDER BY o.id LIMIT 100"));
        q.add(total("SELECT i.grp, count(*), sum(o.amount) FROM items i JOIN orders o ON o.user_id = i.id GROUP BY i.grp"
            + " ORDER BY i.grp"));
        q.add(total("SELECT o.status, count(DISTINCT i.id), avg(o.amount) FROM orders o JOIN items i ON i.id = o.user_id"
            + " GROUP BY o.status ORDER BY o.status"));
        q.add(total("SELECT i.id, count(o.id) FROM items i LEFT JOIN orders o ON o.user_id = i.id WHERE i.grp = 1"
            + " GROUP BY i.id ORDER BY i.id"));
        q.add(total("SELECT i.cc, o.status, sum(o.amount) FROM items i JOIN orders o ON i.id = o.user_id"
            + " WHERE o.created >= '2024-06-01' GROUP BY 1, 2 ORDER BY 1, 2"));
        q.add(bag("SELECT i.t, o.amount FROM items i JOIN orders o ON o.user_id = i.id WHERE o.amount > 99.5"));
        q.add(total("SELECT i.id, c.name FROM items i JOIN countries c ON c.code = i.cc ORDER BY i.id LIMIT 100"));
        q.add(total("SELECT c.region, count(*) FROM items i JOIN countries c ON c.code = i.cc GROUP BY c.region"
            + " ORDER BY c.region NULLS FIRST"));
        q.add(total("SELECT c.name, sum(o.amount) FROM orders o JOIN items i ON i.id = o.user_id"
            + " JOIN countries c ON c.code = i.cc GROUP BY c.name ORDER BY c.name"));
        // The kept side of the outer join is not sharded: every shard returns the unmatched countries. Counted,
        // the merge of the groups is still right; as rows, only a refusal is.
        q.add(total("SELECT c.code, count(i.id) FROM countries c LEFT JOIN items i ON i.cc = c.code GROUP BY c.code"
            + " ORDER BY c.code").orRefused("join"));
        q.add(total("SELECT c.code, i.id FROM countries c LEFT JOIN items i ON i.cc = c.code AND i.grp = 0"
            + " AND i.grp2 = 0 ORDER BY c.code, i.id").orRefused("join"));
        q.add(total("SELECT i.cc, c.region, count(*) FROM items i LEFT JOIN countries c ON c.code = i.cc"
            + " GROUP BY 1, 2 ORDER BY 1, 2"));
        q.add(total("SELECT DISTINCT c.name FROM items i JOIN countries c ON c.code = i.cc WHERE i.grp = 0 ORDER BY 1"));
        q.add(total("SELECT * FROM countries ORDER BY code"));
    }

    private static void where(List<CorpusQuery> q) {
        q.add(total("SELECT id, t FROM items WHERE t LIKE 'ü%' ORDER BY id"));
        q.add(total("SELECT id, t FROM items WHERE t >= '日' ORDER BY t, id"));
        q.add(total("SELECT id FROM items WHERE i BETWEEN -100 AND 100 ORDER BY id"));
        q.add(bag("SELECT count(*) FROM items WHERE f IS NULL OR f = 'NaN'"));
        q.add(total("SELECT id, d FROM items WHERE d > '2010-01-01' AND flag ORDER BY d, id LIMIT 50"));
        q.add(total("SELECT id, ts FROM items WHERE ts = 'infinity' OR ts = '-infinity' ORDER BY ts"));
        q.add(total("SELECT id, tz FROM items WHERE tz > '2021-06-05 12:00+02' AND tz < '2021-06-06' ORDER BY id"));
        q.add(total("SELECT id, u FROM items WHERE u::text LIKE 'a%' ORDER BY u LIMIT 20"));
        q.add(total("SELECT id, n FROM items WHERE n = 1.5 ORDER BY id"));
        q.add(total("SELECT id, f FROM items WHERE f IN ('NaN', 'Infinity', '-Infinity', '-0') ORDER BY f, id"));
        q.add(total("SELECT id, i FROM items WHERE i > ? AND grp = ? ORDER BY id").with(49000L, 3L));
        q.add(total("SELECT id, t FROM items WHERE t = ? ORDER BY id").with("c4ca4238a0b923820dcc509a6f75849b"));
        q.add(bag("SELECT count(*) FROM items WHERE cc = ANY (ARRAY['DE', 'ÅL'])"));
        q.add(bag("SELECT count(*), sum(i) FROM items WHERE grp2 IS NULL AND flag IS NOT NULL"));
        q.add(total("SELECT id, v FROM items WHERE v IN ('v1', 'v2') AND id > 0 ORDER BY v, id LIMIT 30"));
        q.add(total("SELECT id FROM items WHERE NOT (id > -39000) ORDER BY id"));
    }

    private static void inLists(List<CorpusQuery> q, long[][] keys) {
        long[] both = LongStream.concat(Arrays.stream(keys[0]), Arrays.stream(keys[1])).sorted().toArray();
        String list = Arrays.stream(both).mapToObj(Long::toString).collect(Collectors.joining(", "));
        q.add(total("SELECT id, t FROM items WHERE id IN (" + list + ") ORDER BY id"));
        q.add(bag("SELECT count(*), sum(i), avg(s), min(t) FROM items WHERE id IN (" + list + ")"));
        q.add(total("SELECT id FROM items WHERE id = ANY (ARRAY[" + list + "]) ORDER BY id DESC"));
        q.add(total("SELECT id, n FROM items WHERE id = " + keys[0][2] + " OR id = " + keys[1][2] + " ORDER BY id"));
        q.add(total("SELECT id, v FROM items WHERE id IN (?, ?, ?) ORDER BY id")
            .with(keys[0][0], keys[1][0], keys[1][5]));
        q.add(total("SELECT user_id, count(*) FROM orders WHERE user_id IN (" + list + ") GROUP BY user_id ORDER BY 1"));
        q.add(bag("SELECT DISTINCT grp FROM items WHERE id IN (" + list + ")"));
        q.add(total("SELECT id FROM items WHERE id IN (" + keys[0][0] + ", " + keys[0][3] + ") ORDER BY id"));
        q.add(total("SELECT * FROM items WHERE id = " + keys[1][3]));
        q.add(total("SELECT 1 AS one"));
    }
}
