"""What a replica's storage holds, read without a replica.

A crashed server has no replica in memory, only its storage; a replica rebuilt on that storage
resumes from exactly what it holds (the recovery section of the OmniPaxos documentation). These
functions read it the way that rebuilt replica would, without building one and without writing:

* `stored_state(storage)`: the promise, the accepted round, the decided / accepted / compacted
  index, the StopSign, the snapshot and the number of entries kept, as a `StoredState`;
* `stored_entries(storage)`: the log's slots from index 0 as `LogEntry` values, as
  `OmniPaxos.read_entries(0)` would return them (a compacted prefix reads as one element).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .ballot import Ballot
from .entries import StopSign
from .sequence_paxos.log import ReplicaLog

__all__ = ["StoredState", "stored_state", "stored_entries"]


@dataclass(frozen=True)
class StoredState:
    """What survives a crash, besides the entries: ``promise`` (the highest ballot promised),
    ``accepted_round`` (the ballot of the last entries accepted), ``decided_idx``, ``accepted_idx``
    and ``compacted_idx`` (lengths from index 0; a stored StopSign's slot counts), ``stopsign``
    (or None), ``snapshot`` (the snapshot of the compacted prefix, or None) and ``log_len`` (the
    entries still kept after compaction)."""

    promise: Ballot
    accepted_round: Ballot
    decided_idx: int
    accepted_idx: int
    compacted_idx: int
    stopsign: Optional[StopSign]
    snapshot: Any
    log_len: int

    @property
    def stopsign_decided(self) -> bool:
        return self.stopsign is not None and self.decided_idx == self.accepted_idx


def _reader(storage: Any) -> ReplicaLog:
    # The replica's own log over the storage, with nothing batched: it only reads here.
    return ReplicaLog(storage, batch_size=1)


def stored_state(storage: Any) -> StoredState:
    """The `StoredState` of `storage` (any `Storage`: `MemoryStorage`, `PersistentStorage`, ...)."""
    log = _reader(storage)
    return StoredState(promise=log.promise, accepted_round=log.accepted_round, decided_idx=log.decided_idx,
                       accepted_idx=log.accepted_idx, compacted_idx=log.compacted_idx, stopsign=log.stopsign,
                       snapshot=storage.get_snapshot(), log_len=storage.get_log_len())


def stored_entries(storage: Any) -> list:
    """Every slot of the log `storage` holds, from index 0, as `LogEntry` values (``Decided``,
    ``Undecided``, ``StopSign``, and one ``Snapshotted`` or ``Trimmed`` for a compacted prefix)."""
    log = _reader(storage)
    return log.read_entries(0, log.accepted_idx) or []
