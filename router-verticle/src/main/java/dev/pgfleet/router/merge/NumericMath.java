package dev.pgfleet.router.merge;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;

/**
 * numeric arithmetic of merged aggregates with PostgreSQL's result scales, written from its
 * documented behaviour (src/backend/utils/adt/numeric.c's rules, not its code): division keeps
 * at least {@value #MIN_SIG_DIGITS} significant digits and at least the inputs' display scales
 * ({@code select_div_scale}), rounding half away from zero; avg is sum / count
 * ({@code numeric_avg} calls {@code numeric_div}); variance and standard deviation follow
 * {@code numeric_stddev_internal} from the count, sum(x) and sum(x*x).
 *
 * <p>Operands and results are {@code BigDecimal}s whose scale is the display scale; numeric's
 * NaN and infinities are {@code Double} (design 14), accepted where a method takes a
 * {@code Number}.
 */
public final class NumericMath {
    /** NUMERIC_MIN_SIG_DIGITS: a quotient has at least this many significant digits. */
    static final int MIN_SIG_DIGITS = 16;
    /** NUMERIC_MAX_DISPLAY_SCALE and NUMERIC_MIN_DISPLAY_SCALE. */
    static final int MAX_DISPLAY_SCALE = 1000;
    static final int MIN_DISPLAY_SCALE = 0;
    /** numeric's base is 10000: DEC_DIGITS decimal digits per digit. */
    private static final int DEC_DIGITS = 4;

    private NumericMath() {
    }

    /**
     * a / b as numeric_div: at the scale of {@link #selectDivScale}, rounded half away from zero.
     *
     * @throws MergeException 22012 "division by zero"
     */
    public static BigDecimal divide(BigDecimal a, BigDecimal b) {
        if (b.signum() == 0) {
            throw divisionByZero();
        }
        return a.divide(b, selectDivScale(a, b), RoundingMode.HALF_UP);
    }

    /**
     * numeric_div with numeric's special values ({@code Double} NaN and infinities): NaN if
     * either is NaN or both are infinite; an infinity over a finite non-zero number is an
     * infinity with the sign of the product; a finite number over an infinity is 0; a division
     * by zero fails (also of an infinity).
     */
    public static Object divide(Number a, Number b) {
        boolean aSpecial = special(a);
        boolean bSpecial = special(b);
        if (!aSpecial && !bSpecial) {
            return divide(PgValues.toBigDecimal(a), PgValues.toBigDecimal(b));
        }
        double x = a.doubleValue();
        double y = b.doubleValue();
        if (Double.isNaN(x) || Double.isNaN(y)) {
            return Double.NaN;
        }
        if (aSpecial && bSpecial) {
            return Double.NaN;
        }
        if (aSpecial) {
            int sign = PgValues.toBigDecimal(b).signum();
            if (sign == 0) {
                throw divisionByZero();
            }
            return sign * x;
        }
        return BigDecimal.ZERO;
    }

    /** avg as numeric_avg: sum / count, null for no rows (count 0). */
    public static BigDecimal avg(BigDecimal sum, long count) {
        if (count == 0) {
            return null;
        }
        return divide(sum, BigDecimal.valueOf(count));
    }

    /** {@link #avg(BigDecimal, long)} for a sum that may be numeric's NaN or an infinity. */
    public static Object avg(Number sum, long count) {
        if (count == 0) {
            return null;
        }
        return divide(sum, (Number) BigDecimal.valueOf(count));
    }

    /**
     * var_samp ({@code sample}) or var_pop of n values with the given sum(x) and sum(x*x), as
     * numeric_stddev_internal: numerator n*sumX2 - sumX*sumX (0 when not positive), denominator
     * n*(n-1) or n*n, at the scale select_div_scale gives the two. Null when n is 0, or 1 for the
     * sample variance.
     */
    public static BigDecimal variance(long n, BigDecimal sumX, BigDecimal sumX2, boolean sample) {
        return compute(n, sumX, sumX2, sample, false);
    }

    /** stddev_samp ({@code sample}) or stddev_pop: the square root of {@link #variance}, rounded to its scale. */
    public static BigDecimal stddev(long n, BigDecimal sumX, BigDecimal sumX2, boolean sample) {
        return compute(n, sumX, sumX2, sample, true);
    }

    /**
     * {@link #variance(long, BigDecimal, BigDecimal, boolean)} where a sum may be numeric's NaN or
     * an infinity: then the result is NaN (an infinite input makes the variance NaN in PostgreSQL).
     */
    public static Object variance(long n, Number sumX, Number sumX2, boolean sample) {
        return computeAny(n, sumX, sumX2, sample, false);
    }

    /** {@link #stddev(long, BigDecimal, BigDecimal, boolean)} with numeric's special values. */
    public static Object stddev(long n, Number sumX, Number sumX2, boolean sample) {
        return computeAny(n, sumX, sumX2, sample, true);
    }

    private static Object computeAny(long n, Number sumX, Number sumX2, boolean sample, boolean sqrt) {
        // numeric_stddev_internal answers NULL for too few rows before it looks at NaN/Infinity.
        if (n == 0 || (sample && n == 1)) {
            return null;
        }
        if (special(sumX) || special(sumX2)) {
            return Double.NaN;
        }
        return compute(n, PgValues.toBigDecimal(sumX), PgValues.toBigDecimal(sumX2), sample, sqrt);
    }

    private static BigDecimal compute(long n, BigDecimal sumX, BigDecimal sumX2, boolean sample, boolean sqrt) {
        if (n == 0 || (sample && n == 1)) {
            return null;
        }
        // numeric_stddev_internal multiplies at rscale = 2 * dscale(sumX), rounding to it.
        int mulScale = Math.max(0, sumX.scale()) * 2;
        BigDecimal count = BigDecimal.valueOf(n);
        BigDecimal squareOfSum = sumX.multiply(sumX).setScale(mulScale, RoundingMode.HALF_UP);
        BigDecimal nSumX2 = count.multiply(sumX2).setScale(mulScale, RoundingMode.HALF_UP);
        BigDecimal numerator = nSumX2.subtract(squareOfSum);
        if (numerator.signum() <= 0) {
            // Round-off guard of PostgreSQL: a zero with display scale 0.
            return BigDecimal.ZERO;
        }
        BigDecimal denominator = count.multiply(BigDecimal.valueOf(sample ? n - 1 : n));
        int rscale = selectDivScale(numerator, denominator);
        BigDecimal variance = numerator.divide(denominator, rscale, RoundingMode.HALF_UP);
        return sqrt ? sqrt(variance, rscale) : variance;
    }

    /**
     * The square root of a non-negative value rounded half up to {@code scale} digits:
     * floor(sqrt(v) * 10^(scale+1)) from an integer square root, then the last digit rounded.
     */
    static BigDecimal sqrt(BigDecimal value, int scale) {
        BigInteger scaled = value.movePointRight(2 * scale + 2).setScale(0, RoundingMode.FLOOR).unscaledValue();
        BigInteger[] root = scaled.sqrt().divideAndRemainder(BigInteger.TEN);
        BigInteger rounded = root[1].intValue() >= 5 ? root[0].add(BigInteger.ONE) : root[0];
        return new BigDecimal(rounded, scale);
    }

    /**
     * select_div_scale: the quotient's weight in base-10000 digits estimated from the operands'
     * weights and first digits, then 16 significant digits, at least both display scales, within
     * [0, 1000].
     */
    static int selectDivScale(BigDecimal a, BigDecimal b) {
        int weightA = 0;
        int firstA = 0;
        if (a.signum() != 0) {
            weightA = weight(a);
            firstA = firstDigit(a, weightA);
        }
        int weightB = 0;
        int firstB = 0;
        if (b.signum() != 0) {
            weightB = weight(b);
            firstB = firstDigit(b, weightB);
        }
        int quotientWeight = weightA - weightB;
        if (firstA <= firstB) {
            quotientWeight--;
        }
        int rscale = MIN_SIG_DIGITS - quotientWeight * DEC_DIGITS;
        rscale = Math.max(rscale, Math.max(0, a.scale()));
        rscale = Math.max(rscale, Math.max(0, b.scale()));
        rscale = Math.max(rscale, MIN_DISPLAY_SCALE);
        return Math.min(rscale, MAX_DISPLAY_SCALE);
    }

    /** The position of the first non-zero base-10000 digit (0 for the units group 0..9999). */
    private static int weight(BigDecimal v) {
        int leadingExponent = v.precision() - v.scale() - 1;
        return Math.floorDiv(leadingExponent, DEC_DIGITS);
    }

    /** The value of that base-10000 digit, 1..9999. */
    private static int firstDigit(BigDecimal v, int weight) {
        return v.abs().movePointLeft(weight * DEC_DIGITS).setScale(0, RoundingMode.FLOOR).intValueExact();
    }

    /**
     * var_samp / var_pop of float inputs from n, sum(x) and sum(x*x) in double arithmetic.
     * PostgreSQL's float8 aggregates use the Youngs-Cramer algorithm over the rows themselves
     * (float8_accum), which a merge of partial sums cannot repeat: the last digits may differ,
     * and catastrophic cancellation shows for values far from zero with little spread.
     */
    public static Double varianceFloat(long n, double sumX, double sumX2, boolean sample) {
        if (n == 0 || (sample && n == 1)) {
            return null;
        }
        if (Double.isNaN(sumX) || Double.isNaN(sumX2) || Double.isInfinite(sumX) || Double.isInfinite(sumX2)) {
            return Double.NaN;
        }
        double numerator = n * sumX2 - sumX * sumX;
        if (numerator <= 0) {
            return 0.0;
        }
        return numerator / ((double) n * (sample ? n - 1 : n));
    }

    /** stddev_samp / stddev_pop of float inputs: the square root of {@link #varianceFloat}. */
    public static Double stddevFloat(long n, double sumX, double sumX2, boolean sample) {
        Double variance = varianceFloat(n, sumX, sumX2, sample);
        return variance == null ? null : Math.sqrt(variance);
    }

    private static boolean special(Number n) {
        return (n instanceof Double || n instanceof Float) && (Double.isNaN(n.doubleValue())
                || Double.isInfinite(n.doubleValue()));
    }

    private static MergeException divisionByZero() {
        return new MergeException("22012", "division by zero");
    }
}
