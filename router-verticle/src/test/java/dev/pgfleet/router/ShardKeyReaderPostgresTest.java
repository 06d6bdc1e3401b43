package dev.pgfleet.router;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pgfleet.testkit.TestPostgres;
import dev.pgfleet.testkit.TestUsers;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * The statements of {@link ShardKeyReaderTest} marked real, and its COPY statements, run against
 * PostgreSQL (testkit's first shard server) on tables made for them, so the test table holds SQL
 * PostgreSQL accepts. Everything runs in one transaction that is rolled back: each statement in a
 * savepoint; one with {@code $n} parameters as {@code PREPARE ... AS}; COPY through pgjdbc's
 * CopyManager with no data rows (a header line when the COPY has one; header and trailer for BINARY).
 */
class ShardKeyReaderPostgresTest {

    private static final Pattern PARAMETER = Pattern.compile("\\$\\d");

    static Connection db;

    @BeforeAll
    static void connect() throws SQLException {
        db = TestPostgres.shards().get(0).connectSuperuser(TestUsers.DATABASE);
        db.setAutoCommit(false);
        try (Statement s = db.createStatement()) {
            s.execute("CREATE SCHEMA keys_test");
            s.execute("CREATE SCHEMA keys_app");
            s.execute("SET LOCAL search_path = keys_test");
            for (String schema : List.of("keys_test", "keys_app")) {
                s.execute("CREATE TABLE " + schema + ".users (id bigint UNIQUE, name text, active boolean, "
                        + "country text, created timestamptz, x int)");
            }
            s.execute("CREATE TABLE keys_app.accounts (acct bigint)");
            s.execute("CREATE TABLE orders (user_id bigint, note text, country text)");
            s.execute("CREATE TABLE \"Users\" (id bigint)");
            s.execute("CREATE TABLE regions (code text)");
            s.execute("CREATE TABLE items (uid uuid)");
            s.execute("CREATE TABLE countries (code text, name text)");
            s.execute("CREATE TABLE logs (id bigint, msg text)");
        }
    }

    @AfterAll
    static void close() throws SQLException {
        if (db != null) {
            db.rollback();
            db.close();
        }
    }

    @Test
    void postgresAcceptsTheTestStatements() throws SQLException {
        List<String> sql = new ArrayList<>();
        for (ShardKeyReaderTest.Case c : ShardKeyReaderTest.cases()) {
            if (c.real()) {
                sql.add(c.sql());
            }
        }
        sql.addAll(ShardKeyReaderTest.copySql());
        assertTrue(sql.size() >= 30, "statements: " + sql.size());
        List<String> refused = new ArrayList<>();
        for (String statement : sql) {
            Savepoint before = db.setSavepoint();
            try {
                run(statement);
            } catch (SQLException e) {
                refused.add(statement + "\n    " + e.getMessage());
            }
            db.rollback(before);
            try (Statement s = db.createStatement()) {
                s.execute("DEALLOCATE ALL");
            }
        }
        if (!refused.isEmpty()) {
            fail(refused.size() + " of " + sql.size() + " statements refused:\n" + String.join("\n", refused));
        }
    }

    private static void run(String sql) throws SQLException {
        if (sql.startsWith("COPY") && (sql.contains("STDIN") || sql.contains("STDOUT"))) {
            CopyManager copy = db.unwrap(PGConnection.class).getCopyAPI();
            try {
                if (sql.contains("STDIN")) {
                    byte[] data = sql.toLowerCase().contains("binary") ? binaryCopyFile() : header(sql);
                    copy.copyIn(sql, new ByteArrayInputStream(data));
                } else {
                    copy.copyOut(sql, new ByteArrayOutputStream());
                }
            } catch (java.io.IOException e) {
                throw new SQLException(e);
            }
            return;
        }
        try (Statement s = db.createStatement()) {
            if (PARAMETER.matcher(sql).find() && !sql.startsWith("PREPARE")) {
                s.execute("PREPARE keys_case AS " + sql);
            } else {
                s.execute(sql);
            }
        }
    }

    /** A header line naming the columns when the COPY has one (HEADER MATCH checks it), else nothing. */
    private static byte[] header(String sql) {
        StatementKeys.CopyStatement c = ShardKeyReader.read(sql, ShardKeyReaderTest.TABLES).copy();
        if (c == null || !c.header() || c.columns() == null) {
            return new byte[0];
        }
        return (String.join(String.valueOf(c.delimiter()), c.columns()) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** An empty binary COPY file: signature, flags, header extension length, trailer (section COPY, File Formats). */
    private static byte[] binaryCopyFile() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("PGCOPY\n".getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(new byte[] {(byte) 0xFF, '\r', '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF});
        return out.toByteArray();
    }
}
