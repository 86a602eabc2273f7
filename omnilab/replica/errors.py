"""Typed errors. Each one hands back what was refused and says what to do instead.

`ConfigError` is about a configuration that can never work; `ProposeErr` is a proposal the replica
refused (the entry or configuration comes back to the caller); `CompactionErr` is a trim or snapshot
that cannot happen yet. They mirror the Rust enums: ``ProposeErr.PendingReconfigEntry`` is a subclass
of ``ProposeErr`` carrying ``.entry``, and so on.

Two more families are omnilab's own, because Python cannot rule out by type what Rust does:
`InvalidArgument` is caller misuse (``trim(-1)``), `MessageErr` is peer misbehaviour (a message for
another pid, of another configuration, or malformed); both leave the replica unchanged.
`StorageError` is a storage file that cannot be used or trusted, naming the path.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ConfigError(Exception):
    """A configuration failed validation. ``ConfigError.InvalidConfig`` carries ``.msg`` (the broken
    rule, worded as in OmniPaxos), ``.hint`` (what to do) and ``.field`` (the field at fault, e.g.
    ``"batch_size"``, or ``""``). ``ConfigError.ReadFile`` and ``ConfigError.Parse`` come from
    `OmniPaxosConfig.with_toml` and name the file."""

    # The variants, attached below their definitions (``ConfigError.Name``):
    InvalidConfig: ClassVar[type[_InvalidConfig]]
    ReadFile: ClassVar[type[ConfigError]]
    Parse: ClassVar[type[ConfigError]]


class _InvalidConfig(ConfigError):
    def __init__(self, msg: str, hint: str = "", field: str = "") -> None:
        self.msg = msg
        self.hint = hint
        self.field = field
        super().__init__(f"Invalid config: {msg}" + (f". {hint}" if hint else ""))


ConfigError.InvalidConfig = _InvalidConfig
_InvalidConfig.__name__ = _InvalidConfig.__qualname__ = "ConfigError.InvalidConfig"


class ProposeErr(Exception):
    """A proposal (`append` or `reconfigure`) was refused; the refused value is an attribute."""

    # The variants, attached below their definitions (``ProposeErr.Name``):
    PendingReconfigEntry: ClassVar[type[_PendingReconfigEntry]]
    PendingReconfigConfig: ClassVar[type[_PendingReconfigConfig]]
    ConfigError: ClassVar[type[_ProposeConfigError]]


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
_cls: type  # the loops below name each variant class as it is written, ``Base.Variant``
_name: str
for _cls, _name in ((_PendingReconfigEntry, "PendingReconfigEntry"),
                    (_PendingReconfigConfig, "PendingReconfigConfig"),
                    (_ProposeConfigError, "ConfigError")):
    _cls.__name__ = _cls.__qualname__ = f"ProposeErr.{_name}"


class CompactionErr(Exception):
    """A trim or snapshot request that cannot be carried out (yet). A request at or below the index
    already compacted is not an error: it does nothing (OmniPaxos declares a ``TrimmedIndex`` error
    for it but never returns it, so omnilab has none)."""

    # The variants, attached below their definitions (``CompactionErr.Name``):
    NotCurrentLeader: ClassVar[type[_NotCurrentLeader]]
    NotAllDecided: ClassVar[type[_NotAllDecided]]
    UndecidedIndex: ClassVar[type[_UndecidedIndex]]
    TrimmedPrefix: ClassVar[type[_TrimmedPrefix]]


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


class _TrimmedPrefix(CompactionErr):
    def __init__(self, idx: int) -> None:
        self.idx = idx
        super().__init__(
            f"snapshot refused: this log is trimmed up to idx {idx}, and no snapshot holds the trimmed "
            f"writes, so a snapshot of it could not hold them either (omnilab divergence, see the README). "
            f"Use trim() to compact further")


CompactionErr.NotCurrentLeader = _NotCurrentLeader
CompactionErr.NotAllDecided = _NotAllDecided
CompactionErr.UndecidedIndex = _UndecidedIndex
CompactionErr.TrimmedPrefix = _TrimmedPrefix
for _cls, _name in ((_NotCurrentLeader, "NotCurrentLeader"), (_NotAllDecided, "NotAllDecided"),
                    (_UndecidedIndex, "UndecidedIndex"), (_TrimmedPrefix, "TrimmedPrefix")):
    _cls.__name__ = _cls.__qualname__ = f"CompactionErr.{_name}"


class SnapshotUnsupported(TypeError):
    """`snapshot()` was asked of a log whose entries have no snapshot class."""


class StorageError(Exception):
    """A storage file that cannot be used as asked, or cannot be trusted. ``.path`` names the file.

    The replica must never run on a storage it cannot trust: a replica that forgets its promise or
    an accepted entry can break the agreement the other replicas rely on. So `PersistentStorage`
    refuses a damaged file instead of treating it as fresh. The subclasses say why:

    - ``StorageError.Corrupt``: the file is damaged, truncated, has a hole in its log, a bad header,
      or was not written by `PersistentStorage`. Restore it from a backup or, if this replica never
      promised anything, delete it.
    - ``StorageError.InUse``: another `PersistentStorage` (in this process or another) has it open.
    - ``StorageError.ReadOnly``: the file or its folder cannot be written.
    - ``StorageError.BadPath``: the path itself cannot name a storage file (empty, a folder, ...).
    """

    # The variants, attached below their definitions (``StorageError.Name``):
    Corrupt: ClassVar[type[_StorageCorrupt]]
    InUse: ClassVar[type[_StorageInUse]]
    ReadOnly: ClassVar[type[_StorageReadOnly]]
    BadPath: ClassVar[type[_StorageBadPath]]

    def __init__(self, path: str, problem: str, advice: str = "") -> None:
        self.path = path
        self.problem = problem
        self.advice = advice
        super().__init__(f"storage file {path!r}: {problem}" + (f". {advice}" if advice else ""))


class _StorageCorrupt(StorageError):
    pass


class _StorageInUse(StorageError):
    pass


class _StorageReadOnly(StorageError):
    pass


class _StorageBadPath(StorageError, ValueError):
    pass


StorageError.Corrupt = _StorageCorrupt
StorageError.InUse = _StorageInUse
StorageError.ReadOnly = _StorageReadOnly
StorageError.BadPath = _StorageBadPath
for _cls, _name in ((_StorageCorrupt, "Corrupt"), (_StorageInUse, "InUse"), (_StorageReadOnly, "ReadOnly"),
                    (_StorageBadPath, "BadPath")):
    _cls.__name__ = _cls.__qualname__ = f"StorageError.{_name}"


# --- caller misuse and peer misbehaviour ------------------------------------------------------------

class InvalidArgument(TypeError, ValueError):
    """Caller misuse: an argument no replica could accept, such as a negative or non-integer log
    index (``trim(-1)``, ``snapshot(2.5)``) or a pid outside the configuration. Nothing was changed
    and nothing was sent. ``.argument`` names the parameter, ``.value`` is what was refused.

    It is both a ``TypeError`` and a ``ValueError``, so code catching either of Python's usual
    errors for a bad argument catches it too.
    """

    def __init__(self, call: str, argument: str, value: Any, rule: str) -> None:
        self.call = call
        self.argument = argument
        self.value = value
        super().__init__(f"{call}: {argument} must be {rule}, not {value!r}")


class MessageErr(Exception):
    """Peer misbehaviour (or a misrouting network): `handle_incoming` got a message this replica must
    not act on. The replica is unchanged; drop the message. ``.message`` is the refused envelope and
    ``.reason`` says why. A well-behaved network never delivers such a message; the subclasses say
    which rule it broke:

    - ``MessageErr.NotForMe``: addressed to another pid.
    - ``MessageErr.UnknownSender``: from a pid outside my configuration (or from myself).
    - ``MessageErr.OtherConfiguration``: it carries a ballot of another configuration (messages of
      one configuration must reach that configuration's instance).
    - ``MessageErr.Malformed``: not a protocol message, or a field of the wrong type or sign
      (``HeartbeatReply(ballot=None)``, a negative index).
    """

    # The variants, attached below their definitions (``MessageErr.Name``):
    NotForMe: ClassVar[type[_NotForMe]]
    UnknownSender: ClassVar[type[_UnknownSender]]
    OtherConfiguration: ClassVar[type[_OtherConfiguration]]
    Malformed: ClassVar[type[_Malformed]]

    def __init__(self, pid: int, message: Any, reason: str) -> None:
        self.pid = pid
        self.message = message
        self.reason = reason
        super().__init__(f"node {pid} refused {message!r}: {reason}. The message was dropped; nothing changed")


class _NotForMe(MessageErr):
    pass


class _UnknownSender(MessageErr):
    pass


class _OtherConfiguration(MessageErr):
    pass


class _Malformed(MessageErr):
    pass


MessageErr.NotForMe = _NotForMe
MessageErr.UnknownSender = _UnknownSender
MessageErr.OtherConfiguration = _OtherConfiguration
MessageErr.Malformed = _Malformed
for _cls, _name in ((_NotForMe, "NotForMe"), (_UnknownSender, "UnknownSender"),
                    (_OtherConfiguration, "OtherConfiguration"), (_Malformed, "Malformed")):
    _cls.__name__ = _cls.__qualname__ = f"MessageErr.{_name}"
