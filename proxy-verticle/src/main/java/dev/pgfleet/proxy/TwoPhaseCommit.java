package dev.pgfleet.proxy;

import dev.pgfleet.shared.protocol.PgException;
import dev.pgfleet.shared.protocol.SqlState;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import java.util.List;

/**
 * The commit of a write over several shards whose pool has {@code two_phase_commit} (a
 * {@link ShardFanOut}'s request, or a client's {@link ShardTransaction}): every shard's part
 * succeeded, and instead of a COMMIT per shard (a failure between two COMMITs leaves one shard
 * committed) it runs two-phase commit with PostgreSQL's prepared transactions:
 * <ol>
 * <li>{@code PREPARE TRANSACTION '<id>_<shard>'} on every shard, at once;</li>
 * <li>if one failed: {@code ROLLBACK PREPARED} where one succeeded (a shard whose PREPARE failed has
 *     rolled back already: PostgreSQL ends the transaction), and the client gets the first error;</li>
 * <li>else the decision, {@code COMMIT <id>}, is appended to the {@link TwoPhaseLog} and forced to disk
 *     (on the log's thread, not the event loop); a failure to write it rolls back as in 2;</li>
 * <li>then {@code COMMIT PREPARED} on every shard, then {@code DONE <id>}, and the client gets the
 *     request's result.</li>
 * </ol>
 * Once the decision is logged the transaction is committed, whatever happens next: a COMMIT
 * PREPARED that fails (a shard down, its connection lost, the client gone) is logged as a WARN and
 * left to {@link TwoPhaseRecovery}, which commits it when it next reaches the shard; the client
 * still gets the commit's result. A crash before the decision leaves prepared transactions without
 * a record, which recovery rolls back.
 *
 * <p>The statements go through {@link ServerConnection#runInternal}: the shards' answers to them do
 * not reach the fan-out's {@code shardMessage}. A pool refused two-phase commit by recovery (a shard
 * with {@code max_prepared_transactions = 0}) gets 0A000 saying why, and every shard rolls back.
 */
final class TwoPhaseCommit {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(TwoPhaseCommit.class);

    /** Who holds the shards' connections, each in an open transaction, and hears the outcome. */
    interface Participants {

        ClientSession session();

        /** The connections (null for one lost), in the order of {@link #shards()}. */
        ServerConnection[] connections();

        int[] shards();

        /** The client left: before the decision nothing commits. */
        boolean over();

        /** Every shard committed (or the decision is logged and recovery finishes it). */
        void committed();

        /** Nothing committed: every shard rolled back; {@code error} is why. */
        void notCommitted(PgException error);
    }

    private final Participants fanOut;
    private final TwoPhaseRecovery twoPhase;
    private final String id;
    private final boolean[] prepared;
    private int owed;
    private PgException firstError;
    private boolean allCommitted = true;

    private TwoPhaseCommit(Participants fanOut, TwoPhaseRecovery twoPhase) {
        this.fanOut = fanOut;
        this.twoPhase = twoPhase;
        this.id = twoPhase.begin();
        this.prepared = new boolean[fanOut.connections().length];
    }

    /**
     * Why {@code pool} cannot commit across shards now (two_phase_commit on, but recovery found a
     * shard without prepared transactions): the client's 0A000; null when it can.
     */
    static PgException refusal(TwoPhaseRecovery twoPhase, String pool) {
        String refusal = twoPhase.refusal(pool);
        return refusal == null ? null : new PgException(SqlState.FEATURE_NOT_SUPPORTED, "pool \"" + pool
            + "\" cannot commit a write across shards: two_phase_commit is on but " + refusal, null, false);
    }

    /** Starts the commit of {@code participants} (whose pool is not refused, see {@link #refusal}). */
    static TwoPhaseCommit start(Participants participants, TwoPhaseRecovery twoPhase) {
        TwoPhaseCommit c = new TwoPhaseCommit(participants, twoPhase);
        c.prepare();
        return c;
    }

    private String gid(int i) {
        return id + "_" + fanOut.shards()[i];
    }

    private void prepare() {
        ServerConnection[] conns = fanOut.connections();
        owed = conns.length;
        for (int i = 0; i < conns.length; i++) {
            int shard = i;
            Future<List<String[]>> f = conns[i] == null
                ? Future.failedFuture(lost(i))
                : conns[i].runInternal("PREPARE TRANSACTION '" + gid(i) + "'", true);
            f.onComplete(ar -> prepared(shard, ar));
        }
    }

    private void prepared(int i, AsyncResult<List<String[]>> ar) {
        if (ar.succeeded()) {
            prepared[i] = true;
        } else if (firstError == null) {
            firstError = asPgException(ar.cause());
        }
        if (--owed > 0) {
            return;
        }
        if (firstError != null || fanOut.over()) {
            abort();
        } else if (twoPhase.pauseMillis() > 0 && twoPhase.pauseBeforeRecord()) {
            vertx().setTimer(twoPhase.pauseMillis(), t -> decide());
        } else {
            decide();
        }
    }

    /** Every shard prepared: the decision is made durable before any shard commits. */
    private void decide() {
        if (fanOut.over()) {
            abort();   // the client left before the decision: nothing commits
            return;
        }
        twoPhase.decisions().commit(fanOut.session().context, id).onComplete(ar -> {
            if (ar.failed()) {
                log.error("two-phase commit {}: the decision could not be logged, rolling back: {}", id, ar.cause().getMessage());
                firstError = new PgException(SqlState.INTERNAL_ERROR, "could not write the two-phase commit log: "
                    + ar.cause().getMessage());
                abort();
            } else if (twoPhase.pauseMillis() > 0 && !twoPhase.pauseBeforeRecord()) {
                vertx().setTimer(twoPhase.pauseMillis(), t -> commitPrepared());
            } else {
                commitPrepared();
            }
        });
    }

    private void commitPrepared() {
        ServerConnection[] conns = fanOut.connections();
        owed = conns.length;
        for (int i = 0; i < conns.length; i++) {
            int shard = i;
            Future<List<String[]>> f = conns[i] == null
                ? Future.failedFuture(lost(i))
                : conns[i].runInternal("COMMIT PREPARED '" + gid(i) + "'");
            f.onComplete(ar -> committed(shard, ar));
        }
    }

    private void committed(int i, AsyncResult<List<String[]>> ar) {
        if (ar.failed()) {
            allCommitted = false;
            log.warn("two-phase commit {}: COMMIT PREPARED '{}' failed on shard {}: {}; the decision is logged, "
                + "recovery commits it", id, gid(i), fanOut.shards()[i], ar.cause().getMessage());
        }
        if (--owed > 0) {
            return;
        }
        if (allCommitted) {
            twoPhase.decisions().done(fanOut.session().context, id);
        }
        twoPhase.end(id);
        if (!fanOut.over()) {
            fanOut.committed();   // the client gets the request's result
        }
    }

    /** No decision: ROLLBACK PREPARED where a PREPARE succeeded, then the client gets the first error. */
    private void abort() {
        ServerConnection[] conns = fanOut.connections();
        int n = 0;
        for (boolean p : prepared) {
            n += p ? 1 : 0;
        }
        owed = n;
        if (n == 0) {
            aborted();
            return;
        }
        for (int i = 0; i < conns.length; i++) {
            if (!prepared[i]) {
                continue;
            }
            int shard = i;
            Future<List<String[]>> f = conns[i] == null
                ? Future.failedFuture(lost(i))
                : conns[i].runInternal("ROLLBACK PREPARED '" + gid(i) + "'");
            f.onComplete(ar -> {
                if (ar.failed()) {
                    log.warn("two-phase commit {}: ROLLBACK PREPARED '{}' failed on shard {}: {}; recovery rolls it back",
                        id, gid(shard), fanOut.shards()[shard], ar.cause().getMessage());
                }
                if (--owed == 0) {
                    aborted();
                }
            });
        }
    }

    private void aborted() {
        twoPhase.end(id);
        if (fanOut.over()) {
            return;
        }
        fanOut.notCommitted(firstError);
    }

    private io.vertx.core.Vertx vertx() {
        return fanOut.session().context.owner();
    }

    private PgException lost(int i) {
        return new PgException(SqlState.CONNECTION_FAILURE, "server connection of shard " + fanOut.shards()[i]
            + " closed unexpectedly", null, false);
    }

    private static PgException asPgException(Throwable t) {
        return t instanceof PgException e ? e : new PgException(SqlState.INTERNAL_ERROR, String.valueOf(t.getMessage()));
    }
}
