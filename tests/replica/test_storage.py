"""The storage contract, run against MemoryStorage and PersistentStorage.

One suite, two implementations: every test taking the ``storage`` fixture runs once per kind. The
PersistentStorage-only tests below it cover what memory cannot: reopening the file, atomic rollback,
and recovery of a replica in a new process.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnilab.replica.ballot import Ballot
from omnilab.replica.config import ClusterConfig
from omnilab.replica.entries import StopSign
from omnilab.replica.errors import StorageError
from omnilab.replica.persistent import PersistentStorage
from omnilab.replica.storage import MemoryStorage, Storage, StorageOp

REPO = Path(__file__).resolve().parents[2]

B1 = Ballot(1, 1, 0, 2)
B2 = Ballot(1, 2, 0, 3)
SS = StopSign(ClusterConfig(2, [1, 2, 4]), metadata=b"\x01")


class Explode(StorageOp):
    """A StorageOp that no storage knows how to apply: ``apply_op`` raises TypeError on it."""


@pytest.fixture(params=["memory", "persistent"])
def storage(request, tmp_path):
    if request.param == "memory":
        yield MemoryStorage()
    else:
        with PersistentStorage(tmp_path / "node.db") as s:
            yield s


def state_of(s) -> dict:
    """Everything a storage exposes, as a plain dict, for comparing two storages."""
    first = s.get_compacted_idx()
    trimmed = _trimmed_idx(s)
    return {
        "promise": s.get_promise(), "accepted_round": s.get_accepted_round(),
        "decided_idx": s.get_decided_idx(), "compacted_idx": first, "stopsign": s.get_stopsign(),
        "snapshot": s.get_snapshot(), "log_len": s.get_log_len(), "trimmed_idx": trimmed,
        "log": s.get_suffix(trimmed),
    }


def _trimmed_idx(s) -> int:
    # Not part of the protocol, but both implementations keep it; state comparisons need it.
    return s.trimmed_idx if isinstance(s, MemoryStorage) else s._trimmed_idx


# --- the shared contract ---------------------------------------------------------------------------

def test_implements_the_storage_protocol(storage):
    assert isinstance(storage, Storage)


def test_fresh_storage_is_empty_and_rounds_are_none(storage):
    assert storage.get_promise() is None
    assert storage.get_accepted_round() is None
    assert storage.get_decided_idx() == 0
    assert storage.get_compacted_idx() == 0
    assert storage.get_log_len() == 0
    assert storage.get_stopsign() is None
    assert storage.get_snapshot() is None
    assert storage.get_suffix(0) == []
    assert storage.get_entries(0, 0) == []
    assert storage.get_entries(0, 1) == []


def test_append_entry_and_entries_extend_the_log(storage):
    storage.append_entry("a")
    storage.append_entries(["b", "c"])
    storage.append_entries([])
    storage.append_entry(4)
    assert storage.get_log_len() == 4
    assert storage.get_entries(0, 4) == ["a", "b", "c", 4]
    assert storage.get_suffix(0) == ["a", "b", "c", 4]


def test_get_entries_is_all_or_nothing(storage):
    storage.append_entries([10, 11, 12])
    assert storage.get_entries(0, 3) == [10, 11, 12]
    assert storage.get_entries(1, 3) == [11, 12]
    assert storage.get_entries(1, 2) == [11]
    assert storage.get_entries(2, 2) == []
    assert storage.get_entries(0, 4) == []  # runs past the end: nothing at all
    assert storage.get_entries(2, 5) == []
    assert storage.get_entries(2, 1) == []  # from > to
    assert storage.get_entries(5, 6) == []


def test_get_suffix_from_inside_at_and_past_the_end(storage):
    storage.append_entries([1, 2, 3])
    assert storage.get_suffix(1) == [2, 3]
    assert storage.get_suffix(3) == []
    assert storage.get_suffix(7) == []


def test_append_on_prefix_truncates_then_appends(storage):
    storage.append_entries([1, 2, 3, 4])
    storage.append_on_prefix(2, [30, 40, 50])
    assert storage.get_suffix(0) == [1, 2, 30, 40, 50]
    storage.append_on_prefix(5, [60])  # at the end: a plain append
    assert storage.get_suffix(0) == [1, 2, 30, 40, 50, 60]
    storage.append_on_prefix(0, [])  # cut everything
    assert storage.get_log_len() == 0
    storage.append_on_prefix(0, [7])
    assert storage.get_suffix(0) == [7]


def test_append_on_prefix_past_the_end_appends_at_the_end(storage):
    # MemoryStorage truncates to from_idx (a no-op past the end) and extends: no gap is created.
    storage.append_entries([1, 2])
    storage.append_on_prefix(5, [3])
    assert storage.get_suffix(0) == [1, 2, 3]
    assert storage.get_entries(2, 3) == [3]


def test_promise_and_accepted_round_round_trip(storage):
    storage.set_promise(B1)
    storage.set_accepted_round(B2)
    assert storage.get_promise() == B1
    assert storage.get_accepted_round() == B2
    storage.set_promise(Ballot())
    assert storage.get_promise() == Ballot()


def test_decided_compacted_stopsign_snapshot_round_trip(storage):
    storage.set_decided_idx(7)
    storage.set_compacted_idx(3)
    storage.set_stopsign(SS)
    storage.set_snapshot({"a": 1})
    assert storage.get_decided_idx() == 7
    assert storage.get_compacted_idx() == 3
    assert storage.get_stopsign() == SS
    assert storage.get_snapshot() == {"a": 1}
    storage.set_stopsign(None)
    storage.set_snapshot(None)
    assert storage.get_stopsign() is None
    assert storage.get_snapshot() is None


def test_trim_drops_leading_entries_and_keeps_absolute_indices(storage):
    storage.append_entries(list(range(10)))
    storage.trim(4)
    assert storage.get_log_len() == 6
    assert storage.get_entries(4, 6) == [4, 5]
    assert storage.get_entries(4, 10) == [4, 5, 6, 7, 8, 9]
    assert storage.get_entries(4, 11) == []
    assert storage.get_suffix(8) == [8, 9]
    storage.append_entry(10)
    assert storage.get_entries(9, 11) == [9, 10]
    storage.append_on_prefix(6, ["x"])
    assert storage.get_suffix(4) == [4, 5, "x"]


def test_trim_is_separate_from_the_compacted_index(storage):
    storage.append_entries([1, 2, 3])
    storage.trim(2)
    assert storage.get_compacted_idx() == 0  # the replica sets it itself, in the same transaction
    storage.set_compacted_idx(2)
    assert storage.get_compacted_idx() == 2
    assert storage.get_log_len() == 1


def test_trim_twice_and_trim_to_the_end(storage):
    storage.append_entries([1, 2, 3, 4])
    storage.trim(1)
    storage.trim(3)
    assert storage.get_suffix(3) == [4]
    storage.trim(4)
    assert storage.get_log_len() == 0
    assert storage.get_suffix(4) == []
    storage.append_entry(5)
    assert storage.get_entries(4, 5) == [5]


def test_trim_past_the_end_empties_the_log_and_moves_its_start(storage):
    storage.append_entries([1, 2])
    storage.trim(5)
    assert storage.get_log_len() == 0
    assert storage.get_suffix(5) == []
    storage.append_entries(["a", "b"])
    assert storage.get_entries(5, 7) == ["a", "b"]


def test_indices_below_the_trimmed_index_raise(storage):
    storage.append_entries([1, 2, 3])
    storage.trim(2)
    with pytest.raises(IndexError):
        storage.get_entries(1, 3)
    with pytest.raises(IndexError):
        storage.get_suffix(0)
    with pytest.raises(IndexError):
        storage.append_on_prefix(1, [9])
    with pytest.raises(IndexError):
        storage.trim(1)
    assert storage.get_suffix(2) == [3]  # nothing changed


def test_write_atomically_applies_every_op_in_order(storage):
    storage.write_atomically([
        StorageOp.AppendEntries((1, 2, 3, 4)),
        StorageOp.AppendOnPrefix(2, (30,)),     # needs the entries above already appended
        StorageOp.AppendEntry(5),
        StorageOp.SetPromise(B1),
        StorageOp.SetAcceptedRound(B1),
        StorageOp.SetDecidedIndex(3),
        StorageOp.Trim(1),
        StorageOp.SetCompactedIdx(1),
        StorageOp.SetSnapshot("snap"),
        StorageOp.SetStopsign(SS),
        StorageOp.SetPromise(B2),               # a later op overrides an earlier one
    ])
    assert storage.get_suffix(1) == [2, 30, 5]
    assert storage.get_log_len() == 3
    assert storage.get_promise() == B2
    assert storage.get_accepted_round() == B1
    assert storage.get_decided_idx() == 3
    assert storage.get_compacted_idx() == 1
    assert storage.get_snapshot() == "snap"
    assert storage.get_stopsign() == SS


def test_write_atomically_of_nothing_changes_nothing(storage):
    storage.append_entry(1)
    before = state_of(storage)
    storage.write_atomically([])
    assert state_of(storage) == before


def test_returned_lists_are_not_the_log(storage):
    storage.append_entries([1, 2])
    got = storage.get_suffix(0)
    got.append(3)
    storage.get_entries(0, 2).clear()
    assert storage.get_suffix(0) == [1, 2]


def test_entries_of_any_picklable_kind(storage):
    values = [None, 0, "s", b"b", (1, "t"), {"k": [1, 2]}, SS, B1, 2**70]
    storage.append_entries(values)
    assert storage.get_suffix(0) == values


# --- MemoryStorage and PersistentStorage agree on every sequence of operations ---------------------

_idx = st.integers(0, 12)
_ops = st.lists(st.one_of(
    st.tuples(st.just("append_entry"), st.integers()),
    st.tuples(st.just("append_entries"), st.lists(st.integers(), max_size=4)),
    st.tuples(st.just("append_on_prefix"), _idx, st.lists(st.integers(), max_size=3)),
    st.tuples(st.just("trim"), _idx),
    st.tuples(st.just("set_decided_idx"), _idx),
    st.tuples(st.just("set_compacted_idx"), _idx),
    st.tuples(st.just("set_promise"), st.builds(Ballot, st.just(1), st.integers(0, 3), st.just(0),
                                                st.integers(1, 3))),
    st.tuples(st.just("set_stopsign"), st.sampled_from([None, SS])),
    st.tuples(st.just("set_snapshot"), st.sampled_from([None, "s1", ("s", 2)])),
    st.tuples(st.just("get_entries"), _idx, _idx),
    st.tuples(st.just("get_suffix"), _idx),
), max_size=25)


def _call(s, op):
    name, *args = op
    try:
        return ("ok", getattr(s, name)(*args))
    except IndexError:
        return ("IndexError", None)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_ops)
def test_persistent_storage_behaves_like_memory_storage(ops, tmp_path):
    mem = MemoryStorage()
    with PersistentStorage(":memory:") as disk:
        for op in ops:
            assert _call(mem, op) == _call(disk, op), op
            assert state_of(mem) == state_of(disk), op


# --- PersistentStorage only -----------------------------------------------------------------------

@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "replica.db"


def test_everything_survives_reopening_the_file(db_path):
    with PersistentStorage(db_path) as s:
        s.append_entries(list(range(8)))
        s.trim(3)
        s.set_compacted_idx(3)
        s.set_snapshot({"upto": 3})
        s.set_decided_idx(6)
        s.set_promise(B2)
        s.set_accepted_round(B1)
        s.set_stopsign(SS)
        before = state_of(s)
    with PersistentStorage(str(db_path)) as again:
        assert state_of(again) == before
        assert again.get_entries(3, 8) == [3, 4, 5, 6, 7]
        again.append_entry(8)  # the log end is known after reopening
        assert again.get_suffix(7) == [7, 8]


def test_trim_past_the_end_survives_reopening(db_path):
    with PersistentStorage(db_path) as s:
        s.append_entries([1, 2])
        s.trim(6)
    with PersistentStorage(db_path) as s:
        assert s.get_log_len() == 0
        s.append_entry("x")
        assert s.get_entries(6, 7) == ["x"]


def test_each_single_op_is_committed_at_once(db_path):
    # The writer kills itself right after its last single op: nothing gets a chance to flush later.
    _run_child("""
        import os, signal, sys
        from omnilab.replica.persistent import PersistentStorage
        s = PersistentStorage(sys.argv[1])
        s.append_entries([1, 2, 3])
        s.set_decided_idx(2)
        os.kill(os.getpid(), signal.SIGKILL)
    """, str(db_path), returncode=-9)
    with PersistentStorage(db_path) as reader:
        assert reader.get_decided_idx() == 2
        assert reader.get_entries(0, 3) == [1, 2, 3]


@pytest.mark.parametrize("bad_op", [
    Explode(),                      # apply_op refuses it
    StorageOp.Trim(0),              # below the trimmed index after the Trim(2) before it
    StorageOp.AppendEntry(lambda: None),  # cannot be pickled
])
def test_a_failing_op_in_write_atomically_leaves_nothing_applied(db_path, bad_op):
    with PersistentStorage(db_path) as s:
        s.append_entries([1, 2, 3])
        s.set_decided_idx(1)
        before = state_of(s)
        with pytest.raises(Exception):
            s.write_atomically([
                StorageOp.AppendEntries((4, 5)),
                StorageOp.SetDecidedIndex(5),
                StorageOp.Trim(2),
                StorageOp.SetCompactedIdx(2),
                StorageOp.SetPromise(B2),
                bad_op,
                StorageOp.SetStopsign(SS),
            ])
        assert state_of(s) == before
        s.append_entry(4)  # the cached log bounds were restored with the rollback
        assert s.get_suffix(0) == [1, 2, 3, 4]
    with PersistentStorage(db_path) as s:
        assert s.get_suffix(0) == [1, 2, 3, 4]
        assert s.get_decided_idx() == 1
        assert s.get_promise() is None


def test_an_unpicklable_entry_writes_nothing(db_path):
    with PersistentStorage(db_path) as s:
        s.append_entry(0)
        with pytest.raises(Exception):
            s.append_entries([1, lambda: 2, 3])
        with pytest.raises(Exception):
            s.append_on_prefix(0, [lambda: 1])
        with pytest.raises(Exception):
            s.set_snapshot(lambda: 1)
        assert s.get_suffix(0) == [0]
        assert s.get_snapshot() is None


def test_rollback_then_reopen_sees_the_state_before(db_path):
    with PersistentStorage(db_path) as s:
        s.append_entries([1])
        with pytest.raises(TypeError):
            s.write_atomically([StorageOp.AppendOnPrefix(0, (9, 9, 9)), Explode()])
    with PersistentStorage(db_path) as s:
        assert s.get_suffix(0) == [1]


def test_repr_close_and_context_manager(db_path):
    s = PersistentStorage(db_path)
    s.append_entries([1, 2])
    s.set_decided_idx(1)
    text = repr(s)
    assert "PersistentStorage(" in text and "replica.db" in text
    assert "log_len=2" in text and "decided_idx=1" in text
    s.close()
    s.close()  # harmless twice
    assert s.closed
    assert "closed" in repr(s)
    with pytest.raises(ValueError, match="closed"):
        s.get_log_len()
    with PersistentStorage(db_path) as t:
        assert not t.closed
    assert t.closed


def test_cannot_be_pickled_and_says_what_to_do(db_path):
    with PersistentStorage(db_path) as s:
        with pytest.raises(TypeError, match="same path"):
            pickle.dumps(s)


def test_synchronous_mode_is_checked(db_path):
    with pytest.raises(ValueError, match="synchronous"):
        PersistentStorage(db_path, synchronous="sometimes")
    with PersistentStorage(db_path, synchronous="full") as s:
        s.append_entry(1)
        assert s.get_suffix(0) == [1]


def test_missing_directories_are_created(tmp_path):
    with PersistentStorage(tmp_path / "a" / "b" / "n.db") as s:
        s.append_entry(1)
    assert (tmp_path / "a" / "b" / "n.db").exists()


def test_many_small_commits(db_path):
    # The batching benchmark pushes hundreds of entries through one at a time (no timing asserted).
    with PersistentStorage(db_path) as s:
        for i in range(400):
            s.append_entry(i)
            s.set_decided_idx(i + 1)
        assert s.get_log_len() == 400
        assert s.get_entries(390, 400) == list(range(390, 400))


# --- recovery in a new process --------------------------------------------------------------------

def _run_child(code: str, *args: str, returncode: int = 0) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == returncode, proc.stderr
    return proc


def test_state_written_by_another_process_is_read_back(db_path):
    _run_child("""
        import sys
        from omnilab.replica.ballot import Ballot
        from omnilab.replica.persistent import PersistentStorage
        from omnilab.replica.storage import StorageOp
        s = PersistentStorage(sys.argv[1])
        s.write_atomically([StorageOp.AppendEntries(tuple(range(20))), StorageOp.SetDecidedIndex(15),
                            StorageOp.SetPromise(Ballot(1, 4, 0, 3)), StorageOp.SetAcceptedRound(Ballot(1, 4, 0, 3))])
        s.trim(5)
        s.set_compacted_idx(5)
        # exit without close(): every committed transaction must already be in the file
        import os; os._exit(0)
    """, str(db_path))
    with PersistentStorage(db_path) as s:
        assert s.get_decided_idx() == 15
        assert s.get_promise() == Ballot(1, 4, 0, 3)
        assert s.get_accepted_round() == Ballot(1, 4, 0, 3)
        assert s.get_compacted_idx() == 5
        assert s.get_entries(5, 20) == list(range(5, 20))


_REPLICA_CHILD = """
import json, sys
from omnilab.replica.config import ClusterConfig, ServerConfig
from omnilab.replica.persistent import PersistentStorage

folder, out = sys.argv[1], sys.argv[2]
nodes = [1, 2, 3]
omnis = {p: ClusterConfig(1, nodes).build_for_server(ServerConfig(pid=p), PersistentStorage(f"{folder}/n{p}.db"))
         for p in nodes}

def deliver_all():
    for _ in range(10000):
        msgs = [m for o in omnis.values() for m in o.take_outgoing_messages()]
        if not msgs:
            return
        for m in msgs:
            omnis[m.receiver].handle_incoming(m)
    raise AssertionError("no quiescence")

deliver_all()
for _ in range(3):
    for o in omnis.values():
        o.tick()
    deliver_all()
for i in range(12):
    omnis[1 + i % 3].append(f"entry-{i}")
    deliver_all()
for _ in range(2):
    for o in omnis.values():
        o.tick()
    deliver_all()
report = {}
for p, o in omnis.items():
    b = o.get_promise()
    report[p] = {"decided": [repr(e) for e in o.read_decided_suffix(0) or []],
                 "decided_idx": o.get_decided_idx(),
                 "promise": [b.config_id, b.n, b.priority, b.pid]}
json.dump(report, open(out, "w"))
import os; os._exit(0)  # a crash: no close, no clean shutdown
"""


def test_a_replica_recovers_from_the_file_in_a_new_process(tmp_path):
    from omnilab.replica.config import ClusterConfig, ServerConfig

    out = tmp_path / "report.json"
    _run_child(_REPLICA_CHILD, str(tmp_path), str(out))
    report = json.loads(out.read_text())
    for p in (1, 2, 3):
        seen = report[str(p)]
        assert seen["decided_idx"] == 12, seen
        with PersistentStorage(tmp_path / f"n{p}.db") as storage:
            omni = ClusterConfig(1, [1, 2, 3]).build_for_server(ServerConfig(pid=p), storage)
            assert [repr(e) for e in omni.read_decided_suffix(0) or []] == seen["decided"]
            assert omni.get_decided_idx() == 12
            b = omni.get_promise()
            assert [b.config_id, b.n, b.priority, b.pid] == seen["promise"]
            assert storage.get_promise() == b


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("this is not SQLite " * 100)
    with pytest.raises(StorageError.Corrupt, match="not an SQLite database") as info:
        PersistentStorage(path)
    assert info.value.path == str(path)
