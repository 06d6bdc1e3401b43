package dev.pgfleet.router.merge;

import static dev.pgfleet.router.merge.SqlTokens.DOT;
import static dev.pgfleet.router.merge.SqlTokens.LPAREN;
import static dev.pgfleet.router.merge.SqlTokens.QIDENT;
import static dev.pgfleet.router.merge.SqlTokens.WORD;

import java.util.Map;
import java.util.Set;

/** Which names before a {@code (} are function calls, which of them are aggregates PgFleet merges. */
final class Functions {
    private Functions() {
    }

    /** The aggregates PgFleet merges, by PostgreSQL name. */
    static final Map<String, Aggregate> MERGED = Map.ofEntries(
            Map.entry("count", Aggregate.COUNT), Map.entry("sum", Aggregate.SUM), Map.entry("min", Aggregate.MIN),
            Map.entry("max", Aggregate.MAX), Map.entry("avg", Aggregate.AVG),
            Map.entry("bool_and", Aggregate.BOOL_AND), Map.entry("every", Aggregate.BOOL_AND),
            Map.entry("bool_or", Aggregate.BOOL_OR), Map.entry("stddev", Aggregate.STDDEV_SAMP),
            Map.entry("stddev_samp", Aggregate.STDDEV_SAMP), Map.entry("stddev_pop", Aggregate.STDDEV_POP),
            Map.entry("variance", Aggregate.VAR_SAMP), Map.entry("var_samp", Aggregate.VAR_SAMP),
            Map.entry("var_pop", Aggregate.VAR_POP));

    /** PostgreSQL's built-in aggregates whose partial results PgFleet cannot combine. */
    static final Set<String> NOT_MERGED = Set.of("percentile_cont", "percentile_disc", "mode", "string_agg",
            "array_agg", "json_agg", "jsonb_agg", "xmlagg", "json_object_agg", "jsonb_object_agg",
            "json_objectagg", "json_arrayagg", "regr_avgx", "regr_avgy", "regr_count", "regr_intercept",
            "regr_r2", "regr_slope", "regr_sxx", "regr_sxy", "regr_syy", "corr", "covar_pop", "covar_samp",
            "bit_and", "bit_or", "bit_xor", "range_agg", "range_intersect_agg", "any_value", "rank",
            "dense_rank", "percent_rank", "cume_dist");

    /** Words a {@code (} may follow that are SQL syntax, not a function. */
    private static final Set<String> NOT_CALLS = Set.of("select", "from", "where", "and", "or", "not", "on", "when",
            "then", "else", "case", "by", "having", "in", "is", "distinct", "all", "lateral", "exists", "any",
            "some", "between", "like", "ilike", "similar", "join", "using", "with", "as", "over", "filter", "within",
            "group", "order", "limit", "offset", "values", "into", "set", "array", "row", "escape", "collate",
            "at", "zone", "interval", "cast", "extract", "overlay", "position", "substring", "trim", "treat",
            "materialized", "recursive", "union", "intersect", "except", "fetch", "returning", "table", "only",
            "grouping", "rollup", "cube", "sets", "window", "partition", "rows", "range", "groups", "varchar",
            "char", "character", "varying", "numeric", "decimal", "bit", "float", "time", "timestamp", "xmlelement",
            "xmlforest", "xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmlexists", "xmlattributes",
            "normalize", "json", "json_object", "json_array", "json_scalar", "json_serialize", "json_query",
            "json_value", "json_exists", "json_table", "merge_action", "ordinality", "operator", "default");

    /** Functions of PostgreSQL's catalog (a selection: what queries commonly call); the rest is reported as unknown. */
    static final Set<String> BUILTIN = Set.of(
            // aggregates and window functions
            "count", "sum", "min", "max", "avg", "bool_and", "bool_or", "every", "stddev", "stddev_samp",
            "stddev_pop", "variance", "var_samp", "var_pop", "array_agg", "string_agg", "json_agg", "jsonb_agg",
            "json_object_agg", "jsonb_object_agg", "xmlagg", "percentile_cont", "percentile_disc", "mode",
            "regr_avgx", "regr_avgy", "regr_count", "regr_intercept", "regr_r2", "regr_slope", "regr_sxx",
            "regr_sxy", "regr_syy", "corr", "covar_pop", "covar_samp", "bit_and", "bit_or", "bit_xor",
            "range_agg", "range_intersect_agg", "any_value", "rank", "dense_rank", "percent_rank", "cume_dist",
            "row_number", "ntile", "lag", "lead", "first_value", "last_value", "nth_value",
            // mathematics
            "abs", "ceil", "ceiling", "floor", "round", "trunc", "sign", "sqrt", "cbrt", "power", "pow", "exp",
            "ln", "log", "log10", "mod", "div", "pi", "random", "degrees", "radians", "sin", "cos", "tan", "asin",
            "acos", "atan", "atan2", "gcd", "lcm", "width_bucket", "scale", "factorial", "min_scale", "trim_scale",
            // strings
            "lower", "upper", "length", "char_length", "character_length", "octet_length", "bit_length", "concat",
            "concat_ws", "substr", "left", "right", "lpad", "rpad", "ltrim", "rtrim", "btrim", "replace",
            "reverse", "repeat", "split_part", "strpos", "initcap", "format", "md5", "sha224", "sha256", "sha384",
            "sha512", "encode", "decode", "to_hex", "ascii", "chr", "regexp_replace", "regexp_match",
            "regexp_matches", "regexp_split_to_array", "regexp_split_to_table", "regexp_like", "regexp_count",
            "regexp_substr", "regexp_instr", "starts_with", "translate", "quote_ident", "quote_literal",
            "quote_nullable", "string_to_array", "array_to_string", "unistr", "casefold",
            // arrays
            "unnest", "array_length", "array_upper", "array_lower", "cardinality", "array_position",
            "array_positions", "array_append", "array_prepend", "array_cat", "array_remove", "array_replace",
            "array_dims", "array_ndims", "array_fill", "array_to_json", "generate_subscripts",
            // date and time
            "now", "date_trunc", "date_part", "age", "make_date", "make_time", "make_timestamp",
            "make_timestamptz", "make_interval", "to_char", "to_date", "to_timestamp", "to_number",
            "clock_timestamp", "statement_timestamp", "transaction_timestamp", "timeofday", "justify_days",
            "justify_hours", "justify_interval", "isfinite", "date_bin", "date_add", "date_subtract",
            // json
            "to_json", "to_jsonb", "json_build_object", "jsonb_build_object", "json_build_array",
            "jsonb_build_array", "json_extract_path", "jsonb_extract_path", "json_extract_path_text",
            "jsonb_extract_path_text", "jsonb_set", "jsonb_insert", "json_array_length", "jsonb_array_length",
            "json_typeof", "jsonb_typeof", "json_object_keys", "jsonb_object_keys", "json_array_elements",
            "jsonb_array_elements", "json_array_elements_text", "jsonb_array_elements_text", "json_each",
            "jsonb_each", "json_each_text", "jsonb_each_text", "jsonb_pretty", "jsonb_strip_nulls", "row_to_json",
            "jsonb_path_query", "jsonb_path_query_array", "jsonb_path_query_first", "jsonb_path_exists",
            "jsonb_path_match", "json_populate_record", "jsonb_populate_record", "json_to_record",
            "jsonb_to_record", "json_to_recordset", "jsonb_to_recordset",
            // conditionals, series, system
            "coalesce", "nullif", "greatest", "least", "generate_series", "gen_random_uuid", "uuidv4", "uuidv7",
            "pg_typeof", "version", "current_setting", "set_config", "txid_current", "pg_current_xact_id",
            "pg_backend_pid", "current_database", "current_schema", "current_schemas", "hashtext", "num_nonnulls",
            "num_nulls", "format_type", "pg_column_size", "pg_size_pretty", "inet_client_addr", "host", "masklen",
            "text", "int2", "int4", "int8", "float4", "float8", "bool", "date", "to_tsvector", "to_tsquery",
            "plainto_tsquery", "phraseto_tsquery", "websearch_to_tsquery", "ts_rank", "ts_rank_cd", "ts_headline",
            "setweight", "lower_inc", "upper_inc", "isempty", "lower_inf", "upper_inf", "range_merge");

    /**
     * The name of the function token {@code i} calls, or null when {@code i} is no call: a word
     * (or {@code schema.word}, {@code pg_catalog.} dropped) before {@code (}, not SQL syntax, not a
     * type after {@code ::} or AS, not a table alias's column list ({@code FROM t u(a, b)}).
     */
    static String calledAt(SqlTokens t, int i) {
        if (!t.is(i, WORD) && !t.is(i, QIDENT)) {
            return null;
        }
        if (!t.is(i + 1, LPAREN) || t.sql.charAt(t.start[i + 1]) != '(') {
            return null;
        }
        String name = t.is(i, WORD) ? t.word[i] : unquote(t.text(i));
        if (t.is(i, WORD) && NOT_CALLS.contains(name)) {
            return null;
        }
        int before = i - 1;
        if (t.is(before, DOT) && t.isName(before - 1)) {
            String schema = t.is(before - 1, WORD) ? t.word[before - 1] : unquote(t.text(before - 1));
            if (!schema.equals("pg_catalog")) {
                name = schema + "." + name;
            }
            before -= 2;
        }
        if (t.isOp(before, "::") || t.isWord(before, "as")) {
            return null;
        }
        if (t.is(before, QIDENT) || (t.is(before, WORD) && !NOT_CALLS.contains(t.word[before]))) {
            return null; // FROM t u(a, b): u's column list
        }
        return name;
    }

    static String unquote(String quoted) {
        return quoted.substring(1, quoted.length() - 1).replace("\"\"", "\"");
    }

    /** The first function called in {@code [from, to)} that is not a PostgreSQL built-in, or null. */
    static String firstUnknown(SqlTokens t, int from, int to) {
        for (int i = from; i < to; i++) {
            String f = calledAt(t, i);
            if (f != null && !BUILTIN.contains(f)) {
                return f;
            }
        }
        return null;
    }
}
