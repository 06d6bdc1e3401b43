package dev.pgfleet.router.merge;

import static dev.pgfleet.router.merge.SqlTokens.COMMA;
import static dev.pgfleet.router.merge.SqlTokens.LPAREN;
import static dev.pgfleet.router.merge.SqlTokens.NUMBER;
import static dev.pgfleet.router.merge.SqlTokens.PARAM;
import static dev.pgfleet.router.merge.SqlTokens.STRING;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a HAVING condition into an {@link Expr}, by PostgreSQL's operator precedence (manual
 * 4.1.6): OR, AND, NOT, IS, comparison, BETWEEN / IN, {@code + -}, {@code * / %}, unary minus.
 * Aggregates and GROUP BY keys become {@link Expr.Ref}s to outputs; anything PgFleet does not
 * evaluate is refused.
 */
final class HavingReader {
    /** Resolves an operand's tokens to an output index, or -1. */
    interface Operands {
        int output(int from, int to) throws CrossShardRefusal;
    }

    private final SqlTokens t;
    private final int end;
    private final Operands operands;
    private int pos;

    HavingReader(SqlTokens t, int from, int to, Operands operands) {
        this.t = t;
        this.pos = from;
        this.end = to;
        this.operands = operands;
    }

    Expr read() throws CrossShardRefusal {
        if (pos >= end) {
            throw new CrossShardRefusal("empty HAVING");
        }
        Expr e = or();
        if (pos < end) {
            throw refuse(pos);
        }
        // HAVING $1: the parameter is a boolean, and eval gives a lone Param's text.
        return e instanceof Expr.Param ? new Expr.Compare("=", e, new Expr.Const(true)) : e;
    }

    private CrossShardRefusal refuse(int at) {
        String what = at < end ? t.text(at) : "end";
        return new CrossShardRefusal("HAVING construct " + what + " is not evaluated by PgFleet across shards");
    }

    private boolean word(String w) {
        if (pos < end && t.isWord(pos, w)) {
            pos++;
            return true;
        }
        return false;
    }

    private boolean op(String o) {
        if (pos < end && t.isOp(pos, o)) {
            pos++;
            return true;
        }
        return false;
    }

    private Expr or() throws CrossShardRefusal {
        Expr e = and();
        while (word("or")) {
            e = new Expr.Or(e, and());
        }
        return e;
    }

    private Expr and() throws CrossShardRefusal {
        Expr e = not();
        while (word("and")) {
            e = new Expr.And(e, not());
        }
        return e;
    }

    private Expr not() throws CrossShardRefusal {
        if (word("not")) {
            return new Expr.Not(not());
        }
        return is();
    }

    private Expr is() throws CrossShardRefusal {
        Expr e = comparison();
        while (true) {
            if (word("isnull")) {
                e = new Expr.IsNull(e, false);
            } else if (word("notnull")) {
                e = new Expr.IsNull(e, true);
            } else if (pos < end && t.isWord(pos, "is")) {
                pos++;
                boolean negated = word("not");
                if (!word("null")) {
                    throw refuse(pos);
                }
                e = new Expr.IsNull(e, negated);
            } else {
                return e;
            }
        }
    }

    private Expr comparison() throws CrossShardRefusal {
        Expr e = range();
        for (String o : new String[] {"<=", ">=", "<>", "!=", "=", "<", ">"}) {
            if (op(o)) {
                return new Expr.Compare(o.equals("!=") ? "<>" : o, e, range());
            }
        }
        return e;
    }

    private Expr range() throws CrossShardRefusal {
        Expr e = additive();
        boolean negated = false;
        int save = pos;
        if (word("not")) {
            negated = true;
        }
        if (word("between")) {
            if (t.isWord(pos, "symmetric") || t.isWord(pos, "asymmetric")) {
                throw refuse(pos);
            }
            Expr lo = additive();
            if (!word("and")) {
                throw refuse(pos);
            }
            Expr hi = additive();
            Expr b = new Expr.Between(e, lo, hi);
            return negated ? new Expr.Not(b) : b;
        }
        if (word("in")) {
            if (!t.is(pos, LPAREN) || t.isWord(pos + 1, "select") || t.isWord(pos + 1, "with")
                    || t.isWord(pos + 1, "values")) {
                throw refuse(pos);
            }
            int close = t.partner[pos];
            pos++;
            List<Expr> list = new ArrayList<>();
            while (true) {
                list.add(or());
                if (pos == close) {
                    break;
                }
                if (!t.is(pos, COMMA)) {
                    throw refuse(pos);
                }
                pos++;
            }
            pos = close + 1;
            Expr in = new Expr.In(e, list);
            return negated ? new Expr.Not(in) : in;
        }
        pos = save;
        return e;
    }

    private Expr additive() throws CrossShardRefusal {
        Expr e = multiplicative();
        while (true) {
            if (op("+")) {
                e = new Expr.Arith("+", e, multiplicative());
            } else if (op("-")) {
                e = new Expr.Arith("-", e, multiplicative());
            } else {
                return e;
            }
        }
    }

    private Expr multiplicative() throws CrossShardRefusal {
        Expr e = unary();
        while (true) {
            if (op("*")) {
                e = new Expr.Arith("*", e, unary());
            } else if (op("/")) {
                e = new Expr.Arith("/", e, unary());
            } else if (op("%")) {
                e = new Expr.Arith("%", e, unary());
            } else {
                return e;
            }
        }
    }

    private Expr unary() throws CrossShardRefusal {
        if (op("-")) {
            return new Expr.Neg(unary());
        }
        if (op("+")) {
            return unary();
        }
        Expr e = primary();
        if (pos < end && t.isOp(pos, "::")) {
            throw refuse(pos);
        }
        return e;
    }

    private Expr primary() throws CrossShardRefusal {
        if (pos >= end) {
            throw refuse(pos);
        }
        int i = pos;
        if (t.is(i, NUMBER)) {
            pos++;
            return new Expr.Const(number(t.text(i)));
        }
        if (t.is(i, STRING)) {
            String text = t.text(i);
            if (text.charAt(0) != '\'') {
                throw refuse(i);
            }
            pos++;
            return new Expr.Const(text.substring(1, text.length() - 1).replace("''", "'"));
        }
        if (t.is(i, PARAM)) {
            pos++;
            return new Expr.Param(Integer.parseInt(t.text(i).substring(1)));
        }
        if (t.isWord(i, "true") || t.isWord(i, "false")) {
            pos++;
            return new Expr.Const(t.word[i].equals("true"));
        }
        if (t.isWord(i, "null")) {
            pos++;
            return new Expr.Const(null);
        }
        if (t.is(i, LPAREN)) {
            if (t.isWord(i + 1, "select") || t.isWord(i + 1, "with") || t.isWord(i + 1, "values")) {
                throw new CrossShardRefusal("a subquery in HAVING is not evaluated by PgFleet across shards");
            }
            int close = t.partner[i];
            int output = operands.output(i + 1, close);
            if (output >= 0) {
                pos = close + 1;
                return new Expr.Ref(output);
            }
            pos = i + 1;
            Expr e = or();
            if (pos != close) {
                throw refuse(pos);
            }
            pos = close + 1;
            return e;
        }
        if (t.isName(i)) {
            int e = t.nameEndOf(i, end);
            if (t.is(e, LPAREN) && e < end) {
                e = t.partner[e] + 1;
                if (t.isWord(e, "filter") && t.is(e + 1, LPAREN)) {
                    e = t.partner[e + 1] + 1;
                }
                if (t.isWord(e, "over")) {
                    throw new CrossShardRefusal("window functions (OVER) are not run across shards");
                }
            }
            int output = operands.output(i, e);
            if (output < 0 && t.is(e - 1, SqlTokens.RPAREN)
                    && !GroupedPlanner.aggregates(t, i, e).isEmpty()) {
                throw new CrossShardRefusal("expressions over aggregates are not merged across shards: " + t.text(i, e));
            }
            if (output < 0) {
                throw new CrossShardRefusal("HAVING refers to " + t.text(i, e)
                        + ", which is neither a GROUP BY key nor an aggregate");
            }
            pos = e;
            return new Expr.Ref(output);
        }
        throw refuse(i);
    }

    private static Object number(String text) throws CrossShardRefusal {
        String s = text.replace("_", "");
        if (s.startsWith("0x") || s.startsWith("0X") || s.startsWith("0o") || s.startsWith("0O")
                || s.startsWith("0b") || s.startsWith("0B")) {
            throw new CrossShardRefusal("HAVING constant " + text + " is not evaluated by PgFleet across shards");
        }
        if (s.indexOf('.') < 0 && s.indexOf('e') < 0 && s.indexOf('E') < 0) {
            try {
                return Long.parseLong(s);
            } catch (NumberFormatException e) {
                return new BigDecimal(s);
            }
        }
        return new BigDecimal(s);
    }
}
