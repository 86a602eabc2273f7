"""Port of omnipaxos/tests/snapshot_test.rs: 3 nodes, 2000 proposals."""

from omnilab.replica import LogEntry

from tests.replica.driver import WAIT_3000_MS, Cluster
from tests.replica.values import ValueSnapshot, create_proposals, verify_snapshot

NUM_PROPOSALS = 2000


def _setup():
    cluster = Cluster(3)
    leader = cluster.elected_leader(1)
    cluster.tick(WAIT_3000_MS)  # every node prepared
    proposals = create_proposals(1, NUM_PROPOSALS)
    cluster.make_proposals(leader, proposals)
    return cluster, leader, proposals


def _check_snapshotted(cluster, proposals, idx):
    expected = ValueSnapshot.create(proposals[:idx])
    for pid in cluster.pids:
        op = cluster.node(pid)
        for i in range(idx):
            entry = op.read(i)
            verify_snapshot([entry], idx, expected)  # latest_value and full contents
        for i in range(idx, NUM_PROPOSALS):
            assert op.read(i) == LogEntry.Decided(proposals[i]), f"node {pid} idx {i}: {op.read(i)!r}"
        assert len(op.read_decided_suffix(0)) == NUM_PROPOSALS - idx + 1
        assert op.get_compacted_idx() == idx


def test_snapshot_test():
    cluster, leader, proposals = _setup()
    cluster.node(leader).snapshot(1000, local_only=False)
    cluster.tick(WAIT_3000_MS)
    _check_snapshotted(cluster, proposals, 1000)


def test_double_snapshot_test():
    cluster, leader, proposals = _setup()
    cluster.node(leader).snapshot(1000, local_only=False)
    cluster.tick(WAIT_3000_MS)
    cluster.node(leader).snapshot(1010, local_only=False)
    cluster.tick(WAIT_3000_MS)
    _check_snapshotted(cluster, proposals, 1010)
