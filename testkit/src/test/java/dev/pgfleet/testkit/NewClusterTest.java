package dev.pgfleet.testkit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class NewClusterTest {
    @Test
    void replicaOfAPrivateClusterCanBePromoted() throws SQLException {
        try (PgCluster cluster = TestPostgres.newCluster("promotion", 1)) {
            PgServer replica = cluster.replicas().get(0);
            assertTrue(replica.inRecovery());
            cluster.primary().kill();
            replica.promote();
            assertFalse(replica.inRecovery());
            try (Connection c = replica.connect(TestUsers.DATABASE, TestUsers.SCRAM_USER, TestUsers.SCRAM_PASSWORD);
                 Statement st = c.createStatement()) {
                st.execute("CREATE TABLE written_after_promotion (id int)");
            }
        }
    }
}
