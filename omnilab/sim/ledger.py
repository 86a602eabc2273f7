"""What the cluster has observed so far, kept for the invariant checkers and the views.

The `Ledger` is fed by the cluster as events happen (a proposal, a slot decided at a server, an
instance started, a client operation invoked or answered, a replica's indexes and promise after each
call). It keeps evidence: what each node showed decided at each index (the first value, kept for
ever, across crashes and compaction), a node that later showed another value there, the highest
promise each replica showed, the first moment a replica's local state was ill-formed, the leaders
of each ballot, each read with what the history held when it read, each start of a configuration
with what was known then of the one before. What can only be seen at the moment it happens is noted
then, as what it is (a node showing a slot with a second value, a decided value nobody had proposed,
a decision past a decided StopSign): a sighting, with its trace position. The rules over all of it,
and the reasons they give, are the functions of `omnilab.sim.invariants`; the ledger judges nothing
and holds no verdict.

Positions: a slot is ``(config_id, idx)``; tuples order slots of an older configuration before
every slot of a newer one, which is the order in which a server applies them. Time is the trace
position (``len(cluster.trace)`` when something happened).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Any, Callable, Iterator, NamedTuple, Optional

from omnilab.kv import KeyValue
from omnilab.replica.entries import StopSign

#: A slot that a node holds only inside a compacted prefix (trimmed or snapshotted): value unknown.
COMPACTED = type("Compacted", (), {"__repr__": lambda self: "COMPACTED"})()


@dataclass(frozen=True)
class Verdict:
    """The result of one invariant: ``ok``, its ``name``, and a ``message`` naming nodes and indexes.

    Truthy when ok, so ``all(cluster.check())`` reads naturally.
    """

    ok: bool
    name: str
    message: str = ""

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        mark = "ok" if self.ok else "VIOLATED"
        return f"Verdict({self.name}: {mark}{'' if self.ok else ' - ' + self.message})"


@dataclass
class ClientOp:
    """One client call in the history: a write (``put`` / ``append``) or a ``get``.

    A write is *invoked* when the cluster hands it to a replica and *completed* when its entry is
    first decided anywhere (``position`` is that slot). A refused write (``refused`` holds the error)
    never takes effect. A ``get`` is a local read: it completes at once, with the ``result`` read
    after ``observed`` = (config_id, applied slots) at server ``at``.
    """

    op_id: int
    kind: str
    at: int
    key: Any
    proposal: Any
    invoked: int
    completed: Optional[int] = None
    position: Optional[tuple] = None
    refused: Optional[str] = None
    result: Any = None
    observed: Optional[tuple] = None

    @property
    def status(self) -> str:
        if self.refused is not None:
            return "refused"
        return "pending" if self.completed is None else "done"

    def describe(self) -> str:
        if self.kind == "get":
            return f"get({self.key!r}) at node {self.at} -> {self.result!r}"
        if self.kind == "put":
            return f"put({self.key!r}, {getattr(self.proposal, 'value', None)!r}) at node {self.at}"
        return f"append({self.proposal!r}) at node {self.at}"

    def __repr__(self) -> str:
        where = f" @ c{self.position[0]} idx {self.position[1]}" if self.position else ""
        return f"<op {self.op_id}: {self.describe()}, {self.status}{where}>"


class Sighting(NamedTuple):
    """Node `pid` showed `value` decided at slot `idx` of `config_id`, at trace position `at`."""

    pid: int
    config_id: int
    idx: int
    value: Any
    at: int


class Clash(NamedTuple):
    """Node `pid` showed `value` decided at a slot where node `first_pid` had shown `first`."""

    config_id: int
    idx: int
    first: Any
    first_pid: int
    value: Any
    pid: int
    at: int


class PastStopSign(NamedTuple):
    """Node `pid` decided (`idx` not None: up to idx `idx`) or accepted a new entry (`idx` None) in
    `config_id` after the StopSign decided there at `stopsign_idx`."""

    pid: int
    config_id: int
    idx: Optional[int]
    stopsign_idx: int
    at: int


class Read(NamedTuple):
    """A get, with what the history held when it read: the completed put to its key with the latest
    position (None if none), and the last write to its key in the slots the node had applied
    (`Ledger._last_write`: ``(value, idx)``, or None when some slot there was never seen)."""

    op: "ClientOp"
    latest_put: Optional["ClientOp"]
    written: Optional[tuple[Any, Optional[int]]]


class Transition(NamedTuple):
    """A node started a configuration after an earlier one: the start, and what the ledger knew
    then of the earlier configuration: where its StopSign was decided (None: not yet) and the state
    its decided slots give up to there (None: a slot there was never seen)."""

    start: "InstanceStart"
    stopsign_idx: Optional[int]
    expected: Optional[dict]


@dataclass(frozen=True)
class Takeover:
    """A node began, at one of its ticks, to lead a ballot of its own whose round number it raised:
    what it had heard in its last election round (``heard``: the peers whose heartbeat replies
    reached it), the quorum its configuration needs to prepare, and the trace position."""

    pid: int
    ballot: Any
    heard: frozenset
    read_quorum: int
    at: int


@dataclass(frozen=True)
class InstanceStart:
    """Server ``pid`` started configuration ``config_id`` holding ``state`` (its key-value contents),
    told by the StopSign ``stopsign`` of configuration ``prev_config_id`` (None for the first one)."""

    pid: int
    config_id: int
    prev_config_id: Optional[int]
    stopsign: Optional[StopSign]
    state: dict
    at: int


def _slot(op: ClientOp) -> tuple:
    """The (config_id, idx) slot of a completed write: `Ledger.on_decided` sets it on completion."""
    assert op.position is not None, f"{op!r} has not completed"
    return op.position


def same_value(a: Any, b: Any) -> bool:
    """The same decided value: the very object, or an equal one (a copy read back from storage)."""
    return a is b or a == b



def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


class PendingWrites:
    """The client writes proposed but not yet decided, found again from a decided value.

    A decided value is the very object the client proposed when the storage keeps objects
    (`MemoryStorage`), and an equal copy when it does not (`PersistentStorage` unpickles what it
    reads). So a write is found by identity first (no hashing, the common case) and else by
    equality, the oldest-invoked pending write with an equal value first. Equal values are the same
    write to every reader of the log, and handing the earlier slot to the earlier invocation never
    makes a history look less linearizable than it is (each slot keeps its completion time; only
    which of two indistinguishable writes is said to own it changes). A wrapper or an id stored
    inside the entry would survive a copy too, but it would change what the learner's log holds.
    """

    def __init__(self) -> None:
        self._by_id: dict[int, ClientOp] = {}
        self._by_value: dict[Any, list[ClientOp]] = {}  # hashable proposals, oldest invocation first
        self._unhashable: list[ClientOp] = []

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[ClientOp]:
        return iter(self._by_id.values())

    def copied(self, ops: dict[int, ClientOp]) -> "PendingWrites":
        """A copy holding ``ops[id(op)]`` in place of each pending `op` (see `Ledger.__deepcopy__`)."""
        clone = PendingWrites()
        if not self._by_id:
            return clone
        clone._by_id = {key: ops[id(op)] for key, op in self._by_id.items()}
        clone._by_value = {value: [ops[id(op)] for op in queue] for value, queue in self._by_value.items()}
        clone._unhashable = [ops[id(op)] for op in self._unhashable]
        return clone

    def add(self, op: ClientOp) -> None:
        proposal = op.proposal
        self._by_id[id(proposal)] = op
        if _hashable(proposal):
            self._by_value.setdefault(proposal, []).append(op)
        else:
            self._unhashable.append(op)

    def remove(self, op: ClientOp) -> None:
        if self._by_id.pop(id(op.proposal), None) is None:
            return
        proposal = op.proposal
        if _hashable(proposal):
            queue = self._by_value[proposal]
            queue.remove(op)
            if not queue:
                del self._by_value[proposal]
        else:
            self._unhashable.remove(op)

    def find(self, value: Any) -> Optional[ClientOp]:
        """The pending write `value` decides: proposed as this object, or else the oldest one equal
        to it; None when no pending write matches."""
        op = self._by_id.get(id(value))
        if op is not None:
            return op
        if _hashable(value):
            queue = self._by_value.get(value)
            return queue[0] if queue else None
        return next((op for op in self._unhashable if op.proposal == value), None)


class Ledger:
    """Evidence gathered while the cluster runs (see the module docstring)."""

    def __init__(self) -> None:
        #: (config_id, idx) -> (value, pid): the first value decided in that slot, and where.
        self.slots: dict[tuple[int, int], tuple[Any, int]] = {}
        #: (pid, config_id) -> the decided values that node has shown, by index (COMPACTED if unknown):
        #: the first value shown at each index, never overwritten.
        self.node_logs: dict[tuple[int, int], list] = {}
        #: (pid, config_id, idx, first value, later value, when): a node showed a second, different
        #: value decided at an index (the first such sighting of each slot).
        self.redecided: list[tuple] = []
        #: (pid, config_id) -> the highest promise that replica has shown.
        self.promises: dict[tuple[int, int], Any] = {}
        #: the first ill-formed local state seen after an event: (message, when), or None.
        self.local_problem: Optional[tuple[str, int]] = None
        #: config_id -> idx of its decided StopSign.
        self.stopsign_idx: dict[int, int] = {}
        #: config_id -> highest decided idx seen anywhere.
        self.max_decided: dict[int, int] = {}
        self.proposed_ids: set[int] = set()
        self.proposed: list = []  # strong references, so ids stay unique
        self._proposed_values: set = set()  # the hashable ones, for entries copied on the way
        self._refused_ids: set[int] = set()
        self.history: list[ClientOp] = []
        #: client writes not decided yet (see `PendingWrites`: matched by identity, else equality).
        self.pending_writes = PendingWrites()
        #: refused proposals, hashable ones by value (a copy read back from storage is equal).
        self._refused_values: set = set()
        self.starts: list[InstanceStart] = []
        #: client writes in completion order: when each completed, and the op with the latest
        #: position among it and those before.
        self._completion_times: list[int] = []
        self._latest_completed: list[ClientOp] = []
        #: key -> the completed put with the latest position.
        self._latest_put: dict[Any, ClientOp] = {}
        #: ballot -> pid -> when that node was first seen leading it.
        self.leaders: dict[Any, dict[int, int]] = {}
        #: pid -> how many times it ticked (its election rounds are counted in its own ticks).
        self.ticks: dict[int, int] = {}
        #: pid -> (config_id, sender) -> that pid's tick count when a heartbeat reply from sender
        #: last reached it (forgotten when it crashes: its new instances start new rounds).
        self.heard: dict[int, dict[tuple[int, int], int]] = {}
        #: (pid, config_id) -> the highest round number n of a ballot of its own that node has led.
        self.own_rounds: dict[tuple[int, int], int] = {}
        #: every time a node began, at one of its ticks, to lead a ballot of its own with a round
        #: number it raised (above 1 and above every ballot of its own it led before): the evidence
        #: of `invariants.quorum_connected_takeover`.
        self.takeovers: list[Takeover] = []
        #: the pid whose tick is being carried out (Ballot Leader Election ends its rounds on ticks).
        self.ticking: Optional[int] = None
        # What was seen that a rule of `omnilab.sim.invariants` forbids, in the order seen:
        #: a node showing a slot with another value than the first one decided there;
        self.clashes: list[Clash] = []
        #: the first decision of a slot whose value nobody proposed (so far);
        self.unproposed: list[Sighting] = []
        #: the first decision of a slot whose value was a proposal refused to its client;
        self.refused_decided: list[Sighting] = []
        #: config_id -> the first decision past its decided StopSign, or entry accepted after it.
        self.past_stopsign: dict[int, PastStopSign] = {}
        #: every read, with what the history held when it read.
        self.reads: list[Read] = []
        #: every start of a configuration after an earlier one, with what was known then.
        self.transitions: list[Transition] = []
        #: client writes in completion order.
        self.completed_writes: list[ClientOp] = []
        #: the fields whose containers a copy of this ledger still holds too (see `__deepcopy__`),
        #: one bit each (`_BIT`; `shares` reads it); a method that changes one of them first makes
        #: it its own (`_own`). Bits, not a set of names: a set of 27 names is 2.3 KB, held by every
        #: ledger the explorer's frontier keeps. Over the first 300,000 states of the TLA+ bound
        #: from "unelected" (writes at any leader), peak memory went from 1,694 to 1,360 MB.
        self._shared: int = 0

    # --- copying -----------------------------------------------------------------------------------

    def __deepcopy__(self, memo: dict) -> "Ledger":
        """A copy that goes on independently (what `Cluster.fork` and the explorer take for every
        state they branch from). The copy is made by `_COPY`, which knows what each field holds:

        * the client operations still pending (those in `pending_writes`) are copied at once, with
          the two containers that hold them (`history`, `pending_writes`), since a later decision
          or refusal changes them; every other `ClientOp` is final (a write is changed only when it
          completes or is refused, a get only while it is read) and is shared, like the proposals,
          which the ledger tracks by identity (``memo`` may hold copies of them already);
        * every other container is copied on write: the copy and this ledger both hold it, both
          note it in ``_shared`` (`shares`), and whichever changes it first takes its own copy of it (one
          level deep, two for the per-node tables: `_own`). What they hold (sightings, starts,
          takeovers, decided values) is immutable.

        A field `_COPY` does not name is copied generically (`omnilab.sim.copying.deep_copy`), so a
        new field is never shared by mistake (the tests check that `_COPY` names every field).
        The explorer copies a ledger for every new state it builds, and most of a ledger does not
        change in one step: on bench/explore.py's bound (a), copying every container took 19% of a
        profiled search. Over its first 300,000 states, copying on write took its peak memory from
        2,172 to 1,872 MB and its speed from 6,975 to 7,550 distinct states/s (one run each; runs
        of the same code on this machine vary by about 10%)."""
        clone = object.__new__(Ledger)
        memo[id(self)] = clone
        ops: dict[int, ClientOp] = {}
        for op in self.pending_writes:
            copied = memo.get(id(op))
            if copied is None:
                copied = memo[id(op)] = object.__new__(ClientOp)  # copy.copy, without its reduce protocol
                copied.__dict__.update(op.__dict__)
            ops[id(op)] = copied
        mine = self.__dict__
        fields = clone.__dict__
        fields.update(mine)  # every field shared or kept as is, until replaced below
        for name, rule in _AT_ONCE:
            fields[name] = rule(mine[name], ops)
        if mine.keys() != _COPY.keys():  # a field `_COPY` does not name (a new one): copied generically
            for name in mine.keys() - _COPY.keys():
                fields[name] = _copy_generic(mine[name], memo)
        # The rules are read from `_COPY` once, into `_AT_ONCE` and `_ON_WRITE_FIELDS`, rather than
        # looked up field by field at every copy: 8.1 -> 5.2 us per copy of a ledger with four
        # writes, one pending (timeit, this machine; 5.0 us with `_shared` as bits). In a whole
        # search that is within the noise.
        self._shared = clone._shared = _ALL_SHARED
        return clone

    def shares(self, name: str) -> bool:
        """Whether field `name` is still held by a copy of this ledger too (or this ledger is a copy
        and holds its original's), so that the next change to it takes its own copy first."""
        return bool(self._shared & _BIT.get(name, 0))

    def _own(self, *names: str) -> None:
        """Make the fields `names` this ledger's own before changing them: a field a copy still
        holds (`__deepcopy__`) is replaced by a copy of it, by its `_COPY` rule."""
        shared = self._shared
        if not shared:
            return
        for name in names:
            bit = _BIT.get(name, 0)
            if shared & bit:
                shared &= ~bit
                self.__dict__[name] = _COPY[name](self.__dict__[name], _NO_OPS)
        self._shared = shared

    # --- proposals and the client history ------------------------------------------------------------

    def on_proposed(self, proposal: Any) -> None:
        if id(proposal) not in self.proposed_ids:
            self._own("proposed_ids", "proposed", "_proposed_values")
            self.proposed_ids.add(id(proposal))
            self.proposed.append(proposal)
            try:
                self._proposed_values.add(proposal)
            except TypeError:
                pass

    def was_proposed(self, value: Any) -> bool:
        if id(value) in self.proposed_ids:
            return True
        try:
            return value in self._proposed_values
        except TypeError:
            return any(same_value(p, value) for p in self.proposed)

    def new_client_op(self, kind: str, at: int, key: Any, proposal: Any, now: int) -> ClientOp:
        op = ClientOp(len(self.history), kind, at, key, proposal, now)
        self.history.append(op)
        if proposal is not None:
            self.pending_writes.add(op)
        return op

    def refuse(self, op: ClientOp, error: str) -> None:
        op.refused = error
        self.pending_writes.remove(op)
        self._own("proposed", "_refused_ids", "_refused_values")
        self.proposed.append(op.proposal)  # keeps its id unique while we remember it
        self._refused_ids.add(id(op.proposal))
        if _hashable(op.proposal):
            self._refused_values.add(op.proposal)

    def _was_refused(self, value: Any) -> bool:
        """`value` is (a copy of) a proposal refused to its client, and no pending write equals it."""
        if id(value) in self._refused_ids:
            return True
        return bool(self._refused_values) and _hashable(value) and value in self._refused_values

    # --- decisions -----------------------------------------------------------------------------------

    def on_decided(self, pid: int, config_id: int, idx: int, value: Any, now: int) -> Optional[ClientOp]:
        """Node `pid` shows `value` decided at slot `idx`; check it and return the client operation it
        completes, if any."""
        # Called for every slot every node applies: the common cases (the next idx of this node's
        # log; a value proposed here, by identity) come first and allocate nothing.
        self._own("node_logs")
        log = self.node_logs.get((pid, config_id))
        if log is None:
            log = self.node_logs[(pid, config_id)] = []
        if idx == len(log):
            log.append(value)
        elif idx < len(log):
            seen = log[idx]
            if seen is COMPACTED:
                log[idx] = value
            elif not same_value(seen, value):
                if not any(r[:3] == (pid, config_id, idx) for r in self.redecided):
                    self._own("redecided")
                    self.redecided.append((pid, config_id, idx, seen, value, now))
        else:
            log.extend([COMPACTED] * (idx - len(log)))
            log.append(value)
        key = (config_id, idx)
        first = self.slots.get(key)
        op = None
        if first is None:
            self._own("slots")
            self.slots[key] = (value, pid)
            # A write completes when its slot is first decided anywhere; later nodes deciding the
            # same slot show an equal value, which must not complete another equal write.
            op = self.pending_writes.find(value)
            if id(value) not in self.proposed_ids and not self.was_proposed(value):
                self._own("unproposed")
                self.unproposed.append(Sighting(pid, config_id, idx, value, now))
        elif not same_value(first[0], value):
            self._own("clashes")
            self.clashes.append(Clash(config_id, idx, first[0], first[1], value, pid, now))
        if idx > self.max_decided.get(config_id, -1):
            self._own("max_decided")
            self.max_decided[config_id] = idx
        ss_idx = self.stopsign_idx.get(config_id)
        if isinstance(value, StopSign):
            if ss_idx is None:
                self._own("stopsign_idx")
                self.stopsign_idx[config_id] = idx
                ss_idx = idx
        if ss_idx is not None and self.max_decided[config_id] > ss_idx and config_id not in self.past_stopsign:
            self._own("past_stopsign")
            self.past_stopsign[config_id] = PastStopSign(pid, config_id, self.max_decided[config_id], ss_idx, now)
        if op is None:
            if first is None and (self._refused_ids or self._refused_values) and self._was_refused(value):
                self._own("refused_decided")
                self.refused_decided.append(Sighting(pid, config_id, idx, value, now))
            return None
        self.pending_writes.remove(op)
        op.completed, op.position = now, key
        self._on_write_completed(op)
        return op

    # --- the client history, indexed as it grows ------------------------------------------------------

    def latest_completed_before(self, time: int) -> Optional[ClientOp]:
        """Of the writes that completed before trace position `time`, the one with the latest
        position in the log (None if none did)."""
        at = bisect_left(self._completion_times, time)
        return self._latest_completed[at - 1] if at else None

    def _on_write_completed(self, op: ClientOp) -> None:
        """A write got its slot: index it by completion time and, for a put, by key."""
        assert op.completed is not None
        position = _slot(op)
        self._own("completed_writes", "_latest_completed", "_completion_times", "_latest_put")
        self.completed_writes.append(op)
        previous = self._latest_completed[-1] if self._latest_completed else None
        self._latest_completed.append(op if previous is None or position > _slot(previous) else previous)
        self._completion_times.append(op.completed)
        if op.kind == "put":
            best = self._latest_put.get(op.key)
            if best is None or position > _slot(best):
                self._latest_put[op.key] = op

    def on_read(self, op: ClientOp) -> None:
        """A get read after ``op.observed`` slots: note what the history held at that moment (the
        rule is `invariants.kv_linearizability`)."""
        assert op.observed is not None, f"{op!r} is not a read"
        config_id, applied = op.observed
        self._own("reads")
        self.reads.append(Read(op, self._latest_put.get(op.key), self._last_write(op.key, config_id, applied)))

    def _last_write(self, key: Any, config_id: int, upto_idx: int) -> Optional[tuple[Any, Optional[int]]]:
        """``(value, idx)`` of the last write to `key` in slots [0, upto_idx) of `config_id`, with idx
        None when it comes from the state the configuration started with (value None: never
        written); None when some slot there was never seen decided."""
        for idx in range(upto_idx - 1, -1, -1):
            slot = self.slots.get((config_id, idx))
            if slot is None:
                return None
            value = slot[0]
            if isinstance(value, KeyValue) and value.key == key:
                return value.value, idx
        base = next((s.state for s in self.starts if s.config_id == config_id), None)
        if base is None:
            return None
        return base.get(key), None

    def on_compacted(self, pid: int, config_id: int, upto_idx: int) -> None:
        """Node `pid` holds slots below `upto_idx` only as a snapshot or trim."""
        self._own("node_logs", "max_decided")
        log = self.node_logs.setdefault((pid, config_id), [])
        if len(log) < upto_idx:
            log.extend([COMPACTED] * (upto_idx - len(log)))
        if upto_idx and upto_idx - 1 > self.max_decided.get(config_id, -1):
            self.max_decided[config_id] = upto_idx - 1

    # --- each replica's local state ------------------------------------------------------------------

    def on_local_state(self, pid: int, config_id: int, promise: Any, problem: Optional[str], now: int) -> None:
        """After a call into replica `pid` of `config_id`: its promise (kept if the highest so far) and
        the reason its local state is ill-formed, if it is (`invariants.local_state_problem`)."""
        key = (pid, config_id)
        highest = self.promises.get(key)
        if highest is None or not promise < highest:
            self._own("promises")
            self.promises[key] = promise  # the newest object of the highest value
        if problem is not None and self.local_problem is None:
            self.local_problem = (problem, now)

    # --- configurations and leaders ------------------------------------------------------------------

    def on_instance_started(self, start: InstanceStart) -> None:
        self._own("starts", "transitions")
        self.starts.append(start)
        if start.prev_config_id is None:
            return
        ss_idx = self.stopsign_idx.get(start.prev_config_id)
        expected = self._state_after(start.prev_config_id, ss_idx) if ss_idx is not None else None
        self.transitions.append(Transition(start, ss_idx, expected))

    def _state_after(self, config_id: int, upto_idx: int) -> Optional[dict]:
        """The key-value state after slots [0, upto_idx) of `config_id`, rebuilt from the decided
        slots seen, or None when some slot was only ever seen compacted."""
        base = next((s.state for s in self.starts if s.config_id == config_id), None)
        if base is None:
            return None
        state = dict(base)
        for idx in range(upto_idx):
            slot = self.slots.get((config_id, idx))
            if slot is None:
                return None
            if isinstance(slot[0], KeyValue):
                state[slot[0].key] = slot[0].value
        return state

    # --- leader election ---------------------------------------------------------------------------

    def on_tick(self, pid: Optional[int]) -> None:
        """`pid` ticks now (None when the cluster's tick is over)."""
        self.ticking = pid
        if pid is not None:
            self._own("ticks")
            self.ticks[pid] = self.ticks.get(pid, 0) + 1

    def on_heartbeat_reply(self, pid: int, config_id: int, sender: int) -> None:
        """A heartbeat reply from `sender` reached `pid`'s instance of `config_id`."""
        self._own("heard")
        self.heard.setdefault(pid, {})[(config_id, sender)] = self.ticks.get(pid, 0)

    def on_crash(self, pid: int) -> None:
        self._own("heard")
        self.heard.pop(pid, None)

    def heard_from(self, pid: int, config_id: int, rounds: int) -> frozenset:
        """The peers whose heartbeat replies reached `pid` in `config_id` within its last `rounds`
        ticks (since the tick `rounds` ticks ago began an election round)."""
        since = self.ticks.get(pid, 0) - rounds
        return frozenset(sender for (config, sender), tick in self.heard.get(pid, {}).items()
                         if config == config_id and tick >= since)

    def on_leader(self, pid: int, ballot: Any, now: int, read_quorum: int = 0, rounds: int = 1) -> None:
        """`pid` began to lead `ballot` (its promise rose to it). If that happened at one of its ticks
        and the ballot is one of its own with a round number it raised, record a `Takeover`: whom it
        heard within its last `rounds` ticks (one election round) and the `read_quorum` its
        configuration needs. (A ballot raised on a message, or by ``try_become_leader``, is Sequence
        Paxos's or the operator's doing, not an election's.)"""
        self._own("takeovers", "own_rounds", "leaders")
        if ballot.pid == pid:
            key = (pid, ballot.config_id)
            highest = self.own_rounds.get(key, 1)
            if ballot.n > highest and self.ticking == pid:
                self.takeovers.append(Takeover(pid, ballot, self.heard_from(pid, ballot.config_id, rounds),
                                               read_quorum, now))
            self.own_rounds[key] = max(highest, ballot.n)
        self.leaders.setdefault(ballot, {}).setdefault(pid, now)

    def on_appended_after_seal(self, pid: int, config_id: int, now: int) -> None:
        """Node `pid` accepted a new entry although it had decided the StopSign of `config_id`."""
        if config_id not in self.past_stopsign:
            self._own("past_stopsign")
            self.past_stopsign[config_id] = PastStopSign(pid, config_id, None, self.stopsign_idx.get(config_id, -1),
                                                         now)


# --- how `Ledger.__deepcopy__` copies each field ------------------------------------------------------

def _copy_generic(value: Any, memo: dict) -> Any:
    from .copying import deep_copy

    return deep_copy(value, memo)


def _shallow(value: Any, ops: dict) -> Any:
    """A new list, dict or set holding the same (immutable or final) items."""
    return value.copy()


def _same(value: Any, ops: dict) -> Any:
    return value


def _two_levels(value: dict, ops: dict) -> dict:
    """A new dict of new inner lists or dicts (the per-node tables)."""
    return {key: inner.copy() for key, inner in value.items()}


def _ops_list(value: list, ops: dict) -> list:
    """A new list with each pending client operation replaced by its copy."""
    if not ops:
        return value.copy()
    return [ops.get(id(op), op) for op in value]


def _pending(value: PendingWrites, ops: dict) -> PendingWrites:
    return value.copied(ops)


#: Ledger field -> how it is copied (`Ledger.__deepcopy__`). A copy shares the fields whose rule is
#: `_shallow` or `_two_levels` until a ledger first changes one (`Ledger._own` then copies it by its
#: rule); the others are copied at once by theirs (`_same`: kept as is, being immutable or set anew).
#: Values inside are immutable (ints, tuples, frozen dataclasses, named tuples of those, decided
#: values and proposals, which are shared by contract) or client operations (`_ops_list`,
#: `_pending`: a pending one is replaced by its copy).
_COPY: dict[str, Callable[[Any, dict], Any]] = {
    "slots": _shallow, "node_logs": _two_levels, "redecided": _shallow, "promises": _shallow,
    "local_problem": _same, "stopsign_idx": _shallow, "max_decided": _shallow, "proposed_ids": _shallow,
    "proposed": _shallow, "_proposed_values": _shallow, "_refused_ids": _shallow, "history": _ops_list,
    "pending_writes": _pending, "_refused_values": _shallow, "starts": _shallow, "_completion_times": _shallow,
    # completed writes only (final: shared)
    "_latest_completed": _shallow, "_latest_put": _shallow, "completed_writes": _shallow,
    "leaders": _two_levels, "ticks": _shallow, "heard": _two_levels, "own_rounds": _shallow,
    "takeovers": _shallow, "ticking": _same, "clashes": _shallow, "unproposed": _shallow,
    "refused_decided": _shallow, "past_stopsign": _shallow,
    # a read names a get (final) and a completed put (final)
    "reads": _shallow, "transitions": _shallow,
    # set by __deepcopy__ itself
    "_shared": _same,
}
#: the rules of the fields a copy shares until one side changes them (`Ledger._own`).
_ON_WRITE = (_shallow, _two_levels)
_NO_OPS: dict = {}
#: the fields a copy shares until one side changes them, and (field, rule) for those copied at once.
_ON_WRITE_FIELDS: tuple[str, ...] = tuple(name for name, rule in _COPY.items() if rule in _ON_WRITE)
_AT_ONCE: tuple[tuple[str, Callable[[Any, dict], Any]], ...] = tuple(
    (name, rule) for name, rule in _COPY.items() if rule not in _ON_WRITE and rule is not _same)
#: field -> its bit in `Ledger._shared`; every copy-on-write field set.
_BIT: dict[str, int] = {name: 1 << i for i, name in enumerate(_ON_WRITE_FIELDS)}
_ALL_SHARED = sum(_BIT.values())
