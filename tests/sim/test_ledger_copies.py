"""The ledger finds a client's write again when the storage hands back copies of entries.

`PersistentStorage` unpickles what it reads, so the decided value a server applies is equal to
the proposal but not the same object. Every server builds its storages with ``MemoryStorage()`` (`Server.new_storage`);
these tests swap in storages that return copies (the real `PersistentStorage` in a temporary
directory, and a `MemoryStorage` that deep-copies what it reads) for the duration of a test.
"""

from __future__ import annotations

import copy
import itertools
from types import SimpleNamespace

import pytest

from omnilab.replica.persistent import PersistentStorage
from omnilab.replica.storage import MemoryStorage
from omnilab.sim import Cluster, invariants
from omnilab.sim import server as server_module
from omnilab.sim.ledger import Ledger


class CopyingStorage(MemoryStorage):
    """A `MemoryStorage` whose reads return deep copies, as a storage that serialises does."""

    def get_entries(self, from_idx, to_idx):
        return copy.deepcopy(super().get_entries(from_idx, to_idx))

    def get_suffix(self, from_idx):
        return copy.deepcopy(super().get_suffix(from_idx))


@pytest.fixture(params=["persistent", "copying"])
def copying_storages(request, tmp_path, monkeypatch):
    if request.param == "persistent":
        counter = itertools.count()
        opened = []

        def factory():
            storage = PersistentStorage(tmp_path / f"storage-{next(counter)}.db")
            opened.append(storage)
            return storage
    else:
        factory, opened = CopyingStorage, []
    monkeypatch.setattr(server_module, "MemoryStorage", factory)  # every storage is made by Server.new_storage
    yield request.param
    for storage in opened:
        storage.close()


def test_puts_complete_and_respond_when_the_storage_returns_copies(copying_storages):
    cluster = Cluster([1, 2, 3], seed=0)
    cluster.run(ticks=3)
    if copying_storages == "persistent":
        assert isinstance(cluster.server(1).storage, PersistentStorage)
    ops = [cluster.put("a", 1), cluster.put("b", 2), cluster.put("a", 1)]  # two equal writes
    cluster.run(ticks=2)
    assert [op.status for op in ops] == ["done", "done", "done"]
    assert [op.position for op in ops] == [(1, 0), (1, 1), (1, 2)]  # the earlier invocation owns the earlier slot
    decided = cluster.server(1).omnipaxos.read(0).entry
    assert decided == ops[0].proposal and decided is not ops[0].proposal  # a copy, matched by equality
    assert [e.op_id for e in cluster.trace if type(e).__name__ == "Responded"] == [0, 1, 2]
    assert all(cluster.check()), [v for v in cluster.check() if not v.ok]


def test_a_crash_and_a_reconfiguration_with_copying_storages_keep_every_invariant(copying_storages):
    cluster = Cluster([1, 2, 3], seed=0)
    cluster.run(ticks=3)
    first = cluster.put("a", 1)
    cluster.run(ticks=2)
    cluster.crash(1)
    cluster.recover(1)
    cluster.reconfigure([1, 2, 3, 4])
    cluster.run(ticks=5)
    later = cluster.put("b", 2)
    cluster.run(ticks=3)
    assert first.status == later.status == "done" and later.position[0] == 2
    assert dict(cluster.server(4).kv) == {"a": 1, "b": 2}
    assert all(cluster.check()), [v for v in cluster.check() if not v.ok]


def test_one_decision_completes_one_write_however_many_nodes_show_it():
    from omnilab.kv import KeyValue

    ledger = Ledger()
    ops = [ledger.new_client_op("put", 1, "a", KeyValue("a", 1), now) for now in (0, 1)]
    for proposal in (op.proposal for op in ops):
        ledger.on_proposed(proposal)
    for pid in (1, 2, 3):  # three nodes show slot 0 decided, each with its own copy
        ledger.on_decided(pid, 1, 0, KeyValue("a", 1), 10 + pid)
    assert [op.status for op in ops] == ["done", "pending"] and ops[0].completed == 11
    ledger.on_decided(2, 1, 1, KeyValue("a", 1), 20)
    assert [op.position for op in ops] == [(1, 0), (1, 1)]


def test_a_copy_of_a_refused_proposal_decided_is_still_a_violation():
    from omnilab.kv import KeyValue

    ledger = Ledger()
    op = ledger.new_client_op("put", 1, "a", KeyValue("a", 1), 0)
    ledger.refuse(op, "ProposeErr.PendingReconfigEntry")
    ledger.on_decided(1, 1, 0, KeyValue("a", 1), 5)
    world = SimpleNamespace(ledger=ledger, servers={}, live_replicas=lambda: [])
    verdict = invariants.kv_linearizability(world)
    assert not verdict.ok
    assert "refused to its client" in verdict.message
