"""Port of omnipaxos/tests/trim_test.rs, plus omnilab's divergence (see the README) (trim works
with sparse pids)."""

import pytest

from omnilab.replica import CompactionErr, LogEntry

from tests.replica.driver import WAIT_3000_MS, Cluster
from tests.replica.values import create_proposals, verify_log

NUM_PROPOSALS = 2000


def _setup():
    cluster = Cluster(3)
    leader = cluster.elected_leader(1)
    cluster.tick(WAIT_3000_MS)
    proposals = create_proposals(1, NUM_PROPOSALS)
    last = proposals[-1]
    for v in proposals:
        cluster.append(leader, v)
    cluster.wait_until(lambda: all(last in cluster.decided_values(p) for p in cluster.pids),
                       budget=WAIT_3000_MS, what="every node deciding the last proposal")
    cluster.tick(WAIT_3000_MS)
    return cluster, leader, proposals


def _check_trimmed(cluster, proposals, idx):
    for pid in cluster.pids:
        op = cluster.node(pid)
        for i in range(idx):
            assert op.read(i) == LogEntry.Trimmed(idx), f"node {pid} idx {i}: {op.read(i)!r}"
        for i in range(idx, NUM_PROPOSALS):
            assert op.read(i) == LogEntry.Decided(proposals[i]), f"node {pid} idx {i}: {op.read(i)!r}"
        assert len(op.read_decided_suffix(0)) == NUM_PROPOSALS - idx + 1
        assert op.get_compacted_idx() == idx


def test_trim_test():
    cluster, leader, proposals = _setup()
    cluster.node(leader).trim(1000)
    cluster.tick(WAIT_3000_MS)
    _check_trimmed(cluster, proposals, 1000)


def test_double_trim_test():
    cluster, leader, proposals = _setup()
    cluster.node(leader).trim(1000)
    cluster.node(leader).trim(1010)
    cluster.tick(WAIT_3000_MS)
    _check_trimmed(cluster, proposals, 1010)


@pytest.mark.parametrize("pids", [[1, 3], [2, 5, 9]])
def test_trim_with_sparse_pids(pids):
    """omnilab's divergence (see the README): the leader's per-pid bookkeeping is keyed by member pids, so a gap in the pids
    (node 2 missing from [1, 3]) does not pin the minimum accepted index at 0."""
    cluster = Cluster(pids)
    leader = cluster.elected_leader(pids[0])
    assert leader == max(pids)
    proposals = create_proposals(1, 10)
    cluster.make_proposals(leader, proposals)
    cluster.node(leader).trim(5)
    cluster.tick(2)
    for pid in pids:
        op = cluster.node(pid)
        assert op.read(0) == LogEntry.Trimmed(5)
        assert op.read_decided_suffix(0) == [LogEntry.Trimmed(5)] + [LogEntry.Decided(v) for v in proposals[5:]]
    cluster.node(leader).trim()  # None: as far as every member accepted
    cluster.tick(2)
    for pid in pids:
        assert cluster.node(pid).get_compacted_idx() == 10


def test_trim_beyond_what_all_accepted_is_refused():
    """NotAllDecided carries the minimum accepted index over the members."""
    cluster = Cluster(3)
    leader = cluster.elected_leader(1)
    cluster.make_proposals(leader, create_proposals(1, 4))
    lagging = min(p for p in cluster.pids if p != leader)
    cluster.cut(leader, lagging)
    cluster.make_proposals(leader, create_proposals(5, 8))
    with pytest.raises(CompactionErr.NotAllDecided) as refused:
        cluster.node(leader).trim(6)
    assert refused.value.idx == 4
    cluster.node(leader).trim(4)
    verify_log(cluster.decided_log(leader)[1:], create_proposals(5, 8))
