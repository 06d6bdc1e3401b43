package dev.pgfleet.proxy;

import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.PgProtocol;
import dev.pgfleet.shared.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * A client's transaction block whose statements went to several shards (a pool with
 * {@code two_phase_commit}): the session keeps one server connection per shard the transaction
 * touched, each in a transaction of its own begun as the client began its block. The shard of the
 * statement running now is the session's linked {@code server}; the others are parked here,
 * linked to this peer, with nothing in flight. COMMIT runs {@link TwoPhaseCommit} over all of
 * them; ROLLBACK, or COMMIT of a failed transaction, rolls every one back.
 *
 * <p>Each shard's transaction has its own snapshot (there is no snapshot across shards, as with
 * any two-phase commit over independent servers); a statement sees the rows its shard holds.
 */
final class ShardTransaction implements ServerConnection.ShardPeer, TwoPhaseCommit.Participants {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ShardTransaction.class);

    private final ClientSession session;
    /** The statement that began the client's block (its options go to every shard), or plain BEGIN. */
    final String begin;
    /** By shard number: the parked connection of a shard in the transaction, null for the linked one and the rest. */
    private final ServerConnection[] parked;
    /** By shard number: in the transaction. */
    private final boolean[] joined;
    /** A parked connection closed: the transaction is lost on that shard. */
    private PgException lost;
    /** The end (COMMIT or ROLLBACK) runs: connections and shards in ascending shard order. */
    private ServerConnection[] ending;
    private int[] endingShards;
    private BiConsumer<String, PgException> outcome;
    /** The client left. */
    private boolean over;

    ShardTransaction(ClientSession session, int shardCount, String begin) {
        this.session = session;
        this.parked = new ServerConnection[shardCount];
        this.joined = new boolean[shardCount];
        this.begin = begin != null ? begin : "BEGIN";
    }

    /** {@code conn}, in the transaction on {@code shard}, waits here while another shard's statement runs. */
    void park(int shard, ServerConnection conn) {
        parked[shard] = conn;
        joined[shard] = true;
        conn.linkShard(this);
    }

    /** Whether {@code shard} is in the transaction (its connection parked or linked). */
    boolean joined(int shard) {
        return joined[shard];
    }

    /** The joined shards, ascending. */
    List<Integer> shardList() {
        List<Integer> l = new ArrayList<>();
        for (int i = 0; i < joined.length; i++) {
            if (joined[i]) {
                l.add(i);
            }
        }
        return l;
    }

    /** The parked connection of {@code shard}, taken to be linked to the session (null if none). */
    ServerConnection take(int shard) {
        ServerConnection c = parked[shard];
        parked[shard] = null;
        return c;
    }

    /** Why the transaction cannot go on (a shard's connection was lost), or null. */
    PgException lost() {
        return lost;
    }

    /**
     * Ends the transaction on every shard (all connections parked by now): COMMIT through two-phase
     * commit, or ROLLBACK ({@code commit} false, or the transaction failed on some shard, or a
     * shard's connection was lost). {@code outcome} gets the client's command tag, or its error.
     */
    void end(boolean commit, BiConsumer<String, PgException> outcome) {
        this.outcome = outcome;
        List<ServerConnection> cs = new ArrayList<>();
        List<Integer> ss = new ArrayList<>();
        boolean failed = false;
        for (int i = 0; i < parked.length; i++) {
            if (parked[i] != null) {
                cs.add(parked[i]);
                ss.add(i);
                failed |= parked[i].txStatus() == PgProtocol.TX_FAILED;
            }
        }
        ending = cs.toArray(new ServerConnection[0]);
        endingShards = ss.stream().mapToInt(Integer::intValue).toArray();
        TwoPhaseRecovery tp = session.runtime.twoPhase();
        if (lost != null) {
            rollback(null, lost);
        } else if (!commit || failed) {
            rollback("ROLLBACK", null);   // PostgreSQL's answer to COMMIT of a failed transaction too
        } else if (tp == null) {
            rollback(null, new PgException(SqlState.FEATURE_NOT_SUPPORTED, "two-phase commit is not running"));
        } else {
            PgException refused = TwoPhaseCommit.refusal(tp, session.database());
            if (refused != null) {
                rollback(null, refused);
            } else {
                TwoPhaseCommit.start(this, tp);
            }
        }
    }

    /** ROLLBACK on every shard, then the outcome: {@code tag}, or {@code error}. */
    private void rollback(String tag, PgException error) {
        int[] owed = {0};
        for (ServerConnection c : ending) {
            owed[0] += c != null ? 1 : 0;
        }
        if (owed[0] == 0) {
            finished(tag, error);
            return;
        }
        for (int i = 0; i < ending.length; i++) {
            if (ending[i] == null) {
                continue;
            }
            int shard = endingShards[i];
            Future<List<String[]>> f = ending[i].endInternal("ROLLBACK");
            f.onComplete(ar -> {
                if (ar.failed()) {
                    log.debug("client transaction: ROLLBACK failed on shard {}: {}", shard, ar.cause().getMessage());
                }
                if (--owed[0] == 0) {
                    finished(tag, error);
                }
            });
        }
    }

    private void finished(String tag, PgException error) {
        for (int i = 0; i < ending.length; i++) {
            ServerConnection c = ending[i];
            parked[endingShards[i]] = null;
            if (c == null) {
                continue;
            }
            c.release();   // back to its pool when the transaction ended cleanly, else closed
        }
        BiConsumer<String, PgException> o = outcome;
        outcome = null;
        if (!over && o != null) {
            o.accept(tag, error);
        }
    }

    /** The client left: nothing commits (unless the two-phase commit's decision is logged already). */
    void abandon() {
        over = true;
        if (ending != null) {
            return;   // the end runs: it lets the connections go when done
        }
        for (int i = 0; i < parked.length; i++) {
            ServerConnection c = parked[i];
            parked[i] = null;
            if (c != null) {
                c.close();
            }
        }
    }

    // -- TwoPhaseCommit.Participants ----------------------------------------------------------

    @Override
    public ClientSession session() {
        return session;
    }

    @Override
    public ServerConnection[] connections() {
        return ending;
    }

    @Override
    public int[] shards() {
        return endingShards;
    }

    @Override
    public boolean over() {
        return over;
    }

    @Override
    public void committed() {
        finished("COMMIT", null);
    }

    @Override
    public void notCommitted(PgException error) {
        finished(null, error != null ? error : new PgException("40000",
            "the transaction over several shards was rolled back"));
    }

    // -- ServerConnection.ShardPeer: parked connections -------------------------------------

    @Override
    public void shardMessage(ServerConnection conn, byte type, ByteBuf buf, int offset, int length) {
        // Parked with nothing in flight: only asynchronous messages (a notice, a FATAL before a close) come.
    }

    @Override
    public void shardClosed(ServerConnection conn) {
        for (int i = 0; i < parked.length; i++) {
            if (parked[i] == conn) {
                parked[i] = null;
                if (ending != null) {
                    for (int k = 0; k < ending.length; k++) {
                        if (ending[k] == conn) {
                            ending[k] = null;   // the two-phase commit sees the lost connection fail its statement
                        }
                    }
                }
                if (lost == null) {
                    lost = new PgException(SqlState.CONNECTION_FAILURE, "server connection of shard " + i
                        + " closed unexpectedly during the transaction; the transaction is rolled back", null, false);
                }
            }
        }
    }
}
