"""A fork's ledger goes on independently of the ledger it was copied from.

`Ledger.__deepcopy__` copies field by field (`ledger._COPY` says how each field is copied) instead
of walking the whole ledger, and shares most containers until one side changes them (`Ledger._own`);
these tests check that it names every field, that after a fork taken with writes still pending each
ledger holds exactly what a replay of its own trace gives, whichever side goes on first, and that a
shared container is noted as shared on both sides.
"""

from __future__ import annotations

import copy
import dataclasses

import pytest

from omnilab.sim import Cluster
from omnilab.kv import KeyValue
from omnilab.replica import StopSign
from omnilab.sim.ledger import _COPY, COMPACTED, ClientOp, InstanceStart, Ledger


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


def _new_leader(cluster: Cluster) -> None:
    """Recover the crashed nodes and make another node lead: new promises, a new ballot led."""
    for pid, server in cluster.servers.items():
        if not server.up:
            cluster.recover(pid)
    cluster.run(ticks=4)
    leader = cluster.leader()
    cluster.try_become_leader(min(pid for pid in cluster.servers if pid != leader))
    cluster.run(ticks=6)
    assert cluster.leader() not in (None, leader)


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
        if name == "_shared":
            continue  # bookkeeping: which containers a copy still holds too
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
    _new_leader(fork)
    assert picture(cluster.ledger) == before  # the original is untouched
    assert [op.status for op in cluster.ledger.history][-2:] == ["pending", "pending"]
    assert [op.status for op in fork.ledger.history][-4:-1] == ["done", "done", "done"]
    for world in (cluster, fork):
        assert picture(world.ledger) == picture(Cluster.replay(world.trace).ledger)
    forked = picture(fork.ledger)
    cluster.run(ticks=5)  # and the original goes on as it would have, the fork untouched
    assert picture(cluster.ledger) == picture(Cluster.replay(cluster.trace).ledger)
    assert picture(fork.ledger) == forked


def test_the_original_may_go_on_first():
    cluster = _busy_cluster()
    fork = cluster.fork()
    before = picture(fork.ledger)
    cluster.run(ticks=5)
    cluster.put("d", 4)
    cluster.run(ticks=2)
    cluster.get("b")
    _new_leader(cluster)
    assert picture(fork.ledger) == before
    fork.run(ticks=3)
    for world in (cluster, fork):
        assert picture(world.ledger) == picture(Cluster.replay(world.trace).ledger)


def test_pending_operations_are_copied_and_final_ones_shared():
    ledger = _busy_cluster().ledger
    clone = copy.deepcopy(ledger)
    pending = {id(op) for op in ledger.pending_writes}
    for mine, theirs in zip(ledger.history, clone.history):
        assert isinstance(theirs, ClientOp)
        assert (mine is theirs) == (id(mine) not in pending)
    assert {id(op) for op in clone.pending_writes}.isdisjoint(pending)
    assert all(a is b for a, b in zip(ledger.completed_writes, clone.completed_writes))


def _mutable(value) -> bool:
    return isinstance(value, (list, dict, set)) or hasattr(value, "__dict__")


@pytest.mark.parametrize("name", sorted(set(_COPY) - {"_shared"}))
def test_a_mutable_field_a_copy_shares_is_noted_on_both_sides_until_each_owns_it(name):
    ledger = _busy_cluster().ledger
    clone = copy.deepcopy(ledger)
    mine, theirs = getattr(ledger, name), getattr(clone, name)
    if not _mutable(mine):
        return
    if mine is theirs:
        assert ledger.shares(name) and clone.shares(name)
    else:
        assert not ledger.shares(name) and not clone.shares(name)
    clone._own(name)
    ledger._own(name)
    mine, theirs = getattr(ledger, name), getattr(clone, name)
    assert mine is not theirs
    if not hasattr(mine, "__dict__"):
        assert mine == theirs
    if isinstance(mine, dict):
        for key, value in mine.items():
            if isinstance(value, (list, dict, set)):
                assert value is not theirs[key]
    assert not ledger.shares(name) and not clone.shares(name)


def test_the_copy_shares_only_containers_holding_no_pending_operation():
    ledger = _busy_cluster().ledger
    clone = copy.deepcopy(ledger)
    assert ledger.history is not clone.history and ledger.pending_writes is not clone.pending_writes
    assert clone.shares("node_logs") and ledger.node_logs is clone.node_logs  # shared until written
    clone.on_decided(1, 9, 0, "x", 0)  # a write through the copy
    assert clone.node_logs is not ledger.node_logs and (1, 9) not in ledger.node_logs
    assert all(clone.node_logs[k] is not v for k, v in ledger.node_logs.items())


def _events(ledger: Ledger) -> dict:
    """Every kind of event a ledger records, each as a call that changes what it holds."""
    config_id = max(config for _, config in ledger.promises)
    ballot = max(ledger.promises.values())
    higher = dataclasses.replace(ballot, n=ballot.n + 1, pid=1)
    read = next(op for op in ledger.history if op.kind == "get")
    refused = next(op for op in ledger.history if op.refused)
    pid, decided_config = next(key for key, log in ledger.node_logs.items() if log and log[0] is not COMPACTED)
    stopsign = next(value for value, _ in ledger.slots.values() if isinstance(value, StopSign))
    return {
        "on_proposed": lambda l: l.on_proposed(KeyValue("p", 0)),
        "refuse": lambda l: l.refuse(next(iter(l.pending_writes)), "refused"),
        "on_decided": lambda l: l.on_decided(1, config_id, 40, KeyValue("z", 9), 99),
        "on_decided a clash": lambda l: l.on_decided(pid, decided_config, 0, KeyValue("other", 9), 99),
        "on_decided past a StopSign": lambda l: (l.on_decided(1, 77, 0, stopsign, 99),
                                                 l.on_decided(1, 77, 1, KeyValue("late", 1), 99)),
        "on_decided a refused write": lambda l: l.on_decided(1, 78, 0, refused.proposal, 99),
        "on_compacted": lambda l: l.on_compacted(2, config_id + 5, 3),
        "on_local_state": lambda l: l.on_local_state(1, config_id, higher, "a problem", 99),
        "on_instance_started": lambda l: l.on_instance_started(InstanceStart(1, config_id + 1, config_id, None, {}, 99)),
        "on_tick": lambda l: l.on_tick(1),
        "on_heartbeat_reply": lambda l: l.on_heartbeat_reply(1, config_id, 3),
        "on_crash": lambda l: l.on_crash(next(iter(l.heard))),
        "on_leader": lambda l: (l.on_tick(1), l.on_leader(1, higher, 99)),
        "on_appended_after_seal": lambda l: l.on_appended_after_seal(1, config_id + 7, 99),
        "on_read": lambda l: l.on_read(next(op for op in l.history if op.op_id == read.op_id)),
        "new_client_op": lambda l: l.new_client_op("put", 1, "n", KeyValue("n", 1), 99),
    }


@pytest.mark.parametrize("event", sorted(_events(_busy_cluster().ledger)))
def test_every_event_through_a_copy_leaves_the_original_as_it_was(event):
    ledger = _busy_cluster().ledger
    before = picture(ledger)
    clone = copy.deepcopy(ledger)
    _events(clone)[event](clone)
    assert picture(clone) != before  # the event changed the copy
    assert picture(ledger) == before
    after = picture(clone)
    other = copy.deepcopy(ledger)
    _events(ledger)[event](ledger)  # the same event through the original leaves both copies alone
    assert picture(clone) == after and picture(other) == before
