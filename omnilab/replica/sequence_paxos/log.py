"""The replica's log: storage plus an in-memory cache of its indices.

`ReplicaLog` is the only code that writes to storage. It keeps the cache (promise, accepted round,
decided/accepted/compacted index, StopSign) equal to what storage holds, groups writes that must be
atomic into one ``write_atomically`` call, and holds the batch buffer: entries appended but not yet
written, invisible to reads and not counted in ``accepted_idx``.

Rules it keeps: ``compacted_idx <= decided_idx <= accepted_idx``; a StopSign, when stored, is the last
slot; entries are written before a decided index that covers them.
"""

from __future__ import annotations

from typing import Any, Optional

from ..ballot import Ballot
from ..entries import (
    Decided,
    LogEntry,
    Snapshotted,
    SnapshottedEntry,
    StopSign,
    StopSignEntry,
    Trimmed,
    Undecided,
    common_snapshot_class,
    merged_snapshot,
)
from ..errors import CompactionErr, SnapshotUnsupported
from ..messages import Complete, Delta, LogSync, SnapshotType
from ..storage import AppendOnPrefix, SetAcceptedRound, SetCompactedIdx, SetDecidedIndex, SetSnapshot, SetStopsign, Trim

# How a log index reads.
_COMPACTED, _ENTRY, _STOPSIGN = "compacted", "entry", "stopsign"


class ReplicaLog:
    """Storage with its cached indices and the batch buffer."""

    def __init__(self, storage: Any, batch_size: int) -> None:
        self.storage = storage
        self.batch_size = batch_size
        self.batch: list = []
        self.promise: Ballot = storage.get_promise() or Ballot()
        self.accepted_round: Ballot = storage.get_accepted_round() or Ballot()
        self.decided_idx: int = storage.get_decided_idx()
        self.compacted_idx: int = storage.get_compacted_idx()
        self.stopsign: Optional[StopSign] = storage.get_stopsign()
        self.accepted_idx: int = (storage.get_log_len() + self.compacted_idx
                                  + (1 if self.stopsign is not None else 0))

    # --- simple persistent fields ------------------------------------------------------------------

    def set_promise(self, n: Ballot) -> None:
        self.storage.set_promise(n)
        self.promise = n

    def set_decided_idx(self, idx: int) -> None:
        self.storage.set_decided_idx(idx)
        self.decided_idx = idx

    def set_stopsign(self, ss: Optional[StopSign]) -> None:
        """Store (or clear) the StopSign; it occupies the slot after the last entry."""
        self.storage.set_stopsign(ss)
        if ss is not None and self.stopsign is None:
            self.accepted_idx += 1
        elif ss is None and self.stopsign is not None:
            self.accepted_idx -= 1
        self.stopsign = ss

    def stopsign_is_decided(self) -> bool:
        return self.stopsign is not None and self.decided_idx == self.accepted_idx

    def log_decided_idx(self) -> int:
        """The decided length counting entries only (a decided StopSign's slot excluded)."""
        return self.decided_idx - 1 if self.stopsign_is_decided() else self.decided_idx

    # --- appending -----------------------------------------------------------------------------------

    def append_with_batching(self, entries: list) -> Optional[list]:
        """Add `entries` to the batch; when it holds `batch_size` entries, write them all and return
        them. Returns None while the batch is still filling."""
        self.batch.extend(entries)
        if len(self.batch) >= self.batch_size:
            return self.flush_batch()
        return None

    def flush_batch(self) -> list:
        """Write whatever is batched; return the entries written (possibly none)."""
        if not self.batch:
            return []
        flushed, self.batch = self.batch, []
        self.storage.append_entries(flushed)
        self.accepted_idx += len(flushed)
        return flushed

    def append_without_batching(self, entries: list) -> None:
        if entries:
            self.storage.append_entries(list(entries))
            self.accepted_idx += len(entries)

    # --- synchronisation -----------------------------------------------------------------------------

    def create_log_sync(self, common_prefix: int, other_decided_idx: int) -> LogSync:
        """What a replica whose log agrees with mine up to `common_prefix`, and which has decided
        `other_decided_idx` slots, needs to make its log equal to mine."""
        if (self.decided_idx > common_prefix and self.prefix_is_snapshotted()
                and self._snapshot_class() is not None and self.can_snapshot_from(other_decided_idx)):
            # Ship the decided part it lacks as a snapshot, and my undecided tail as entries. Not
            # when my compacted prefix is trimmed, even for a Delta I could build from the entries I
            # hold: the receiver merges a Delta onto its own decided prefix, and if that prefix is
            # trimmed too, the merged snapshot would read as the state of its whole prefix while
            # missing the trimmed writes (and be shipped as complete when it leads). Entries keep a
            # trimmed prefix reading as trimmed. (The reference sends the Delta; see the README.)
            snapshot, sync_idx = self.create_diff_snapshot(other_decided_idx)
            suffix = self.storage.get_suffix(self.decided_idx)
        else:
            # The StopSign travels in its own field, so the sync point stops at my last real entry
            # (a follower's promised accepted_idx counts the StopSign slot; cutting there would count
            # it twice). Entries below my compacted index are gone; every member had accepted them
            # before I compacted (trim requires it), so the sync can start there. This is also the
            # sync for a replica that decided less than my trimmed prefix: no snapshot of mine holds
            # the slots it lacks, but the entries it accepted there are the decided ones (it accepted
            # them in the round that decided them), so it keeps them and learns they are decided.
            entries_end = self.accepted_idx - (1 if self.stopsign is not None else 0)
            sync_idx = max(min(common_prefix, entries_end), self.compacted_idx)
            snapshot = None
            suffix = self.storage.get_suffix(sync_idx)
        return LogSync(snapshot, tuple(suffix), sync_idx, self.stopsign)

    def prefix_is_snapshotted(self) -> bool:
        """Does my stored snapshot (if any) hold every write of my compacted prefix? True with no
        prefix, or with a snapshot; a trimmed prefix (compacted, no snapshot) holds none of them."""
        return self.compacted_idx == 0 or self.storage.get_snapshot() is not None

    def can_snapshot_from(self, from_idx: int) -> bool:
        """Can I build a truthful snapshot of my decided slots from `from_idx` on? Not when part of
        them lies in a trimmed prefix: their writes are gone from my log and from any snapshot."""
        return from_idx >= self.compacted_idx or self.prefix_is_snapshotted()

    def create_diff_snapshot(self, from_idx: int) -> tuple[Optional[SnapshotType], int]:
        """A snapshot of my decided entries from `from_idx` on: Complete if `from_idx` is inside my
        snapshotted prefix, else a Delta. Returns it with the index it reaches (my log-decided index).
        Requires ``can_snapshot_from(from_idx)``: a Complete snapshot over a trimmed prefix would
        claim the whole prefix while holding only the slots after the trim point."""
        if not self.can_snapshot_from(from_idx):
            raise ValueError(f"no snapshot from idx {from_idx}: my prefix is trimmed up to idx "
                             f"{self.compacted_idx}; sync that replica with entries instead")
        log_decided = self.log_decided_idx()
        if from_idx <= self.compacted_idx and self.prefix_is_snapshotted():
            if self.compacted_idx < log_decided:
                return Complete(self.decided_snapshot(log_decided)), log_decided
            existing = self.storage.get_snapshot()
            return (Complete(existing) if existing is not None else None), log_decided
        entries = self.storage.get_entries(from_idx, log_decided)
        cls = self._snapshot_class()
        assert cls is not None, "create_diff_snapshot needs entries that declare a snapshot class"
        return Delta(cls.create(entries)), log_decided

    def decided_snapshot(self, upto_idx: int, cls: Optional[type[Any]] = None) -> Any:
        """My stored snapshot merged with a snapshot of my entries [compacted_idx, upto_idx)."""
        existing = self.storage.get_snapshot()
        if upto_idx <= self.compacted_idx:
            return existing
        entries = self.storage.get_entries(self.compacted_idx, upto_idx)
        cls = cls or (type(existing) if existing is not None else common_snapshot_class(entries))
        if cls is None:
            raise SnapshotUnsupported(
                "these log entries cannot be snapshotted: their class declares no snapshot type. "
                "Decorate the entry class with @omnilab.entry(snapshot=...) or use trim() instead")
        return merged_snapshot(existing, cls.create(entries))

    def _snapshot_class(self) -> Optional[type[Any]]:
        # Rust knows at compile time whether the entry type uses snapshots; a Python log may hold any
        # objects, so I use snapshots only when my decided entries all declare the same snapshot class.
        existing = self.storage.get_snapshot()
        if existing is not None:
            return type(existing)
        return common_snapshot_class(self.storage.get_entries(self.compacted_idx, self.log_decided_idx()))

    def sync_log(self, accepted_round: Ballot, decided_idx: int, sync: Optional[LogSync]) -> int:
        """Make my log follow `sync` and accept in `accepted_round`; one atomic storage write.

        Where omnilab differs from the reference (see the README): my decided index never moves back
        (I keep ``max(old, new)``; the reference takes the leader's, which can be lower), and a Delta
        snapshot is merged onto my decided prefix as it was *before* this sync, which is exactly the
        prefix the sender assumed I have.

        Both rest on one premise: the sync answers the Promise I made for the log I have now. Then its
        sync point is not below what I decided (the leader's log holds every decided entry, and it
        starts the sync no lower than my promised decided index), so nothing I decided is cut. A sync
        that answers an *earlier* Promise of the same ballot, delivered late, breaks the premise; the
        follower refuses it before calling me when it ends before my log does (``is_stale_sync``), and
        the leader's own sync answers its own promise. One that reaches at least as far (possible when
        the leader answered a duplicated, older copy of my Promise) holds my own entries over my log,
        so nothing decided is cut; its Delta, though, starts at the older decided index, so the slots
        between that and mine are folded into my snapshot twice (harmless for a key-value snapshot,
        whose merge overwrites). Returns my new accepted index.
        """
        old_log_decided = self.log_decided_idx()
        new_decided = max(self.decided_idx, decided_idx)
        ops: list = [SetAcceptedRound(accepted_round), SetDecidedIndex(new_decided)]
        compacted, accepted, stopsign = self.compacted_idx, self.accepted_idx, self.stopsign
        if sync is not None:
            snap = sync.decided_snapshot
            if snap is not None:
                if isinstance(snap, Delta):
                    own = self.decided_snapshot(old_log_decided, cls=type(snap.snapshot))
                    snapshot = merged_snapshot(own, snap.snapshot)
                else:
                    snapshot = snap.snapshot
                ops += [Trim(sync.sync_idx), SetCompactedIdx(sync.sync_idx), SetSnapshot(snapshot)]
                compacted = sync.sync_idx
            ops.append(AppendOnPrefix(sync.sync_idx, tuple(sync.suffix)))
            accepted = sync.sync_idx + len(sync.suffix)
            if sync.stopsign is not None:
                ops.append(SetStopsign(sync.stopsign))
                accepted += 1
            elif self.stopsign is not None:
                ops.append(SetStopsign(None))  # a new leader removed my undecided StopSign
            stopsign = sync.stopsign
        self.storage.write_atomically(ops)
        self.accepted_round, self.decided_idx = accepted_round, new_decided
        self.compacted_idx, self.accepted_idx, self.stopsign = compacted, accepted, stopsign
        return accepted

    # --- compaction ----------------------------------------------------------------------------------

    def _compaction_target(self, idx: Optional[int]) -> int:
        if idx is None or idx == self.decided_idx:
            return self.log_decided_idx()  # compaction stops at the last real entry
        if idx > self.decided_idx:
            raise CompactionErr.UndecidedIndex(self.decided_idx)
        return idx

    def try_trim(self, idx: Optional[int]) -> None:
        """Forget entries below `idx` (a decided index); no snapshot is kept.

        A snapshot I stored earlier is dropped with them: it holds only the writes up to its own
        snapshot point, so kept as the snapshot of the longer prefix it would tell a lagging replica
        synced from it that the slots between that point and `idx` wrote nothing. (The reference
        keeps it; see the README.) The prefix then reads as trimmed, and a replica that decided less
        than it is synced with entries, never with a snapshot (`create_log_sync`)."""
        target = self._compaction_target(idx)
        if target > self.compacted_idx:
            ops = [Trim(target), SetCompactedIdx(target)]
            if self.storage.get_snapshot() is not None:
                ops.append(SetSnapshot(None))
            self.storage.write_atomically(ops)
            self.compacted_idx = target

    def try_snapshot(self, idx: Optional[int]) -> None:
        """Fold decided entries below `idx` (None: all decided) into the stored snapshot.

        Refused (``CompactionErr.TrimmedPrefix``) when my compacted prefix is trimmed: its writes are
        in no snapshot, so a snapshot of the slots after it would hold only those, yet read as the
        state of the whole prefix; shipped as a Complete snapshot to a replica that decided less, it
        would silently lose the trimmed writes there. (The reference folds the entries after the trim
        point into a snapshot and ships it as complete; see the README.)"""
        target = self._compaction_target(idx)
        if target > self.compacted_idx:
            if not self.prefix_is_snapshotted():
                raise CompactionErr.TrimmedPrefix(self.compacted_idx)
            snapshot = self.decided_snapshot(target)
            self.storage.write_atomically([Trim(target), SetCompactedIdx(target), SetSnapshot(snapshot)])
            self.compacted_idx = target

    # --- reading -------------------------------------------------------------------------------------

    def _classify(self, idx: int) -> Optional[str]:
        if idx < self.compacted_idx:
            return _COMPACTED
        if idx + 1 < self.accepted_idx:
            return _ENTRY
        if idx + 1 == self.accepted_idx:
            return _STOPSIGN if self.stopsign is not None else _ENTRY
        return None

    def compacted_entry(self) -> LogEntry:
        snapshot = self.storage.get_snapshot()
        if snapshot is not None:
            return Snapshotted(SnapshottedEntry(self.compacted_idx, snapshot))
        return Trimmed(self.compacted_idx)

    def _entries(self, from_idx: int, to_idx: int) -> list:
        entries = self.storage.get_entries(from_idx, to_idx)
        decided = self.decided_idx
        if to_idx <= decided:
            return list(map(Decided, entries))
        return [Decided(e) if from_idx + k < decided else Undecided(e) for k, e in enumerate(entries)]

    def _stopsign_entry(self) -> StopSignEntry:
        assert self.stopsign is not None  # only called for the _STOPSIGN slot, which needs one
        return StopSignEntry(self.stopsign, self.stopsign_is_decided())

    def read_entries(self, from_idx: int, to_idx: int) -> Optional[list]:
        """Slots [from_idx, to_idx) as `LogEntry` values, or None if the range leaves the log.

        A compacted prefix reads as one element, whatever the range's start inside it.
        """
        if self.compacted_idx <= from_idx < to_idx and (
                to_idx < self.accepted_idx or (to_idx == self.accepted_idx and self.stopsign is None)):
            # Entries only (no compacted prefix, no StopSign slot): the read a decided-suffix loop
            # makes after every decision, so it skips the classification below.
            return self._entries(from_idx, to_idx)
        if to_idx == 0:
            return None
        to_class = self._classify(to_idx - 1)
        if to_class is None:
            return None
        if to_class == _COMPACTED:
            return [self.compacted_entry()]
        from_class = self._classify(from_idx)
        if from_class is None:
            return None
        if from_class == _STOPSIGN:
            return [self._stopsign_entry()] if to_class == _STOPSIGN else []
        if from_class == _COMPACTED:
            head, start = [self.compacted_entry()], self.compacted_idx
        else:
            head, start = [], from_idx
        if to_class == _STOPSIGN:
            return head + self._entries(start, to_idx - 1) + [self._stopsign_entry()]
        return head + self._entries(start, to_idx)
