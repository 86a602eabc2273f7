"""Port of omnipaxos/tests/recovery_test.rs, over MemoryStorage and
PersistentStorage.

3 nodes, 100 proposals. ``kill_and_recover_node(x)``: crash x, wait 1 s (5 ticks), rebuild x from
the *same* storage (for PersistentStorage: a new object over the same file, as after a process
restart); it starts in Recover with PrepareReqs queued. Then ids 51..100 are appended at the
proposer and must be decided at the recovered node.
"""

import pytest

from omnilab.replica import MemoryStorage
from omnilab.replica.persistent import PersistentStorage

from tests.replica.driver import SLEEP_1_S, WAIT_7000_MS, Cluster
from tests.replica.values import create_proposals, verify_log

FIRST = create_proposals(1, 50)
SECOND = create_proposals(51, 100)


@pytest.fixture(params=["memory", "persistent"])
def cluster(request, tmp_path):
    if request.param == "memory":
        return Cluster(3, storage_factory=lambda pid: MemoryStorage())
    return Cluster(3, storage_factory=lambda pid: PersistentStorage(tmp_path / f"node{pid}.db"),
                   reopen_storage=True)


def _setup(cluster):
    cluster.make_proposals(1, FIRST, budget=WAIT_7000_MS)
    return cluster.elected_leader(1)


def _kill_and_recover_node(cluster, pid):
    cluster.crash(pid)
    cluster.tick(SLEEP_1_S)
    cluster.recover(pid)


def _propose_and_check(cluster, proposer, recovered, checked):
    cluster.make_proposals(proposer, SECOND, decided_at=recovered, budget=WAIT_7000_MS)
    cluster.tick(SLEEP_1_S)
    verify_log(cluster.decided_log(checked), FIRST + SECOND)
    verify_log(cluster.decided_log(recovered), FIRST + SECOND)


def test_leader_fail_follower_propose_test(cluster):
    leader = _setup(cluster)
    follower = min(p for p in cluster.pids if p != leader)
    _kill_and_recover_node(cluster, leader)
    _propose_and_check(cluster, proposer=follower, recovered=leader, checked=leader)


def test_leader_fail_leader_propose_test(cluster):
    leader = _setup(cluster)
    _kill_and_recover_node(cluster, leader)
    # The recovered old leader is a follower now: its proposals are buffered until it is synced,
    # then forwarded.
    _propose_and_check(cluster, proposer=leader, recovered=leader, checked=leader)


def test_follower_fail_leader_propose_test(cluster):
    leader = _setup(cluster)
    follower = min(p for p in cluster.pids if p != leader)
    _kill_and_recover_node(cluster, follower)
    _propose_and_check(cluster, proposer=leader, recovered=follower, checked=leader)


def test_follower_fail_follower_propose_test(cluster):
    leader = _setup(cluster)
    follower = min(p for p in cluster.pids if p != leader)
    _kill_and_recover_node(cluster, follower)
    _propose_and_check(cluster, proposer=follower, recovered=follower, checked=leader)
