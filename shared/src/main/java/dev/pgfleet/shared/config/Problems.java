package dev.pgfleet.shared.config;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects errors and warnings while one file is bound, so validation goes on after the first
 * problem and the operator gets the full list in one {@link ConfigException}.
 */
final class Problems {

    private final String source;
    private final List<String> errors = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();

    Problems(String source) {
        this.source = source;
    }

    String source() {
        return source;
    }

    void error(String path, String message) {
        errors.add(source + ": " + path + ": " + message);
    }

    void warn(String path, String message) {
        warnings.add(source + ": " + path + ": " + message);
    }

    boolean hasErrors() {
        return !errors.isEmpty();
    }

    List<String> warnings() {
        return List.copyOf(warnings);
    }

    void throwIfAny() {
        if (!errors.isEmpty()) {
            throw new ConfigException(source, errors);
        }
    }
}
