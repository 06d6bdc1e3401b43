package dev.pgfleet.router.merge;

/** A LIMIT or OFFSET count: {@code param} is the 1-based {@code $n} it comes from, or 0 for {@code constant}. */
public record Bound(long constant, int param) {
    static Bound of(long constant) {
        return new Bound(constant, 0);
    }

    static Bound param(int n) {
        return new Bound(0, n);
    }

    @Override
    public String toString() {
        return param == 0 ? Long.toString(constant) : "$" + param;
    }
}
