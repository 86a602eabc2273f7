"""Each scenario of `omnilab.sim.scenarios` reaches the outcome PROTOCOL.md §7 expects."""

from __future__ import annotations

import pytest

from omnilab.sim import Cluster, scenarios


@pytest.mark.parametrize("name", sorted(scenarios.SCENARIOS))
def test_every_scenario_is_a_described_replayable_cluster(name):
    cluster = scenarios.SCENARIOS[name]()
    assert isinstance(cluster, Cluster)
    assert len(cluster.description) > 200 and "\n" not in cluster.description
    assert Cluster.replay(cluster.trace).trace == cluster.trace
    assert all(v.ok for v in cluster.check())


def _leaders(cluster: Cluster) -> list:
    return [s.omnipaxos.get_current_leader() for s in cluster.servers.values() if s.up]


def test_quorum_loss_node_3_takes_over_and_stays():
    cluster = scenarios.quorum_loss()
    assert cluster.leader() == 5
    cluster.run(ticks=6)
    assert _leaders(cluster) == [(3, True)] * 5
    ballot = cluster.server(3).omnipaxos.get_promise()
    cluster.put("y", 2, at=1)  # forwarded over the 1-3 link
    cluster.run(ticks=6)
    assert all(s.kv == {"x": 1, "y": 2} for s in cluster.servers.values())
    assert cluster.server(3).omnipaxos.get_promise() == ballot  # no further takeovers
    assert all(v.ok for v in cluster.check())


def test_constrained_election_the_outdated_node_leads_and_catches_up():
    cluster = scenarios.constrained_election()
    assert cluster.server(3).kv == {}
    cluster.run(ticks=4)
    assert cluster.leader() == 3
    assert cluster.server(3).kv == {"k0": 0, "k1": 1, "k2": 2}
    cluster.put("new", 9)
    cluster.run(ticks=2)
    for pid in (1, 2, 3, 4):
        assert cluster.server(pid).kv == {"k0": 0, "k1": 1, "k2": 2, "new": 9}
    assert all(v.ok for v in cluster.check())


def test_chained_the_leader_and_its_ballot_never_change():
    cluster = scenarios.chained()
    ballot = cluster.server(3).omnipaxos.get_promise()
    for _ in range(10):
        cluster.run(ticks=1)
        assert cluster.server(2).omnipaxos.get_promise() == ballot
        assert cluster.server(3).omnipaxos.get_promise() == ballot
    cluster.put("q", 1)
    cluster.put("r", 2, at=2)
    cluster.run(ticks=2)
    assert cluster.server(2).kv == cluster.server(3).kv == {"q": 1, "r": 2}
    assert cluster.server(1).kv == {}  # node 1's log lags
    cluster.heal(1, 3)
    cluster.put("s", 3)
    cluster.run(ticks=3)
    assert cluster.server(1).kv == {"q": 1, "r": 2, "s": 3}
    assert all(v.ok for v in cluster.check())


def test_replace_crashed_node_ready_for_the_reconfiguration():
    cluster = scenarios.replace_crashed_node()
    assert not cluster.server(3).up and cluster.leader() == 2
    assert cluster.server(1).kv == {"a": 1, "b": 2}
    assert "reconfigure([1, 2, 4])" in cluster.description
