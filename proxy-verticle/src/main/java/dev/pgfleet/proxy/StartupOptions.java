package dev.pgfleet.proxy;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code options} startup parameter: command-line switches for the backend, of which
 * {@code -c name=value} and {@code --name=value} set run-time parameters. Arguments are
 * separated by spaces; a backslash escapes the next character (PostgreSQL docs, "options"
 * in libpq's parameter key words).
 */
final class StartupOptions {

    private StartupOptions() {
    }

    static Map<String, String> parse(String options) {
        Map<String, String> settings = new LinkedHashMap<>();
        if (options == null || options.isBlank()) {
            return settings;
        }
        java.util.List<String> args = new java.util.ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean escaped = false;
        for (int i = 0; i < options.length(); i++) {
            char c = options.charAt(i);
            if (escaped) {
                cur.append(c);
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (Character.isWhitespace(c)) {
                if (cur.length() > 0) {
                    args.add(cur.toString());
                    cur.setLength(0);
                }
            } else {
                cur.append(c);
            }
        }
        if (cur.length() > 0) {
            args.add(cur.toString());
        }
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String kv = null;
            if (a.equals("-c") && i + 1 < args.size()) {
                kv = args.get(++i);
            } else if (a.startsWith("-c")) {
                kv = a.substring(2);
            } else if (a.startsWith("--")) {
                kv = a.substring(2);
            }
            if (kv != null) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    settings.put(kv.substring(0, eq).replace('-', '_'), kv.substring(eq + 1));
                }
            }
        }
        return settings;
    }
}
