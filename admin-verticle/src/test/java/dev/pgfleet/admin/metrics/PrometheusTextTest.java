package dev.pgfleet.admin.metrics;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The test parser accepts the format and refuses what Prometheus would refuse. */
class PrometheusTextTest {

    private static final String GOOD = """
            # HELP x_total Things, with a \\\\ and a \\n.
            # TYPE x_total counter
            x_total{a="1",b="q\\"uote"} 3
            x_total{a="2"} 4 1700000000000
            # TYPE h histogram
            h_bucket{le="0.1"} 1
            h_bucket{le="1"} 3
            h_bucket{le="+Inf"} 3
            h_sum 1.5
            h_count 3
            untyped_one -Inf
            """;

    @Test
    void readsFamiliesLabelsAndValues() {
        PrometheusText p = PrometheusText.parse(GOOD);
        assertEquals("counter", p.family("x_total").type());
        assertEquals("Things, with a \\ and a \n.", p.family("x_total").help);
        assertEquals(3, p.value("x_total", "a", "1", "b", "q\"uote"));
        assertEquals(4, p.value("x_total", "a", "2"));
        assertEquals(3, p.value("h_count"));
        assertEquals("untyped", p.family("untyped_one").type());
        assertEquals(Double.NEGATIVE_INFINITY, p.value("untyped_one"));
    }

    @Test
    void refusesMalformedExpositions() {
        String[] bad = {
            "# TYPE a gauge\n# TYPE a gauge\na 1\n",            // TYPE twice
            "a 1\n# TYPE a gauge\n",                            // TYPE after samples
            "# HELP a x\n# HELP a y\na 1\n",                    // HELP twice
            "a 1\nb 1\na{x=\"1\"} 2\n",                         // family in two places
            "a 1\na 2\n",                                       // duplicate series
            "a{1x=\"1\"} 1\n",                                  // bad label name
            "a{x=1} 1\n",                                       // unquoted value
            "a{x=\"\\t\"} 1\n",                                 // bad escape
            "a{x=\"1\"\n",                                      // unterminated
            "a one\n",                                          // bad number
            "a 1 2 3\n",                                        // too many fields
            "a 1",                                              // no final line feed
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",
            "# TYPE a widget\na 1\n",
        };
        for (String b : bad) {
            assertThrows(PrometheusText.ParseException.class, () -> PrometheusText.parse(b), b);
        }
    }
}
