"""A fork's ledger goes on independently of the ledger it was copied from.

`Ledger.__deepcopy__` copies field by field (`ledger._COPY` says how each field is copied) instead
of walking the whole ledger; these tests check that it names every field, and that after a fork
taken with writes still pending, each ledger holds exactly what a replay of its own trace gives.
"""

from __future__ import annotations

import copy

import pytest

from omnilab.sim import Cluster
from omnilab.sim.ledger import _COPY, ClientOp, Ledger


def _busy_cluster() -> Cluster:
    """A cluster whose ledger has something in every kind of field: decided and pending writes,
    a read, a refused write, a reconfiguration, a crash, an election after it."""
    cluster = Cluster([1, 2, 3], seed=4)
    cluster.run(ticks=3)
    cluster.put("a", 1)
    cluster.run(ticks=2)
    cluster.get("a")
    cluster.reconfigure([1, 2, 3])
    try:
        cluster.put("refused", 0)  # proposed behind the StopSign: refused to its client
    except Exception:
        pass
    cluster.run(ticks=4)
    cluster.crash(cluster.leader())
    cluster.run(ticks=8)
    cluster.put("b", 2)
    cluster.put("c", 3)  # pending: their Accepts are in flight
    return cluster


def _normal(value):
    if isinstance(value, dict):
        return sorted((repr(k), _normal(v)) for k, v in value.items())
    if isinstance(value, (set, frozenset)):
        return sorted(repr(v) for v in value)
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return [_normal(v) for v in value]
    return repr(value)


def picture(ledger: Ledger) -> dict:
    """Everything the ledger holds, as comparable text (object ids left out: a replay has others)."""
    out = {}
    for name, value in vars(ledger).items():
        if name in ("proposed_ids", "_refused_ids"):
            out[name] = len(value)
        elif name == "pending_writes":
            out[name] = sorted(op.op_id for op in value)
        else:
            out[name] = _normal(value)
    return out


def test_the_copy_rules_name_every_field_of_a_ledger():
    ledger = _busy_cluster().ledger
    assert set(_COPY) == set(vars(Ledger())) == set(vars(ledger))
    assert ledger.pending_writes and ledger.completed_writes and ledger.reads and ledger.transitions
    assert any(op.refused for op in ledger.history)


def test_after_a_fork_each_ledger_is_what_a_replay_of_its_own_trace_gives():
    cluster = _busy_cluster()
    before = picture(cluster.ledger)
    fork = cluster.fork()
    assert picture(fork.ledger) == before
    fork.run(ticks=5)  # the pending writes complete in the fork only
    fork.put("d", 4)
    fork.run(ticks=2)
    fork.get("b")
    assert picture(cluster.ledger) == before  # the original is untouched
    assert [op.status for op in cluster.ledger.history][-2:] == ["pending", "pending"]
    assert [op.status for op in fork.ledger.history][-4:-1] == ["done", "done", "done"]
    for world in (cluster, fork):
        assert picture(world.ledger) == picture(Cluster.replay(world.trace).ledger)
    cluster.run(ticks=5)  # and the original goes on as it would have
    assert picture(cluster.ledger) == picture(Cluster.replay(cluster.trace).ledger)


def test_pending_operations_are_copied_and_final_ones_shared():
    ledger = _busy_cluster().ledger
    clone = copy.deepcopy(ledger)
    pending = {id(op) for op in ledger.pending_writes}
    for mine, theirs in zip(ledger.history, clone.history):
        assert isinstance(theirs, ClientOp)
        assert (mine is theirs) == (id(mine) not in pending)
    assert {id(op) for op in clone.pending_writes}.isdisjoint(pending)
    assert all(a is b for a, b in zip(ledger.completed_writes, clone.completed_writes))


@pytest.mark.parametrize("name", sorted(_COPY))
def test_no_mutable_field_is_shared_by_a_copy(name):
    ledger = _busy_cluster().ledger
    clone = copy.deepcopy(ledger)
    mine, theirs = getattr(ledger, name), getattr(clone, name)
    if isinstance(mine, (list, dict, set)) or hasattr(mine, "__dict__"):
        assert mine is not theirs
    if isinstance(mine, dict):
        for key, value in mine.items():
            if isinstance(value, (list, dict, set)):
                assert value is not theirs[key]
