"""Typed errors. Each one hands back what was refused and says what to do instead.

`ConfigError` is about a configuration that can never work; `ProposeErr` is a proposal the replica
refused (the entry or configuration comes back to the caller); `CompactionErr` is a trim or snapshot
that cannot happen yet. They mirror the Rust enums: ``ProposeErr.PendingReconfigEntry`` is a subclass
of ``ProposeErr`` carrying ``.entry``, and so on.
"""

from __future__ import annotations

from typing import Any


class ConfigError(Exception):
    """A configuration failed validation. ``ConfigError.InvalidConfig`` carries ``.msg``."""


class _InvalidConfig(ConfigError):
    def __init__(self, msg: str, hint: str = "") -> None:
        self.msg = msg
        self.hint = hint
        super().__init__(f"Invalid config: {msg}" + (f". {hint}" if hint else ""))


ConfigError.InvalidConfig = _InvalidConfig
_InvalidConfig.__name__ = _InvalidConfig.__qualname__ = "ConfigError.InvalidConfig"


class ProposeErr(Exception):
    """A proposal (`append` or `reconfigure`) was refused; the refused value is an attribute."""


class _PendingReconfigEntry(ProposeErr):
    def __init__(self, entry: Any) -> None:
        self.entry = entry
        super().__init__(
            f"append({entry!r}) refused: this replica holds a StopSign, so its configuration is "
            "sealed and no entry can follow it. Append to the next configuration's instance once "
            "it has started (or wait: an undecided StopSign may still be replaced by a new leader).")


class _PendingReconfigConfig(ProposeErr):
    def __init__(self, config: Any, metadata: Any = None) -> None:
        self.config = config
        self.metadata = metadata
        super().__init__(
            f"reconfigure({config!r}) refused: a StopSign is already stored in this replica's log. "
            "Wait until it is decided and reconfigure again from the next configuration.")


class _ProposeConfigError(ProposeErr):
    def __init__(self, error: ConfigError, config: Any, metadata: Any = None) -> None:
        self.error = error
        self.config = config
        self.metadata = metadata
        super().__init__(f"reconfigure refused: {error}")


ProposeErr.PendingReconfigEntry = _PendingReconfigEntry
ProposeErr.PendingReconfigConfig = _PendingReconfigConfig
ProposeErr.ConfigError = _ProposeConfigError
for _cls, _name in ((_PendingReconfigEntry, "PendingReconfigEntry"),
                    (_PendingReconfigConfig, "PendingReconfigConfig"),
                    (_ProposeConfigError, "ConfigError")):
    _cls.__name__ = _cls.__qualname__ = f"ProposeErr.{_name}"


class CompactionErr(Exception):
    """A trim or snapshot request that cannot be carried out (yet). A request at or below the index
    already compacted is not an error: it does nothing (OmniPaxos declares a ``TrimmedIndex`` error
    for it but never returns it, so omnilab has none)."""


class _NotCurrentLeader(CompactionErr):
    def __init__(self, pid: int) -> None:
        self.pid = pid
        who = f"node {pid}" if pid else "no leader is known yet"
        super().__init__(f"trim refused: only the leader can trim; ask the leader ({who}) instead")


class _NotAllDecided(CompactionErr):
    def __init__(self, idx: int) -> None:
        self.idx = idx
        super().__init__(
            f"trim refused: not every node has accepted that far; the highest index all have "
            f"accepted is {idx}. Trim at most up to {idx}, or wait for the lagging nodes")


class _UndecidedIndex(CompactionErr):
    def __init__(self, idx: int) -> None:
        self.idx = idx
        super().__init__(
            f"compaction refused: the index is not decided here yet (decided_idx is {idx}). "
            f"Use an index <= {idx}, or wait until more is decided")


CompactionErr.NotCurrentLeader = _NotCurrentLeader
CompactionErr.NotAllDecided = _NotAllDecided
CompactionErr.UndecidedIndex = _UndecidedIndex
for _cls, _name in ((_NotCurrentLeader, "NotCurrentLeader"), (_NotAllDecided, "NotAllDecided"),
                    (_UndecidedIndex, "UndecidedIndex")):
    _cls.__name__ = _cls.__qualname__ = f"CompactionErr.{_name}"


class SnapshotUnsupported(TypeError):
    """`snapshot()` was asked of a log whose entries have no snapshot class."""
