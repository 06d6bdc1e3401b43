package dev.pgfleet.admin.console;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads what a console client sends: statements separated by ';' (outside quotes), comments
 * ({@code --} to the end of the line, nested {@code /* *\/}) and whitespace ignored, keywords in
 * any case. A statement is a command word and its arguments, or {@code SET key = value}
 * ({@code TO} as well), the grammar of PgBouncer's console (admin.c's cmd_normal_rx and
 * cmd_set_*_rx), with several statements per Query as PgFleet's addition.
 */
final class ConsoleSql {

    private ConsoleSql() {
    }

    /**
     * One statement.
     *
     * @param verb  the command word in upper case ("SHOW", "PAUSE", "SET"); "" for an empty statement
     * @param args  the words after it, double quotes removed; for SET: key, value
     * @param text  the statement as sent, trimmed (for error messages)
     * @param error why it could not be read (an unterminated quote), or null
     */
    record Statement(String verb, List<String> args, String text, String error) {

        String arg(int i) {
            return i < args.size() ? args.get(i) : null;
        }

        boolean empty() {
            return verb.isEmpty() && error == null;
        }
    }

    /** The statements of a Query (an empty Query gives one empty statement). */
    static List<Statement> parse(String sql) {
        List<Statement> out = new ArrayList<>();
        List<String> words = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        int i = 0;
        int n = sql.length();
        String error = null;
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                while (i < n && sql.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int depth = 1;
                i += 2;
                while (i < n && depth > 0) {
                    if (sql.startsWith("/*", i)) {
                        depth++;
                        i += 2;
                    } else if (sql.startsWith("*/", i)) {
                        depth--;
                        i += 2;
                    } else {
                        i++;
                    }
                }
                if (depth > 0) {
                    error = "unterminated /* comment";
                }
            } else if (Character.isWhitespace(c)) {
                i++;
                if (text.length() > 0) {
                    text.append(' ');
                }
            } else if (c == ';') {
                out.add(statement(words, text, error));
                words = new ArrayList<>();
                text = new StringBuilder();
                error = null;
                i++;
            } else if (c == '"' || c == '\'') {
                StringBuilder w = new StringBuilder();
                int j = i + 1;
                boolean closed = false;
                while (j < n) {
                    char d = sql.charAt(j);
                    if (d == c) {
                        if (j + 1 < n && sql.charAt(j + 1) == c) {
                            w.append(c);
                            j += 2;
                            continue;
                        }
                        closed = true;
                        j++;
                        break;
                    }
                    w.append(d);
                    j++;
                }
                if (!closed) {
                    error = "unterminated quoted " + (c == '"' ? "identifier" : "string");
                }
                text.append(sql, i, j);
                words.add(w.toString());
                i = j;
            } else if (c == '=') {
                text.append(c);
                words.add("=");
                i++;
            } else {
                int j = i;
                while (j < n && !Character.isWhitespace(sql.charAt(j)) && ";=\"'".indexOf(sql.charAt(j)) < 0
                        && !sql.startsWith("--", j) && !sql.startsWith("/*", j)) {
                    j++;
                }
                text.append(sql, i, j);
                words.add(sql.substring(i, j));
                i = j;
            }
        }
        if (!words.isEmpty() || error != null || out.isEmpty()) {
            out.add(statement(words, text, error));
        }
        return out;
    }

    private static Statement statement(List<String> words, StringBuilder text, String error) {
        String t = text.toString().trim();
        if (words.isEmpty()) {
            return new Statement("", List.of(), t, error);
        }
        String verb = words.get(0).toUpperCase(Locale.ROOT);
        List<String> args = new ArrayList<>(words.subList(1, words.size()));
        if (verb.equals("SET")) {
            // SET key = value | SET key TO value: the '=' or TO goes, key and value stay.
            if (args.size() == 3 && (args.get(1).equals("=") || args.get(1).equalsIgnoreCase("TO"))) {
                args.remove(1);
            } else if (error == null) {
                error = "SET needs key = value";
            }
        }
        return new Statement(verb, List.copyOf(args), t, error);
    }
}
