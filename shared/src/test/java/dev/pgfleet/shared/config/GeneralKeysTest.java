package dev.pgfleet.shared.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** SHOW CONFIG's view of [general]: each key's text follows its own value, and no other. */
class GeneralKeysTest {

    /** A value other than the default for every key (TOML-typed, as a SET would give it). */
    private static final Map<String, Object> OTHER = Map.ofEntries(
            Map.entry("host", "127.0.0.2"), Map.entry("port", 7000L), Map.entry("admin_username", "root"),
            Map.entry("admin_password", "other-secret"), Map.entry("admin_port", 6433L), Map.entry("auth_type", "md5"),
            Map.entry("max_client_conn", 5L), Map.entry("max_message_size", 20_000L),
            Map.entry("connect_timeout", 7L), Map.entry("idle_timeout", 8L), Map.entry("server_lifetime", 9L),
            Map.entry("idle_client_in_transaction_timeout", 10L), Map.entry("query_wait_timeout", 11L),
            Map.entry("client_login_timeout", 12L), Map.entry("healthcheck_timeout", 13L),
            Map.entry("healthcheck_delay", 14L), Map.entry("healthcheck_interval", 15L),
            Map.entry("healthcheck_user", "probe"), Map.entry("healthcheck_database", "postgres"),
            Map.entry("healthcheck_max_retries", 7L), Map.entry("healthcheck_retry_delay", 16L),
            Map.entry("shutdown_timeout", 17L), Map.entry("ban_time", 18L), Map.entry("max_replica_lag_bytes", 19L),
            Map.entry("max_replica_lag_ms", 20L), Map.entry("worker_threads", 3L),
            Map.entry("tcp_keepalives_idle", 21L), Map.entry("tcp_keepalives_count", 22L),
            Map.entry("tcp_keepalives_interval", 23L), Map.entry("tcp_user_timeout", 24L),
            Map.entry("server_tls_mode", "require"), Map.entry("server_reset_query", "SELECT 1"),
            Map.entry("server_reset_query_always", true), Map.entry("enable_prometheus_exporter", true),
            Map.entry("prometheus_exporter_port", 9000L), Map.entry("log_client_connections", true),
            Map.entry("log_client_disconnections", true), Map.entry("log_format", "json"),
            Map.entry("autoreload", 1000L), Map.entry("prepared_statements_cache_size", 25L),
            Map.entry("cross_shard_memory_limit", 1_000_000L), Map.entry("two_phase_log", "decisions.log"),
            Map.entry("instance_id", 7L));

    @Test
    void eachKeyRendersItsOwnValue() {
        JsonObject base = new io.vertx.core.json.JsonObject(Toml.parse(DefaultsTest.MINIMAL, "t.toml").getMap());
        General before = ConfigLoader.bind(base, "t.toml").general();
        Set<String> covered = new HashSet<>();
        for (String key : GeneralKeys.names()) {
            if (key.equals("healthcheck_password") || key.startsWith("tls_")) {
                continue;   // need a partner key: below
            }
            Object v = OTHER.get(key);
            assertTrue(v != null, "no other value for " + key);
            General after = ConfigLoader.bind(GeneralKeys.withGeneral(base, key, v), "t.toml").general();
            assertEquals(List.of(key), GeneralKeys.changed(before, after), key);
            assertEquals(String.valueOf(v), GeneralKeys.text(after, key), key);
            covered.add(key);
        }
        JsonObject tls = GeneralKeys.withGeneral(GeneralKeys.withGeneral(base, "tls_certificate", "c.pem"),
                "tls_private_key", "k.pem");
        assertEquals(List.of("tls_certificate", "tls_private_key"),
                GeneralKeys.changed(before, ConfigLoader.bind(tls, "t.toml").general()));
        JsonObject probe = GeneralKeys.withGeneral(GeneralKeys.withGeneral(base, "healthcheck_user", "p"),
                "healthcheck_password", "probe-secret");
        assertEquals(List.of("healthcheck_user", "healthcheck_password"),
                GeneralKeys.changed(before, ConfigLoader.bind(probe, "t.toml").general()));
        assertEquals(GeneralKeys.names().size() - 3, covered.size());
    }

    @Test
    void defaultsAndTyping() {
        assertEquals("6432", GeneralKeys.defaultText("port"));
        assertEquals("0", GeneralKeys.defaultText("worker_threads"));
        assertEquals("", GeneralKeys.defaultText("admin_password"));
        assertEquals("60", GeneralKeys.defaultText("ban_time"));
        assertEquals("text", GeneralKeys.defaultText("log_format"));
        assertEquals("false", GeneralKeys.defaultText("log_client_connections"));
        assertEquals("0", GeneralKeys.defaultText("autoreload"));
        assertTrue(GeneralKeys.secret("admin_password"));
        assertFalse(GeneralKeys.secret("admin_username"));
        assertEquals(5000L, GeneralKeys.typed("query_wait_timeout", "5000"));
        assertEquals("5 s", GeneralKeys.typed("query_wait_timeout", "5 s"));
        assertEquals(true, GeneralKeys.typed("log_client_connections", "on"));
        assertEquals("1234", GeneralKeys.typed("server_reset_query", "1234"));
        assertEquals(Set.of("server_tls_mode", "server_tls", "verify_server_certificate"),
                GeneralKeys.spellings("server_tls_mode"));
    }

    @Test
    void logFormatIsCheckedLikeAnyKey() {
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(DefaultsTest.MINIMAL.replace("[general]", "[general]\nlog_format = \"xml\""),
                        "t.toml"));
        assertEquals(List.of("t.toml: general.log_format: unknown value \"xml\"; accepted: \"text\", \"json\""),
                e.errors());
    }
}
