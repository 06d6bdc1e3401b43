package dev.pgfleet.router;

import java.util.Objects;

/**
 * One of PgFleet's own commands (PgCat's spellings), recognised by the classifier and executed by
 * the proxy; such a query never reaches a server.
 *
 * <pre>
 * SET SERVER ROLE TO 'primary' | 'replica' | 'any' | 'auto' | 'default'
 * SHOW SERVER ROLE
 * SET PRIMARY READS TO on | off | default
 * SHOW PRIMARY READS
 * SET SHARD TO n | 'any'
 * SET SHARDING KEY TO 'value'
 * SHOW SHARD
 * </pre>
 *
 * Keywords are case-insensitive, {@code =} may replace {@code TO}, values may be quoted or not, a
 * trailing {@code ;} is allowed. A command must be the only statement of its query string; if it is
 * not, or its value is invalid, the result is {@link Type#INVALID} and {@link #value()} holds an
 * error message for the client (SQLSTATE 42601 or 22023 are suitable).
 *
 * @param type  which command
 * @param value normalised argument: lower-case role ({@code primary}, {@code replica}, {@code any},
 *              {@code auto}, {@code default}), {@code on}/{@code off}/{@code default}, a shard number
 *              or {@code any}, the sharding key as written (quotes removed); {@code null} for the
 *              {@code SHOW} commands; the error message for {@link Type#INVALID}
 */
public record PgFleetCommand(Type type, String value) {

    /** The commands. */
    public enum Type {
        SET_SERVER_ROLE,
        SHOW_SERVER_ROLE,
        SET_PRIMARY_READS,
        SHOW_PRIMARY_READS,
        SET_SHARD,
        SET_SHARDING_KEY,
        SHOW_SHARD,
        /** Looked like a PgFleet command but is malformed; {@link #value()} says why. */
        INVALID
    }

    public PgFleetCommand {
        Objects.requireNonNull(type, "type");
    }

    /**
     * For {@link Type#SET_SERVER_ROLE}: the route asked for, or {@code null} for {@code auto} and
     * {@code default} (let the classifier and the pool's {@code default_role} decide).
     */
    public Route role() {
        if (type != Type.SET_SERVER_ROLE) {
            throw new IllegalStateException("not SET SERVER ROLE: " + type);
        }
        switch (value) {
            case "primary": return Route.PRIMARY;
            case "replica": return Route.REPLICA;
            case "any": return Route.ANY;
            default: return null;
        }
    }

    /** For {@link Type#SET_SHARD}: the shard index, or -1 for {@code any}. */
    public int shard() {
        if (type != Type.SET_SHARD) {
            throw new IllegalStateException("not SET SHARD: " + type);
        }
        return "any".equals(value) ? -1 : Integer.parseInt(value);
    }

    static PgFleetCommand invalid(String message) {
        return new PgFleetCommand(Type.INVALID, message);
    }
}
