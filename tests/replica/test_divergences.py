"""Where omnilab deliberately differs from the reference, each pinned by a test that fails without the change."""

from omnilab.replica import ClusterConfig, Phase
from tests.replica.driver import Cluster


def test_crashed_would_be_leader_with_a_higher_ballot_rejoins():
    """Node 2 promises itself a ballot above the leader's, its Prepares are lost and it crashes. In
    the reference it stays in Recover forever (the leader ignores a PrepareReq above its ballot, and
    BLE never hears of node 2's ballot). omnilab's leader takes over above that ballot instead."""
    c = Cluster(3)
    c.tick(3)
    assert c.leader_of(1) == 3
    c.disconnect(2)
    c.node(2).try_become_leader()
    c.take(2)
    c.deliver()                       # node 2's Prepares are lost on the cut links
    assert c.node(2).get_promise().pid == 2
    c.crash(2)
    c.reconnect(2)
    c.recover(2)
    c.tick(10)
    assert c.node(2).seq_paxos.phase is Phase.ACCEPT
    assert {c.leader_of(p) for p in (1, 2, 3)} == {3}
    c.append(3, "after")
    c.tick(2)
    assert c.decided_values(2)[-1:] == ["after"] or c.node(2).read_decided_suffix(0)[-1].entry == "after"


def test_stopsign_synced_by_a_new_leader_occupies_one_slot():
    """A decided StopSign must stay the last slot, counted once, after a leader change."""
    c = Cluster(3)
    c.tick(3)
    c.append(3, "x")
    c.reconfigure(3, ClusterConfig(2, [1, 2, 3]))
    c.tick(1)
    c.node(1).try_become_leader()
    c.take(1)
    c.deliver()
    c.tick(2)
    for pid in (1, 2, 3):
        omni = c.node(pid)
        assert omni.get_decided_idx() == omni.inspect().accepted_idx == 2
        assert omni.is_reconfigured() is not None


def test_raised_priorities_do_not_leave_the_cluster_without_a_leader():
    """Followers 1 and 2 raise their priorities above leader 3's ballot, then 3 crashes. By the
    reference's rules each adopts the other's raised ballot as its leader and they keep each other
    happy forever; omnilab only adopts a ballot its owner leads, so the raise waits for the next
    election (leader 3 stays), and when 3 crashes the highest priority wins."""
    c = Cluster(3)
    c.tick(3)
    assert c.leader_of(1) == 3
    c.node(1).set_priority(5)
    c.node(2).set_priority(3)
    c.tick(3)
    assert c.leader_of(1) == c.leader_of(2) == 3   # priorities count in future elections only
    c.crash(3)
    c.tick(10)
    assert c.leader_of(1) == c.leader_of(2) == 1
    c.append(1, "after")
    c.tick(1)
    assert c.node(2).read_decided_suffix(0)[-1].entry == "after"
