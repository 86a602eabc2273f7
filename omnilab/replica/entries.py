"""What a log holds and how it is read back.

Entries are any Python objects. A class opts into snapshots the way the Rust ``#[derive(Entry)]
#[snapshot(KVSnapshot)]`` does, with ``@omnilab.entry(snapshot=KVSnapshot)``. A snapshot class
has ``create(entries)`` (a classmethod building a snapshot of a run of entries) and
``merge(self, delta)`` (fold a later snapshot into this one, in place). Entries of other classes
never use snapshots: compaction can only trim them.

Reads return `LogEntry` variants, frozen dataclasses that work in ``match``::

    match log_entry:
        case LogEntry.Decided(entry): ...
        case LogEntry.StopSign(stopsign, True): ...
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Optional

from .config import ClusterConfig

_SNAPSHOT_ATTR = "__omnilab_snapshot__"


def entry(cls: type | None = None, *, snapshot: type | None = None):
    """Class decorator: declare the snapshot class of an entry class.

    ``@entry(snapshot=KVSnapshot)`` makes the replica compact logs of this class into KVSnapshots and
    ship a snapshot instead of a long decided prefix when it synchronises a lagging node.
    ``@entry`` (or ``@entry(snapshot=None)``) declares an entry without snapshots.
    """

    def mark(klass: type) -> type:
        if snapshot is not None:
            for needed in ("create", "merge"):
                if not callable(getattr(snapshot, needed, None)):
                    raise TypeError(
                        f"{snapshot.__name__} cannot be a snapshot class: it has no {needed}(); "
                        "give it a classmethod create(entries) and a method merge(self, delta)")
        setattr(klass, _SNAPSHOT_ATTR, snapshot)
        return klass

    return mark(cls) if cls is not None else mark


def snapshot_class_of(value: Any) -> Optional[type]:
    """The snapshot class an entry declared with `entry`, or None."""
    return getattr(type(value), _SNAPSHOT_ATTR, None)


def common_snapshot_class(entries: Iterable[Any]) -> Optional[type[Any]]:
    """The snapshot class shared by all `entries`, or None if any entry has none or they differ.

    The Rust library knows at compile time whether the entry type uses snapshots; a Python log may
    mix classes, so the replica decides per run of entries: only a run whose entries all declare the
    same snapshot class can be snapshotted.
    """
    found: Optional[type] = None
    for e in entries:
        cls = snapshot_class_of(e)
        if cls is None or (found is not None and cls is not found):
            return None
        found = cls
    return found


def merged_snapshot(base: Any, delta: Any) -> Any:
    """``base.merge(delta)`` on a private copy of `base`, which stays untouched.

    Snapshots live in storage and travel in messages that may be delivered twice or to several
    replicas; Rust clones before merging, so do we.
    """
    if base is None:
        return delta
    merged = copy.deepcopy(base)
    merged.merge(delta)
    return merged


class NoSnapshot:
    """The placeholder snapshot type of entries that do not use snapshots."""

    @classmethod
    def use_snapshots(cls) -> bool:
        return False

    @classmethod
    def create(cls, entries):  # pragma: no cover - defensive
        raise TypeError("NoSnapshot cannot create snapshots; declare @entry(snapshot=...) on the entry class")

    def merge(self, delta):  # pragma: no cover - defensive
        raise TypeError("NoSnapshot cannot merge snapshots")


@dataclass(frozen=True)
class StopSign:
    """The last entry of a configuration: it names the next one (``next_config``).

    ``metadata`` is optional application data (bytes in Rust; any value here). Equality compares
    both fields.
    """

    next_config: ClusterConfig
    metadata: Any = None

    def __hash__(self) -> int:
        return hash((self.next_config, repr(self.metadata)))


@dataclass(frozen=True)
class SnapshottedEntry:
    """A compacted prefix read back as one snapshot: ``trimmed_idx`` slots folded into ``snapshot``."""

    trimmed_idx: int
    snapshot: Any


class LogEntry:
    """A slot read from the log: one of the five variants below (use ``match`` or ``isinstance``)."""

    # The variants, attached below their definitions (``LogEntry.Name``):
    Decided: ClassVar[type[Decided]]
    Undecided: ClassVar[type[Undecided]]
    Trimmed: ClassVar[type[Trimmed]]
    Snapshotted: ClassVar[type[Snapshotted]]
    StopSign: ClassVar[type[StopSignEntry]]

    __slots__ = ()


@dataclass(frozen=True)
class Decided(LogEntry):
    """An entry that is decided: it will never change."""

    entry: Any


@dataclass(frozen=True)
class Undecided(LogEntry):
    """An entry accepted by this replica but not (yet) known to be decided."""

    entry: Any


@dataclass(frozen=True)
class Trimmed(LogEntry):
    """The first ``trimmed_idx`` slots were trimmed away (no snapshot kept)."""

    trimmed_idx: int


@dataclass(frozen=True)
class Snapshotted(LogEntry):
    """The compacted prefix, kept as a snapshot (`SnapshottedEntry`)."""

    snapshotted_entry: SnapshottedEntry


@dataclass(frozen=True)
class StopSignEntry(LogEntry):
    """The StopSign slot; ``decided`` tells whether it is decided here."""

    stopsign: StopSign
    decided: bool


LogEntry.Decided = Decided
LogEntry.Undecided = Undecided
LogEntry.Trimmed = Trimmed
LogEntry.Snapshotted = Snapshotted
LogEntry.StopSign = StopSignEntry
for _cls, _name in ((Decided, "Decided"), (Undecided, "Undecided"), (Trimmed, "Trimmed"),
                    (Snapshotted, "Snapshotted"), (StopSignEntry, "StopSign")):
    _cls.__qualname__ = f"LogEntry.{_name}"
