package dev.pgfleet.router.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Expr#eval} on values PostgreSQL gives no HAVING literal for (NaN, infinities, bigint
 * overflow, text parameters meeting each kind); the rest is checked against PostgreSQL in
 * {@link CrossShardPlannerPostgresTest}.
 */
class ExprEvalTest {
    private static Object eval(Expr e, Object... outputs) {
        return Expr.eval(e, outputs, new Object[] {"7", "2.50", "t", "abc", null});
    }

    private static Expr ref(int i) {
        return new Expr.Ref(i);
    }

    private static Expr cmp(String op, Expr l, Expr r) {
        return new Expr.Compare(op, l, r);
    }

    @Test
    void numbersCompareAcrossKinds() {
        assertEquals(true, eval(cmp("=", ref(0), ref(1)), 1L, new BigDecimal("1.00")));
        assertEquals(true, eval(cmp("<", ref(0), ref(1)), 1L, 1.5));
        assertEquals(true, eval(cmp(">", ref(0), ref(1)), Double.NaN, Double.POSITIVE_INFINITY));
        assertEquals(true, eval(cmp("=", ref(0), ref(1)), Double.NaN, Double.NaN));
        assertEquals(true, eval(cmp("=", ref(0), ref(1)), -0.0, 0.0));
        assertEquals(true, eval(cmp(">", ref(0), ref(1)), Double.NaN, new BigDecimal("1e100")));
        assertEquals(true, eval(cmp("<", ref(0), ref(1)), new BigDecimal("2.5"), 3L));
    }

    @Test
    void textInCodePointOrder() {
        assertEquals(true, eval(cmp("<", ref(0), ref(1)), "B", "a"));
        // U+FFFD sorts below U+1F600 in UTF-8, though its UTF-16 unit is above the surrogate's.
        assertEquals(true, eval(cmp("<", ref(0), ref(1)), "\uFFFD", "\uD83D\uDE00"));
        assertEquals(true, eval(cmp("<", ref(0), ref(1)), "ab", "abc"));
        assertEquals(true, eval(cmp("<", ref(0), ref(1)), false, true));
    }

    @Test
    void parametersTakeTheOtherSidesKind() {
        assertEquals(true, eval(cmp("=", ref(0), new Expr.Param(1)), 7L));
        assertEquals(true, eval(cmp("=", ref(0), new Expr.Param(2)), new BigDecimal("2.5")));
        assertEquals(true, eval(cmp("=", ref(0), new Expr.Param(2)), 2.5));
        assertEquals(true, eval(cmp("=", ref(0), new Expr.Param(3)), true));
        assertEquals(true, eval(cmp("=", ref(0), new Expr.Param(4)), "abc"));
        assertNull(eval(cmp("=", ref(0), new Expr.Param(5)), 1L));
        assertEquals(14L, eval(new Expr.Arith("*", ref(0), new Expr.Param(1)), 2L));
        assertEquals("t", eval(new Expr.Param(3)));
        assertEquals(false, eval(new Expr.Not(new Expr.Param(3))));
        // "7" as text sorts after "10", as a number before it
        assertEquals(true, eval(cmp("<", new Expr.Param(1), ref(0)), 10L));
    }

    @Test
    void arithmetic() {
        assertEquals(-2L, eval(new Expr.Arith("/", ref(0), ref(1)), -7L, 3L));
        assertEquals(-1L, eval(new Expr.Arith("%", ref(0), ref(1)), -7L, 3L));
        assertEquals(new BigDecimal("3.75"), eval(new Expr.Arith("*", ref(0), ref(1)), new BigDecimal("2.5"), new BigDecimal("1.5")));
        assertEquals(new BigDecimal("0.3333333333333333"), eval(new Expr.Arith("/", ref(0), ref(1)), 1L, new BigDecimal("3")));
        assertEquals(2.5, eval(new Expr.Arith("/", ref(0), ref(1)), 5L, 2.0));
        assertEquals(-5L, eval(new Expr.Neg(ref(0)), 5L));
        assertThrows(ArithmeticException.class, () -> eval(new Expr.Arith("/", ref(0), ref(1)), 1L, 0L));
        assertThrows(ArithmeticException.class, () -> eval(new Expr.Arith("/", ref(0), ref(1)), 1.0, 0L));
        assertThrows(ArithmeticException.class, () -> eval(new Expr.Arith("+", ref(0), ref(1)), Long.MAX_VALUE, 1L));
        assertThrows(ArithmeticException.class, () -> eval(new Expr.Neg(ref(0)), Long.MIN_VALUE));
        assertNull(eval(new Expr.Arith("+", ref(0), ref(1)), null, 1L));
    }

    @Test
    void threeValuedLogic() {
        Expr unknown = new Expr.Const(null);
        assertEquals(false, eval(new Expr.And(unknown, new Expr.Const(false))));
        assertNull(eval(new Expr.And(unknown, new Expr.Const(true))));
        assertEquals(true, eval(new Expr.Or(unknown, new Expr.Const(true))));
        assertNull(eval(new Expr.Or(unknown, new Expr.Const(false))));
        assertNull(eval(new Expr.Not(unknown)));
        assertEquals(true, eval(new Expr.IsNull(ref(0), false), (Object) null));
        assertEquals(false, eval(new Expr.IsNull(ref(0), true), (Object) null));
        assertNull(eval(new Expr.In(ref(0), List.of(new Expr.Const(1L), unknown)), 2L));
        assertEquals(true, eval(new Expr.In(ref(0), List.of(new Expr.Const(1L), unknown)), 1L));
        assertNull(eval(new Expr.Between(ref(0), new Expr.Const(1L), unknown), 5L));
        assertEquals(false, eval(new Expr.Between(ref(0), new Expr.Const(1L), unknown), 0L));
        assertThrows(IllegalArgumentException.class, () -> eval(cmp("=", ref(0), ref(1)), "a", 1L));
    }
}
