package dev.pgfleet.proxy.sharding;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The corpus's comparison fails where it must: order, ties, multisets, columns, tolerance. */
class CorpusResultTest {

    private static CorpusResult result(String[]... rows) {
        return new CorpusResult(List.of("k int4", "v text"), Arrays.asList(rows));
    }

    private static String[] row(String... values) {
        return values;
    }

    @Test
    void totalOrderIsRowForRow() {
        CorpusQuery q = CorpusQuery.total("q");
        CorpusResult a = result(row("1", "a"), row("2", "b"));
        assertNull(CorpusResult.differences(q, a, result(row("1", "a"), row("2", "b"))));
        assertNotNull(CorpusResult.differences(q, a, result(row("2", "b"), row("1", "a"))));
        assertNotNull(CorpusResult.differences(q, a, result(row("1", "a"))));
        assertNotNull(CorpusResult.differences(q, a, result(row("1", "a"), row("2", null))));
    }

    @Test
    void tiesCompareTheKeysInOrderAndTheRowsAsMultisets() {
        CorpusQuery q = CorpusQuery.ties("q", 1);
        CorpusResult a = result(row("1", "a"), row("1", "b"), row("2", "c"));
        assertNull(CorpusResult.differences(q, a, result(row("1", "b"), row("1", "a"), row("2", "c"))));
        assertNotNull(CorpusResult.differences(q, a, result(row("2", "c"), row("1", "a"), row("1", "b"))));
        assertNotNull(CorpusResult.differences(q, a, result(row("1", "a"), row("1", "a"), row("2", "c"))));
    }

    @Test
    void bagsCountDuplicates() {
        CorpusQuery q = CorpusQuery.bag("q");
        CorpusResult a = result(row("1", "a"), row("1", "a"), row("2", null));
        assertNull(CorpusResult.differences(q, a, result(row("2", null), row("1", "a"), row("1", "a"))));
        assertNotNull(CorpusResult.differences(q, a, result(row("2", null), row("2", null), row("1", "a"))));
    }

    @Test
    void columnsMustBeEqual() {
        CorpusResult a = result(row("1", "a"));
        CorpusResult b = new CorpusResult(List.of("k int8", "v text"), List.<String[]>of(row("1", "a")));
        assertNotNull(CorpusResult.differences(CorpusQuery.bag("q"), a, b));
    }

    @Test
    void approxColumnsHaveARelativeToleranceOf1eMinus12() {
        assertTrue(CorpusResult.same("1234.5678901234567", "1234.5678901234560", true));
        assertTrue(CorpusResult.same("0", "-0", true));
        assertTrue(CorpusResult.same("1.0", "1.00", true));
        assertTrue(CorpusResult.same("NaN", "NaN", true));
        assertFalse(CorpusResult.same("1234.5678901234567", "1234.5678901234560", false));
        assertFalse(CorpusResult.same("1234.56789012", "1234.56789013", true));
        assertFalse(CorpusResult.same("NaN", "Infinity", true));
        assertFalse(CorpusResult.same("1", null, true));
        CorpusQuery q = CorpusQuery.total("q").approx(1);
        assertNull(CorpusResult.differences(q, result(row("1.0", "a")), result(row("1.00", "a"))));
        assertNotNull(CorpusResult.differences(q, result(row("1.0", "a")), result(row("1.1", "a"))));
    }

    @Test
    void refusalWordsMatchAtWordStarts() {
        assertTrue(CrossShardRefusalTest.names("WITH query c reads sharded table items", "WITH"));
        assertFalse(CrossShardRefusalTest.names("choose a shard with SET SHARD", "WITH"));
        assertTrue(CrossShardRefusalTest.names("a subquery in FROM", "subquer"));
        assertFalse(CrossShardRefusalTest.names("the pool's blocking queue", "lock"));
        assertTrue(CrossShardRefusalTest.names("cannot lock rows across shards", "lock"));
    }
}
