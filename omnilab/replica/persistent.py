"""Durable storage in one SQLite file: the replica's state survives a crash *and* a process restart.

`PersistentStorage(path)` implements the `Storage` protocol of storage.py with the exact semantics of
`MemoryStorage`: absolute log indices, all-or-nothing `get_entries`, a `trim` that drops leading
entries and records the trimmed offset separately from `compacted_idx`, `append_on_prefix` that
truncates then appends, and a promise / accepted round that read ``None`` until set. Rebuilding a
replica over the same path, in the same or a new process, recovers it, as the OmniPaxos
documentation's recovery section describes::

    storage = PersistentStorage("node1.db")
    omni = config.build(storage)          # ... crash, restart the process ...
    omni = config.build(PersistentStorage("node1.db"))   # recovers promise, log, decided index

**It refuses what it cannot trust.** A replica that silently forgot its promise or an accepted entry
could help decide two different values for one slot, so opening checks the file and raises a
`StorageError` naming the path rather than start afresh on a damaged store:

- a missing file is created complete (header, tables and every meta row, in a side file that is
  then linked into place), so a file at the path is never legitimately empty or half made;
- a 0-byte, truncated or foreign file, a bad header (not written by `PersistentStorage`, or by a
  newer format), a failed SQLite integrity check, a missing meta row, a hole in the log or a row
  whose checksum does not match is ``StorageError.Corrupt``;
- a file another `PersistentStorage` has open, in this process or another, is
  ``StorageError.InUse`` (SQLite's exclusive locking mode: the lock goes with the connection, so a
  killed process releases it);
- a file or folder that cannot be written is ``StorageError.ReadOnly``; an empty path or a folder is
  ``StorageError.BadPath``.

Every row carries a CRC-32 of its index (or key) and value, checked at open for the whole file and
again on every read, so a damaged page is reported with its row instead of surfacing as a strange
unpickling error (or a wrong entry) later.

Layout (one SQLite file with application id ``0x6F6D6E69`` and ``user_version`` 1; SQLite keeps a
``-wal`` companion beside it while it is open): table ``log(idx INTEGER PRIMARY KEY, value BLOB,
crc INTEGER)`` holds the untrimmed entries keyed by their absolute index, always exactly the run
``[trimmed_idx, end_idx)``; table ``meta(key TEXT PRIMARY KEY, value BLOB, crc INTEGER)`` holds
promise, accepted round, decided index, trimmed index, end index, compacted index, StopSign and
snapshot. Every meta row exists from creation on (``None`` until set).

Values (entries, ballots, StopSigns, snapshots) are stored with `pickle`, so **entries and
snapshots must be picklable** (instances of classes defined at module level, not lambdas or local
classes). A value that cannot be pickled makes the write raise and leaves the file unchanged.
Reading unpickles, which can run code: open only files you wrote yourself (the checksums catch
damage, not tampering). Reads return fresh copies, so nothing read back shares state with what
was written.

Transactions: `write_atomically(ops)` is ONE SQLite transaction, rolled back if any op raises
(nothing of the list is applied then); every single-op method (`append_entries`, `set_promise`, ...)
is its own committed transaction.

Durability: the file uses SQLite's write-ahead log with ``synchronous=NORMAL`` by default. A
committed write survives a crash or kill of the Python process (what recovery needs; a test kills a
writing process 30 times and finds every decided entry again); after a power loss or
operating-system crash the last few commits may be rolled back, but the file is never corrupt and
always holds a consistent state of whole transactions. Pass ``synchronous="FULL"`` to fsync on
every commit and survive power loss too, at a large cost in speed.

The replica stays sans-IO: this file is the only place that touches the disk, and only through the
storage methods the replica calls.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import zlib
from typing import Any, Iterable, Optional, Sequence

from .ballot import Ballot
from .entries import StopSign
from .errors import StorageError
from .storage import StorageOp, apply_op

#: SQLite header fields that mark a file as ours: the application id spells "omni" in ASCII, and
#: ``user_version`` is the layout version this module reads and writes.
APPLICATION_ID = 0x6F6D6E69
FORMAT_VERSION = 1

_SQLITE_MAGIC = b"SQLite format 3\x00"
# SQLite's result code for a locked database; `sqlite3.SQLITE_BUSY` only exists from Python 3.11 on.
_SQLITE_BUSY = 5

_SCHEMA = """
CREATE TABLE log (idx INTEGER PRIMARY KEY, value BLOB NOT NULL, crc INTEGER NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL, crc INTEGER NOT NULL);
"""

_PROMISE = "promise"
_ACCEPTED_ROUND = "accepted_round"
_DECIDED_IDX = "decided_idx"
_TRIMMED_IDX = "trimmed_idx"
_END_IDX = "end_idx"
_COMPACTED_IDX = "compacted_idx"
_STOPSIGN = "stopsign"
_SNAPSHOT = "snapshot"

#: Every meta row, with its value in a fresh store. All of them exist from creation on, so a row
#: that is missing later was lost, not merely never written.
_FRESH_META = {_PROMISE: None, _ACCEPTED_ROUND: None, _DECIDED_IDX: 0, _TRIMMED_IDX: 0, _END_IDX: 0,
               _COMPACTED_IDX: 0, _STOPSIGN: None, _SNAPSHOT: None}

_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")

_RESTORE = ("Do not run a replica on it: restore the file from a backup (deleting it is safe only if "
            "this replica never promised or accepted anything)")


def _dump(value: Any) -> bytes:
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # pickle raises PicklingError, TypeError or AttributeError
        raise TypeError(f"cannot store {value!r}: {exc}. Entries and snapshots must be picklable "
                        "(instances of module-level classes, not lambdas or local classes)") from exc


def _load(blob: bytes) -> Any:
    return pickle.loads(blob)


def _log_crc(idx: int, blob: bytes) -> int:
    # The index is part of the checksum, so an entry that moved to another row is caught too.
    return zlib.crc32(blob, zlib.crc32(int(idx).to_bytes(8, "big", signed=True)))


def _meta_crc(key: str, blob: bytes) -> int:
    return zlib.crc32(blob, zlib.crc32(key.encode()))


def _checked_path(path: Any) -> str:
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"PersistentStorage takes a file path (a str or pathlib.Path), not {path!r}")
    text = os.fsdecode(os.fspath(path))
    if text == "":
        raise StorageError.BadPath(text, "the path is empty",
                                   "Name a file, e.g. PersistentStorage('node1.db'), or pass ':memory:' "
                                   "for a private store that lasts as long as the object")
    if "\x00" in text:
        raise StorageError.BadPath(text, "the path contains a NUL character", "Name an ordinary file")
    if os.path.isdir(text):
        raise StorageError.BadPath(text, "this is a folder, not a file",
                                   "Name a file inside it, e.g. os.path.join(folder, 'node1.db')")
    return text


def _initialise(db: sqlite3.Connection) -> None:
    """Write the header, the tables and every meta row of a fresh store, in one transaction."""
    db.execute(f"PRAGMA application_id={APPLICATION_ID}")
    db.execute(f"PRAGMA user_version={FORMAT_VERSION}")
    db.execute("BEGIN IMMEDIATE")
    try:
        for statement in _SCHEMA.strip().split(";"):
            if statement.strip():
                db.execute(statement)
        rows = []
        for key, value in _FRESH_META.items():
            blob = _dump(value)
            rows.append((key, blob, _meta_crc(key, blob)))
        db.executemany("INSERT INTO meta (key, value, crc) VALUES (?, ?, ?)", rows)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _create(path: str) -> None:
    """Create a complete, empty store at `path`, which does not exist yet.

    The store is built in a side file and then linked into place, so that a crash at any moment
    leaves either no file at `path` or a complete one, never an empty or half-made file that a
    later open could not tell from a damaged store.
    """
    parent = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(parent, exist_ok=True)
    except FileExistsError:
        raise StorageError.BadPath(path, f"its folder {parent!r} is a file", "Choose another path") from None
    except OSError as exc:
        raise StorageError.ReadOnly(path, f"cannot create its folder {parent!r} ({exc.strerror})",
                                    "Choose a path in a folder you can write") from exc
    side = f"{path}.{os.getpid()}.new"
    try:
        if os.path.exists(side):
            os.remove(side)  # left by a process with our pid that was killed while creating
        db = sqlite3.connect(side, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")  # kept in the header: every later open uses WAL
            _initialise(db)
        finally:
            db.close()  # checkpoints the WAL into the file and removes it
        with open(side, "rb") as f:
            os.fsync(f.fileno())
        try:
            os.link(side, path)  # atomic, and refuses to replace a file created meanwhile
        except FileExistsError:
            pass  # another process created it first: open theirs
        except OSError:  # a file system without hard links
            if not os.path.exists(path):
                os.replace(side, path)
        _fsync_folder(parent)
    except (PermissionError, sqlite3.OperationalError) as exc:
        raise StorageError.ReadOnly(path, f"cannot create it in the folder {parent!r} ({exc})",
                                    "Choose a path in a folder you can write") from exc
    finally:
        if os.path.exists(side):
            os.remove(side)


def _fsync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not possible on every platform; the link is then as durable as the OS makes it
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _check_header(path: str) -> None:
    """Refuse, from its first bytes, a file that is empty, truncated or not one of ours."""
    size = os.path.getsize(path)
    if size == 0:
        raise StorageError.Corrupt(
            path, "the file is empty (0 bytes). PersistentStorage never leaves an empty file, so it was "
            "truncated or made by something else; opening it as a fresh store would make this replica "
            "forget its promise and its log", _RESTORE)
    with open(path, "rb") as f:
        head = f.read(100)
    if len(head) < 100 or not head.startswith(_SQLITE_MAGIC):
        raise StorageError.Corrupt(path, f"bad header: this is not an SQLite database ({size} bytes)",
                                   "Pass the path of a file PersistentStorage created")
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or size % page_size:
        raise StorageError.Corrupt(
            path, f"the file is truncated: {size} bytes is not a whole number of {page_size}-byte pages",
            _RESTORE)
    application_id = int.from_bytes(head[68:72], "big")
    if application_id != APPLICATION_ID:
        raise StorageError.Corrupt(
            path, f"bad header: application id {application_id:#x}, not PersistentStorage's "
            f"{APPLICATION_ID:#x}, so PersistentStorage did not write this SQLite file",
            "Pass the path of a file PersistentStorage created (files of omnilab before this check "
            "must be recreated)")
    version = int.from_bytes(head[60:64], "big")
    if version != FORMAT_VERSION:
        raise StorageError.Corrupt(path, f"bad header: format version {version}; this omnilab reads "
                                   f"version {FORMAT_VERSION}", "Open it with the omnilab that wrote it")


class PersistentStorage:
    """`Storage` in an SQLite file at `path` (``":memory:"`` gives a private, non-durable database).

    See the module docstring for what opening checks, the file layout, the transaction rules and the
    durability guarantee. Raises `StorageError` (naming the path) for a file it cannot use or
    trust. One `PersistentStorage` at a time may have a file open; use it as a context manager or
    call `close()` when done, which also releases the file for the next one.
    """

    def __init__(self, path: str | os.PathLike, *, synchronous: str = "NORMAL") -> None:
        if not isinstance(synchronous, str) or synchronous.upper() not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}, not {synchronous!r}")
        sync = synchronous.upper()
        self._db: Optional[sqlite3.Connection] = None
        self._depth = 0  # > 0 while a transaction is open (write_atomically nests the single ops)
        self.path = _checked_path(path)
        if self.path == ":memory:":
            db = sqlite3.connect(self.path, isolation_level=None)
            _initialise(db)
            self._db = db
            return
        if not os.path.exists(self.path):
            _create(self.path)
        self._db = self._open_existing(sync)

    def _open_existing(self, sync: str) -> sqlite3.Connection:
        path = self.path
        folder = os.path.dirname(os.path.abspath(path))
        if not os.access(path, os.R_OK | os.W_OK):
            raise StorageError.ReadOnly(path, "the file is read-only (or unreadable)",
                                        "Make it readable and writable (chmod u+rw), or copy it somewhere writable")
        if not os.access(folder, os.W_OK):
            raise StorageError.ReadOnly(path, f"its folder {folder!r} is read-only, and SQLite keeps a "
                                        "write-ahead log beside the file", "Move the file to a writable folder")
        _check_header(path)
        # timeout=0: a file held by another storage is refused at once rather than waited for.
        db = sqlite3.connect(path, isolation_level=None, timeout=0)
        try:
            # Exclusive locking mode: the first transaction takes the file's lock, and the lock is
            # held until close (or the process dies), so no second replica can open the same store.
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={sync}")
            db.execute("BEGIN IMMEDIATE")
            try:
                self._verify(db)
            finally:
                db.execute("COMMIT")
        except sqlite3.Error as exc:
            db.close()
            if getattr(exc, "sqlite_errorcode", None) == _SQLITE_BUSY or "locked" in str(exc):
                raise StorageError.InUse(
                    path, "another PersistentStorage has it open (in this process or another)",
                    "Close that one first (storage.close()), or give each replica its own file") from None
            if "readonly" in str(exc):
                raise StorageError.ReadOnly(path, f"SQLite cannot write it ({exc})",
                                            "Make the file and its folder writable") from exc
            raise StorageError.Corrupt(path, f"SQLite cannot read it ({exc})", _RESTORE) from exc
        except BaseException:
            db.close()
            raise
        return db

    def _verify(self, db: sqlite3.Connection) -> None:
        """Check the whole file before the replica sees any of it (see the module docstring)."""
        path = self.path
        problems = [row[0] for row in db.execute("PRAGMA integrity_check(5)")]
        if problems != ["ok"]:
            raise StorageError.Corrupt(path, f"SQLite's integrity check failed: {'; '.join(problems)}", _RESTORE)
        meta = {key: (blob, crc) for key, blob, crc in db.execute("SELECT key, value, crc FROM meta")}
        for key in _FRESH_META:
            if key not in meta:
                raise StorageError.Corrupt(path, f"the meta row {key!r} is missing", _RESTORE)
            blob, crc = meta[key]
            if _meta_crc(key, blob) != crc:
                raise StorageError.Corrupt(path, f"the meta row {key!r} fails its checksum (a damaged page)",
                                           _RESTORE)
        trimmed_idx, end_idx = _load(meta[_TRIMMED_IDX][0]), _load(meta[_END_IDX][0])
        expected = trimmed_idx
        for idx, blob, crc in db.execute("SELECT idx, value, crc FROM log ORDER BY idx"):
            if idx != expected or idx >= end_idx:
                raise StorageError.Corrupt(path, self._hole(expected, trimmed_idx, end_idx), _RESTORE)
            if _log_crc(idx, blob) != crc:
                raise StorageError.Corrupt(path, f"log entry {idx} fails its checksum (a damaged page)", _RESTORE)
            expected += 1
        if expected != end_idx:
            raise StorageError.Corrupt(path, self._hole(expected, trimmed_idx, end_idx), _RESTORE)

    @staticmethod
    def _hole(missing_idx: int, trimmed_idx: int, end_idx: int) -> str:
        if missing_idx >= end_idx:
            return (f"the log holds entries past its recorded end: it should be exactly the indices "
                    f"{trimmed_idx}..{end_idx - 1}")
        return (f"the log has a hole: entry {missing_idx} is missing, but the log should hold every index "
                f"from {trimmed_idx} to {end_idx - 1}; reading on would shift the entries after it")

    # --- bookkeeping ------------------------------------------------------------------------------

    # The log's bounds are read from the file on every call (indexed look-ups), never cached:
    # then a rollback can never leave them stale.

    @property
    def _trimmed_idx(self) -> int:
        """Absolute index of the first stored entry (separate from the compacted index)."""
        return self._get_meta(_TRIMMED_IDX)

    @property
    def _end_idx(self) -> int:
        """Absolute index one past the last stored entry."""
        return self._get_meta(_END_IDX)

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise ValueError(f"PersistentStorage({self.path!r}) is closed")
        return self._db

    def _run(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise StorageError(self.path, f"SQLite failed: {exc}") from exc

    def _run_many(self, sql: str, rows: list) -> None:
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise StorageError(self.path, f"SQLite failed: {exc}") from exc

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _tx(self) -> "_Transaction":
        return _Transaction(self)

    def _get_meta(self, key: str) -> Any:
        row = self._run("SELECT value, crc FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise StorageError.Corrupt(self.path, f"the meta row {key!r} is missing", _RESTORE)
        blob, crc = row
        if _meta_crc(key, blob) != crc:
            raise StorageError.Corrupt(self.path, f"the meta row {key!r} fails its checksum", _RESTORE)
        return _load(blob)

    def _set_meta(self, key: str, value: Any) -> None:
        blob = _dump(value)  # may raise before anything is written
        with self._tx():
            self._run("INSERT OR REPLACE INTO meta (key, value, crc) VALUES (?, ?, ?)",
                      (key, blob, _meta_crc(key, blob)))

    def _offset_check(self, idx: int) -> None:
        trimmed_idx = self._trimmed_idx
        if idx < trimmed_idx:
            raise IndexError(f"log index {idx} is below the trimmed index {trimmed_idx}")

    def _write_at(self, start: int, blobs: list) -> None:
        """Store `blobs` at ``start, start + 1, ...`` (the log already ends at `start`)."""
        self._run_many("INSERT INTO log (idx, value, crc) VALUES (?, ?, ?)",
                       [(start + i, blob, _log_crc(start + i, blob)) for i, blob in enumerate(blobs)])
        self._set_meta(_END_IDX, start + len(blobs))

    def _append(self, entries: Iterable[Any]) -> None:
        blobs = [_dump(e) for e in entries]  # pickle everything before writing anything
        with self._tx():
            self._write_at(self._end_idx, blobs)

    def _select(self, from_idx: int, to_idx: int) -> list:
        rows = self._run("SELECT idx, value, crc FROM log WHERE idx >= ? AND idx < ? ORDER BY idx",
                         (from_idx, to_idx)).fetchall()
        values = []
        for expected, (idx, blob, crc) in enumerate(rows, start=from_idx):
            if idx != expected:
                raise StorageError.Corrupt(self.path, self._hole(expected, self._trimmed_idx, self._end_idx),
                                           _RESTORE)
            if _log_crc(idx, blob) != crc:
                raise StorageError.Corrupt(self.path, f"log entry {idx} fails its checksum", _RESTORE)
            values.append(_load(blob))
        if len(values) != to_idx - from_idx:
            raise StorageError.Corrupt(self.path, self._hole(from_idx + len(values), self._trimmed_idx,
                                                             self._end_idx), _RESTORE)
        return values

    # --- life cycle -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the file and release its lock. Further calls raise ``ValueError``; closing twice is
        harmless."""
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

    def __del__(self) -> None:
        # A forgotten storage must not keep its file locked until the interpreter exits.
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()

    def __repr__(self) -> str:
        if self._db is None:
            return f"PersistentStorage({self.path!r}, closed)"
        return (f"PersistentStorage({self.path!r}, log_len={self.get_log_len()}, "
                f"trimmed_idx={self._trimmed_idx}, decided_idx={self.get_decided_idx()}, "
                f"promise={self.get_promise()}, stopsign={self.get_stopsign()})")

    def __getstate__(self) -> Any:
        raise TypeError(
            "a PersistentStorage cannot be pickled or copied: it is a handle on the file "
            f"{self.path!r}. Close it and open another PersistentStorage on the same path instead")

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
            self._run("DELETE FROM log WHERE idx >= ?", (from_idx,))
            self._write_at(min(from_idx, self._end_idx), blobs)

    def set_promise(self, n_prom: Ballot) -> None:
        self._set_meta(_PROMISE, n_prom)

    def get_promise(self) -> Optional[Ballot]:
        return self._get_meta(_PROMISE)

    def set_decided_idx(self, ld: int) -> None:
        self._set_meta(_DECIDED_IDX, ld)

    def get_decided_idx(self) -> int:
        return self._get_meta(_DECIDED_IDX)

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
            self._run("DELETE FROM log WHERE idx < ?", (idx,))
            self._set_meta(_TRIMMED_IDX, idx)
            if idx > self._end_idx:  # trimmed past the end: the log is empty and starts at idx
                self._set_meta(_END_IDX, idx)

    def set_compacted_idx(self, idx: int) -> None:
        self._set_meta(_COMPACTED_IDX, idx)

    def get_compacted_idx(self) -> int:
        return self._get_meta(_COMPACTED_IDX)

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
            s._run("BEGIN IMMEDIATE")
        s._depth += 1

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        s = self.storage
        s._depth -= 1
        if s._depth > 0:
            return
        if exc_type is None:
            try:
                s._run("COMMIT")
                return
            except BaseException:
                s._rollback()
                raise
        s._rollback()
