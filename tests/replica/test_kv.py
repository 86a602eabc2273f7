"""The key-value example (omnilab/kv.py): KeyValue entries, KVSnapshot, KVStore, and how they travel
through replicas: compaction into snapshots, a lagging node synced with a snapshot (omnilab's divergence (see the README)
decision: nothing the receiver decided before the sync is lost), and durable storage.
"""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from omnilab.kv import KeyValue, KVSnapshot, KVStore
from omnilab.replica.entries import LogEntry, SnapshottedEntry, snapshot_class_of
from omnilab.replica.persistent import PersistentStorage

from .property_net import Net


def writes(*pairs):
    return [KeyValue(k, v) for k, v in pairs]


# --- the data types ----------------------------------------------------------------------------------

def test_keyvalue_is_a_frozen_hashable_value_with_a_short_str():
    kv = KeyValue("a", 1)
    assert kv == KeyValue("a", 1) and kv != KeyValue("a", 2)
    assert hash(kv) == hash(KeyValue("a", 1))
    assert str(kv) == "a=1"
    with pytest.raises(dataclasses.FrozenInstanceError):
        kv.value = 2


def test_keyvalue_declares_kvsnapshot():
    assert snapshot_class_of(KeyValue("a", 1)) is KVSnapshot
    assert KVSnapshot.use_snapshots() is True


def test_create_keeps_the_last_write_of_each_key():
    snap = KVSnapshot.create(writes(("a", 1), ("b", 2), ("a", 3)))
    assert snap.snapshotted == {"a": 3, "b": 2}
    assert KVSnapshot.create([]).snapshotted == {}


def test_merge_folds_a_later_snapshot_in_place_and_leaves_the_delta_alone():
    base = KVSnapshot.create(writes(("a", 1), ("b", 2)))
    delta = KVSnapshot.create(writes(("b", 20), ("c", 30)))
    assert base.merge(delta) is None
    assert base.snapshotted == {"a": 1, "b": 20, "c": 30}
    assert delta.snapshotted == {"b": 20, "c": 30}


def test_merge_equals_create_over_the_concatenation():
    first, second = writes(("a", 1), ("b", 2)), writes(("a", 5), ("c", 6))
    merged = KVSnapshot.create(first)
    merged.merge(KVSnapshot.create(second))
    assert merged == KVSnapshot.create(first + second)


def test_values_survive_pickling_for_durable_storage():
    for value in (KeyValue("k", [1, 2]), KVSnapshot({"k": (1, "x")})):
        assert pickle.loads(pickle.dumps(value)) == value


# --- the state machine ------------------------------------------------------------------------------

def test_kvstore_applies_writes_in_order():
    store = KVStore()
    for kv in writes(("a", 1), ("b", 2), ("a", 3)):
        store.apply(kv)
    assert dict(store.data) == {"a": 3, "b": 2}
    assert store.applied == 3
    assert store["a"] == 3 and store.get("b") == 2 and store.get("zz", "none") == "none"
    assert "a" in store and "zz" not in store
    assert sorted(store) == ["a", "b"] and len(store) == 2
    assert repr(store) == "KVStore({'a': 3, 'b': 2})"
    with pytest.raises(KeyError):
        store["zz"]


def test_kvstore_counts_other_entries_without_changing_keys():
    store = KVStore()
    store.apply("not a write")
    store.apply(42)
    assert store.applied == 2 and len(store) == 0


def test_kvstore_installs_a_snapshot_then_keeps_applying():
    store = KVStore()
    store.apply_snapshot(KVSnapshot({"a": 1, "b": 2}))
    store.apply(KeyValue("b", 3))
    assert dict(store.data) == {"a": 1, "b": 3}


def test_kvstore_data_is_read_only():
    store = KVStore()
    store.apply(KeyValue("a", 1))
    with pytest.raises(TypeError):
        store.data["a"] = 2
    assert store.data["a"] == 1


# --- through the replicas ---------------------------------------------------------------------------

def kv_state(omni) -> dict:
    """The key-value contents a server would rebuild from this replica's decided log."""
    store = KVStore()
    for item in omni.read_decided_suffix(0) or []:
        match item:
            case LogEntry.Snapshotted(SnapshottedEntry(_, snapshot)):
                store.apply_snapshot(snapshot)
            case LogEntry.Decided(kv):
                store.apply(kv)
            case LogEntry.StopSign(_, _):
                pass
            case _:
                raise AssertionError(f"unexpected {item!r} in a decided suffix")
    return dict(store.data)


@pytest.fixture
def net():
    n = Net([1, 2, 3], server_fields=dict(resend_message_tick_timeout=2))
    n.run(3)
    assert n.leader() == 3
    return n


def put_all(net, pairs, at=3):
    for k, v in pairs:
        net.omnis[at].append(KeyValue(k, v))
        net.deliver_all()


def test_a_snapshot_at_the_leader_compacts_every_node(net):
    pairs = [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5)]
    put_all(net, pairs)
    net.omnis[3].snapshot(4)  # not local_only: the followers follow
    net.deliver_all()
    for pid in (1, 2, 3):
        omni = net.omnis[pid]
        assert omni.get_compacted_idx() == 4
        assert omni.read(0) == LogEntry.Snapshotted(SnapshottedEntry(4, KVSnapshot({"a": 3, "b": 2, "c": 4})))
        assert omni.read(4) == LogEntry.Decided(KeyValue("b", 5))
        assert kv_state(omni) == {"a": 3, "b": 5, "c": 4}


def test_a_lagging_node_synced_with_a_snapshot_loses_none_of_its_own_writes(net):
    # Node 1 decides the first three writes, then misses five: the resync ships the missing decided
    # part as a Delta snapshot, which node 1 merges onto its own decided prefix (omnilab's divergence (see the README)).
    put_all(net, [("k0", 0), ("k1", 1), ("k2", 2)])
    assert net.omnis[1].get_decided_idx() == 3
    net.cut(3, 1)
    put_all(net, [(f"k{i}", i) for i in range(3, 8)])
    assert net.omnis[1].get_decided_idx() == 3
    net.heal()
    put_all(net, [("k8", 8)])  # node 1 sees a gap in the accept stream and asks to be prepared again
    net.run(4)
    expected = {f"k{i}": i for i in range(9)}
    assert kv_state(net.omnis[3]) == expected
    assert net.omnis[1].get_decided_idx() == 9
    assert isinstance(net.omnis[1].read(0), LogEntry.Snapshotted)
    assert kv_state(net.omnis[1]) == expected


def test_a_fresh_node_synced_with_a_complete_snapshot(net):
    net.isolate(1)
    put_all(net, [("x", 1), ("y", 2), ("x", 3)])
    net.omnis[3].snapshot(3, local_only=True)
    net.heal()
    net.omnis[1].reconnected(3)
    net.run(4)
    assert net.omnis[1].get_decided_idx() == 3
    assert kv_state(net.omnis[1]) == {"x": 3, "y": 2}


def test_kv_log_and_snapshot_survive_a_crash_on_durable_storage(tmp_path):
    net = Net([1, 2, 3], make_storage=lambda pid: PersistentStorage(tmp_path / f"n{pid}.db"))
    try:
        net.run(3)
        put_all(net, [("a", 1), ("b", 2), ("a", 3)])
        net.omnis[3].snapshot(2)
        put_all(net, [("c", 4)])
        before = {pid: kv_state(net.omnis[pid]) for pid in (1, 2, 3)}
        assert before[1] == {"a": 3, "b": 2, "c": 4}
        for pid in (1, 3):
            net.crash(pid)
            net.storages[pid].close()
            net.storages[pid] = PersistentStorage(tmp_path / f"n{pid}.db")
            net.recover(pid)
        net.run(4)
        for pid in (1, 2, 3):
            assert kv_state(net.omnis[pid]) == before[pid]
            assert net.omnis[pid].read(0) == LogEntry.Snapshotted(SnapshottedEntry(2, KVSnapshot({"a": 1, "b": 2})))
        put_all(net, [("d", 5)], at=net.leader())
        assert kv_state(net.omnis[1]) == {"a": 3, "b": 2, "c": 4, "d": 5}
    finally:
        for storage in net.storages.values():
            storage.close()
