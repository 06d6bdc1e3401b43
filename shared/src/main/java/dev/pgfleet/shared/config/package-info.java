/**
 * PgFleet's configuration: TOML in PgCat's {@code pgcat.toml} layout, read through vertx-config
 * with the {@code "toml"} format ({@link dev.pgfleet.shared.config.TomlConfigProcessor}), bound to
 * immutable records ({@link dev.pgfleet.shared.config.PgFleetConfig} and below) and validated in
 * one pass that reports every error with its file and key
 * ({@link dev.pgfleet.shared.config.ConfigException}).
 *
 * <p>Entry point: {@link dev.pgfleet.shared.config.ConfigLoader}. Binding lives in package-private
 * {@code *Binder} classes; defaults and their sources in {@code Defaults}.
 */
package dev.pgfleet.shared.config;
