package dev.pgfleet.shared.config;

import java.util.List;

/**
 * A configuration that cannot be used. Carries every problem found, not just the first, so one
 * start-up attempt shows the operator everything to fix. Each entry reads
 * {@code <file>: <key path>: <what is wrong>}.
 */
public final class ConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final List<String> errors;

    ConfigException(String source, List<String> errors) {
        super(message(source, errors));
        this.errors = List.copyOf(errors);
    }

    /** One line per problem, each naming the file and the key. */
    public List<String> errors() {
        return errors;
    }

    private static String message(String source, List<String> errors) {
        StringBuilder sb = new StringBuilder("invalid configuration ").append(source).append(" (")
                .append(errors.size()).append(errors.size() == 1 ? " error)" : " errors)");
        for (String e : errors) {
            sb.append("\n  ").append(e);
        }
        return sb.toString();
    }
}
