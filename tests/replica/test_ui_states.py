"""`OmniPaxos.get_ui_states()`: the dashboard picture the OmniPaxos documentation describes."""

from __future__ import annotations

from omnilab.replica.ballot import Ballot
from omnilab.replica.messages import HeartbeatReply
from omnilab.replica.state import ClusterState, OmniPaxosStates
from omnilab.sim import Cluster


def test_the_leaders_ui_states():
    cluster = Cluster([1, 2, 3])
    cluster.run(3)
    for i in range(4):
        cluster.put("k", i)
    cluster.run(2)
    leader = cluster.leader()
    omni = cluster.server(leader).omnipaxos
    states = omni.get_ui_states()
    assert isinstance(states, OmniPaxosStates) and isinstance(states.cluster_state, ClusterState)
    assert states.current_ballot == omni.ble.current_ballot and states.current_ballot.pid == leader
    assert states.current_leader == leader
    assert states.decided_idx == omni.get_decided_idx() == 4
    # The heartbeats are the replies of the previous election round: one from each peer.
    assert all(isinstance(reply, HeartbeatReply) for reply in states.heartbeats)
    assert sorted(reply.ballot.pid for reply in states.heartbeats) == [p for p in (1, 2, 3) if p != leader]
    assert states.cluster_state.heartbeats == states.heartbeats
    assert states.cluster_state.accepted_indexes == {1: 4, 2: 4, 3: 4}


def test_a_followers_ui_states():
    cluster = Cluster([1, 2, 3])
    cluster.run(3)
    leader = cluster.leader()
    follower = next(p for p in cluster.pids if p != leader)
    states = cluster.server(follower).omnipaxos.get_ui_states()
    assert states.current_leader == leader
    assert states.current_ballot.pid == follower
    assert states.decided_idx == 0


def test_same_round_ignores_the_configuration():
    a, b = Ballot(1, 3, 0, 2), Ballot(2, 3, 0, 2)
    assert a.same_round(b) and a != b
    assert not a.same_round(Ballot(1, 4, 0, 2)) and not a.same_round(Ballot(1, 3, 1, 2))
