package dev.pgfleet.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The classifier table in {@code classifier-cases.tsv}: real statements with the route they must
 * get, and what else the proxy reads from the classification. The file's header explains the format.
 */
class QueryClassifierTableTest {

    record Case(int line, String expectation, String sql) {
        @Override
        public String toString() {
            String shown = sql.replace("\n", "⏎").replace("\t", "⇥");
            return "line " + line + ": " + (shown.length() > 80 ? shown.substring(0, 80) + "..." : shown);
        }
    }

    static List<Case> cases() throws IOException {
        List<Case> cases = new ArrayList<>();
        try (InputStream in = QueryClassifierTableTest.class.getResourceAsStream("classifier-cases.tsv")) {
            assertNotNull(in, "classifier-cases.tsv on the test class path");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                int tab = line.indexOf('\t');
                if (tab < 0) {
                    fail("line " + n + ": no tab between expectation and SQL");
                }
                String sql = line.substring(tab + 1).replace('⏎', '\n').replace('⇥', '\t');
                cases.add(new Case(n, line.substring(0, tab).trim(), sql));
            }
        }
        return cases;
    }

    @Test
    void tableHasAtLeast150Statements() throws IOException {
        assertTrue(cases().size() >= 150, "cases: " + cases().size());
    }

    @TestFactory
    Stream<DynamicTest> uncached() throws IOException {
        QueryClassifier classifier = QueryClassifier.builder().cacheSize(0).build();
        return cases().stream().map(c -> DynamicTest.dynamicTest(c.toString(),
                () -> check(c, classifier.classifyUncached(c.sql()))));
    }

    /** Through the cache: the first call fills it, the second must return the very same result. */
    @TestFactory
    Stream<DynamicTest> cached() throws IOException {
        QueryClassifier classifier = QueryClassifier.create();
        return cases().stream().map(c -> DynamicTest.dynamicTest(c.toString(), () -> {
            Classification first = classifier.classify(c.sql());
            check(c, first);
            assertSame(first, classifier.classify(new StringBuilder(c.sql())), "second lookup, as a StringBuilder");
        }));
    }

    static void check(Case c, Classification got) {
        String[] words = c.expectation().split("\\s+");
        String where = c + " -> " + got;
        assertEquals(Route.valueOf(words[0]), got.route(), "route of " + where);
        boolean begin = false;
        boolean end = false;
        boolean open = false;
        boolean session = false;
        Classification.TransactionAccess access = Classification.TransactionAccess.DEFAULT;
        String command = null;
        Route role = null;
        int shard = -1;
        String key = null;
        int statements = -1;
        Classification.TransactionControl tx = null;
        for (int i = 1; i < words.length; i++) {
            String w = words[i];
            if (i == 1 && Character.isUpperCase(w.charAt(0)) && !w.contains("=")) {
                assertEquals(Classification.Reason.valueOf(w), got.reason(), "reason of " + where);
                continue;
            }
            switch (w) {
                case "begin": begin = true; continue;
                case "end": end = true; continue;
                case "open": open = true; continue;
                case "session": session = true; continue;
                case "ro": access = Classification.TransactionAccess.READ_ONLY; continue;
                case "rw": access = Classification.TransactionAccess.READ_WRITE; continue;
                default: break;
            }
            int eq = w.indexOf('=');
            if (eq < 0) {
                fail("line " + c.line() + ": unknown expectation word " + w);
            }
            String k = w.substring(0, eq);
            String v = w.substring(eq + 1);
            switch (k) {
                case "cmd": command = v; break;
                case "role": role = Route.valueOf(v); break;
                case "shard": shard = Integer.parseInt(v); break;
                case "key": key = v; break;
                case "n": statements = Integer.parseInt(v); break;
                case "tx": tx = Classification.TransactionControl.valueOf(v); break;
                default: fail("line " + c.line() + ": unknown expectation " + w);
            }
        }
        assertEquals(begin, got.startsTransaction(), "startsTransaction of " + where);
        assertEquals(end, got.endsTransaction(), "endsTransaction of " + where);
        assertEquals(open, got.leavesTransactionOpen(), "leavesTransactionOpen of " + where);
        assertEquals(session, got.changesSessionState(), "changesSessionState of " + where);
        assertEquals(access, got.transactionAccess(), "transactionAccess of " + where);
        if (tx != null) {
            assertEquals(tx, got.transactionControl(), "transactionControl of " + where);
        }
        if (command == null) {
            assertEquals(null, got.command(), "command of " + where);
        } else {
            assertNotNull(got.command(), "command of " + where);
            int colon = command.indexOf(':');
            String type = colon < 0 ? command : command.substring(0, colon);
            assertEquals(PgFleetCommand.Type.valueOf(type), got.command().type(), "command type of " + where);
            if (colon >= 0) {
                assertEquals(command.substring(colon + 1), got.command().value(), "command value of " + where);
            }
        }
        assertEquals(role, got.roleHint(), "roleHint of " + where);
        assertEquals(role != null ? role : got.route(), got.effectiveRoute(), "effectiveRoute of " + where);
        assertEquals(shard, got.shardHint(), "shardHint of " + where);
        assertEquals(key, got.shardingKeyHint(), "shardingKeyHint of " + where);
        if (statements >= 0) {
            assertEquals(statements, got.statementCount(), "statementCount of " + where);
        } else if (got.reason() != Classification.Reason.UNPARSABLE) {
            assertEquals(1, got.statementCount(), "statementCount of " + where);
        }
    }
}
