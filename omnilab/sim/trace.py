"""The trace: every operation a learner (or a fault campaign) performed and every event it caused.

Two kinds of small frozen dataclasses, told apart by grammar:

* **Operations** (present tense: `Put`, `Step`, `Crash`, ...) are the calls made on the cluster,
  recorded with their arguments as given (``Step(msg_id=None)`` means "the oldest"; ids and pids as
  plain ints, whatever integer type the caller passed, e.g. numpy's from ``pending().index``). They
  are the replayable part: ``Cluster.replay(trace)`` builds a new cluster from the first operation
  (`ClusterCreated`) and performs the others in order; ``op.call()`` is the Python call, so
  ``trace.script()`` is a program you can paste into a notebook.
* **Events** (past tense: `Sent`, `Delivered`, `EntryDecided`, `InstanceStarted`, ...) are what happened
  because of the operation just before them. Nothing is lost silently: a dropped message, a refused
  or discarded proposal, the volatile state a crash wiped, all appear here.

The same seed and the same calls give an equal trace, event for event, and the same text:
``call()``, ``script()`` and ``format()`` render values with `stable_repr`, which quotes strings
(so a pasted script rebuilds exactly the values recorded) and lists the elements of a set or
frozenset in sorted order instead of hash order, which changes from one Python process to the next.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Optional, SupportsIndex

from .copying import deep_copy

if TYPE_CHECKING:  # the network makes the Sent and Dropped events, so it imports this module
    from .network import Envelope


def stable_repr(value: Any) -> str:
    """``repr(value)``, except that sets and frozensets list their elements sorted by their own
    text, also inside lists, tuples, dicts and dataclasses with the generated repr."""
    kind = type(value)
    if kind in (set, frozenset):
        if not value:
            return "set()" if kind is set else "frozenset()"
        items = ", ".join(sorted(stable_repr(v) for v in value))
        return "{" + items + "}" if kind is set else "frozenset({" + items + "})"
    if kind is list:
        return "[" + ", ".join(stable_repr(v) for v in value) + "]"
    if kind is tuple:
        inner = ", ".join(stable_repr(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if kind is dict:
        return "{" + ", ".join(f"{stable_repr(k)}: {stable_repr(v)}" for k, v in value.items()) + "}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and _has_generated_repr(kind):
        shown = ", ".join(f"{f.name}={stable_repr(getattr(value, f.name))}" for f in fields(value) if f.repr)
        return f"{kind.__qualname__}({shown})"
    return repr(value)


def _has_generated_repr(kind: type) -> bool:
    # A dataclass's own __repr__ (repr=True, none written by hand) is compiled from a string.
    method = getattr(kind.__repr__, "__wrapped__", kind.__repr__)
    code = getattr(method, "__code__", None)
    # Called for dataclasses only, which `type` does not know to carry __dataclass_params__.
    return (code is not None and code.co_filename == "<string>"
            and kind.__dataclass_params__.repr)  # type: ignore[attr-defined]


class TraceItem:
    """Base of operations and events."""

    __slots__ = ()


# --- operations -----------------------------------------------------------------------------------

class Operation(TraceItem):
    """A call on the cluster. ``apply(cluster)`` performs it again; ``call()`` is its Python text."""

    __slots__ = ()
    method: str = ""

    def args(self) -> tuple[tuple, dict]:
        """Positional and keyword arguments of the call, defaults left out."""
        # Every concrete operation is a dataclass; this base class is not.
        values = [getattr(self, f.name) for f in fields(self)]  # type: ignore[arg-type]
        return tuple(values), {}

    def call(self, name: str = "cluster") -> str:
        args, kwargs = self.args()
        text = [stable_repr(a) for a in args] + [f"{k}={stable_repr(v)}" for k, v in kwargs.items()]
        return f"{name}.{self.method}({', '.join(text)})"

    def apply(self, cluster: Any) -> Any:
        """Perform this operation on `cluster` (through its public method)."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class ClusterCreated(Operation):
    """``Cluster(nodes, seed, variant, check_every_step, **server_config)``: always the first item.

    ``variant`` is the importable name of the variant the cluster runs (``omnilab.sim.variant``),
    None for the reference; ``variant_name`` is the name of a variant that cannot be imported back
    (defined in a notebook), which replay must be handed (None otherwise)."""

    nodes: tuple
    seed: int = 0
    server_config: tuple = ()  # (field, value) pairs passed through to ServerConfig
    check_every_step: bool = False
    variant: Optional[str] = None
    variant_name: Optional[str] = None

    def call(self, name: str = "cluster") -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.server_config)
        check = ", check_every_step=True" if self.check_every_step else ""
        variant = f", variant={self.variant!r}" if self.variant is not None else ""
        note = ""
        if self.variant_name is not None:
            variant = ", variant=VARIANT"
            note = f"  # VARIANT: the variant {self.variant_name!r} this trace ran (it cannot be imported)"
        return f"{name} = Cluster({list(self.nodes)!r}, seed={self.seed}{variant}{extra}{check}){note}"

    def apply(self, cluster: Any) -> Any:  # pragma: no cover - replay builds the cluster itself
        raise TypeError("ClusterCreated starts a trace; use Cluster.replay(trace)")


def _opt(**kwargs: Any) -> dict:
    return {k: v for k, v in kwargs.items() if v is not None and v is not False}


@dataclass(frozen=True, slots=True)
class Step(Operation):
    """Deliver one in-flight message (the oldest when ``msg_id`` is None)."""

    msg_id: Optional[int] = None
    method = "step"

    def args(self):
        return ((self.msg_id,) if self.msg_id is not None else ()), {}

    def apply(self, cluster):
        return cluster.step(self.msg_id)


@dataclass(frozen=True, slots=True)
class StepRandom(Operation):
    """Deliver one in-flight message chosen by the cluster's seeded random generator."""

    method = "step_random"

    def apply(self, cluster):
        return cluster.step_random()


@dataclass(frozen=True, slots=True)
class DeliverAll(Operation):
    """Deliver (oldest first) until nothing is in flight, or `limit` messages when given (a
    ``deliver_all()`` stopped by Ctrl-C is recorded with the deliveries it made)."""

    limit: Optional[int] = None
    method = "deliver_all"

    def args(self):
        return (), _opt(limit=self.limit)

    def apply(self, cluster):
        return cluster.deliver_all(limit=self.limit)


@dataclass(frozen=True, slots=True)
class Drop(Operation):
    """Lose one in-flight message."""

    msg_id: int
    method = "drop"

    def apply(self, cluster):
        return cluster.drop(self.msg_id)


@dataclass(frozen=True, slots=True)
class Duplicate(Operation):
    """Put a copy of one in-flight message on the wire (it gets a new id)."""

    msg_id: int
    method = "duplicate"

    def apply(self, cluster):
        return cluster.duplicate(self.msg_id)


@dataclass(frozen=True, slots=True)
class Tick(Operation):
    """Tick every live server `n` times, delivering nothing."""

    n: int = 1
    method = "tick"

    def args(self):
        return ((self.n,) if self.n != 1 else ()), {}

    def apply(self, cluster):
        return cluster.tick(self.n)


@dataclass(frozen=True, slots=True)
class Run(Operation):
    """``ticks`` times: tick every live server, then deliver to quiescence."""

    ticks: int = 1
    method = "run"

    def args(self):
        return (), {"ticks": self.ticks}

    def apply(self, cluster):
        return cluster.run(self.ticks)


@dataclass(frozen=True, slots=True)
class Crash(Operation):
    pid: int
    method = "crash"

    def apply(self, cluster):
        return cluster.crash(self.pid)


@dataclass(frozen=True, slots=True)
class Recover(Operation):
    pid: int
    method = "recover"

    def apply(self, cluster):
        return cluster.recover(self.pid)


@dataclass(frozen=True, slots=True)
class Cut(Operation):
    """Cut the link a <-> b (only a -> b when ``one_way``)."""

    a: int
    b: int
    one_way: bool = False
    method = "cut"

    def args(self):
        return (self.a, self.b), _opt(one_way=self.one_way)

    def apply(self, cluster):
        return cluster.cut(self.a, self.b, one_way=self.one_way)


@dataclass(frozen=True, slots=True)
class Partition(Operation):
    """Only links inside each group stay up."""

    groups: tuple
    method = "partition"

    def args(self):
        return tuple(list(g) for g in self.groups), {}

    def apply(self, cluster):
        return cluster.partition(*self.groups)


@dataclass(frozen=True, slots=True)
class Heal(Operation):
    """Bring every link back (or only a <-> b)."""

    a: Optional[int] = None
    b: Optional[int] = None
    method = "heal"

    def args(self):
        return ((self.a, self.b) if self.a is not None else ()), {}

    def apply(self, cluster):
        return cluster.heal(self.a, self.b)


@dataclass(frozen=True, slots=True)
class Put(Operation):
    key: Any
    value: Any
    at: Optional[int] = None
    method = "put"

    def args(self):
        return (self.key, self.value), _opt(at=self.at)

    def apply(self, cluster):
        return cluster.put(self.key, self.value, at=self.at)


@dataclass(frozen=True, slots=True)
class Append(Operation):
    entry: Any
    at: Optional[int] = None
    method = "append"

    def args(self):
        return (self.entry,), _opt(at=self.at)

    def apply(self, cluster):
        return cluster.append(self.entry, at=self.at)


@dataclass(frozen=True, slots=True)
class Get(Operation):
    key: Any
    at: Optional[int] = None
    method = "get"

    def args(self):
        return (self.key,), _opt(at=self.at)

    def apply(self, cluster):
        return cluster.get(self.key, at=self.at)


@dataclass(frozen=True, slots=True)
class Reconfigure(Operation):
    nodes: tuple
    at: Optional[int] = None
    metadata: Any = None
    method = "reconfigure"

    def args(self):
        return (list(self.nodes),), _opt(at=self.at, metadata=self.metadata)

    def apply(self, cluster):
        return cluster.reconfigure(list(self.nodes), at=self.at, metadata=self.metadata)


@dataclass(frozen=True, slots=True)
class SetPriority(Operation):
    """Set node pid's leader-election priority (``set_priority`` on its current instance)."""

    pid: int
    priority: int
    method = "set_priority"

    def apply(self, cluster):
        return cluster.set_priority(self.pid, self.priority)


@dataclass(frozen=True, slots=True)
class TryBecomeLeader(Operation):
    """Node pid starts a Prepare phase now (``try_become_leader`` on its current instance)."""

    pid: int
    method = "try_become_leader"

    def apply(self, cluster):
        return cluster.try_become_leader(self.pid)


@dataclass(frozen=True, slots=True)
class TrimLog(Operation):
    """``cluster.trim(idx, at)``: trim the decided log below ``idx`` (None: as far as every node
    accepted) at the leader, or at node ``at``; the replica tells its peers. (Not the replica's
    ``Trim`` message, which this call puts on the wire.)"""

    idx: Optional[int] = None
    at: Optional[int] = None
    method = "trim"

    def args(self):
        return ((self.idx,) if self.idx is not None else ()), _opt(at=self.at)

    def apply(self, cluster):
        return cluster.trim(self.idx, at=self.at)


@dataclass(frozen=True, slots=True)
class SnapshotLog(Operation):
    """``cluster.snapshot(idx, at, local_only)``: fold the decided log below ``idx`` (None: all of
    it) into a snapshot at the leader, or at node ``at``; unless ``local_only``, its peers do the
    same. (Not the replica's ``Snapshot`` message, which this call puts on the wire.)"""

    idx: Optional[int] = None
    at: Optional[int] = None
    local_only: bool = False
    method = "snapshot"

    def args(self):
        return ((self.idx,) if self.idx is not None else ()), _opt(at=self.at, local_only=self.local_only)

    def apply(self, cluster):
        return cluster.snapshot(self.idx, at=self.at, local_only=self.local_only)


# --- events ---------------------------------------------------------------------------------------

class Event(TraceItem):
    """Something that happened because of the operation before it."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Sent(Event):
    envelope: Envelope


@dataclass(frozen=True, slots=True)
class Delivered(Event):
    envelope: Envelope


@dataclass(frozen=True, slots=True)
class Dropped(Event):
    """A message lost: on a cut link at send time, by `drop`, or at a receiver that cannot take it."""

    envelope: Envelope
    reason: str


@dataclass(frozen=True, slots=True)
class Duplicated(Event):
    envelope: Envelope
    copy_id: int


@dataclass(frozen=True, slots=True)
class Ticked(Event):
    """One cluster tick: ``clock`` is the tick count, ``pids`` the servers that ticked."""

    clock: int
    pids: tuple


@dataclass(frozen=True, slots=True)
class Crashed(Event):
    """Server `pid` lost everything volatile: its instances (``config_ids``), its key-value state,
    and ``unsaved_proposals`` proposals it was buffering or batching."""

    pid: int
    config_ids: tuple
    unsaved_proposals: int


@dataclass(frozen=True, slots=True)
class Recovered(Event):
    """Server `pid` rebuilt its instances of ``config_ids`` from storage (they start in Recover)."""

    pid: int
    config_ids: tuple


@dataclass(frozen=True, slots=True)
class Proposed(Event):
    """``proposal`` (an entry, or the StopSign of a `reconfigure`) was handed to pid's instance."""

    pid: int
    config_id: int
    proposal: Any


@dataclass(frozen=True, slots=True)
class Refused(Event):
    """pid's instance refused ``proposal`` with a ``ProposeErr`` (re-raised to the caller)."""

    pid: int
    config_id: int
    proposal: Any
    error: str


@dataclass(frozen=True, slots=True)
class CompactionRefused(Event):
    """pid's instance refused a compaction ``request`` (the call, e.g. ``"trim(9)"``) with a
    ``CompactionErr`` (re-raised to the caller)."""

    pid: int
    config_id: int
    request: str
    error: str


@dataclass(frozen=True, slots=True)
class ProposalLost(Event):
    """pid's instance discarded a proposal it held (``take_dropped_proposals``: a new leader or a
    StopSign left it nowhere to go; the README's list of divergences says when)."""

    pid: int
    config_id: int
    proposal: Any


@dataclass(frozen=True, slots=True)
class EntryDecided(Event):
    """pid applied slot ``idx`` of configuration ``config_id``: an entry or a StopSign. (The
    replica's ``LogEntry.Decided`` is how a log reads a decided slot; this is the event of a server
    applying one.)"""

    pid: int
    config_id: int
    idx: int
    entry: Any


@dataclass(frozen=True, slots=True)
class SnapshotInstalled(Event):
    """pid's decided prefix ``[0, upto_idx)`` of ``config_id`` arrived as a snapshot (or a trim when
    ``trimmed``) instead of entries: its key-value state took the snapshot's writes on top of what it
    had applied (a trimmed prefix brings none, so the writes it had not applied are lost to it)."""

    pid: int
    config_id: int
    upto_idx: int
    trimmed: bool = False


@dataclass(frozen=True, slots=True)
class Responded(Event):
    """Client operation ``op_id`` completed: its entry is decided at slot ``idx`` of ``config_id``."""

    op_id: int
    config_id: int
    idx: int


@dataclass(frozen=True, slots=True)
class ReadDone(Event):
    """A `get` at pid read ``value`` after ``applied`` slots of configuration ``config_id``."""

    op_id: int
    pid: int
    key: Any
    value: Any
    config_id: int
    applied: int


@dataclass(frozen=True, slots=True)
class ServerCreated(Event):
    """A new server joins for configuration ``config_id``; it waits for its state transfer."""

    pid: int
    config_id: int


@dataclass(frozen=True, slots=True)
class InstanceStarted(Event):
    """pid started its OmniPaxos instance of ``config_id`` with ``nodes``."""

    pid: int
    config_id: int
    nodes: tuple


@dataclass(frozen=True, slots=True)
class StateInstalled(Event):
    """New server pid took the state up to the StopSign of ``from_config_id`` from ``sender``."""

    pid: int
    from_config_id: int
    sender: int
    keys: int


@dataclass(frozen=True, slots=True)
class Retired(Event):
    """pid decided the StopSign of ``config_id`` and is not in the next configuration: it takes no
    more client requests (its old instance keeps answering peers that lag behind)."""

    pid: int
    config_id: int


# --- the trace ------------------------------------------------------------------------------------

class Trace(list):
    """The list of operations and events, oldest first. ``operations()`` is the replayable part.

    A trace only grows at the end (``append``), so what is read from its first items stays true:
    `operation_positions` and the views (the space-time diagram's lanes, `derived`) keep what they
    computed and read only the items appended since. Any other change (assigning an item, deleting,
    inserting) drops what was kept."""

    def derived(self) -> dict:
        """Data computed from a prefix of this trace, by name (e.g. ``"spacetime"``), each valid as
        long as the trace only grows. Copied with the trace (`Cluster.fork`); dropped by any change
        other than appending."""
        kept = self.__dict__.get("_derived")
        if kept is None:
            kept = self.__dict__["_derived"] = {}
        return kept

    def operation_positions(self) -> list[int]:
        """The positions of the operations, oldest first. Each call reads only the items appended
        since the last one (do not change the list returned)."""
        kept = self.derived()
        index = kept.get("operations")
        if index is None or index[0] > len(self):
            index = kept["operations"] = [0, []]
        scanned, positions = index
        if scanned < len(self):
            for pos in range(scanned, len(self)):
                if isinstance(self[pos], Operation):
                    positions.append(pos)
            index[0] = len(self)
        return positions

    def operations(self) -> list[Operation]:
        return [self[pos] for pos in self.operation_positions()]

    def keep_derived_from(self, other: "Trace", upto: int) -> None:
        """`other` and this trace hold the same first `upto` items (a cluster rebuilt from a prefix
        of `other`): take over what `other` derived from no more than those (its derived values with
        a ``pos`` attribute <= `upto`, copied, or cut to `upto` by their ``truncated(upto)``), unless this
        trace derived the same already."""
        kept = other.__dict__.get("_derived") if isinstance(other, Trace) else None
        if not kept:
            return
        mine = self.derived()
        for name, value in kept.items():
            pos = getattr(value, "pos", None)
            if isinstance(pos, int) and pos > upto and hasattr(value, "truncated"):
                value, pos = value.truncated(upto), upto  # derived item by item: its first `upto` still hold
            if isinstance(pos, int) and pos <= upto and pos > getattr(mine.get(name), "pos", -1):
                mine[name] = deep_copy(value, {})

    def _changed(self) -> None:
        self.__dict__.pop("_derived", None)

    def __setitem__(self, index, value):
        self._changed()
        super().__setitem__(index, value)

    def __delitem__(self, index):
        self._changed()
        super().__delitem__(index)

    def insert(self, index, value):
        self._changed()
        super().insert(index, value)

    def pop(self, index=-1):
        self._changed()
        return super().pop(index)

    def remove(self, value):
        self._changed()
        super().remove(value)

    def clear(self):
        self._changed()
        super().clear()

    def sort(self, *args, **kwargs):
        self._changed()
        super().sort(*args, **kwargs)

    def reverse(self):
        self._changed()
        super().reverse()

    def __imul__(self, n: SupportsIndex) -> Trace:
        self._changed()
        return super().__imul__(n)

    def events(self) -> list[Event]:
        return [item for item in self if isinstance(item, Event)]

    def script(self, name: str = "cluster") -> str:
        """The operations as Python calls: paste them into a notebook to rebuild this cluster."""
        return "\n".join(op.call(name) for op in self.operations())

    def format(self, limit: Optional[int] = None) -> str:
        """One line per item (operations flush left, events indented); the last `limit` items."""
        start = 0 if limit is None or len(self) <= limit else len(self) - limit
        lines = [f"... {start} earlier items (trace.format() shows all)"] if start else []
        for pos in range(start, len(self)):
            item = self[pos]
            if isinstance(item, Operation):
                lines.append(f"{pos:>5}  {item.call()}")
            else:
                lines.append(f"{pos:>5}      {stable_repr(item)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Trace: {len(self)} items, {len(self.operation_positions())} operations>\n" + self.format(limit=60)

    def __deepcopy__(self, memo: dict) -> "Trace":
        # Operations and events are immutable: a copy of the trace (e.g. in `Cluster.fork`) is a new
        # list holding the same items, and what was derived from them holds for the copy too.
        clone = Trace(self)
        kept = self.__dict__.get("_derived")
        if kept:
            clone.__dict__["_derived"] = deep_copy(kept, {})  # sharing the (immutable) envelopes
        return clone

    def __getitem__(self, index):
        got = super().__getitem__(index)
        return Trace(got) if isinstance(index, slice) else got


OPERATION_TYPES = (ClusterCreated, Step, StepRandom, DeliverAll, Drop, Duplicate, Tick, Run, Crash, Recover,
                   Cut, Partition, Heal, Put, Append, Get, Reconfigure, SetPriority, TryBecomeLeader, TrimLog,
                   SnapshotLog)
EVENT_TYPES = (Sent, Delivered, Dropped, Duplicated, Ticked, Crashed, Recovered, Proposed, Refused,
               CompactionRefused, ProposalLost, EntryDecided, SnapshotInstalled, Responded, ReadDone, ServerCreated,
               InstanceStarted, StateInstalled, Retired)
