package dev.pgfleet.bench.jmh;

import java.util.Map;

/** The SQL texts the classification and prepared-statement benchmarks use, by name (a JMH parameter). */
public final class Queries {

    private Queries() {
    }

    /** pgbench's statements (with -M extended/prepared: parameters, so one text per statement) and typical ORM ones. */
    public static final Map<String, String> BY_NAME = Map.ofEntries(
        // pgbench -S, and the TPC-B transaction (BEGIN, 3 UPDATEs, SELECT, INSERT, END).
        Map.entry("pgbenchSelect", "SELECT abalance FROM pgbench_accounts WHERE aid = $1;"),
        Map.entry("pgbenchBegin", "BEGIN;"),
        Map.entry("pgbenchUpdateAccounts", "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;"),
        Map.entry("pgbenchUpdateTellers", "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2;"),
        Map.entry("pgbenchUpdateBranches", "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2;"),
        Map.entry("pgbenchInsertHistory",
            "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP);"),
        Map.entry("pgbenchEnd", "END;"),
        // Hibernate 6 style: generated aliases, every column, joins, paging (637 characters).
        Map.entry("ormSelectJoins",
            "select o1_0.id,o1_0.created_at,o1_0.currency,o1_0.customer_id,c1_0.id,c1_0.created_at,c1_0.email,"
                + "c1_0.first_name,c1_0.last_name,c1_0.region_id,r1_0.id,r1_0.code,r1_0.name,o1_0.shipping_address_id,"
                + "a1_0.id,a1_0.city,a1_0.country,a1_0.line1,a1_0.line2,a1_0.postal_code,o1_0.status,o1_0.total,"
                + "o1_0.updated_at,o1_0.version from orders o1_0 join customers c1_0 on c1_0.id=o1_0.customer_id "
                + "left join regions r1_0 on r1_0.id=c1_0.region_id left join addresses a1_0 on "
                + "a1_0.id=o1_0.shipping_address_id where o1_0.status=$1 and c1_0.region_id=$2 and "
                + "o1_0.created_at>=$3 order by o1_0.created_at desc,o1_0.id offset $4 rows fetch first $5 rows only"),
        Map.entry("ormInsertReturning",
            "insert into orders (created_at,currency,customer_id,shipping_address_id,status,total,updated_at,version) "
                + "values ($1,$2,$3,$4,$5,$6,$7,$8) returning id"),
        // A data-modifying CTE: a read at the top, a write inside (must go to the primary).
        Map.entry("cteWrite",
            "WITH moved AS (DELETE FROM cart_items WHERE cart_id = $1 RETURNING product_id, quantity) "
                + "INSERT INTO order_lines (order_id, product_id, quantity) SELECT $2, product_id, quantity FROM moved"));

    public static String sql(String name) {
        String sql = BY_NAME.get(name);
        if (sql == null) {
            throw new IllegalArgumentException("no query named " + name);
        }
        return sql;
    }
}
