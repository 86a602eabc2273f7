"""`Cluster`: the in-notebook world a learner steps, breaks and reconfigures.

A cluster owns servers (`omnilab.sim.server`), the network (`omnilab.sim.network`), the clock, the
trace (`omnilab.sim.trace`), the ledger the invariants read (`omnilab.sim.ledger`) and the only
random generator. Each server is an actor: the cluster hands it one input (a delivered message, a
tick, a client's proposal, a crash, ...) and gets back an `Out`, what the server sends and what
happened; `Cluster._apply` records the events in the trace, shows the ledger their evidence, and
sends the messages through the network (which owns message ids, the order in flight and cut links).
The rules it keeps:

* **Nothing moves by itself.** A new cluster has exchanged its start-up heartbeats (election round 1,
  as the reference harness does) and is otherwise idle. `put`, `crash`, `reconfigure`, ... only hand
  messages to the network;
  only `step`, `step_random`, `deliver_all`, `tick` and `run` deliver or let time pass.
  ``run(ticks)`` = ``ticks`` times: tick every live server once, then deliver to quiescence.
* **Everything is recorded.** Each public call is recorded as an operation, followed by the events
  it caused. A call that cannot be carried out raises `BadInput` (its message says what to do) and
  leaves the cluster and its trace unchanged. A proposal the replica refuses is recorded (`Refused`)
  and its ``ProposeErr`` re-raised to the caller; a refused `trim` / `snapshot` likewise
  (`CompactionRefused`, then the replica's ``CompactionErr``). Ids and pids are recorded as plain
  ints (``operator.index``), so a message id taken from ``pending().index`` (a numpy integer)
  reads ``cluster.drop(17)`` in ``trace.script()``.
* **Atomic.** Every argument is checked before anything changes (`omnilab.sim.validation`: pids,
  ids, counts, flags, hashable keys, entries the ledger can compare and a fork can copy, integer
  seeds). A call that fails half-way for any other reason (a variant's bug, a ``KeyboardInterrupt``)
  is taken back: the cluster becomes what ``Cluster.replay`` builds from the trace before the call,
  rebuilt from a checkpoint (`omnilab.sim.checkpoints`), and the error reaches the caller. Ctrl-C
  during `run`, `tick` or `deliver_all` stops at the next round, tick or delivery and records what
  completed (``run(ticks=k)``, ``tick(k)``, ``deliver_all(limit=k)``) before raising
  ``KeyboardInterrupt`` (`omnilab.sim.interrupts`), so the trace says what ran and replays to the
  same cluster.
* **A change counter.** ``cluster.version`` is an int that grows with every recorded operation
  (refused ones included), with `undo` (which rebuilds the cluster in place) and with anything else
  that changes the cluster's state through its methods. A view that drew version v redraws when it
  reads another; calls made directly on a replica (``server(pid).omnipaxos...``) bypass it, as they
  bypass the trace.
* **Deterministic.** No clock, no global randomness: the same seed and the same calls give an equal
  trace, and ``Cluster.replay(trace)`` rebuilds an identical cluster. ``undo()`` gives the cluster
  the replay of all but the last operation would, starting from the newest checkpoint before it.
  The seed is an int (``seed=None`` would draw an unrecorded one), so the trace always replays.

Defaults: ``resend_message_tick_timeout`` is 2 ticks here (the reference tests' 500 ms resend at
200 ms per election tick), so a learner who drops a message sees it resent after two ticks; every
other `ServerConfig` field keeps its OmniPaxos default (one tick = one election round) and can be
passed through: ``Cluster([1, 2, 3], batch_size=5)``.
"""

from __future__ import annotations

import copy
import operator
import random
from dataclasses import fields as dataclass_fields
from typing import Any, Callable, Iterable, Iterator, Literal, Mapping, Optional, overload

from omnilab.kv import KeyValue
from omnilab.presentation import present
from omnilab.replica.config import ClusterConfig, Quorum, ServerConfig
from omnilab.replica.entries import StopSign
from omnilab.replica.errors import CompactionErr, ConfigError, ProposeErr, SnapshotUnsupported
from omnilab.replica.messages import BLEMessage, HeartbeatReply

from . import checkpoints as _checkpoints
from . import fingerprint as _fingerprint
from . import interrupts as _interrupts
from . import invariants as _invariants
from . import validation as _valid
from .copying import deep_copy
from .errors import (
    BadInput,
    InvalidConfiguration,
    InvariantViolation,
    NodeDown,
    NodeUp,
    NoLeader,
    NoQuiescence,
    NothingInFlight,
    NothingToUndo,
    NotStarted,
    UnknownMessageId,
    UnknownNode,
)
from .ledger import ClientOp, InstanceStart, Ledger, Verdict
from .network import Envelope, Network
from .server import CALLED, COMPACTED, DECIDED, EVENT, NEEDS_SERVER, SEND, STARTED, STOPSIGN_DECIDED, Out, Server
from .trace import (
    Append,
    ClusterCreated,
    CompactionRefused,
    Crash,
    Cut,
    DeliverAll,
    Drop,
    Dropped,
    Duplicate,
    Duplicated,
    EntryDecided,
    Get,
    Heal,
    InstanceStarted,
    Operation,
    Partition,
    Proposed,
    Put,
    ReadDone,
    Reconfigure,
    Recover,
    Refused,
    Responded,
    Run,
    ServerCreated,
    SetPriority,
    SnapshotInstalled,
    SnapshotLog,
    Step,
    StepRandom,
    Tick,
    Ticked,
    Trace,
    TrimLog,
    TryBecomeLeader,
)
from .variant import REFERENCE, Variant, importable_name, resolve

#: ``resend_message_tick_timeout`` of a Cluster unless given: resends after two ticks.
DEFAULT_RESEND_TICKS = 2
#: Deliveries allowed in one `deliver_all` before it is declared a livelock.
MAX_DELIVERIES = 200_000

_SERVER_FIELDS = tuple(f.name for f in dataclass_fields(ServerConfig) if f.name != "pid")
#: What the replica raises when it refuses a `trim` or a `snapshot`.
_COMPACTION_REFUSALS = (CompactionErr, SnapshotUnsupported)
#: Errors an operation raises after recording them (a refused proposal or compaction): replay meets
#: them again at the same point and goes on. Any other error undoes the call (`_Operation`).
RECORDED_REFUSALS = (ProposeErr,) + _COMPACTION_REFUSALS
#: The most nodes a cluster may have (``Cluster(10**6)`` is a typo, not a cluster).
MAX_NODES = 64


def _describe_error(err: Exception) -> str:
    return f"{type(err).__name__}: {err}"


class Cluster:
    """Servers 1..n running OmniPaxos in configuration 1, a key-value store on top, and a network
    you control. ``Cluster(nodes=[1, 2, 3], seed=0, *, variant=REFERENCE, check_every_step=False,
    **server_config_fields)``.

    ``variant`` (an `omnilab.sim.variant.Variant`, or a name `omnilab.sim.variant.resolve` accepts:
    ``"reference"``, a mutant of `omnilab.sim.mutants`, ``"package.module:ATTRIBUTE"``) names the
    classes every server is built from; ``cluster.variant`` is it, and the trace records it.

    Read the state through ``servers`` / `server(pid)`, ``network`` (``in_flight``, ``cut_links``),
    ``clock``, ``trace`` and ``ledger`` (with the client ``history``); `pending`, `logs` and `history`
    return pandas DataFrames. With ``check_every_step=True`` every operation is followed by `check`,
    and the first violated invariant raises `InvariantViolation` carrying the trace.

    ``leader_priority`` may be one int for every server or a dict ``{pid: priority}`` (pids left out
    get 0, including servers a later `reconfigure` adds): ``Cluster([1, 2, 3],
    leader_priority={1: 5})`` lets node 1 win the first election. ``version`` counts changes (see
    the module docstring).
    """

    def __init__(self, nodes: Iterable[int] | int = (1, 2, 3), seed: int = 0, *, variant: Any = REFERENCE,
                 check_every_step: bool = False, **server_config_fields: Any) -> None:
        if isinstance(nodes, int) and not isinstance(nodes, bool) and nodes > MAX_NODES:
            raise InvalidConfiguration(f"Cluster(nodes=...): at most {MAX_NODES} nodes, not {nodes}; e.g. Cluster(5)")
        pids = _validate_pids(list(range(1, nodes + 1)) if isinstance(nodes, int) else nodes, "Cluster(nodes=...)")
        seed = _valid.seed(seed)
        check_every_step = _valid.flag(check_every_step, "Cluster(check_every_step=...)")
        #: the classes every server is built from (`omnilab.sim.variant`).
        self.variant: Variant = resolve(variant)
        unknown = sorted(set(server_config_fields) - set(_SERVER_FIELDS))
        if unknown:
            raise InvalidConfiguration(f"unknown ServerConfig field(s) {unknown}; "
                                       f"the fields are {list(_SERVER_FIELDS)}")
        if isinstance(server_config_fields.get("leader_priority"), Mapping):
            server_config_fields["leader_priority"] = _validate_priorities(server_config_fields["leader_priority"])
        self._config_fields = {"resend_message_tick_timeout": DEFAULT_RESEND_TICKS, **server_config_fields}
        server_configs = {pid: self._server_config(pid) for pid in pids}
        #: the seed of the only random generator (used by `step_random` and fault campaigns).
        self.seed = seed
        self.random = random.Random(seed)
        self.network = Network()
        self.trace = Trace()
        self.ledger = Ledger()
        self.clock = 0
        self.servers: dict[int, Server] = {}
        self.check_every_step = check_every_step
        #: grows with every operation, `undo` and any other change made through the cluster's methods.
        self.version = 0
        #: one paragraph explaining the situation (set by `omnilab.sim.scenarios`).
        self.description = ""
        #: the copies `undo` starts from, once the cluster keeps them (`omnilab.sim.checkpoints.keep`).
        self.checkpoints: Optional[_checkpoints.Checkpoints] = None
        #: id(replica) -> what `invariants.local_well_formedness` found in its log, kept only by a
        #: cluster whose replicas never change once made (the explorer's, `omnilab.sim.explore`);
        #: None everywhere else, a copy included.
        self.log_shapes: Optional[dict[int, Optional[str]]] = None
        self.trace.append(ClusterCreated(tuple(pids), seed, tuple(sorted(server_config_fields.items())),
                                         check_every_step, *_recorded_variant(self.variant)))
        first = ClusterConfig(configuration_id=1, nodes=list(pids))
        for pid in pids:
            self.servers[pid] = Server(pid, server_configs[pid], self.variant)
        for pid in pids:
            self._apply(self.servers[pid], self.servers[pid].start(first))
        for pid in pids:
            self._apply(self.servers[pid], self.servers[pid].poll())  # the start-up heartbeats
        # Boot: the start-up heartbeats (election round 1) are exchanged before the first tick, as in
        # the reference harness, so the first election goes to the highest (priority, pid).
        self._deliver_all()

    def _server_config(self, pid: int) -> ServerConfig:
        fields = self._config_fields
        priorities = fields.get("leader_priority")
        if isinstance(priorities, dict):
            fields = {**fields, "leader_priority": priorities.get(pid, 0)}
        try:
            config = ServerConfig(pid=pid, **fields)
            config.validate()
        except ConfigError as err:
            raise InvalidConfiguration(str(err)) from None
        return config

    @classmethod
    def replay(cls, trace: Iterable[Any], variant: Any = None) -> "Cluster":
        """Build the cluster `trace` describes: create it as its first item says, then perform every
        operation in order (a refused proposal or compaction is refused again and recorded the same
        way). The cluster runs the variant the trace recorded, or `variant` when given (needed for a
        variant that cannot be imported, e.g. one defined in a notebook)."""
        items = list(trace)
        if not items or not isinstance(items[0], ClusterCreated):
            raise BadInput("a trace to replay starts with ClusterCreated; pass cluster.trace (or a prefix of it)")
        first = items[0]
        if variant is None:
            if first.variant_name is not None:
                raise BadInput(f"this trace ran the variant {first.variant_name!r}, which cannot be imported (defined "
                               f"in a notebook?): pass it, Cluster.replay(trace, variant=...)")
            variant = first.variant
        cluster = cls(list(first.nodes), seed=first.seed, variant=variant, check_every_step=first.check_every_step,
                      **dict(first.server_config))
        replay_operations(cluster, items[1:])
        return cluster

    # --- copying and comparing ----------------------------------------------------------------------

    def fork(self) -> "Cluster":
        """An independent cluster in the same state: same servers, network, clock, trace, ledger and
        random generator (``copy.deepcopy(cluster)`` does the same). What one does afterwards does not
        change the other; both go on as this one would."""
        return copy.deepcopy(self)

    def __deepcopy__(self, memo: dict) -> "Cluster":
        # Two kinds of object are shared rather than copied: the trace's items (immutable; the trace
        # itself is a new list, see `Trace.__deepcopy__`) and the client's proposals, which the
        # ledger tracks by identity (``id(proposal)``), so a copy must hold the very same objects.
        ledger = self.ledger
        for op in getattr(ledger, "history", ()):
            memo.setdefault(id(op.proposal), op.proposal)
        for proposal in getattr(ledger, "proposed", ()):
            memo.setdefault(id(proposal), proposal)
        clone = object.__new__(type(self))
        memo[id(self)] = clone
        for name, value in self.__dict__.items():
            if name not in ("checkpoints", "log_shapes"):
                clone.__dict__[name] = deep_copy(value, memo)  # copy.deepcopy, sharing immutable values
        clone.checkpoints = None
        clone.log_shapes = None  # the copy's replicas change in place
        _checkpoints.inherit(self, clone)  # the same trace prefix: the same checkpoints serve both
        return clone

    def fingerprint(self) -> int:
        """A hash of the state that decides what this cluster does next: equal for clusters in equal
        states (message ids, the clock, the trace and the ledger left out;
        `omnilab.sim.fingerprint` says exactly what is in it)."""
        return _fingerprint.fingerprint(self)

    def undo(self) -> None:
        """Go back one operation: make this cluster (in place) the one ``Cluster.replay`` builds from
        the trace without its last operation. It starts from the newest checkpoint before that
        operation (`omnilab.sim.checkpoints`), so it replays a bounded stretch, not the whole trace.
        ``version`` still grows."""
        positions = self.trace.operation_positions()
        if len(positions) < 2:
            raise NothingToUndo("nothing to undo: no operation since the cluster was created")
        _checkpoints.restore(self, positions[-1])

    def __repr__(self) -> str:
        crashed = [p for p, s in self.servers.items() if not s.up]
        variant = "" if self.variant == REFERENCE else f" variant={self.variant.name!r}"
        return (f"<Cluster nodes={list(self.servers)} config={self.config_id} leader={self.leader()} "
                f"clock={self.clock} in_flight={len(self.network)}"
                + (f" crashed={crashed}" if crashed else "") + variant + ">")

    # --- looking -------------------------------------------------------------------------------------

    @property
    def pids(self) -> list[int]:
        return list(self.servers)

    @property
    def config_id(self) -> int:
        """The newest configuration any server runs or has run."""
        return max(max(s.durable.configs, default=0) for s in self.servers.values())

    def server(self, pid: int) -> Server:
        """The server `pid`: ``.omnipaxos`` (its current instance), ``.kv`` (read-only mapping), ..."""
        return self.servers[self._known(pid)]

    def live_replicas(self) -> Iterator[tuple[int, int, Any]]:
        """``(pid, config_id, omnipaxos)`` of every running instance (for the invariants)."""
        for pid, server in self.servers.items():
            if server.up:
                for config_id, omni in server.instances.items():
                    yield pid, config_id, omni

    def leader(self) -> Optional[int]:
        """The pid the live members of the newest running configuration agree on as leader
        (``get_current_leader()``), if that node is itself live and a member; else None."""
        agreed, config_id = self._followed()
        chosen = self.servers.get(agreed) if agreed is not None else None
        if chosen is None or not chosen.up or config_id not in chosen.instances:
            return None
        return agreed

    def _followed(self) -> tuple[Optional[int], Optional[int]]:
        """``(pid, config_id)``: the leader every live member of the newest running configuration
        names (None when they name none or differ), whether or not that node is up."""
        running = [s for s in self.servers.values() if s.up and s.instances]
        if not running:
            return None, None
        config_id = max(max(s.instances) for s in running)
        agreed = None
        for server in running:
            omni = server.instances.get(config_id)
            if omni is None:
                continue
            current = omni.get_current_leader()
            if current is None or (agreed is not None and current[0] != agreed):
                return None, config_id
            agreed = current[0]
        return agreed, config_id

    def check(self) -> list[Verdict]:
        """Every named invariant as a `Verdict` (``.ok``, ``.name``, ``.message``)."""
        return _invariants.check(self)

    def check_progress(self, ticks: int = 60, in_place: bool = False) -> Verdict:
        """Liveness as a check (`invariants.check_progress`): heal, recover every node, run up to
        `ticks` ticks and require a leader in the newest configuration, no StopSign left undecided,
        every new member started and a fresh put applied at every member. Runs on a replayed copy
        unless ``in_place=True`` (then its calls are recorded in this trace). Returns a `Verdict`."""
        ticks = _validate_count(ticks, "check_progress(ticks)")
        return _invariants.check_progress(self, ticks, in_place=bool(in_place))

    def pending(self):
        """The in-flight messages as a DataFrame: id, from, to, config, type and their fields
        (`omnilab.view.tables.messages`, reached through `omnilab.presentation`: the simulator
        never imports the views)."""
        return present("pending", self)

    def logs(self):
        """Every server's log as a DataFrame: one row per log idx, one column per (configuration,
        node); a cell is the entry and its status (✓ decided, … accepted only), coloured in a
        notebook; a crashed node's column is what its storage kept (`omnilab.view.tables.logs`)."""
        return present("logs", self)

    def history(self):
        """The client history (puts, appends, gets with their invocation and response) as a DataFrame
        (`omnilab.view.history.history`)."""
        return present("history", self)

    # --- the network ---------------------------------------------------------------------------------

    def step(self, msg_id: Optional[int] = None) -> Envelope:
        """Deliver one in-flight message: the oldest, or the one with `msg_id` (out of order).
        Returns the delivered envelope."""
        if msg_id is None:
            target = self.network.oldest_id()
            if target is None:
                raise NothingInFlight("no message is in flight: tick() makes the servers send (heartbeats, "
                                      "resends); run(ticks=1) ticks and delivers")
        else:
            target = msg_id = self._in_flight(msg_id)
        with self._operation(Step(msg_id)):
            env = self.network.take(target)
            self._deliver(env)
        return env

    def step_random(self) -> Envelope:
        """Deliver one in-flight message chosen by the cluster's seeded random generator."""
        if not self.network.in_flight:
            raise NothingInFlight("no message is in flight: tick() or run(ticks=1) first")
        with self._operation(StepRandom()):
            env = self.network.take(self.random.choice(list(self.network.in_flight)))
            self._deliver(env)
        return env

    def deliver_all(self, limit: Optional[int] = None) -> int:
        """Deliver (oldest first) until nothing is in flight, or `limit` messages; returns how many
        were delivered. Ctrl-C stops it after the delivery under way, recorded as
        ``deliver_all(limit=k)`` for the k made (`omnilab.sim.interrupts`); a livelock stops it after
        `MAX_DELIVERIES` (recorded likewise) with `NoQuiescence`."""
        limit = _valid.limit(limit, "deliver_all(limit)")
        with self._operation(DeliverAll(limit)) as op, _interrupts.deferred() as stop:
            network, deliver = self.network, self._deliver
            delivered = 0
            try:
                while limit is None or delivered < limit:
                    target = network.oldest_id()
                    if target is None:
                        break
                    if stop.requested:
                        op.settle(DeliverAll(delivered) if delivered else None)
                        raise KeyboardInterrupt
                    if delivered >= MAX_DELIVERIES:
                        op.settle(DeliverAll(delivered))
                        raise NoQuiescence(f"the network did not quiesce within {MAX_DELIVERIES} deliveries "
                                           f"(recorded as deliver_all(limit={delivered}))")
                    deliver(network.take(target))
                    delivered += 1
            except BaseException:
                op.then = (DeliverAll(delivered),) if delivered else ()
                raise
            op.raise_if_stopped(stop)
            return delivered

    def drop(self, msg_id: int) -> Envelope:
        """Lose the in-flight message `msg_id`."""
        target = self._in_flight(msg_id)
        with self._operation(Drop(target)):
            env = self.network.take(target)
            self.trace.append(Dropped(env, "dropped by drop()"))
        return env

    def duplicate(self, msg_id: int) -> int:
        """Put a copy of in-flight message `msg_id` on the wire; returns the copy's id."""
        target = self._in_flight(msg_id)
        with self._operation(Duplicate(target)):
            env = self.network.in_flight[target]
            copy = self.network.envelope(env.sender, env.receiver, env.config_id, env.message)
            self.network.put(copy)
            self.trace.append(Duplicated(env, copy.id))
        return copy.id

    def cut(self, a: int, b: int, one_way: bool = False) -> None:
        """Cut the link between `a` and `b` (only `a` -> `b` with ``one_way=True``). Messages sent on it
        from now on are dropped at send time; messages already in flight still arrive."""
        a, b = self._known(a), self._known(b)
        if a == b:
            raise BadInput(f"cut({a}, {b}): a node always reaches itself; name two different nodes")
        one_way = _valid.flag(one_way, "cut(a, b, one_way=...)")
        with self._operation(Cut(a, b, one_way)):
            self.network.cut(a, b, one_way)

    def partition(self, *groups: Iterable[int]) -> None:
        """Keep only the links inside each group: ``partition([1, 2], [3])``. Every node must be in
        exactly one group."""
        lists = [[self._known(pid) for pid in g] for g in _valid.groups(groups)]
        seen: list[int] = []
        for group in lists:
            for pid in group:
                if pid in seen:
                    raise BadInput(f"node {pid} is in two groups; put every node in exactly one group")
                seen.append(pid)
        missing = [p for p in self.servers if p not in seen]
        if missing:
            raise BadInput(f"partition() needs every node in exactly one group; missing {missing}, e.g. "
                           f"partition({', '.join(repr(g) for g in lists + [missing])})")
        with self._operation(Partition(tuple(tuple(g) for g in lists))):
            self.network.partition(lists)

    def heal(self, a: Optional[int] = None, b: Optional[int] = None) -> None:
        """Bring every link back up, or only the link between `a` and `b` (both directions)."""
        if (a is None) != (b is None):
            raise BadInput("heal() heals every link; heal(a, b) heals one link: give both nodes or neither")
        if a is not None:
            a, b = self._known(a), self._known(b)
            if a == b:
                raise BadInput(f"heal({a}, {b}): a node always reaches itself; name two different nodes, or "
                               "heal() for every link")
        with self._operation(Heal(a, b)):
            if a is None:
                self.network.heal()
            else:
                assert b is not None  # both nodes or neither, checked above
                self.network.restore(a, b)

    # --- time ----------------------------------------------------------------------------------------

    def tick(self, n: int = 1) -> None:
        """Tick every live server `n` times (each runs its timers and queues what it sends); nothing
        is delivered. At most `validation.MAX_TICKS` per call. Ctrl-C stops it after the tick under
        way, recorded as ``tick(k)`` for the k ticks made (`omnilab.sim.interrupts`)."""
        n = _valid.tick_count(n, "tick(n)")
        self._rounds(Tick, n, self._tick_once)

    def run(self, ticks: int = 1) -> None:
        """`ticks` times: tick every live server, then deliver to quiescence. At most
        `validation.MAX_TICKS` per call. Ctrl-C stops it after the round under way, recorded as
        ``run(ticks=k)`` for the k rounds made (`omnilab.sim.interrupts`); a round that does not
        quiesce (`NoQuiescence`) is taken back the same way."""
        ticks = _valid.tick_count(ticks, "run(ticks)")
        self._rounds(Run, ticks, self._round)

    def _round(self) -> None:
        """One round of `run`: tick every live server, then deliver to quiescence."""
        self._tick_once()
        self._deliver_all()

    def _rounds(self, operation: Callable[[int], Operation], n: int, one: Callable[[], None]) -> None:
        """Record ``operation(n)`` and do `one` `n` times. Ctrl-C stops it after the one under way,
        recorded as ``operation(k)`` for the k done (nothing if none); anything else raised takes the
        whole call back but for the k done (`_Operation`)."""
        with self._operation(operation(n)) as op, _interrupts.deferred() as stop:
            done = 0
            try:
                while done < n:
                    if stop.requested:
                        op.settle(operation(done) if done else None)
                        raise KeyboardInterrupt
                    one()
                    done += 1
            except BaseException:
                op.then = (operation(done),) if done else ()
                raise
            op.raise_if_stopped(stop)

    # --- crashes -------------------------------------------------------------------------------------

    def crash(self, pid: int) -> None:
        """Crash `pid`: its instances, key-value state and buffered proposals are lost; its storage
        survives. Messages to it are dropped on arrival until it recovers."""
        pid = self._known(pid)
        server = self.servers[pid]
        if not server.up:
            raise NodeDown(f"node {pid} is already crashed; recover({pid}) brings it back")
        with self._operation(Crash(pid)):
            self.ledger.on_crash(pid)
            self._apply(server, server.crash())

    def recover(self, pid: int) -> None:
        """Restart crashed `pid`: rebuild each instance from its storage (it starts in Recover and
        asks its peers to prepare it) and its key-value state from the decided log."""
        pid = self._known(pid)
        server = self.servers[pid]
        if server.up:
            raise NodeUp(f"node {pid} is running; only a crashed node can recover (crash({pid}) first)")
        with self._operation(Recover(pid)):
            self._apply(server, server.recover())

    # --- clients -------------------------------------------------------------------------------------

    def put(self, key: Any, value: Any, at: Optional[int] = None) -> ClientOp:
        """Propose the write ``KeyValue(key, value)`` at the leader (or at node `at`, which forwards it
        as the replica does). Returns the client operation; it completes once decided. A refusal
        (``ProposeErr``) is recorded and re-raised."""
        key = _valid.key(key, "put(key, value)")
        value = _valid.entry(value, "put(key, value)", "value")
        at = self._optional_pid(at)
        server = self._client_server(at)
        with self._operation(Put(key, value, at)):
            return self._propose(server, KeyValue(key, value), "put", key)

    def append(self, entry: Any, at: Optional[int] = None) -> ClientOp:
        """Propose any `entry` (an int, a string, a dataclass, a KeyValue) like `put`."""
        entry = _valid.entry(entry, "append(entry)")
        at = self._optional_pid(at)
        server = self._client_server(at)
        with self._operation(Append(entry, at)):
            return self._propose(server, entry, "append", getattr(entry, "key", None))

    def get(self, key: Any, at: Optional[int] = None) -> Any:
        """Read `key` from the key-value state of the leader (or of node `at`): a local read, so a
        node that lags behind may answer with a stale value (the linearizability check notices)."""
        key = _valid.key(key, "get(key)")
        at = self._optional_pid(at)
        server = self._client_server(at)
        with self._operation(Get(key, at)):
            config_id = server.config_id
            assert config_id is not None  # a server from _client_server runs an instance
            applied = server.applied[config_id]
            value = server.kv.get(key)
            op = self.ledger.new_client_op("get", server.pid, key, None, len(self.trace) - 1)
            op.completed, op.result, op.observed = op.invoked, value, (config_id, applied)
            self.ledger.on_read(op)
            self.trace.append(ReadDone(op.op_id, server.pid, key, value, config_id, applied))
        return value

    def reconfigure(self, nodes: Iterable[int], at: Optional[int] = None, metadata: Any = None) -> StopSign:
        """Propose a StopSign ending the newest configuration; the next one has `nodes` and the next
        configuration id. New pids get servers now; they start once the StopSign is decided and an
        old member has handed them the state. Returns the proposed StopSign."""
        pids = _validate_pids(nodes, "reconfigure(nodes)")
        if len(pids) > MAX_NODES:
            raise InvalidConfiguration(f"reconfigure(nodes): at most {MAX_NODES} nodes, not {len(pids)}")
        metadata = _valid.entry(metadata, "reconfigure(nodes, metadata=...)", "metadata")
        new_config = ClusterConfig(configuration_id=self.config_id + 1, nodes=list(pids))
        try:
            new_config.validate()
        except ConfigError as err:
            raise InvalidConfiguration(f"reconfigure({pids}): {err}") from None
        for pid in pids:
            if pid not in self.servers:
                self._server_config(pid)  # a bad ServerConfig would fail later; fail now
        at = self._optional_pid(at)
        server = self._client_server(at)
        with self._operation(Reconfigure(tuple(pids), at, metadata)):
            config_id = server.config_id
            assert config_id is not None  # a server from _client_server runs an instance
            stopsign = StopSign(new_config, metadata)
            try:
                out = server.reconfigure(new_config, metadata)
            except ProposeErr as err:
                self.trace.append(Refused(server.pid, config_id, stopsign, _describe_error(err)))
                raise
            self.ledger.on_proposed(stopsign)
            self.trace.append(Proposed(server.pid, config_id, stopsign))
            for pid in pids:
                self._ensure_server(pid, new_config.configuration_id)
            self._apply(server, out)
        return stopsign

    # --- leadership ----------------------------------------------------------------------------------

    def set_priority(self, pid: int, priority: int) -> None:
        """Set node `pid`'s leader-election priority (``set_priority`` on its current instance): its
        ballot carries `priority` from its next heartbeat round on, which matters at the next
        election (the OmniPaxos docs: the highest (priority, pid) wins). It lasts as long as that
        instance: after `recover`, or in its next configuration, the node starts again from its
        `ServerConfig` (``Cluster(..., leader_priority={pid: p})``)."""
        priority = _as_int(priority, "set_priority(pid, priority): the priority", BadInput)
        if priority < 0:
            raise BadInput(f"set_priority(pid, priority): priorities are integers >= 0, not {priority}")
        server = self._client_server(self._known(pid))
        with self._operation(SetPriority(server.pid, priority)):
            self._apply(server, server.set_priority(priority))

    def try_become_leader(self, pid: int) -> None:
        """Make node `pid` start a Prepare phase now (``try_become_leader`` on its current instance),
        with a ballot just above the one it promised; its Prepares go on the wire."""
        server = self._client_server(self._known(pid))
        with self._operation(TryBecomeLeader(server.pid)):
            self._apply(server, server.try_become_leader())

    # --- compaction ----------------------------------------------------------------------------------

    def trim(self, idx: Optional[int] = None, at: Optional[int] = None) -> None:
        """Trim the decided log below `idx` (None: as far as every node has accepted) at the leader,
        or at node `at`: its instance's ``trim``, which also sends every peer a
        ``Trim``. Only the leader may trim. A refusal (``CompactionErr``) is recorded
        (`CompactionRefused`) and re-raised. The trimmed entries are gone from the log; every server
        saves its key-value state before it lets its log be compacted, so one that crashes afterwards
        recovers from that saved state."""
        idx = _optional_index(idx, "trim(idx)")
        at = self._optional_pid(at)
        server = self._client_server(at)
        request = "trim()" if idx is None else f"trim({idx})"
        with self._operation(TrimLog(idx, at)):
            self._compact(server, request, lambda: server.trim(idx))

    def snapshot(self, idx: Optional[int] = None, at: Optional[int] = None, local_only: bool = False) -> None:
        """Fold the decided log below `idx` (None: all of it) into a snapshot at the leader, or at node
        `at`: its instance's ``snapshot``; unless `local_only`, every peer is sent
        a ``Snapshot`` and snapshots its own log likewise. A refusal (``CompactionErr``, or
        ``SnapshotUnsupported`` for entries without a snapshot class) is recorded
        (`CompactionRefused`) and re-raised."""
        idx = _optional_index(idx, "snapshot(idx)")
        at = self._optional_pid(at)
        local_only = _valid.flag(local_only, "snapshot(local_only=...)")
        server = self._client_server(at)
        args = ([] if idx is None else [str(idx)]) + (["local_only=True"] if local_only else [])
        request = f"snapshot({', '.join(args)})"
        with self._operation(SnapshotLog(idx, at, local_only)):
            self._compact(server, request, lambda: server.snapshot(idx, local_only))

    def _compact(self, server: Server, request: str, call: Callable[[], Out]) -> None:
        config_id = server.config_id
        assert config_id is not None  # a server from _client_server runs an instance
        try:
            out = call()  # the server saves its state first, then compacts its log
        except _COMPACTION_REFUSALS as err:
            self.trace.append(CompactionRefused(server.pid, config_id, request, _describe_error(err)))
            raise
        self._apply(server, out)

    # --- internals: operations and validation --------------------------------------------------------

    def _operation(self, op: Operation) -> "_Operation":
        """``with self._operation(op):`` records `op`, runs the body, then (``check_every_step``) the
        invariants; a body that raises skips the check."""
        return _Operation(self, op)

    def _known(self, pid: Any) -> int:
        """`pid` as a plain int, if there is such a node."""
        number = _as_int(pid, None, None)
        if number is None or number not in self.servers:
            raise UnknownNode(f"there is no node {pid!r}; the nodes are {list(self.servers)}")
        return number

    def _optional_pid(self, pid: Any) -> Optional[int]:
        return None if pid is None else self._known(pid)

    def _in_flight(self, msg_id: Any) -> int:
        """`msg_id` as a plain int, if that message is in flight."""
        number = _as_int(msg_id, None, None)
        if number is not None and number in self.network.in_flight:
            return number
        ids = list(self.network.in_flight)
        shown = ids if len(ids) <= 20 else ids[:20] + ["..."]
        raise UnknownMessageId(f"message {msg_id!r} is not in flight (delivered, dropped or never sent); "
                               f"pending() lists what is: {shown}")

    def _client_server(self, at: Optional[int]) -> Server:
        if at is None:
            pid = self.leader()
            if pid is None:
                raise self._no_leader()
        else:
            pid = self._known(at)
        server = self.servers[pid]
        if not server.up:
            raise NodeDown(f"node {pid} is crashed: recover({pid}) first, or choose another node with at=")
        if not server.instances:
            raise NotStarted(f"node {pid} has not started: it waits for its state transfer; run(ticks=2) "
                             "and try again")
        return server

    def _no_leader(self) -> NoLeader:
        followed, _ = self._followed()
        server = self.servers.get(followed) if followed is not None else None
        if server is not None and not server.up:
            return NoLeader(f"the live nodes still follow node {followed}, which is crashed: run(ticks=3) so they "
                            "elect another leader, or choose a node with at=pid")
        return NoLeader("the live nodes do not agree on a leader yet: run(ticks=3) and try again, "
                        "or choose a node with at=pid")

    def _propose(self, server: Server, proposal: Any, kind: str, key: Any) -> ClientOp:
        config_id, pid = server.config_id, server.pid
        assert config_id is not None  # a server from _client_server runs an instance
        op = self.ledger.new_client_op(kind, pid, key, proposal, len(self.trace) - 1)
        sealed = server.omnipaxos.is_reconfigured()
        try:
            out = server.propose(proposal)
        except ProposeErr as err:
            text = _describe_error(err)
            self.ledger.refuse(op, text)
            self.trace.append(Refused(pid, config_id, proposal, text))
            raise
        self.ledger.on_proposed(proposal)
        self.trace.append(Proposed(pid, config_id, proposal))
        if sealed is not None:
            self.ledger.on_appended_after_seal(pid, config_id, len(self.trace) - 1)
        self._apply(server, out)
        return op

    # --- internals: applying what a server did, moving messages ------------------------------------

    def _apply(self, server: Server, out: Out) -> None:
        """Carry out what one input to `server` produced (`omnilab.sim.server.Out`), in order: record
        its events in the trace and show the ledger the evidence they carry (a decided slot may
        answer a client), read each instance it called for the invariants (`_observe`), and put its
        messages on the wire through the network."""
        pid, trace, ledger, send = server.pid, self.trace, self.ledger, self.network.send
        append = trace.append
        for step in out:
            kind = step[0]
            if kind == CALLED:
                _, config_id, omni, messages = step
                self._observe(pid, config_id, omni)
                if messages:
                    for message in messages:
                        append(send(pid, message.receiver, config_id, message))
            elif kind == EVENT:
                append(step[1])
            elif kind == DECIDED:
                _, config_id, idx, entry, replaying = step
                if not replaying:
                    append(EntryDecided(pid, config_id, idx, entry))
                op = ledger.on_decided(pid, config_id, idx, entry, len(trace) - 1)
                if op is not None:
                    append(Responded(op.op_id, config_id, idx))
            elif kind == SEND:
                _, receiver, config_id, message = step
                append(send(pid, receiver, config_id, message))
            elif kind == STOPSIGN_DECIDED:
                _, config_id, idx, stopsign, replaying = step
                if not replaying:
                    append(EntryDecided(pid, config_id, idx, stopsign))
                ledger.on_decided(pid, config_id, idx, stopsign, len(trace) - 1)
            elif kind == COMPACTED:
                _, config_id, upto, trimmed, replaying = step
                ledger.on_compacted(pid, config_id, upto)
                if not replaying:
                    append(SnapshotInstalled(pid, config_id, upto, trimmed))
            elif kind == STARTED:
                _, config_id, nodes, prev_config_id, stopsign, state = step
                append(InstanceStarted(pid, config_id, nodes))
                ledger.on_instance_started(InstanceStart(pid, config_id, prev_config_id, stopsign, state,
                                                         len(trace) - 1))
            elif kind == NEEDS_SERVER:
                self._ensure_server(step[1], step[2])
            else:
                raise ValueError(f"unknown Out step {step!r}")

    def _ensure_server(self, pid: int, config_id: int) -> Server:
        """The server `pid`, created (joining configuration `config_id`) if it does not exist yet."""
        server = self.servers.get(pid)
        if server is None:
            server = self.servers[pid] = Server(pid, self._server_config(pid), self.variant)
            self.trace.append(ServerCreated(pid, config_id))
        return server

    def _observe(self, pid: int, config_id: int, omni: Any) -> None:
        """After every call into a replica: give the ledger its promise and whether its indexes are
        well-formed (`invariants.local_state_problem`), and the ballot it leads if its promise rose (a
        leader promises the ballot it leads: the evidence of `invariants.one_leader_per_ballot`)."""
        compacted, decided, accepted, promise = _invariants.local_bounds(omni)
        ledger = self.ledger
        highest = ledger.promises.get((pid, config_id))
        if promise is highest and compacted <= decided <= accepted:
            return  # the common case: nothing moved that could break the rule or raise a leader
        now = len(self.trace) - 1
        problem = _invariants.local_state_problem(pid, config_id, compacted, decided, accepted, promise, highest)
        ledger.on_local_state(pid, config_id, promise, problem, now)
        if highest is None or promise > highest:
            n_leader = _invariants.leading_ballot(omni)
            if n_leader is not None:
                server = self.servers[pid]
                config = server.durable.configs[config_id]
                quorum = Quorum.of(len(config.nodes), config.flexible_quorum)
                ledger.on_leader(pid, n_leader, now, quorum.read_size, server.server_config.election_tick_timeout)

    def _deliver(self, env: Envelope) -> None:
        server = self.servers.get(env.receiver)
        if server is None or not server.up:
            self.trace.append(Dropped(env, f"node {env.receiver} is crashed"))
            return
        message = env.message
        if type(message) is BLEMessage and type(message.msg) is HeartbeatReply:
            # the evidence of invariants.quorum_connected_takeover: whom each node hears
            self.ledger.on_heartbeat_reply(env.receiver, env.config_id, env.sender)
        self._apply(server, server.deliver(env))

    def _deliver_all(self) -> int:
        in_flight, deliver = self.network.in_flight, self._deliver
        delivered = 0
        while in_flight:
            deliver(in_flight.pop(next(iter(in_flight))))
            delivered += 1
            if delivered > MAX_DELIVERIES:
                raise NoQuiescence(f"the network did not quiesce within {MAX_DELIVERIES} deliveries")
        return delivered

    def _tick_once(self) -> None:
        self.clock += 1
        ticking = [s for s in self.servers.values() if s.up and s.instances]
        self.trace.append(Ticked(self.clock, tuple(s.pid for s in ticking)))
        on_tick = self.ledger.on_tick
        for server in ticking:
            on_tick(server.pid)
            self._apply(server, server.tick())
        on_tick(None)


class _Operation:
    """The context of one public call (see `Cluster._operation`). A small class rather than a
    ``@contextmanager`` generator: every put, step and deliver_all enters one, and this costs a
    third as much.

    Atomic: a body that raises anything but a recorded refusal (`RECORDED_REFUSALS`) leaves the
    cluster as ``Cluster.replay`` of the trace before the call, plus ``then`` (what a loop completed
    before it was stopped, e.g. ``Run(ticks=k)``), rebuilt from a checkpoint
    (`omnilab.sim.checkpoints.restore`). A loop stopped at a clean point instead calls `settle`,
    which rewrites the recorded operation in place. After a call that completed, a checkpoint is
    taken when one is due."""

    __slots__ = ("cluster", "position", "then", "settled")

    def __init__(self, cluster: Cluster, op: Operation) -> None:
        self.position = len(cluster.trace)
        cluster.trace.append(op)
        cluster.version += 1
        self.cluster = cluster
        self.then: tuple = ()
        self.settled = False

    def __enter__(self) -> "_Operation":
        return self

    def settle(self, op: Optional[Operation]) -> None:
        """The call stops here, at a clean point: record `op` (what it completed) in place of the
        operation it began as, or nothing when `op` is None (and nothing happened since)."""
        cluster, pos = self.cluster, self.position
        store = _checkpoints.kept(cluster)
        if store is not None:
            store.forget_after(pos)
        if op is None:
            assert pos == len(cluster.trace) - 1, "settle(None) after events were recorded"
            cluster.trace.pop()
        else:
            # An operation replaced by an operation at the same position: what the trace keeps of
            # its prefix (operation positions, the views' lanes) stays true.
            list.__setitem__(cluster.trace, pos, op)
        self.settled = True

    def raise_if_stopped(self, stop: Any) -> None:
        """A Ctrl-C that came during the last round, tick or delivery: the call completed as
        recorded; raise the `KeyboardInterrupt` now."""
        if stop.requested:
            self.settled = True
            raise KeyboardInterrupt

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Literal[False]:
        cluster = self.cluster
        if exc_type is None:
            if cluster.check_every_step:
                failed = [v for v in cluster.check() if not v.ok]
                if failed:
                    raise InvariantViolation(failed, cluster.trace)
            _checkpoints.after_operation(cluster)
            return False
        if not self.settled and not issubclass(exc_type, RECORDED_REFUSALS):
            _checkpoints.restore(cluster, self.position, self.then)
        return False


def replay_operations(cluster: Cluster, items: Iterable[Any]) -> None:
    """Perform the operations among `items` on `cluster` as `Cluster.replay` does: a refused
    proposal or compaction is refused again (and recorded the same way), invariants are not checked
    on the way (a trace that ended in a violation must replay up to it); the cluster's
    ``check_every_step`` is the one its trace was created with afterwards."""
    cluster.check_every_step = False
    for item in items:
        if isinstance(item, Operation):
            try:
                item.apply(cluster)
            except RECORDED_REFUSALS:
                pass
    cluster.check_every_step = cluster.trace[0].check_every_step


def _recorded_variant(variant: Variant) -> tuple[Optional[str], Optional[str]]:
    """``(variant, variant_name)`` as `ClusterCreated` records them: the importable name (None for
    the reference), or None and the name of a variant that cannot be imported back."""
    if variant == REFERENCE:
        return None, None
    name = importable_name(variant)
    return (name, None) if name is not None else (None, variant.name)


@overload
def _as_int(value: Any, what: Optional[str], error: type[Exception]) -> int: ...
@overload
def _as_int(value: Any, what: Optional[str], error: None) -> Optional[int]: ...
def _as_int(value: Any, what: Optional[str], error: Optional[type]) -> Optional[int]:
    """`value` as a plain int (``operator.index``: numpy integers become ints). Not an integer (or a
    bool): raise ``error(f"{what} is an integer, not ...")``, or return None when `error` is None."""
    if type(value) is int:
        return value
    if not isinstance(value, bool):
        try:
            return operator.index(value)
        except TypeError:
            pass
    if error is None:
        return None
    raise error(f"{what} is an integer, not {value!r}")


def _optional_index(idx: Any, where: str) -> Optional[int]:
    if idx is None:
        return None
    number = _as_int(idx, f"{where}: the log index", BadInput)
    if number < 0:
        raise BadInput(f"{where}: log indexes start at 0, not {idx!r}")
    return number


def _validate_priorities(priorities: Mapping) -> dict[int, int]:
    """A ``leader_priority`` dict with plain-int pids and priorities, sorted by pid."""
    checked = {}
    for pid, priority in priorities.items():
        number = _as_int(pid, "leader_priority={pid: priority}: a pid", InvalidConfiguration)
        if number <= 0:
            raise InvalidConfiguration(f"leader_priority={{pid: priority}}: pids are positive integers, not {pid!r}")
        checked[number] = _as_int(priority, f"leader_priority: node {number}'s priority", InvalidConfiguration)
    return dict(sorted(checked.items()))


def _validate_pids(nodes: Any, where: str) -> list[int]:
    try:
        given = list(nodes)
    except TypeError:
        raise InvalidConfiguration(f"{where} takes a list of pids such as [1, 2, 3], not {nodes!r}") from None
    pids = []
    for pid in given:
        number = _as_int(pid, None, None)
        if number is None or number <= 0:
            raise InvalidConfiguration(f"{where}: pids are positive integers, not {pid!r}")
        pids.append(number)
    if len(set(pids)) != len(pids):
        raise InvalidConfiguration(f"{where}: each pid once, please ({pids} repeats one)")
    if len(pids) < 2:
        raise InvalidConfiguration(f"{where}: a cluster needs at least two nodes, e.g. [1, 2, 3]")
    return pids


def _validate_count(n: Any, where: str) -> int:
    number = _as_int(n, None, None)
    if number is None or number < 1:
        raise BadInput(f"{where} takes a positive number of ticks, not {n!r}")
    return number
