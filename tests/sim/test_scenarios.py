"""Each scenario of `omnilab.sim.scenarios` reaches the outcome the OmniPaxos paper describes."""

from __future__ import annotations

import pytest

from omnilab import CompactionErr
from omnilab.sim import Cluster, SnapshotInstalled, scenarios


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


def _in_flight(cluster: Cluster, kind: str, to: int | None = None) -> list[int]:
    return [env.id for env in cluster.network if env.kind == kind and (to is None or env.receiver == to)]


def test_leader_crash_mid_append_is_the_fork_point():
    cluster = scenarios.leader_crash_mid_append()
    assert not cluster.server(3).up and cluster.server(1).kv == cluster.server(2).kv == {"a": 1}
    assert len(_in_flight(cluster, "AcceptDecide")) == 2
    x = cluster.ledger.history[-1]
    assert (x.key, x.status) == ("x", "pending")

    lost = Cluster.replay(cluster.trace)
    for msg_id in _in_flight(lost, "AcceptDecide"):
        lost.drop(msg_id)
    lost.run(ticks=4)
    assert lost.leader() == 2
    lost.recover(3)
    lost.run(ticks=3)
    assert all(s.kv == {"a": 1} for s in lost.servers.values())
    assert lost.server(3).omnipaxos.inspect().accepted_idx == 1  # x cut from node 3's log
    assert lost.ledger.history[-1].status == "pending"
    assert all(v.ok for v in lost.check())

    kept = Cluster.replay(cluster.trace)
    kept.step(_in_flight(kept, "AcceptDecide", to=1)[0])
    kept.drop(_in_flight(kept, "AcceptDecide", to=2)[0])
    kept.run(ticks=4)
    assert kept.leader() == 2
    assert kept.server(1).kv == kept.server(2).kv == {"a": 1, "x": 1}
    assert kept.ledger.history[-1].status == "done"
    assert all(v.ok for v in kept.check())


def test_leader_in_minority_never_decides_its_put():
    cluster = scenarios.leader_in_minority()
    assert cluster.leader() == 5
    stuck = cluster.ledger.history[-1]
    assert (stuck.key, stuck.at, stuck.status) == ("m", 5, "pending")
    assert [(env.sender, env.receiver) for env in cluster.network] == [(5, 4)]
    cluster.run(ticks=10)
    assert stuck.status == "pending"
    assert cluster.leader() is None  # 1, 2, 3 follow node 3; 4 and 5 still follow node 5
    assert [cluster.server(p).omnipaxos.get_current_leader()[0] for p in cluster.pids] == [3, 3, 3, 5, 5]
    moved = cluster.put("M", 2, at=3)
    cluster.run(ticks=1)
    assert moved.status == "done"
    cluster.heal()
    cluster.run(ticks=3)
    assert cluster.leader() == 3
    assert all(s.kv == {"a": 1, "M": 2} for s in cluster.servers.values())
    assert stuck.status == "pending"
    assert all(v.ok for v in cluster.check())


def test_compaction_the_lagging_node_is_resynced_by_a_snapshot():
    cluster = scenarios.compaction()
    expected = {"a": 8, "b": 9, "c": 10, "d": 11}
    assert not cluster.server(1).up
    assert [cluster.server(p).omnipaxos.get_compacted_idx() for p in (2, 3)] == [12, 12]
    assert cluster.server(1).storage.get_compacted_idx() == 0  # its six entries, uncompacted
    assert "cluster.snapshot()" in cluster.trace.script()
    with pytest.raises(CompactionErr.NotAllDecided):
        Cluster.replay(cluster.trace).trim(12)
    cluster.recover(1)
    assert dict(cluster.server(1).kv) == {"a": 4, "b": 5, "c": 2, "d": 3}  # from its own six entries
    cluster.run(ticks=2)
    syncs = [e for e in cluster.trace if isinstance(e, SnapshotInstalled)]
    assert [(e.pid, e.upto_idx, e.trimmed) for e in syncs] == [(1, 12, False)]
    assert all(dict(s.kv) == expected for s in cluster.servers.values())
    assert cluster.server(1).omnipaxos.get_compacted_idx() == 12
    for key in expected:
        assert cluster.get(key, at=1) == expected[key]
    assert all(v.ok for v in cluster.check())
