package dev.pgfleet.admin.metrics;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A strict parser of Prometheus' text exposition format 0.0.4, for tests. No maintained Java
 * parser of the format is on Maven Central (client_java's exposition modules only write it;
 * Prometheus' own parser is Go's expfmt, which {@code promtool check metrics} runs, and the tests
 * use it too where promtool is installed). This one rejects what expfmt rejects and a bit more:
 * a TYPE after its samples or twice, HELP twice, a family's samples split by another's, a
 * duplicate series, bad names, bad escapes, histograms whose buckets are not cumulative, lack
 * +Inf or disagree with _count.
 */
final class PrometheusText {

    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

    record Sample(String name, Map<String, String> labels, double value) {
    }

    static final class Family {
        final String name;
        String type = "untyped";
        String help;
        boolean typed;
        final List<Sample> samples = new ArrayList<>();

        Family(String name) {
            this.name = name;
        }

        String type() {
            return type;
        }
    }

    static final class ParseException extends RuntimeException {
        ParseException(int line, String message) {
            super("line " + line + ": " + message);
        }
    }

    private final Map<String, Family> families = new LinkedHashMap<>();

    private PrometheusText() {
    }

    static PrometheusText parse(String text) {
        PrometheusText p = new PrometheusText();
        p.read(text);
        return p;
    }

    Map<String, Family> families() {
        return families;
    }

    Family family(String name) {
        Family f = families.get(name);
        if (f == null) {
            throw new AssertionError("no metric family " + name + " in " + families.keySet());
        }
        return f;
    }

    /** Samples named {@code name} whose labels include {@code labels} (name, value, ...). */
    List<Sample> samples(String name, String... labels) {
        List<Sample> out = new ArrayList<>();
        for (Family f : families.values()) {
            for (Sample s : f.samples) {
                if (s.name().equals(name) && matches(s, labels)) {
                    out.add(s);
                }
            }
        }
        return out;
    }

    /** The one sample named {@code name} with these labels (and maybe more). */
    double value(String name, String... labels) {
        List<Sample> found = samples(name, labels);
        if (found.size() != 1) {
            throw new AssertionError("expected one sample " + name + " " + List.of(labels) + ", found " + found);
        }
        return found.get(0).value();
    }

    private static boolean matches(Sample s, String... labels) {
        for (int i = 0; i < labels.length; i += 2) {
            if (!labels[i + 1].equals(s.labels().get(labels[i]))) {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------ reading

    private Family current;
    private final Set<String> closed = new HashSet<>();
    private final Set<String> series = new HashSet<>();

    private void read(String text) {
        if (!text.isEmpty() && !text.endsWith("\n")) {
            throw new ParseException(0, "the exposition must end with a line feed");
        }
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length - 1; i++) {
            int n = i + 1;
            String line = lines[i];
            if (line.isBlank()) {
                continue;
            }
            if (line.startsWith("#")) {
                comment(n, line);
            } else {
                sample(n, line);
            }
        }
        for (Family f : families.values()) {
            if (f.type.equals("histogram")) {
                checkHistogram(f);
            }
        }
    }

    private void comment(int n, String line) {
        String[] parts = line.split("[ \t]+", 4);
        if (parts.length < 3 || !(parts[1].equals("HELP") || parts[1].equals("TYPE"))) {
            return; // a plain comment
        }
        String name = parts[2];
        if (!METRIC_NAME.matcher(name).matches()) {
            throw new ParseException(n, "bad metric name " + name);
        }
        Family f = enter(n, name);
        if (parts[1].equals("HELP")) {
            if (f.help != null) {
                throw new ParseException(n, "second HELP for " + name);
            }
            f.help = parts.length > 3 ? unescape(n, parts[3], false) : "";
        } else {
            if (f.typed) {
                throw new ParseException(n, "second TYPE for " + name);
            }
            if (!f.samples.isEmpty()) {
                throw new ParseException(n, "TYPE for " + name + " after its samples");
            }
            String type = parts.length > 3 ? parts[3].trim() : "";
            if (!TYPES.contains(type)) {
                throw new ParseException(n, "unknown type " + type);
            }
            f.type = type;
            f.typed = true;
        }
    }

    /** Makes {@code name} the current family; a family seen before and left is an error. */
    private Family enter(int n, String name) {
        if (current != null && current.name.equals(name)) {
            return current;
        }
        if (closed.contains(name)) {
            throw new ParseException(n, "metric family " + name + " appears in two places");
        }
        if (current != null) {
            closed.add(current.name);
        }
        current = families.computeIfAbsent(name, Family::new);
        return current;
    }

    private void sample(int n, String line) {
        int i = 0;
        while (i < line.length() && (Character.isLetterOrDigit(line.charAt(i)) || line.charAt(i) == '_'
                || line.charAt(i) == ':')) {
            i++;
        }
        String name = line.substring(0, i);
        if (!METRIC_NAME.matcher(name).matches()) {
            throw new ParseException(n, "bad metric name in \"" + line + "\"");
        }
        Map<String, String> labels = new TreeMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i = labels(n, line, i + 1, labels);
        }
        String rest = line.substring(i);
        if (!rest.startsWith(" ") && !rest.startsWith("\t")) {
            throw new ParseException(n, "expected a space before the value in \"" + line + "\"");
        }
        String[] fields = rest.trim().split("[ \t]+");
        if (fields.length > 2) {
            throw new ParseException(n, "too many fields in \"" + line + "\"");
        }
        double value = number(n, fields[0]);
        if (fields.length == 2) {
            try {
                Long.parseLong(fields[1]);
            } catch (NumberFormatException e) {
                throw new ParseException(n, "bad timestamp " + fields[1]);
            }
        }
        Family f = familyOf(n, name);
        if (!series.add(name + labels)) {
            throw new ParseException(n, "duplicate series " + name + labels);
        }
        f.samples.add(new Sample(name, Map.copyOf(labels), value));
    }

    /** The family a sample belongs to: the current one if the name fits its type, else a new untyped one. */
    private Family familyOf(int n, String name) {
        if (current != null) {
            String base = current.name;
            boolean fits = switch (current.type) {
                case "histogram" -> name.equals(base + "_bucket") || name.equals(base + "_sum")
                        || name.equals(base + "_count");
                case "summary" -> name.equals(base) || name.equals(base + "_sum") || name.equals(base + "_count");
                default -> name.equals(base);
            };
            if (fits) {
                return current;
            }
        }
        return enter(n, name);
    }

    private int labels(int n, String line, int i, Map<String, String> labels) {
        while (true) {
            if (i >= line.length()) {
                throw new ParseException(n, "unterminated labels");
            }
            if (line.charAt(i) == '}') {
                return i + 1;
            }
            int eq = line.indexOf('=', i);
            if (eq < 0) {
                throw new ParseException(n, "expected = in labels");
            }
            String label = line.substring(i, eq).trim();
            if (!LABEL_NAME.matcher(label).matches() || label.startsWith("__")) {
                throw new ParseException(n, "bad label name \"" + label + "\"");
            }
            int q = eq + 1;
            if (q >= line.length() || line.charAt(q) != '"') {
                throw new ParseException(n, "label value must be quoted");
            }
            StringBuilder raw = new StringBuilder();
            int j = q + 1;
            while (true) {
                if (j >= line.length()) {
                    throw new ParseException(n, "unterminated label value");
                }
                char c = line.charAt(j);
                if (c == '\\') {
                    if (j + 1 >= line.length()) {
                        throw new ParseException(n, "dangling backslash");
                    }
                    raw.append(c).append(line.charAt(j + 1));
                    j += 2;
                    continue;
                }
                if (c == '"') {
                    break;
                }
                raw.append(c);
                j++;
            }
            if (labels.put(label, unescape(n, raw.toString(), true)) != null) {
                throw new ParseException(n, "label " + label + " twice");
            }
            i = j + 1;
            if (i < line.length() && line.charAt(i) == ',') {
                i++;
            } else if (i >= line.length() || line.charAt(i) != '}') {
                throw new ParseException(n, "expected , or } after a label");
            }
        }
    }

    private static String unescape(int n, String s, boolean quotes) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (i + 1 >= s.length()) {
                throw new ParseException(n, "dangling backslash");
            }
            char e = s.charAt(++i);
            switch (e) {
                case '\\' -> out.append('\\');
                case 'n' -> out.append('\n');
                case '"' -> {
                    if (!quotes) {
                        throw new ParseException(n, "\\\" is not an escape in HELP");
                    }
                    out.append('"');
                }
                default -> throw new ParseException(n, "bad escape \\" + e);
            }
        }
        return out.toString();
    }

    private static double number(int n, String s) {
        switch (s) {
            case "+Inf", "Inf" -> {
                return Double.POSITIVE_INFINITY;
            }
            case "-Inf" -> {
                return Double.NEGATIVE_INFINITY;
            }
            case "NaN" -> {
                return Double.NaN;
            }
            default -> {
                if (!s.matches("[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?")) {
                    throw new ParseException(n, "bad number " + s);
                }
                return Double.parseDouble(s);
            }
        }
    }

    private static void checkHistogram(Family f) {
        Map<Map<String, String>, List<Sample>> buckets = new LinkedHashMap<>();
        Map<Map<String, String>, Double> counts = new LinkedHashMap<>();
        for (Sample s : f.samples) {
            Map<String, String> base = new TreeMap<>(s.labels());
            if (s.name().endsWith("_bucket")) {
                String le = base.remove("le");
                if (le == null) {
                    throw new ParseException(0, f.name + ": a bucket without le");
                }
                buckets.computeIfAbsent(base, k -> new ArrayList<>()).add(s);
            } else if (s.name().endsWith("_count")) {
                counts.put(base, s.value());
            }
        }
        buckets.forEach((labels, bs) -> {
            double lastBound = Double.NEGATIVE_INFINITY;
            double lastCount = 0;
            for (Sample b : bs) {
                double bound = number(0, b.labels().get("le"));
                if (bound <= lastBound) {
                    throw new ParseException(0, f.name + labels + ": buckets out of order at le=" + b.labels().get("le"));
                }
                if (b.value() < lastCount) {
                    throw new ParseException(0, f.name + labels + ": buckets not cumulative at le="
                            + b.labels().get("le"));
                }
                lastBound = bound;
                lastCount = b.value();
            }
            if (lastBound != Double.POSITIVE_INFINITY) {
                throw new ParseException(0, f.name + labels + ": no +Inf bucket");
            }
            Double count = counts.get(labels);
            if (count == null || count != lastCount) {
                throw new ParseException(0, f.name + labels + ": _count " + count + " is not the +Inf bucket "
                        + lastCount);
            }
        });
    }
}
