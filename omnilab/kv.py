"""The key-value example used throughout the OmniPaxos documentation and this course.

`KeyValue` is the log entry (a write of ``value`` to ``key``); it opts into snapshots with
``@entry(snapshot=KVSnapshot)``, so compaction folds a run of writes into one `KVSnapshot` (the last
value of each key). `KVStore` is the state machine: it applies decided entries in log order and
exposes its contents as a read-only mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from omnilab.replica.entries import entry


@dataclass
class KVSnapshot:
    """The last value written to each key by a run of `KeyValue` entries."""

    snapshotted: dict = field(default_factory=dict)

    @classmethod
    def create(cls, entries: Iterable["KeyValue"]) -> "KVSnapshot":
        """A snapshot of `entries` in log order (later writes win)."""
        snapshotted: dict = {}
        for kv in entries:
            snapshotted[kv.key] = kv.value
        return cls(snapshotted)

    def merge(self, delta: "KVSnapshot") -> None:
        """Fold a later snapshot into this one, in place (its writes win)."""
        self.snapshotted.update(delta.snapshotted)

    @classmethod
    def use_snapshots(cls) -> bool:
        return True


@entry(snapshot=KVSnapshot)
@dataclass(frozen=True)
class KeyValue:
    """A write of `value` to `key`: the log entry of the key-value store."""

    key: str
    value: Any

    def __str__(self) -> str:
        return f"{self.key}={self.value!r}"


class KVStore:
    """The key-value state machine fed by decided log entries.

    `apply` takes one decided slot's content: a `KeyValue` is written; anything else (entries of other
    classes) is counted in ``applied`` but changes no key. `apply_snapshot` installs a `KVSnapshot`
    (a compacted prefix). ``data`` is a read-only view of the current contents.
    """

    def __init__(self) -> None:
        self._data: dict = {}
        self.applied = 0

    @property
    def data(self) -> Mapping[str, Any]:
        """The current contents, read-only."""
        return MappingProxyType(self._data)

    def apply(self, value: Any) -> None:
        if isinstance(value, KeyValue):
            self._data[value.key] = value.value
        self.applied += 1

    def apply_snapshot(self, snapshot: KVSnapshot) -> None:
        self._data.update(snapshot.snapshotted)

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"KVStore({self._data!r})"
