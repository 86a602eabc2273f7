"""The partial-connectivity scenarios of the OmniPaxos paper, tick by tick.

Topologies are undirected: ``set_topology([(3, 1), ...])`` keeps exactly those links up (both
directions) and cuts every other pair. Equal priorities, majority quorums, one tick = one BLE round.
"""

from omnilab.replica import Phase, Role

from tests.replica.driver import Cluster
from tests.replica.values import Value, check_consistent_log_prefixes, create_proposals, verify_log


def _leader_everywhere(cluster, pids, leader):
    return all(cluster.node(p).get_current_leader() == (leader, True) for p in pids)


def _check_agreement(cluster):
    check_consistent_log_prefixes({p: cluster.decided_log(p) for p in cluster.alive()})


def test_quorum_loss():
    """The quorum-loss scenario of the OmniPaxos paper: 5 nodes, leader 5; only node 3 stays connected to everybody. Node 3 is the only
    quorum-connected node; it takes over (tick 3 in the trace) and everyone follows it."""
    cluster = Cluster(5)
    assert cluster.elected_leader(1) == 5
    before = create_proposals(1, 3)
    cluster.make_proposals(5, before)
    cluster.tick(2)
    cluster.set_topology([(3, 1), (3, 2), (3, 4), (3, 5)])

    used = cluster.wait_until(lambda: _leader_everywhere(cluster, cluster.pids, 3), budget=6,
                              what="node 3 leading all five nodes after the quorum loss")
    assert used <= 6
    promise = cluster.node(3).get_promise()
    assert (promise.n, promise.pid) == (2, 3)
    assert cluster.node(5).inspect().role is Role.FOLLOWER

    # Stable: no further takeovers, no ballot grows.
    for _ in range(20):
        cluster.tick()
        assert _leader_everywhere(cluster, cluster.pids, 3)
        for pid in cluster.pids:
            state = cluster.node(pid).inspect()
            assert state.promise == promise, f"node {pid} promised {state.promise} after the takeover"
            assert state.ble_ballot.n <= 2 and state.ble_leader == promise

    # Appends at the leader, or at any node (forwarded over its link to 3), are decided everywhere.
    cluster.append(3, Value(10))
    cluster.append(1, Value(11))
    cluster.append(5, Value(12))
    for pid in cluster.pids:
        verify_log(cluster.decided_log(pid), before + [Value(10), Value(11), Value(12)])


def test_constrained_election():
    """The constrained-election scenario of the OmniPaxos paper: the only quorum-connected node (3) has an outdated log and the old leader is gone.
    BLE ignores logs, so 3 is elected; its Prepare phase fetches what it missed."""
    cluster = Cluster(5)
    assert cluster.elected_leader(1) == 5
    cluster.disconnect(3)
    ballot_3, promise_3 = cluster.node(3).inspect().ble_ballot, cluster.node(3).get_promise()
    decided = create_proposals(1, 10)
    cluster.make_proposals(5, decided)
    cluster.tick(5)
    for pid in (1, 2, 4, 5):
        verify_log(cluster.decided_log(pid), decided)
    assert cluster.decided_log(3) == []
    # While isolated, 3 never raises its ballot (it is not quorum-connected).
    assert cluster.node(3).inspect().ble_ballot == ballot_3
    assert cluster.node(3).get_promise() == promise_3

    cluster.crash(5)
    cluster.set_topology([(3, 1), (3, 2), (3, 4)])
    survivors = [1, 2, 3, 4]
    for _ in range(6):
        if _leader_everywhere(cluster, survivors, 3):
            break
        cluster.tick()
        _check_agreement(cluster)
    assert _leader_everywhere(cluster, survivors, 3), "node 3 was not elected within 6 ticks"
    assert cluster.node(3).inspect().role is Role.LEADER
    # Its log holds every entry decided before (partly as a snapshot: contents checked).
    verify_log(cluster.decided_log(3), decided)

    later = [Value(20), Value(21)]
    cluster.append(3, later[0])
    cluster.append(1, later[1])  # forwarded over 1-3
    for pid in survivors:
        verify_log(cluster.decided_log(pid), decided + later)
    cluster.tick(10)
    _check_agreement(cluster)
    assert _leader_everywhere(cluster, survivors, 3)


def _chained():
    cluster = Cluster(3)
    assert cluster.elected_leader(1) == 3
    before = create_proposals(1, 3)
    cluster.make_proposals(3, before)
    cluster.set_topology([(1, 2), (2, 3)])
    promises = {p: cluster.node(p).get_promise() for p in cluster.pids}
    for t in range(30):
        cluster.tick()
        for pid in (2, 3):
            assert cluster.node(pid).get_current_leader() == (3, True)
        for pid in cluster.pids:
            assert cluster.node(pid).get_promise() == promises[pid], f"node {pid}'s ballot changed"
        if t >= 1:  # the first round after the cut still counts the replies collected before it
            assert not cluster.node(1).inspect().ble_happy  # it cannot hear its leader ...
        assert cluster.node(1).inspect().ble_ballot.n == 1  # ... but never takes over
    cluster.append(3, Value(10))
    cluster.append(2, Value(11))  # forwarded 2 -> 3
    cluster.append(1, Value(99))  # forwarded 1 -> 3 over the broken link: lost, never retried
    cluster.tick(10)
    decided = before + [Value(10), Value(11)]
    for pid in (2, 3):
        verify_log(cluster.decided_log(pid), decided)
    verify_log(cluster.decided_log(1), before)  # node 1 lags
    assert all(Value(99) not in cluster.decided_values(p) for p in cluster.pids)
    return cluster, decided


def test_chained_resyncs_on_the_next_append():
    """The chained scenario of the OmniPaxos paper: links 1-2 and 2-3 only. The leader stays 3 with an unchanged ballot; node 1 lags. After
    the 1-3 link is restored, node 1 resyncs when it next receives a sequence number from 3.

    omnilab divergence (the README; issue 8, the resend of unanswered entries): in the reference
    nothing tells node 1 it missed messages until the next append (it still has 3 of the 5 decided
    entries after 5 ticks). omnilab's leader prepares again a follower that left its entries
    unacknowledged for a whole resend period, so node 1 has caught up before the next append."""
    cluster, decided = _chained()
    cluster.heal()
    cluster.tick(5)
    verify_log(cluster.decided_log(1), decided)  # the reference: decided[:3]
    assert cluster.node(1).inspect().phase is Phase.ACCEPT
    cluster.append(3, Value(12))  # the gap in the sequence numbers -> PrepareReq -> AcceptSync
    for pid in cluster.pids:
        verify_log(cluster.decided_log(pid), decided + [Value(12)])
    _check_agreement(cluster)


def test_chained_resyncs_on_reconnected():
    """The chained scenario of the OmniPaxos paper: instead of waiting for the next append, the application calls ``reconnected(3)`` on node 1."""
    cluster, decided = _chained()
    cluster.heal()
    cluster.node(1).reconnected(3)
    cluster.deliver()
    verify_log(cluster.decided_log(1), decided)
    assert cluster.node(1).get_current_leader() == (3, True)
