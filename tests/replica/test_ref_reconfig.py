"""Port of omnipaxos/tests/reconfig_test.rs."""

import pytest

from omnilab.replica import ClusterConfig, LogEntry, ProposeErr, StopSign

from tests.replica.driver import WAIT_3000_MS, Cluster
from tests.replica.values import Value, create_proposals, verify_log

NUM_NODES = 5
NUM_PROPOSALS = 2000


def test_reconfig_test():
    cluster = Cluster(NUM_NODES)
    proposals = create_proposals(1, NUM_PROPOSALS)
    cluster.make_proposals(1, proposals)

    new_config = ClusterConfig(configuration_id=2, nodes=[5, 6, 7])
    metadata = bytes([255])
    cluster.reconfigure(1, new_config, metadata=metadata)  # node 1 is a follower: forwarded
    cluster.wait_until(lambda: any(isinstance(e, LogEntry.StopSign) for e in cluster.decided_log(1)),
                       budget=WAIT_3000_MS, what="the StopSign being decided at node 1")

    expected = StopSign(new_config, metadata)
    decided = cluster.decided_log(1)
    assert decided[-1] == LogEntry.StopSign(expected, True)
    assert decided[-1].stopsign.next_config == new_config and decided[-1].stopsign.metadata == metadata
    verify_log(decided[:-1], proposals)

    reconfigured = [p for p in cluster.pids if cluster.node(p).is_reconfigured() == expected]
    assert len(reconfigured) >= NUM_NODES // 2 + 1
    with pytest.raises(ProposeErr.PendingReconfigEntry) as refused:
        cluster.node(reconfigured[0]).append(Value(0))
    assert refused.value.entry == Value(0)


def test_leader_change_after_decided_stopsign_keeps_every_log_intact():
    """Not in the reference (the safety invariants): a leader change after a
    decided StopSign must leave every replica reconfigured, with ``decided_idx <= accepted_idx`` and
    its decided log [entries..., StopSign(ss, True)]."""
    cluster = Cluster(3)
    leader = cluster.elected_leader(1)
    proposals = create_proposals(1, 2)
    cluster.make_proposals(1, proposals)
    new_config = ClusterConfig(configuration_id=2, nodes=[1, 2])
    stopsign = StopSign(new_config, None)
    cluster.reconfigure(1, new_config)
    cluster.wait_until(lambda: all(cluster.node(p).is_reconfigured() == stopsign for p in cluster.pids),
                       budget=WAIT_3000_MS, what="every node deciding the StopSign")
    cluster.crash(leader)
    new_leader = cluster.next_leader(min(cluster.alive()))
    assert new_leader != leader
    cluster.tick(5)
    for pid in cluster.alive():
        state = cluster.node(pid).inspect()
        assert state.decided_idx <= state.accepted_idx == len(proposals) + 1, (
            f"node {pid}: decided_idx {state.decided_idx}, accepted_idx {state.accepted_idx} "
            f"(2 entries + the StopSign slot = 3)")
        assert cluster.node(pid).is_reconfigured() == stopsign, f"node {pid} forgot its decided StopSign"
        log = cluster.decided_log(pid)
        assert log[-1] == LogEntry.StopSign(stopsign, True), f"node {pid} decided log {log!r}"
        verify_log(log[:-1], proposals)


def test_proposal_forwarded_to_a_sealed_leader_is_reported_dropped():
    """omnilab's divergence (see the README): a forwarded proposal that reaches a replica holding a StopSign is not lost
    silently: the replica reports it through ``take_dropped_proposals()``."""
    cluster = Cluster(3)
    leader = cluster.elected_leader(1)
    lagging = min(p for p in cluster.pids if p != leader)
    cluster.cut(leader, lagging)  # the lagging follower never hears of the StopSign
    cluster.reconfigure(leader, ClusterConfig(configuration_id=2, nodes=[1, 2, 3]))
    assert cluster.node(leader).is_reconfigured() is not None
    assert cluster.node(lagging).is_reconfigured() is None
    cluster.append(lagging, Value(7))  # Ok at the follower: it holds no StopSign
    assert cluster.node(leader).take_dropped_proposals() == [Value(7)]
    assert cluster.node(leader).take_dropped_proposals() == []  # taking clears
    assert Value(7) not in cluster.decided_values(leader)


def test_buffered_proposals_behind_a_synced_stopsign_are_reported_dropped():
    """omnilab's divergence (see the README): proposals a node buffered while it knew no leader are reported, not kept silently,
    when the log it syncs as the new leader already ends in a StopSign."""
    cluster = Cluster(5)
    cluster.disconnect(1)
    cluster.append(1, Value(7))  # no leader known: buffered at node 1
    assert cluster.node(1).inspect().buffered_proposals == 1
    leader = cluster.elected_leader(2)
    new_config = ClusterConfig(configuration_id=2, nodes=[1, 2])
    cluster.reconfigure(leader, new_config)
    cluster.wait_until(lambda: cluster.node(leader).is_reconfigured() is not None, budget=WAIT_3000_MS,
                       what="the StopSign being decided without node 1")
    cluster.force_leader_change(1)
    assert cluster.node(1).take_dropped_proposals() == [Value(7)]
    assert cluster.node(1).inspect().buffered_proposals == 0
    assert cluster.node(1).get_current_leader() == (1, True)
    assert cluster.node(1).is_reconfigured() == StopSign(new_config, None)  # see replica bug B1
