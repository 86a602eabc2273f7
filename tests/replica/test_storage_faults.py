"""PersistentStorage refuses a file it cannot trust, naming the path, instead of starting afresh.

A replica that forgets its promise or an accepted entry can break agreement, so every fault below is
done to a real file on disk (truncated, shared, a row deleted, a page damaged, read-only, a bad
header, an empty path) and must come back as a `StorageError` whose message names the file. The
last test kills a process that is writing through real replicas 30 times with SIGKILL and checks,
after each kill, that nothing the process saw decided was lost.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from pathlib import Path

import pytest

from omnilab.replica.ballot import Ballot
from omnilab.replica.errors import StorageError
from omnilab.replica.persistent import APPLICATION_ID, PersistentStorage
from omnilab.replica.storage import StorageOp

REPO = Path(__file__).resolve().parents[2]
PROMISE = Ballot(1, 7, 0, 2)
PAYLOAD = "entry-payload-{}-" + "z" * 40  # long and recognisable, to find its bytes in the file


@pytest.fixture
def path(tmp_path):
    return tmp_path / "node.db"


def write_store(path, n=60) -> dict:
    """A closed store with a promise, n entries, a trim and a decided index; returns what it holds."""
    with PersistentStorage(path) as s:
        s.write_atomically([StorageOp.AppendEntries(tuple(PAYLOAD.format(i) for i in range(n))),
                            StorageOp.SetPromise(PROMISE), StorageOp.SetAcceptedRound(Ballot(1, 6, 0, 2)),
                            StorageOp.SetDecidedIndex(n - 5)])
        s.trim(3)
        return {"promise": s.get_promise(), "decided_idx": s.get_decided_idx(), "log": s.get_suffix(3)}


def refused(kind, path, *phrases) -> StorageError:
    with pytest.raises(kind) as info:
        PersistentStorage(path)
    err = info.value
    assert isinstance(err, StorageError)
    assert err.path == str(path)
    assert str(path) in str(err), str(err)
    for phrase in phrases:
        assert phrase in str(err), f"{phrase!r} not in {str(err)!r}"
    return err


def test_a_store_that_was_closed_cleanly_opens_with_everything(path):
    held = write_store(path)
    with PersistentStorage(path) as s:
        assert {"promise": s.get_promise(), "decided_idx": s.get_decided_idx(), "log": s.get_suffix(3)} == held
    assert sorted(os.listdir(path.parent)) == ["node.db"]  # no side file left behind


# --- truncation -------------------------------------------------------------------------------------

def test_a_zero_byte_file_is_not_a_fresh_store(path):
    path.write_bytes(b"")
    refused(StorageError.Corrupt, path, "empty (0 bytes)", "forget its promise")
    assert path.stat().st_size == 0  # refused without writing anything


def test_a_store_truncated_to_zero_bytes_is_refused(path):
    write_store(path)
    os.truncate(path, 0)
    refused(StorageError.Corrupt, path, "empty")


@pytest.mark.parametrize("cut", ["header", "mid-page", "half", "last-page"])
def test_a_truncated_store_is_refused(path, cut):
    write_store(path, n=400)
    size = path.stat().st_size
    page = 4096
    assert size % page == 0 and size > 4 * page
    keep = {"header": 60, "mid-page": page + 100, "half": (size // page // 2) * page, "last-page": size - page}[cut]
    os.truncate(path, keep)
    refused(StorageError.Corrupt, path)


def test_a_fresh_store_is_never_left_empty_or_half_made(path):
    # Creation happens in a side file linked into place: the path is either absent or complete.
    with PersistentStorage(path) as s:
        assert s.get_promise() is None and s.get_log_len() == 0
    assert path.stat().st_size > 0
    with PersistentStorage(path) as s:
        assert s.get_decided_idx() == 0


# --- sharing ----------------------------------------------------------------------------------------

def test_two_storages_cannot_share_one_file(path):
    first = PersistentStorage(path)
    first.append_entry("a")
    refused(StorageError.InUse, path, "another PersistentStorage", "close")
    assert first.get_suffix(0) == ["a"]  # the refused open disturbed nothing
    first.close()
    with PersistentStorage(path) as second:  # free again once closed
        assert second.get_suffix(0) == ["a"]


def test_a_file_held_by_another_process_is_refused_until_it_dies(path):
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import sys
            from omnilab.replica.persistent import PersistentStorage
            s = PersistentStorage(sys.argv[1])
            s.append_entry("held")
            print("open", flush=True)
            sys.stdin.read()  # hold the file until killed
        """), str(path)],
        cwd=REPO, env=_child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "open\n"
        refused(StorageError.InUse, path, "in this process or another")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    with PersistentStorage(path) as s:  # the kernel released the dead process's lock
        assert s.get_suffix(0) == ["held"]


# --- rows deleted behind the storage's back -------------------------------------------------------

def _sql(path, *statements):
    db = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in statements:
            db.execute(statement)
    finally:
        db.close()


@pytest.mark.parametrize("idx, phrase", [
    (3, "entry 3 is missing"),      # the first stored entry
    (20, "entry 20 is missing"),    # a hole in the middle would shift every later entry
    (59, "entry 59 is missing"),    # the last one: the log must end where it was recorded to end
])
def test_a_deleted_log_row_is_a_hole_not_shifted_entries(path, idx, phrase):
    write_store(path)
    _sql(path, f"DELETE FROM log WHERE idx = {idx}")
    refused(StorageError.Corrupt, path, "hole", phrase)


@pytest.mark.parametrize("key", ["promise", "accepted_round", "decided_idx", "trimmed_idx", "end_idx",
                                 "compacted_idx", "stopsign", "snapshot"])
def test_a_deleted_meta_row_is_refused_not_read_as_unset(path, key):
    write_store(path)
    _sql(path, f"DELETE FROM meta WHERE key = '{key}'")
    refused(StorageError.Corrupt, path, f"meta row {key!r} is missing")


def test_an_extra_row_past_the_end_is_refused(path):
    held = write_store(path)
    with PersistentStorage(path) as s:
        row = s._conn.execute("SELECT value, crc FROM log WHERE idx = 59").fetchone()
    _sql(path, f"INSERT INTO log (idx, value, crc) VALUES (60, x'{row[0].hex()}', {row[1]})")
    refused(StorageError.Corrupt, path, "past its recorded end")
    assert held["log"][-1] == PAYLOAD.format(59)


# --- damaged pages --------------------------------------------------------------------------------

def _flip_byte_at(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x20]))


def test_a_damaged_value_is_caught_at_open_not_at_a_later_unpickling(path):
    write_store(path)
    data = path.read_bytes()
    at = data.index(PAYLOAD.format(41).encode()) + 30  # inside the value's bytes: SQLite cannot tell
    _flip_byte_at(path, at)
    refused(StorageError.Corrupt, path, "log entry 41 fails its checksum")


def test_a_damaged_meta_value_is_caught_at_open(path):
    write_store(path)
    with PersistentStorage(path) as s:
        blob = s._conn.execute("SELECT value FROM meta WHERE key = 'promise'").fetchone()[0]
    data = path.read_bytes()
    assert data.count(blob) == 1
    _flip_byte_at(path, data.index(blob) + len(blob) - 3)
    refused(StorageError.Corrupt, path, "'promise' fails its checksum")


def test_a_damaged_btree_page_fails_the_integrity_check(path):
    write_store(path, n=400)
    page = 4096
    with open(path, "r+b") as f:  # scribble over the header of page 3, a b-tree page of the log
        f.seek(2 * page)
        f.write(b"\xff" * 12)
    refused(StorageError.Corrupt, path)


def test_a_row_moved_to_another_index_fails_its_checksum(path):
    write_store(path)
    _sql(path, "DELETE FROM log WHERE idx = 11",
         "UPDATE log SET idx = 11 WHERE idx = 10", "INSERT INTO log SELECT 10, value, crc FROM log WHERE idx = 12")
    refused(StorageError.Corrupt, path, "fails its checksum")


# --- headers --------------------------------------------------------------------------------------

def test_a_text_file_is_a_bad_header(path):
    path.write_text("this is not SQLite " * 100)
    refused(StorageError.Corrupt, path, "bad header", "not an SQLite database")


def test_an_sqlite_file_of_someone_else_is_a_bad_header(path):
    _sql(path, "CREATE TABLE log (idx INTEGER PRIMARY KEY, value BLOB)")
    refused(StorageError.Corrupt, path, "bad header", f"{APPLICATION_ID:#x}")


def test_a_newer_format_version_is_refused(path):
    write_store(path)
    _sql(path, "PRAGMA user_version = 2")
    refused(StorageError.Corrupt, path, "format version 2")


# --- permissions and paths ------------------------------------------------------------------------

@contextmanager
def read_only(path):
    """Make `path` unwritable, even for root (who ignores file modes): chattr +i then."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(0o644)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode != 0:
        pytest.skip("running as root without chattr +i: no way to make a file read-only here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_file_is_refused_with_its_path(path):
    held = write_store(path)
    with read_only(path):
        refused(StorageError.ReadOnly, path, "read-only", "writable")
    with PersistentStorage(path) as s:  # nothing was changed by the refusal
        assert s.get_promise() == held["promise"]


@pytest.mark.parametrize("bad", ["", b""])
def test_an_empty_path_is_refused(bad):
    with pytest.raises(StorageError.BadPath, match="the path is empty") as info:
        PersistentStorage(bad)
    assert isinstance(info.value, ValueError)  # caller misuse


def test_a_folder_is_not_a_storage_file(tmp_path):
    with pytest.raises(StorageError.BadPath, match="folder") as info:
        PersistentStorage(tmp_path)
    assert str(tmp_path) in str(info.value)


@pytest.mark.parametrize("bad", [None, 3, ["node.db"]])
def test_a_path_of_the_wrong_type_is_a_type_error(bad):
    with pytest.raises(TypeError, match="file path"):
        PersistentStorage(bad)


def test_a_folder_under_a_file_cannot_be_created(tmp_path):
    (tmp_path / "plain").write_text("x")
    with pytest.raises(StorageError.BadPath, match="is a file") as info:
        PersistentStorage(tmp_path / "plain" / "node.db")
    assert "plain" in str(info.value)


@pytest.mark.parametrize("bad", ["sometimes", None, 1])
def test_the_synchronous_mode_is_checked(path, bad):
    with pytest.raises(ValueError, match="synchronous"):
        PersistentStorage(path, synchronous=bad)
    assert not path.exists()


# --- SIGKILL while writing ------------------------------------------------------------------------

def _child_env() -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))


# Three real replicas over three files; the leader appends for ever, and after every round the
# process prints what is decided (one line per newly decided slot, then each node's decided index),
# only after the replicas have returned, i.e. after the storage committed it. A restarted writer
# recovers from the files (the replicas start in the Recover phase) and goes on.
_WRITER = """
import sys
from omnilab.replica.config import ClusterConfig, ServerConfig
from omnilab.replica.persistent import PersistentStorage

folder, start = sys.argv[1], int(sys.argv[2])
nodes = [1, 2, 3]
omnis = {p: ClusterConfig(1, nodes).build_for_server(ServerConfig(pid=p), PersistentStorage(f"{folder}/n{p}.db"))
         for p in nodes}

def deliver_all():
    while True:
        msgs = [m for o in omnis.values() for m in o.take_outgoing_messages()]
        if not msgs:
            return
        for m in msgs:
            omnis[m.receiver].handle_incoming(m)

printed = 0

def report():
    # The entries first, from the node that decided most, then every node's decided index: a
    # reader that has seen a node's index has seen every entry below it.
    global printed
    most = max(omnis.values(), key=lambda o: o.get_decided_idx())
    decided = most.read_decided_suffix(printed) or []
    out = [f"E {printed + i} {e.entry!r}" for i, e in enumerate(decided)]  # LogEntry.Decided(entry)
    printed += len(decided)
    out += [f"D {p} {o.get_decided_idx()}" for p, o in omnis.items()]
    print("\\n".join(out), flush=True)

deliver_all()
for _ in range(4):
    for o in omnis.values():
        o.tick()
    deliver_all()
k = start
while True:
    leader = omnis[1].get_current_leader()
    omnis[leader[0] if leader else 1].append(f"v{k}")
    k += 1
    deliver_all()
    for o in omnis.values():
        o.tick()
    deliver_all()
    report()
"""


def test_thirty_sigkills_mid_write_lose_nothing_decided(tmp_path):
    rng = random.Random(12)
    decided_idx = {1: 0, 2: 0, 3: 0}  # the highest decided index each node ever reported
    entries: dict[int, str] = {}      # every decided slot ever reported, and its entry
    start = 0
    kills = 0
    for round_ in range(30):
        child = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), str(start)], cwd=REPO,
                                 env=_child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        reports = 0
        try:
            stop_after = rng.randint(1, 25)
            for line in child.stdout:
                if not line.endswith("\n"):
                    break  # cut by the kill
                kind, a, b = line.split(" ", 2)
                if kind == "D":
                    decided_idx[int(a)] = max(decided_idx[int(a)], int(b))
                    reports += int(a) == 3
                else:
                    idx, value = int(a), b.rstrip("\n")
                    assert entries.setdefault(idx, value) == value, f"slot {idx} decided twice differently"
                if reports >= stop_after:
                    break
        finally:
            child.send_signal(signal.SIGKILL)  # mid-write: the child never stops writing
            _, err = child.communicate(timeout=60)
        assert child.returncode == -signal.SIGKILL, err
        assert reports > 0, f"round {round_}: the writer reported nothing; stderr: {err}"
        kills += 1
        for pid in (1, 2, 3):
            with PersistentStorage(tmp_path / f"n{pid}.db") as s:
                stored = s.get_decided_idx()
                assert stored >= decided_idx[pid], f"round {round_}: node {pid} lost decided slots"
                log = s.get_entries(0, stored)
                assert len(log) == stored
                for idx in range(decided_idx[pid]):
                    assert repr(log[idx]) == entries[idx], f"round {round_}: node {pid} slot {idx} changed"
        start = len(entries) + 1000 * (round_ + 1)  # fresh values each round
    assert kills == 30
    assert len(entries) >= 30
