"""The invariants name what went wrong, where; they catch hand-made violations and stay green on
correct runs."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from omnilab.kv import KeyValue
from omnilab.sim import Cluster, Verdict, invariants
from omnilab.sim.ledger import InstanceStart, Ledger


def violation(ledger: Ledger, name: str):
    """The failed verdict of invariant `name` over `ledger` alone (no servers, no replicas)."""
    world = SimpleNamespace(ledger=ledger, servers={}, live_replicas=lambda: [])
    verdict = next(v for v in invariants.check(world) if v.name == name)
    assert not verdict.ok, verdict
    return verdict

def test_a_verdict_is_truthy_only_when_ok():
    assert Verdict(True, "X") and not Verdict(False, "X", "why")
    assert "VIOLATED - why" in repr(Verdict(False, "X", "why"))


def test_uniform_agreement_names_the_nodes_and_the_index():
    ledger = Ledger()
    a, b = KeyValue("k", 1), KeyValue("k", 2)
    ledger.on_proposed(a), ledger.on_proposed(b)
    for idx in range(4):
        filler = KeyValue("f", idx)
        ledger.on_proposed(filler)
        ledger.on_decided(2, 1, idx, filler, 10)
        ledger.on_decided(3, 1, idx, filler, 11)
    ledger.on_decided(2, 1, 4, a, 12)
    ledger.on_decided(3, 1, 4, b, 13)
    verdict = violation(ledger, "UniformAgreement")
    assert not verdict.ok
    assert verdict.message.startswith("nodes 2 and 3 decided different entries at idx 4")


def test_validity_integrity_and_the_stopsign_seal():
    ledger = Ledger()
    ledger.on_decided(1, 1, 0, "never proposed", 5)
    assert "which nobody proposed" in violation(ledger, "Validity").message
    ledger.on_proposed("x")
    ledger.on_decided(1, 1, 0, "x", 6)
    world = SimpleNamespace(ledger=ledger, servers={}, live_replicas=lambda: [])
    assert "node 1 first decided 'never proposed' at idx 0" in invariants.integrity(world).message
    assert invariants.integrity(world) == invariants.integrity(world)  # the ledger keeps the evidence
    from omnilab.replica import ClusterConfig, StopSign
    ss = StopSign(ClusterConfig(2, [1, 2]))
    ledger.on_proposed(ss)
    ledger.on_decided(1, 1, 1, ss, 7)
    ledger.on_proposed("after")
    ledger.on_decided(2, 1, 2, "after", 8)
    assert "after the StopSign decided at idx 1" in violation(ledger, "StopSignSeal").message


def test_configuration_transition_needs_a_decided_stopsign():
    ledger = Ledger()
    ledger.on_instance_started(InstanceStart(4, 2, 1, None, {}, 3))
    assert "before configuration 1 decided its StopSign" in violation(ledger, "ConfigurationTransition").message


def test_configuration_transition_carries_the_state_decided_before_the_stopsign():
    from omnilab.replica import ClusterConfig, StopSign

    ledger = Ledger()
    ss = StopSign(ClusterConfig(2, [1, 2, 4]))
    first = KeyValue("a", 1)
    for value in (first, ss):
        ledger.on_proposed(value)
    for pid in (1, 2, 3):
        ledger.on_instance_started(InstanceStart(pid, 1, None, None, {}, 0))
    ledger.on_decided(1, 1, 0, first, 5)
    ledger.on_decided(1, 1, 1, ss, 6)
    ledger.on_instance_started(InstanceStart(4, 2, 1, ss, {}, 7))  # a transfer that lost a=1
    message = violation(ledger, "ConfigurationTransition").message
    assert message.startswith("node 4 started configuration 2 without the state decided before the StopSign "
                              "of configuration 1: it lacks [('a', 1)]")


def test_a_stale_read_at_a_lagging_follower_breaks_linearizability():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.cut(3, 1)
    cluster.put("a", 1)
    cluster.deliver_all()
    assert cluster.ledger.history[0].status == "done"
    assert cluster.get("a") == 1  # at the leader: fine
    assert cluster.check()[-1].ok
    assert cluster.get("a", at=1) is None  # node 1 never heard of it
    verdict = invariants.kv_linearizability(cluster)
    assert not verdict.ok and verdict.message.startswith("stale read: get('a') at node 1 -> None misses put('a', 1)")
    assert verdict.message.count("trace item") == 1  # the verdict names where it happened, once


def test_a_write_ordered_before_an_earlier_completed_write_is_caught():
    ledger = Ledger()
    first, second = KeyValue("a", 1), KeyValue("a", 2)
    op1 = ledger.new_client_op("put", 1, "a", first, now=1)
    ledger.on_proposed(first)
    ledger.on_decided(1, 1, 5, first, now=2)  # completes at time 2, slot 5
    op2 = ledger.new_client_op("put", 1, "a", second, now=3)
    ledger.on_proposed(second)
    ledger.on_decided(1, 1, 4, second, now=4)  # invoked after op1 completed, yet earlier in the log
    assert op1.status == op2.status == "done"
    message = violation(ledger, "KVLinearizability").message
    assert "put('a', 1) at node 1 completed (trace item 2) before put('a', 2) at node 1 was invoked" in message


def test_one_leader_per_ballot_reads_the_replicas(monkeypatch):
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    assert invariants.one_leader_per_ballot(cluster).ok
    ballot = cluster.server(3).omnipaxos.inspect().n_leader
    cluster.ledger.on_leader(2, ballot, None)
    verdict = invariants.one_leader_per_ballot(cluster)
    assert not verdict.ok and "nodes [2, 3] both led ballot" in verdict.message


@pytest.mark.parametrize("invariant", invariants.INVARIANTS)
def test_every_invariant_is_green_on_a_healthy_run(invariant):
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    for i in range(5):
        cluster.put("k", i, at=1 + i % 3)
    cluster.run(ticks=3)
    verdict = invariant(cluster)
    assert verdict.ok and verdict.message == ""
