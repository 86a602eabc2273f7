"""Port of omnipaxos/tests/batching_test.rs."""

from tests.replica.driver import WAIT_3000_MS, Cluster
from tests.replica.values import create_proposals, verify_log

BATCH_SIZE = 31
NUM_PROPOSALS = 310


def test_batching_test():
    # Rust runs it over persistent storage; storage plays no part in batching, so memory is used.
    cluster = Cluster(3, batch_size=BATCH_SIZE)
    cluster.elected_leader(1)
    proposals = create_proposals(1, NUM_PROPOSALS)
    ticks_before = cluster.ticks
    decided = cluster.decided_idx(1)
    for v in proposals:
        cluster.append(1, v)
        now = cluster.decided_idx(1)
        assert now == decided or now >= decided + BATCH_SIZE, (
            f"decided index moved from {decided} to {now} after appending {v!r}: not a whole batch")
        decided = now
    # The flush timer (10 ticks) never fired in between: every batch was decided because it was full.
    assert cluster.ticks == ticks_before
    assert decided == NUM_PROPOSALS
    cluster.wait_until(lambda: all(cluster.decided_idx(p) == NUM_PROPOSALS for p in cluster.pids),
                       budget=WAIT_3000_MS, what="every node deciding all proposals")
    for pid in cluster.pids:
        verify_log(cluster.decided_log(pid), proposals)


def test_partial_batch_is_flushed_by_the_flush_timer():
    """Not in the reference: a batch that never fills is decided once the flush timer fires (10 ticks)."""
    cluster = Cluster(3, batch_size=BATCH_SIZE)
    leader = cluster.elected_leader(1)
    proposals = create_proposals(1, 5)
    for v in proposals:
        cluster.append(leader, v)
    assert cluster.decided_idx(leader) == 0
    used = cluster.wait_until(lambda: all(cluster.decided_idx(p) == 5 for p in cluster.pids),
                              budget=25, what="the flush timer deciding a partial batch")
    assert used <= 20
    for pid in cluster.pids:
        verify_log(cluster.decided_log(pid), proposals)
