"""The reference suite's entry type and its log checks.

`Value(id)` is the entry every ported test appends; it uses snapshots (`ValueSnapshot`), so any
resync that ships a decided prefix ships it as a snapshot () and reads may start with a
``Snapshotted`` element. `ValueSnapshot` equality compares only ``latest_value``, as in Rust; the
checks below can additionally compare the snapshot's *contents* (``snapshotted``), which is how the
suite pins omnilab's divergence (see the README) (a resynced follower's snapshot holds its whole decided prefix).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from omnilab.replica.entries import LogEntry, StopSign, entry


class ValueSnapshot:
    """Snapshot of a run of `Value`s: the last one (``latest_value``) and all of them (``snapshotted``).

    ``create([])`` records ``Value(0)``. ``merge(delta)`` appends the delta's list and moves
    ``latest_value`` to the delta's last element (nothing happens for an empty delta). Equality
    compares only ``latest_value`` (the Rust suite relies on it).
    """

    def __init__(self, latest_value: "Value", snapshotted: Optional[list] = None) -> None:
        self.latest_value = latest_value
        self.snapshotted = list(snapshotted or [])

    @classmethod
    def create(cls, entries: Sequence["Value"]) -> "ValueSnapshot":
        entries = list(entries)
        return cls(entries[-1] if entries else Value(0), entries)

    def merge(self, delta: "ValueSnapshot") -> None:
        if delta.snapshotted:
            self.snapshotted.extend(delta.snapshotted)
            self.latest_value = delta.snapshotted[-1]

    @classmethod
    def use_snapshots(cls) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ValueSnapshot):
            return NotImplemented
        return self.latest_value == other.latest_value

    __hash__ = None  # mutable (merge folds in place)

    def __repr__(self) -> str:
        ids = [v.id for v in self.snapshotted]
        shown = ids if len(ids) <= 12 else ids[:5] + ["..."] + ids[-5:]
        return f"ValueSnapshot(latest={self.latest_value.id}, ids={shown}, len={len(ids)})"


@entry(snapshot=ValueSnapshot)
@dataclass(frozen=True)
class Value:
    """The suite's log entry: just an id (Rust ``Value { id: u64 }``)."""

    id: int

    def __repr__(self) -> str:
        return f"Value({self.id})"


def create_proposals(first: int, last: int) -> list[Value]:
    """``Value(first) .. Value(last)``, both ends included (Rust ``create_proposals(a, b)``)."""
    return [Value(i) for i in range(first, last + 1)]


# --- the reference's verification helpers --------------------------------------------------------

def verify_entries(read_entries: Sequence, exp_entries: Sequence, offset: int, decided_idx: int) -> None:
    """`read_entries` hold exactly `exp_entries`, Decided below `decided_idx` (absolute, the first one
    sitting at log index `offset`) and Undecided from there on."""
    read_entries, exp_entries = list(read_entries), list(exp_entries)
    assert len(read_entries) == len(exp_entries), (
        f"read {len(read_entries)} entries, expected {len(exp_entries)}: {read_entries[:5]}...")
    for i, (got, exp) in enumerate(zip(read_entries, exp_entries)):
        log_idx = i + offset
        if log_idx < decided_idx:
            assert got == LogEntry.Decided(exp), f"log idx {log_idx}: got {got!r}, expected Decided({exp!r})"
        else:
            assert got == LogEntry.Undecided(exp), f"log idx {log_idx}: got {got!r}, expected Undecided({exp!r})"


def verify_snapshot(read_entries: Sequence, exp_compacted_idx: int, exp_snapshot: ValueSnapshot, *,
                    contents: bool = True) -> None:
    """Exactly one ``Snapshotted`` element with that compacted index and an equal snapshot; with
    `contents`, its ``snapshotted`` list must also equal the expected one (omnilab's divergence (see the README))."""
    read_entries = list(read_entries)
    assert len(read_entries) == 1, f"expected one Snapshotted element, read {read_entries!r}"
    match read_entries[0]:
        case LogEntry.Snapshotted(se):
            assert se.trimmed_idx == exp_compacted_idx, (
                f"snapshot covers {se.trimmed_idx} slots, expected {exp_compacted_idx}")
            assert se.snapshot == exp_snapshot, f"snapshot {se.snapshot!r} != expected {exp_snapshot!r}"
            if contents:
                assert se.snapshot.snapshotted == exp_snapshot.snapshotted, (
                    f"snapshot contents {se.snapshot!r} differ from the decided prefix {exp_snapshot!r} "
                    "(omnilab's divergence, see the README: a resynced snapshot must hold the whole decided prefix)")
        case other:
            raise AssertionError(f"expected a Snapshotted element, read {other!r}")


def verify_log(read_log: Optional[Iterable], proposals: Sequence[Value], *, contents: bool = True) -> None:
    """The decided log `read_log` holds exactly `proposals`, in one of the forms the reference
    accepts: ``[Decided...]``, ``[Snapshotted]``, ``[Snapshotted, Decided...]``, or ``[]`` when
    nothing was proposed. Snapshots are compared by ``latest_value`` and compacted index, and (with
    `contents`, the default) by their full contents."""
    read_log = list(read_log or [])
    proposals = list(proposals)
    if not read_log:
        assert not proposals, f"read an empty log, expected {len(proposals)} entries"
        return
    match read_log[0]:
        case LogEntry.Decided(_):
            verify_entries(read_log, proposals, 0, len(proposals))
        case LogEntry.Snapshotted(se):
            k = se.trimmed_idx
            verify_snapshot(read_log[:1], k, ValueSnapshot.create(proposals[:k]), contents=contents)
            verify_entries(read_log[1:], proposals[k:], 0, len(proposals) - k)
        case other:
            raise AssertionError(f"unexpected first entry in a decided log: {other!r}")


def verify_stopsign(read_entries: Sequence, exp_stopsign: StopSign) -> None:
    """Exactly one element, a StopSign equal to `exp_stopsign` (decided or not)."""
    read_entries = list(read_entries)
    assert len(read_entries) == 1, f"expected exactly one StopSign element, read {read_entries!r}"
    match read_entries[0]:
        case LogEntry.StopSign(ss, _):
            assert ss == exp_stopsign, f"StopSign {ss!r} != expected {exp_stopsign!r}"
        case other:
            raise AssertionError(f"expected a StopSign, read {other!r}")


def _decided_set(log: Iterable) -> set:
    return {e.entry for e in log if isinstance(e, LogEntry.Decided)}


def check_quorum(nodes_logs: dict[int, list], quorum_size: int, proposals: Iterable[Value]) -> None:
    """Every proposal that is Decided anywhere is Decided on at least `quorum_size` nodes."""
    sets = {pid: _decided_set(log) for pid, log in nodes_logs.items()}
    for v in proposals:
        holders = [pid for pid, s in sets.items() if v in s]
        assert not holders or len(holders) >= quorum_size, (
            f"{v!r} is decided only on nodes {holders}, fewer than a quorum of {quorum_size}")


def check_validity(nodes_logs: dict[int, list], proposals: Iterable[Value]) -> None:
    """Only proposed values are Decided."""
    proposed = set(proposals)
    for pid, log in nodes_logs.items():
        bad = _decided_set(log) - proposed
        assert not bad, f"node {pid} decided values nobody proposed: {sorted(bad, key=lambda v: v.id)[:5]}"


def decided_slots(log: Iterable) -> list:
    """A decided log as one item per slot: the value, ``StopSign``, or None for a compacted slot
    whose value is unknown (Trimmed, or a snapshot without contents)."""
    slots: list = []
    for e in log:
        match e:
            case LogEntry.Decided(v):
                slots.append(v)
            case LogEntry.Snapshotted(se):
                known = list(getattr(se.snapshot, "snapshotted", []))
                slots.extend(known if len(known) == se.trimmed_idx else [None] * se.trimmed_idx)
            case LogEntry.Trimmed(idx):
                slots.extend([None] * idx)
            case LogEntry.StopSign(ss, True):
                slots.append(ss)
            case other:
                raise AssertionError(f"not a decided element: {other!r}")
    return slots


def check_consistent_log_prefixes(nodes_logs: dict[int, list]) -> None:
    """Every node's decided log is a prefix of the longest one (slot by slot; compacted slots whose
    value is unknown are skipped). This is UniformAgreement over the decided logs."""
    slots = {pid: decided_slots(log) for pid, log in nodes_logs.items()}
    longest_pid = max(slots, key=lambda p: len(slots[p]))
    longest = slots[longest_pid]
    for pid, s in slots.items():
        for i, v in enumerate(s):
            w = longest[i]
            assert v is None or w is None or v == w, (
                f"nodes {pid} and {longest_pid} decided different entries at idx {i}: {v!r} vs {w!r}")
