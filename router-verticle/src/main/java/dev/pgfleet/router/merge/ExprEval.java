package dev.pgfleet.router.merge;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;

/** {@link Expr#eval}: SQL's three-valued logic and PostgreSQL's arithmetic and comparisons. */
public final class ExprEval {
    private ExprEval() {
    }

    /** A Param's text, not yet given a kind. */
    private record Text(String value) {
    }

    public static Object eval(Expr e, Object[] outputs, Object[] params) {
        Object v = raw(e, outputs, params);
        return v instanceof Text t ? t.value : v;
    }

    private static Object raw(Expr e, Object[] outputs, Object[] params) {
        if (e instanceof Expr.Ref r) {
            return outputs[r.output()];
        }
        if (e instanceof Expr.Const c) {
            return c.value();
        }
        if (e instanceof Expr.Param p) {
            Object v = params[p.n() - 1];
            return v == null ? null : new Text(v.toString());
        }
        if (e instanceof Expr.Not n) {
            Boolean b = bool(raw(n.e(), outputs, params));
            return b == null ? null : !b;
        }
        if (e instanceof Expr.And a) {
            Boolean l = bool(raw(a.l(), outputs, params));
            if (Boolean.FALSE.equals(l)) {
                return false;
            }
            Boolean r = bool(raw(a.r(), outputs, params));
            if (Boolean.FALSE.equals(r)) {
                return false;
            }
            return l == null || r == null ? null : true;
        }
        if (e instanceof Expr.Or o) {
            Boolean l = bool(raw(o.l(), outputs, params));
            if (Boolean.TRUE.equals(l)) {
                return true;
            }
            Boolean r = bool(raw(o.r(), outputs, params));
            if (Boolean.TRUE.equals(r)) {
                return true;
            }
            return l == null || r == null ? null : false;
        }
        if (e instanceof Expr.Compare c) {
            Object l = raw(c.l(), outputs, params);
            Object r = raw(c.r(), outputs, params);
            if (l == null || r == null) {
                return null;
            }
            return test(c.op(), compare(l, r));
        }
        if (e instanceof Expr.Arith a) {
            Object l = raw(a.l(), outputs, params);
            Object r = raw(a.r(), outputs, params);
            if (l == null || r == null) {
                return null;
            }
            return arith(a.op(), l, r);
        }
        if (e instanceof Expr.Neg n) {
            Object v = number(raw(n.e(), outputs, params));
            if (v == null) {
                return null;
            }
            if (v instanceof Long l) {
                return exact(() -> Math.negateExact(l));
            }
            return v instanceof BigDecimal d ? d.negate() : -(Double) v;
        }
        if (e instanceof Expr.IsNull n) {
            return (raw(n.e(), outputs, params) == null) != n.negated();
        }
        if (e instanceof Expr.In in) {
            Object v = raw(in.e(), outputs, params);
            if (v == null) {
                return null;
            }
            boolean unknown = false;
            for (Expr x : in.list()) {
                Object w = raw(x, outputs, params);
                if (w == null) {
                    unknown = true;
                } else if (compare(v, w) == 0) {
                    return true;
                }
            }
            return unknown ? null : false;
        }
        Expr.Between b = (Expr.Between) e;
        Object v = raw(b.e(), outputs, params);
        Object lo = raw(b.lo(), outputs, params);
        Object hi = raw(b.hi(), outputs, params);
        Boolean ge = v == null || lo == null ? null : compare(v, lo) >= 0;
        Boolean le = v == null || hi == null ? null : compare(v, hi) <= 0;
        if (Boolean.FALSE.equals(ge) || Boolean.FALSE.equals(le)) {
            return false;
        }
        return ge == null || le == null ? null : true;
    }

    private static boolean test(String op, int c) {
        switch (op) {
            case "=": return c == 0;
            case "<>": return c != 0;
            case "<": return c < 0;
            case "<=": return c <= 0;
            case ">": return c > 0;
            case ">=": return c >= 0;
            default: throw new IllegalArgumentException("operator " + op);
        }
    }

    private static Boolean bool(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof Text t) {
            return parseBool(t.value);
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw new IllegalArgumentException("argument of a condition must be boolean, not " + kind(v));
    }

    /** PostgreSQL's boolin: t/true/yes/on/1 and f/false/no/off/0, any unique prefix, any case. */
    private static Boolean parseBool(String s) {
        String x = s.trim().toLowerCase(Locale.ROOT);
        if (!x.isEmpty()) {
            if ("true".startsWith(x) || "yes".startsWith(x) || x.equals("on") || x.equals("1")) {
                return true;
            }
            if ("false".startsWith(x) || "no".startsWith(x) || x.equals("off") || x.equals("of") || x.equals("0")) {
                return false;
            }
        }
        throw new IllegalArgumentException("invalid input syntax for type boolean: \"" + s + "\"");
    }

    /** Gives a Param's text the kind of {@code other}. */
    private static Object coerce(Object v, Object other) {
        if (!(v instanceof Text t)) {
            return v;
        }
        String s = t.value.trim();
        if (other instanceof Long) {
            try {
                return Long.parseLong(s);
            } catch (NumberFormatException e) {
                return decimal(s);
            }
        }
        if (other instanceof BigDecimal) {
            return decimal(s);
        }
        if (other instanceof Double) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "nan" -> Double.NaN;
                case "infinity", "inf", "+infinity", "+inf" -> Double.POSITIVE_INFINITY;
                case "-infinity", "-inf" -> Double.NEGATIVE_INFINITY;
                default -> Double.parseDouble(s);
            };
        }
        if (other instanceof Boolean) {
            return parseBool(s);
        }
        return t.value;
    }

    private static Object decimal(String s) {
        switch (s.toLowerCase(Locale.ROOT)) {
            case "nan": return Double.NaN;
            case "infinity": case "+infinity": case "inf": return Double.POSITIVE_INFINITY;
            case "-infinity": case "-inf": return Double.NEGATIVE_INFINITY;
            default:
                try {
                    return new BigDecimal(s);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("invalid input syntax for type numeric: \"" + s + "\"");
                }
        }
    }

    /** A number for arithmetic; a lone Param's text is read as a number. */
    private static Object number(Object v) {
        if (v instanceof Text t) {
            return coerce(t, 0L);
        }
        if (v == null || v instanceof Long || v instanceof BigDecimal || v instanceof Double) {
            return v;
        }
        throw new IllegalArgumentException("not a number: " + kind(v));
    }

    /** PostgreSQL's order: numbers by value across int/numeric/float (NaN greatest), text by code point. */
    static int compare(Object l, Object r) {
        if (l instanceof Text && r instanceof Text) {
            return compareText(((Text) l).value, ((Text) r).value);
        }
        l = coerce(l, r);
        r = coerce(r, l);
        if (isNumber(l) && isNumber(r)) {
            if (l instanceof Long a && r instanceof Long b) {
                return Long.compare(a, b);
            }
            if (l instanceof Double || r instanceof Double) {
                return compareDouble(toDouble(l), toDouble(r));
            }
            return toDecimal(l).compareTo(toDecimal(r));
        }
        if (l instanceof String a && r instanceof String b) {
            return compareText(a, b);
        }
        if (l instanceof Boolean a && r instanceof Boolean b) {
            return Boolean.compare(a, b);
        }
        if (l instanceof Comparable && l.getClass() == r.getClass()) {
            @SuppressWarnings("unchecked")
            Comparable<Object> c = (Comparable<Object>) l;
            return c.compareTo(r);
        }
        throw new IllegalArgumentException("cannot compare " + kind(l) + " with " + kind(r));
    }

    private static int compareText(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int x = a.codePointAt(i);
            int y = b.codePointAt(j);
            if (x != y) {
                return Integer.compare(x, y);
            }
            i += Character.charCount(x);
            j += Character.charCount(y);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    /** float8 order: NaN above everything and equal to itself, -0 equal to 0. */
    private static int compareDouble(double a, double b) {
        if (Double.isNaN(a) || Double.isNaN(b)) {
            return Double.isNaN(a) ? (Double.isNaN(b) ? 0 : 1) : -1;
        }
        return a < b ? -1 : (a > b ? 1 : 0);
    }

    private static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof BigDecimal || v instanceof Double;
    }

    private static double toDouble(Object v) {
        return v instanceof Double d ? d : ((Number) v).doubleValue();
    }

    private static BigDecimal toDecimal(Object v) {
        return v instanceof BigDecimal d ? d : BigDecimal.valueOf((Long) v);
    }

    private static Object arith(String op, Object l, Object r) {
        l = number(coerce(l, r));
        r = number(coerce(r, l));
        if (l instanceof Long a && r instanceof Long b) {
            switch (op) {
                case "+": return exact(() -> Math.addExact(a, b));
                case "-": return exact(() -> Math.subtractExact(a, b));
                case "*": return exact(() -> Math.multiplyExact(a, b));
                case "/":
                    if (b == 0) {
                        throw new ArithmeticException("division by zero");
                    }
                    if (a == Long.MIN_VALUE && b == -1) {
                        throw new ArithmeticException("bigint out of range");
                    }
                    return a / b; // truncates toward zero, as PostgreSQL's int8div
                case "%":
                    if (b == 0) {
                        throw new ArithmeticException("division by zero");
                    }
                    return b == -1 ? 0L : a % b; // sign of the dividend, as int8mod
                default: throw new IllegalArgumentException("operator " + op);
            }
        }
        if (l instanceof Double || r instanceof Double) {
            double a = toDouble(l);
            double b = toDouble(r);
            switch (op) {
                case "+": return a + b;
                case "-": return a - b;
                case "*": return a * b;
                case "/":
                    if (b == 0) {
                        throw new ArithmeticException("division by zero");
                    }
                    return a / b;
                default: throw new IllegalArgumentException("operator " + op + " on double precision");
            }
        }
        BigDecimal a = toDecimal(l);
        BigDecimal b = toDecimal(r);
        switch (op) {
            case "+": return a.add(b);
            case "-": return a.subtract(b);
            case "*": return a.multiply(b);
            case "/":
                if (b.signum() == 0) {
                    throw new ArithmeticException("division by zero");
                }
                return divide(a, b);
            case "%":
                if (b.signum() == 0) {
                    throw new ArithmeticException("division by zero");
                }
                return a.remainder(b);
            default: throw new IllegalArgumentException("operator " + op);
        }
    }

    /**
     * numeric division with about PostgreSQL's result scale (select_div_scale): at least 16
     * significant digits and at least the operands' display scales.
     */
    private static BigDecimal divide(BigDecimal a, BigDecimal b) {
        int weight = (a.precision() - a.scale()) - (b.precision() - b.scale());
        int scale = Math.max(16 - weight, Math.max(Math.max(a.scale(), b.scale()), 0));
        scale = Math.min(scale, 1000);
        return a.divide(b, scale, RoundingMode.HALF_UP);
    }

    private interface LongOp {
        long get();
    }

    private static Long exact(LongOp op) {
        try {
            return op.get();
        } catch (ArithmeticException e) {
            throw new ArithmeticException("bigint out of range");
        }
    }

    private static String kind(Object v) {
        return v == null ? "null" : v.getClass().getSimpleName();
    }
}
