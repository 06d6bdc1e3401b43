package dev.pgfleet.testkit;

import java.util.regex.Pattern;

/** Cluster and server names become directory names and application_name values. */
final class Names {
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,40}");

    private Names() {
    }

    static String check(String name) {
        if (name == null || !SAFE.matcher(name).matches()) {
            throw new IllegalArgumentException("name must match " + SAFE + ": " + name);
        }
        return name;
    }
}
