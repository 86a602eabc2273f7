"""The storage contract and the in-memory reference storage.

The replica keeps everything that must survive a crash in a `Storage`: the promise, the accepted
round, the decided index, the entries, the StopSign, the compacted index and the snapshot. Indices
are absolute log indices, as if nothing had been trimmed. ``write_atomically(ops)`` applies a list of
`StorageOp`s all-or-nothing; the replica groups its writes so that a crash between two calls never
leaves, say, a decided index that points past the stored entries.

Any exception raised by a storage method propagates out of the replica: the replica is then to be
treated as crashed and rebuilt from storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Protocol, Sequence, runtime_checkable

from .ballot import Ballot
from .entries import StopSign

# --- the operations of write_atomically -----------------------------------------------------------

class StorageOp:
    """One write, as a value; ``storage.write_atomically([...])`` applies a list of them."""

    __slots__ = ()


@dataclass(frozen=True)
class AppendEntry(StorageOp):
    entry: Any


@dataclass(frozen=True)
class AppendEntries(StorageOp):
    entries: tuple


@dataclass(frozen=True)
class AppendOnPrefix(StorageOp):
    from_idx: int
    entries: tuple


@dataclass(frozen=True)
class SetPromise(StorageOp):
    ballot: Ballot


@dataclass(frozen=True)
class SetDecidedIndex(StorageOp):
    idx: int


@dataclass(frozen=True)
class SetAcceptedRound(StorageOp):
    ballot: Ballot


@dataclass(frozen=True)
class SetCompactedIdx(StorageOp):
    idx: int


@dataclass(frozen=True)
class Trim(StorageOp):
    idx: int


@dataclass(frozen=True)
class SetStopsign(StorageOp):
    stopsign: Optional[StopSign]


@dataclass(frozen=True)
class SetSnapshot(StorageOp):
    snapshot: Any


for _cls in (AppendEntry, AppendEntries, AppendOnPrefix, SetPromise, SetDecidedIndex, SetAcceptedRound,
             SetCompactedIdx, Trim, SetStopsign, SetSnapshot):
    setattr(StorageOp, _cls.__name__, _cls)
    _cls.__qualname__ = f"StorageOp.{_cls.__name__}"


def apply_op(storage: "Storage", op: StorageOp) -> None:
    """Carry out one `StorageOp` through the storage's single-operation methods."""
    match op:
        case AppendEntry(e):
            storage.append_entry(e)
        case AppendEntries(es):
            storage.append_entries(es)
        case AppendOnPrefix(from_idx, es):
            storage.append_on_prefix(from_idx, es)
        case SetPromise(b):
            storage.set_promise(b)
        case SetDecidedIndex(i):
            storage.set_decided_idx(i)
        case SetAcceptedRound(b):
            storage.set_accepted_round(b)
        case SetCompactedIdx(i):
            storage.set_compacted_idx(i)
        case Trim(i):
            storage.trim(i)
        case SetStopsign(ss):
            storage.set_stopsign(ss)
        case SetSnapshot(s):
            storage.set_snapshot(s)
        case _:
            raise TypeError(f"not a StorageOp: {op!r}")


@runtime_checkable
class Storage(Protocol):
    """What a replica needs from its storage. `MemoryStorage` and `PersistentStorage` implement it."""

    def write_atomically(self, ops: Sequence[StorageOp]) -> None: ...
    def append_entry(self, entry: Any) -> None: ...
    def append_entries(self, entries: Sequence[Any]) -> None: ...
    def append_on_prefix(self, from_idx: int, entries: Sequence[Any]) -> None: ...
    def set_promise(self, n_prom: Ballot) -> None: ...
    def get_promise(self) -> Optional[Ballot]: ...
    def set_decided_idx(self, ld: int) -> None: ...
    def get_decided_idx(self) -> int: ...
    def set_accepted_round(self, na: Ballot) -> None: ...
    def get_accepted_round(self) -> Optional[Ballot]: ...
    def get_entries(self, from_idx: int, to_idx: int) -> list: ...
    def get_log_len(self) -> int: ...
    def get_suffix(self, from_idx: int) -> list: ...
    def set_stopsign(self, s: Optional[StopSign]) -> None: ...
    def get_stopsign(self) -> Optional[StopSign]: ...
    def trim(self, idx: int) -> None: ...
    def set_compacted_idx(self, idx: int) -> None: ...
    def get_compacted_idx(self) -> int: ...
    def set_snapshot(self, snapshot: Any) -> None: ...
    def get_snapshot(self) -> Any: ...


class MemoryStorage:
    """Storage in plain Python objects; it survives a crash of the replica as long as the object does.

    ``trimmed_idx`` is the absolute index of ``log[0]``; it is separate from ``compacted_idx``
    (the replica's notion of the compacted prefix), exactly as in the reference.
    """

    def __init__(self) -> None:
        self.log: list = []
        self.n_prom: Optional[Ballot] = None
        self.acc_round: Optional[Ballot] = None
        self.ld: int = 0
        self.trimmed_idx: int = 0
        self.compacted_idx: int = 0
        self.snapshot: Any = None
        self.stopsign: Optional[StopSign] = None

    def __repr__(self) -> str:
        return (f"MemoryStorage(log_len={len(self.log)}, trimmed_idx={self.trimmed_idx}, "
                f"decided_idx={self.ld}, promise={self.n_prom}, stopsign={self.stopsign})")

    def _offset(self, idx: int) -> int:
        if idx < self.trimmed_idx:
            raise IndexError(f"log index {idx} is below the trimmed index {self.trimmed_idx}")
        return idx - self.trimmed_idx

    def write_atomically(self, ops: Sequence[StorageOp]) -> None:
        # Nothing in memory can fail half-way, so applying in order is all-or-nothing.
        for op in ops:
            apply_op(self, op)

    def append_entry(self, entry: Any) -> None:
        self.log.append(entry)

    def append_entries(self, entries: Sequence[Any]) -> None:
        self.log.extend(entries)

    def append_on_prefix(self, from_idx: int, entries: Sequence[Any]) -> None:
        del self.log[self._offset(from_idx):]
        self.log.extend(entries)

    def set_promise(self, n_prom: Ballot) -> None:
        self.n_prom = n_prom

    def get_promise(self) -> Optional[Ballot]:
        return self.n_prom

    def set_decided_idx(self, ld: int) -> None:
        self.ld = ld

    def get_decided_idx(self) -> int:
        return self.ld

    def set_accepted_round(self, na: Ballot) -> None:
        self.acc_round = na

    def get_accepted_round(self) -> Optional[Ballot]:
        return self.acc_round

    def get_entries(self, from_idx: int, to_idx: int) -> list:
        start, stop = self._offset(from_idx), to_idx - self.trimmed_idx
        if stop > len(self.log) or stop < start:
            return []
        return self.log[start:stop]

    def get_log_len(self) -> int:
        return len(self.log)

    def get_suffix(self, from_idx: int) -> list:
        start = self._offset(from_idx)
        return self.log[start:] if start <= len(self.log) else []

    def set_stopsign(self, s: Optional[StopSign]) -> None:
        self.stopsign = s

    def get_stopsign(self) -> Optional[StopSign]:
        return self.stopsign

    def trim(self, idx: int) -> None:
        drop = min(self._offset(idx), len(self.log))
        del self.log[:drop]
        self.trimmed_idx = idx

    def set_compacted_idx(self, idx: int) -> None:
        self.compacted_idx = idx

    def get_compacted_idx(self) -> int:
        return self.compacted_idx

    def set_snapshot(self, snapshot: Any) -> None:
        self.snapshot = snapshot

    def get_snapshot(self) -> Any:
        return self.snapshot
