package dev.pgfleet.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ShardsTest {
    private final Shards shards = TestPostgres.shards();

    @BeforeEach
    void reset() {
        TestPostgres.reset();
    }

    @Test
    void shardsAreIndependentStandaloneServers() throws SQLException {
        assertEquals(2, shards.size());
        assertNotEquals(shards.get(0).port(), shards.get(1).port());
        for (PgServer shard : shards.servers()) {
            assertFalse(shard.inRecovery());
            PgClusterTest.assertLogsIn(shard, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD);
            PgClusterTest.assertLogsIn(shard, TestUsers.MD5_USER, TestUsers.MD5_PASSWORD);
        }
        try (Connection c = shards.get(0).connect(TestUsers.DATABASE, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD);
             Statement st = c.createStatement()) {
            st.execute("CREATE TABLE only_on_shard_0 AS SELECT 0 AS shard");
        }
        assertEquals("0", PgClusterTest.query(shards.get(0), "SELECT shard FROM only_on_shard_0"));
        assertEquals("0", PgClusterTest.query(shards.get(1),
                "SELECT count(*) FROM pg_class WHERE relname = 'only_on_shard_0'"));
    }

    @Test
    void resetEmptiesEveryShard() throws SQLException {
        for (PgServer shard : shards.servers()) {
            try (Connection c = shard.connectSuperuser(TestUsers.DATABASE); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE leftover (id int)");
            }
        }
        TestPostgres.reset();
        for (PgServer shard : shards.servers()) {
            assertEquals("0", PgClusterTest.query(shard, "SELECT count(*) FROM pg_class WHERE relname = 'leftover'"));
        }
    }
}
