package dev.pgfleet.router.merge;

import java.util.List;

/**
 * A HAVING condition over a grouped plan's merged {@link Output}s, evaluated by the proxy per
 * group with SQL's three-valued logic (Java {@code null} is NULL / unknown). Values use the
 * merge's Java representation: Long, BigDecimal, Double, String, Boolean.
 */
public sealed interface Expr {
    /** The merged value of {@code outputs[output]}. */
    record Ref(int output) implements Expr {
    }

    /** A constant: Long, BigDecimal (for {@code 1.5}), String, Boolean or null. */
    record Const(Object value) implements Expr {
    }

    /** The client's {@code $n} (1-based); its value is given as the String of its text form. */
    record Param(int n) implements Expr {
    }

    record Not(Expr e) implements Expr {
    }

    record And(Expr l, Expr r) implements Expr {
    }

    record Or(Expr l, Expr r) implements Expr {
    }

    /** {@code op}: one of {@code = <> < <= > >=} ({@code !=} is read as {@code <>}). */
    record Compare(String op, Expr l, Expr r) implements Expr {
    }

    /** {@code op}: one of {@code + - * / %}. */
    record Arith(String op, Expr l, Expr r) implements Expr {
    }

    record Neg(Expr e) implements Expr {
    }

    /** {@code e IS NULL}, or {@code e IS NOT NULL} when negated. */
    record IsNull(Expr e, boolean negated) implements Expr {
    }

    /** {@code e IN (list)}; NOT IN is {@code Not(In)}. */
    record In(Expr e, List<Expr> list) implements Expr {
        public In {
            list = List.copyOf(list);
        }
    }

    /** {@code e BETWEEN lo AND hi}; NOT BETWEEN is {@code Not(Between)}. */
    record Between(Expr e, Expr lo, Expr hi) implements Expr {
    }

    /**
     * Evaluates {@code e}: {@code outputs} are the group's merged outputs by index, {@code params}
     * the client's parameter values as text (index 0 is {@code $1}, null for NULL). A Param takes
     * the kind of the value it meets (Long, BigDecimal, Double, Boolean or String).
     *
     * @throws ArithmeticException on division by zero or bigint overflow (PostgreSQL's 22012 and 22003)
     * @throws IllegalArgumentException on values that cannot be compared or computed
     */
    static Object eval(Expr e, Object[] outputs, Object[] params) {
        return ExprEval.eval(e, outputs, params);
    }
}
