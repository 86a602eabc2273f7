"""Port of omnipaxos/tests/flexible_quorum_test.rs: 8 nodes, read quorum 6,
write quorum 3."""

from omnilab.replica import FlexibleQuorum

from tests.replica.driver import WAIT_8000_MS, Cluster
from tests.replica.values import create_proposals, verify_log

NUM_NODES = 8
READ_QUORUM, WRITE_QUORUM = 6, 3


def _cluster():
    return Cluster(NUM_NODES, flexible_quorum=FlexibleQuorum(READ_QUORUM, WRITE_QUORUM))


def test_flexible_quorum_prepare_phase_test():
    cluster = _cluster()
    initial = [v for v in create_proposals(0, 49)]
    cluster.make_proposals(2, initial, budget=WAIT_8000_MS)
    leader = cluster.elected_leader(1)
    followers = [p for p in cluster.pids if p != leader]
    # Kill write-1-1 followers, then the leader: exactly a read quorum stays alive.
    for pid in followers[:WRITE_QUORUM - 1 - 1]:
        cluster.crash(pid)
    cluster.crash(leader)
    assert len(cluster.alive()) == READ_QUORUM
    cluster.tick(10)
    proposer = min(cluster.alive())
    later = create_proposals(50, 99)
    cluster.make_proposals(proposer, later, budget=WAIT_8000_MS)
    verify_log(cluster.decided_log(proposer), initial + later)


def test_flexible_quorum_accept_phase_test():
    cluster = _cluster()
    initial = create_proposals(0, 49)
    cluster.make_proposals(2, initial, budget=WAIT_8000_MS)
    leader = cluster.elected_leader(1)
    followers = [p for p in cluster.pids if p != leader]
    # Kill N - write followers: the leader and write-1 followers are exactly a write quorum.
    for pid in followers[:NUM_NODES - WRITE_QUORUM]:
        cluster.crash(pid)
    assert len(cluster.alive()) == WRITE_QUORUM
    promise = cluster.node(leader).get_promise()
    cluster.tick(10)
    # In (Leader, Accept) the leader's happiness needs only a write quorum: it keeps leading.
    assert cluster.node(leader).get_promise() == promise
    later = create_proposals(50, 99)
    cluster.make_proposals(leader, later, budget=WAIT_8000_MS)
    verify_log(cluster.decided_log(leader), initial + later)
