package dev.pgfleet.shared.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;

/**
 * TOML text to a Vert.x {@link JsonObject}, over jackson-dataformat-toml (TOML 1.0, so the
 * mixed-type arrays of PgCat's {@code servers = [["127.0.0.1", 5432, "primary"]]} are legal).
 * Tables become JSON objects, arrays JSON arrays; integers stay integral ({@code Integer},
 * {@code Long} or {@code BigInteger}); date-times stay strings, which nothing here uses.
 */
final class Toml {

    // TomlMapper is thread-safe once configured; one instance for the JVM.
    private static final TomlMapper MAPPER = new TomlMapper();
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() { };

    private Toml() {
    }

    /**
     * Parses a TOML document.
     *
     * @throws ConfigException naming the source, line and column when the text is not TOML
     */
    static JsonObject parse(String text, String source) {
        try {
            Map<String, Object> map = MAPPER.readValue(text, MAP);
            return new JsonObject(map == null ? Map.of() : map);
        } catch (JacksonException e) {
            throw new ConfigException(source, List.of(source + ": " + describe(e)));
        }
    }

    private static String describe(JacksonException e) {
        JsonLocation loc = e.getLocation();
        String where = loc == null || loc.getLineNr() < 1 ? "" : "line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ": ";
        return where + "not valid TOML: " + e.getOriginalMessage();
    }
}
