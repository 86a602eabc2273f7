"""Durable storage in one SQLite file: the replica's state survives a crash *and* a process restart.

`PersistentStorage(path)` implements the `Storage` protocol of storage.py (PROTOCOL.md §4.1) with the
exact semantics of `MemoryStorage` (§4.3): absolute log indices, all-or-nothing `get_entries`, a
`trim` that drops leading entries and records the trimmed offset separately from `compacted_idx`,
`append_on_prefix` that truncates then appends, and a promise / accepted round that read ``None``
until set. Rebuilding a replica over the same path, in the same or a new process, recovers it
(§1.6, §4.2)::

    storage = PersistentStorage("node1.db")
    omni = config.build(storage)          # ... crash, restart the process ...
    omni = config.build(PersistentStorage("node1.db"))   # recovers promise, log, decided index

Layout (one SQLite file; SQLite keeps ``-wal`` and ``-shm`` companions beside it while it is open):
table ``log(idx INTEGER PRIMARY KEY, value BLOB)`` holds the untrimmed entries keyed by their
absolute index (always the contiguous run ``[trimmed_idx, trimmed_idx + log_len)``); table
``meta(key TEXT PRIMARY KEY, value BLOB)`` holds promise, accepted round, decided index, trimmed
index, compacted index, StopSign and snapshot.

Values (entries, ballots, StopSigns, snapshots) are stored with `pickle`, so **entries and
snapshots must be picklable** (instances of classes defined at module level, not lambdas or local
classes). A value that cannot be pickled makes the write raise and leaves the file unchanged.
Reading unpickles, which can run code: open only files you wrote yourself. Reads return fresh
copies, so nothing read back shares state with what was written.

Transactions: `write_atomically(ops)` is ONE SQLite transaction, rolled back if any op raises
(nothing of the list is applied then); every single-op method (`append_entries`, `set_promise`, ...)
is its own committed transaction.

Durability: the file uses SQLite's write-ahead log with ``synchronous=NORMAL`` by default. A
committed write survives a crash or kill of the Python process (what recovery needs); after a power
loss or operating-system crash the last few commits may be rolled back, but the file is never
corrupt and always holds a consistent state of whole transactions. Pass ``synchronous="FULL"`` to
fsync on every commit and survive power loss too, at a large cost in speed.

The replica stays sans-IO: this file is the only place that touches the disk, and only through the
storage methods the replica calls.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
from typing import Any, Iterable, Optional, Sequence

from .ballot import Ballot
from .entries import StopSign
from .storage import StorageOp, apply_op

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log (idx INTEGER PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
"""

_PROMISE = "promise"
_ACCEPTED_ROUND = "accepted_round"
_DECIDED_IDX = "decided_idx"
_TRIMMED_IDX = "trimmed_idx"
_COMPACTED_IDX = "compacted_idx"
_STOPSIGN = "stopsign"
_SNAPSHOT = "snapshot"

_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


def _dump(value: Any) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _load(blob: bytes) -> Any:
    return pickle.loads(blob)


class PersistentStorage:
    """`Storage` in an SQLite file at `path` (``":memory:"`` gives a private, non-durable database).

    See the module docstring for the file layout, the transaction rules and the durability
    guarantee. Use it as a context manager or call `close()` when done.
    """

    def __init__(self, path: str | os.PathLike, *, synchronous: str = "NORMAL") -> None:
        sync = synchronous.upper()
        if sync not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}, not {synchronous!r}")
        self.path = os.fspath(path)
        if self.path != ":memory:":
            parent = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(parent, exist_ok=True)
        # Autocommit mode: transactions are opened and closed explicitly below.
        self._db: Optional[sqlite3.Connection] = sqlite3.connect(self.path, isolation_level=None)
        self._depth = 0  # > 0 while a transaction is open (write_atomically nests the single ops)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={sync}")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error:
            self.close()  # e.g. the path is some other kind of file
            raise

    # --- bookkeeping ------------------------------------------------------------------------------

    # The log's bounds are read from the file on every call (two indexed look-ups), never cached:
    # then a rollback, or a second handle on the same file, can never leave them stale.

    @property
    def _trimmed_idx(self) -> int:
        """Absolute index of the first stored entry (separate from the compacted index)."""
        return self._get_meta(_TRIMMED_IDX, 0)

    @property
    def _end_idx(self) -> int:
        """Absolute index one past the last stored entry."""
        (last,) = self._conn.execute("SELECT MAX(idx) FROM log").fetchone()
        return self._trimmed_idx if last is None else last + 1

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise ValueError(f"PersistentStorage({self.path!r}) is closed")
        return self._db

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _tx(self) -> "_Transaction":
        return _Transaction(self)

    def _get_meta(self, key: str, default: Any = None) -> Any:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else _load(row[0])

    def _set_meta(self, key: str, value: Any) -> None:
        blob = _dump(value)  # may raise before anything is written
        with self._tx():
            self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, blob))

    def _offset_check(self, idx: int) -> None:
        trimmed_idx = self._trimmed_idx
        if idx < trimmed_idx:
            raise IndexError(f"log index {idx} is below the trimmed index {trimmed_idx}")

    def _append(self, entries: Iterable[Any]) -> None:
        blobs = [_dump(e) for e in entries]  # pickle everything before writing anything
        with self._tx():
            start = self._end_idx
            self._conn.executemany("INSERT INTO log (idx, value) VALUES (?, ?)",
                                   [(start + i, blob) for i, blob in enumerate(blobs)])

    def _select(self, from_idx: int, to_idx: int) -> list:
        cur = self._conn.execute(
            "SELECT value FROM log WHERE idx >= ? AND idx < ? ORDER BY idx", (from_idx, to_idx))
        return [_load(blob) for (blob,) in cur]

    # --- life cycle -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the file. Further calls raise ``ValueError``; closing twice is harmless."""
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def closed(self) -> bool:
        return self._db is None

    def __enter__(self) -> "PersistentStorage":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._db is None:
            return f"PersistentStorage({self.path!r}, closed)"
        return (f"PersistentStorage({self.path!r}, log_len={self.get_log_len()}, "
                f"trimmed_idx={self._trimmed_idx}, decided_idx={self.get_decided_idx()}, "
                f"promise={self.get_promise()}, stopsign={self.get_stopsign()})")

    def __getstate__(self) -> Any:
        raise TypeError(
            "a PersistentStorage cannot be pickled or copied: it is a handle on the file "
            f"{self.path!r}. Open another PersistentStorage on the same path instead")

    # --- the Storage protocol ---------------------------------------------------------------------

    def write_atomically(self, ops: Sequence[StorageOp]) -> None:
        """Apply `ops` in order in one transaction; if any op raises, none of them is applied."""
        with self._tx():
            for op in ops:
                apply_op(self, op)

    def append_entry(self, entry: Any) -> None:
        self._append((entry,))

    def append_entries(self, entries: Sequence[Any]) -> None:
        self._append(entries)

    def append_on_prefix(self, from_idx: int, entries: Sequence[Any]) -> None:
        """Cut the log at absolute index `from_idx` (no-op past the end), then append `entries`."""
        blobs = [_dump(e) for e in entries]
        with self._tx():
            self._offset_check(from_idx)
            self._conn.execute("DELETE FROM log WHERE idx >= ?", (from_idx,))
            start = self._end_idx
            self._conn.executemany("INSERT INTO log (idx, value) VALUES (?, ?)",
                                   [(start + i, blob) for i, blob in enumerate(blobs)])

    def set_promise(self, n_prom: Ballot) -> None:
        self._set_meta(_PROMISE, n_prom)

    def get_promise(self) -> Optional[Ballot]:
        return self._get_meta(_PROMISE)

    def set_decided_idx(self, ld: int) -> None:
        self._set_meta(_DECIDED_IDX, ld)

    def get_decided_idx(self) -> int:
        return self._get_meta(_DECIDED_IDX, 0)

    def set_accepted_round(self, na: Ballot) -> None:
        self._set_meta(_ACCEPTED_ROUND, na)

    def get_accepted_round(self) -> Optional[Ballot]:
        return self._get_meta(_ACCEPTED_ROUND)

    def get_entries(self, from_idx: int, to_idx: int) -> list:
        """Entries ``[from_idx, to_idx)``; an empty list unless the whole range is stored."""
        self._offset_check(from_idx)
        if to_idx > self._end_idx or to_idx < from_idx:
            return []
        return self._select(from_idx, to_idx)

    def get_log_len(self) -> int:
        return self._end_idx - self._trimmed_idx  # the stored entries are contiguous

    def get_suffix(self, from_idx: int) -> list:
        self._offset_check(from_idx)
        end_idx = self._end_idx
        if from_idx > end_idx:
            return []
        return self._select(from_idx, end_idx)

    def set_stopsign(self, s: Optional[StopSign]) -> None:
        self._set_meta(_STOPSIGN, s)

    def get_stopsign(self) -> Optional[StopSign]:
        return self._get_meta(_STOPSIGN)

    def trim(self, idx: int) -> None:
        """Drop the entries before absolute index `idx`; the log then starts at `idx`."""
        with self._tx():
            self._offset_check(idx)
            self._conn.execute("DELETE FROM log WHERE idx < ?", (idx,))
            self._set_meta(_TRIMMED_IDX, idx)

    def set_compacted_idx(self, idx: int) -> None:
        self._set_meta(_COMPACTED_IDX, idx)

    def get_compacted_idx(self) -> int:
        return self._get_meta(_COMPACTED_IDX, 0)

    def set_snapshot(self, snapshot: Any) -> None:
        self._set_meta(_SNAPSHOT, snapshot)

    def get_snapshot(self) -> Any:
        return self._get_meta(_SNAPSHOT)


class _Transaction:
    """``with storage._tx():`` opens a transaction, or joins the one already open (nesting).

    The outermost level commits on success and rolls back on an exception.
    """

    __slots__ = ("storage",)

    def __init__(self, storage: PersistentStorage) -> None:
        self.storage = storage

    def __enter__(self) -> None:
        s = self.storage
        if s._depth == 0:
            s._conn.execute("BEGIN IMMEDIATE")
        s._depth += 1

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        s = self.storage
        s._depth -= 1
        if s._depth > 0:
            return
        if exc_type is None:
            try:
                s._conn.execute("COMMIT")
                return
            except BaseException:
                s._rollback()
                raise
        s._rollback()
