"""Seeded random fault campaigns: ``fuzz(seeds, steps, nodes, faults)``.

For each seed, a `Cluster` runs a random schedule of ``steps`` random choices drawn from the enabled
``faults`` mixed with ordinary deliveries and ticks, and every invariant is checked after every
operation. With every fault enabled (the default) each seed first draws a `Shape`, an adversary's
habit (`SHAPES`: plain; stale-control, which delays control messages on the wire and lets them race
their successors; flaky-type, a link that loses most messages of one type, replies above all; and
leader-churn, crashes of the leader with clients retrying at recovered nodes, reconfigurations
while nodes are down). A campaign restricted to some faults draws from the plain mix of those.
A choice may be recorded as several operations (a burst of drops, or a run while a message is held,
delivered message by message); an operation that raises an unexpected exception fails the seed
(`UNEXPECTED`). The faults:

* ``reorder``, ``drop``, ``duplicate``: deliver an in-flight message out of order, lose it, copy it
  (drops prefer control messages and Accepted / AcceptDecide, and now and then lose every message
  of that type in flight at once);
* ``delay``: hold a message back and deliver it much later (10 to 150 choices on, or just ahead of
  a newer message of its type to the same node, `RACE_RELEASE`), across
  elections, resends and whole leader sessions. A control message (AcceptSync, Prepare, Promise,
  AcceptStopSign, Decide, PrepareReq) is chosen whenever one is in flight (a stale one arriving
  late is what breaks a replica), any other only now and then. While a message is held the schedule delivers the others
  one `step(id)` at a time and lets time pass with `tick`, never `run` or `deliver_all` (which would
  deliver it);
* ``crash`` (and recover), ``cut`` (one link, sometimes one way, and heal it), ``partition`` (and
  heal everything);
* ``append``: puts at random nodes; ``compact``: `trim` and `snapshot` at the leader (or at a node,
  for a local snapshot);
* ``reconfigure``: up to `MAX_RECONFIGURATIONS` reconfigurations one after the other (each replaces
  a member by a new node once the previous StopSign is decided), with crashes and trims in between.

Then `Cluster.check_progress` (in place): heal, recover every node, and require that the newest
configuration has a leader, no StopSign undecided, every new member started and a fresh put applied
at every member within ``progress_ticks`` ticks, and then that no replica still holds a proposal
back (`invariants.no_silent_proposal_loss`); then every invariant once more.

A failing seed comes back as a replayable trace, shrunk to the fewest operations that still fail
the same way (``Cluster.replay(row.trace)``; ``row.trace.script()`` prints the calls). The schedule
is drawn from the cluster's own seeded generator, so a seed always means the same schedule.

``run_campaign`` returns plain `FuzzResult` records; `fuzz` puts them in a DataFrame (one row per
seed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from omnilab.replica.errors import CompactionErr, ProposeErr, SnapshotUnsupported
from omnilab.replica.messages import (
    AcceptDecide,
    Accepted,
    AcceptStopSign,
    AcceptSync,
    Decide,
    Prepare,
    PrepareReq,
    Promise,
)

from . import invariants
from .cluster import Cluster
from .errors import BadInput
from .ledger import Verdict
from .trace import (
    Crash,
    Cut,
    DeliverAll,
    Delivered,
    Drop,
    Dropped,
    Duplicate,
    Duplicated,
    Heal,
    Operation,
    Partition,
    Put,
    Reconfigure,
    Recover,
    Run,
    SnapshotLog,
    Step,
    Tick,
    Trace,
    TrimLog,
)

#: Every fault a campaign can inject.
FAULTS = ("reorder", "drop", "duplicate", "delay", "crash", "cut", "partition", "append", "compact", "reconfigure")
#: The messages a ``delay`` prefers: a stale one of these, arriving late, is what breaks a replica.
CONTROL_MESSAGES = (AcceptSync, Prepare, Promise, AcceptStopSign, Decide, PrepareReq)
#: A delay holds a control message whenever one is in flight; when none is, it holds another
#: message (mostly heartbeats) with this probability, else it waits.
OTHER_DELAY = 0.2
#: The messages a ``drop`` prefers: the control messages and the replies that count towards a
#: decision (a lost Accepted for a StopSign must not stall a reconfiguration).
DROPPED_MORE = CONTROL_MESSAGES + (Accepted, AcceptDecide)
#: How much likelier one of those is to be dropped than any other (heartbeats are most of the traffic).
DROP_BIAS = 4
#: How often a drop is a burst: every in-flight message of the dropped one's type is lost with it
#: (both followers' Accepted replies to one AcceptStopSign, say), one `drop(id)` each.
BURST_DROP = 0.3
#: A held message is released this many operations later (drawn uniformly) ...
DELAY_RANGE = (10, 150)
#: ... or earlier, just ahead of a newer message of its type to the same node: each time one appears,
#: the held one is released first with this probability (the stale copy racing the fresh one).
RACE_RELEASE = 0.5
#: The replies a follower sends its leader: a flaky seed loses one of these types this much more often
#: than another (a lost reply is answered only by a resend, a lost request often by the next one).
REPLIES = (Accepted, Promise)
FLAKY_REPLY_BIAS = 3
#: Messages held back at once, at most (holding many stalls everything, which hides the races).
MAX_HELD = 2
#: Deliveries of one run at most, message by message (see ``run`` while holding).
MAX_DRAIN = 60
#: Reconfigurations per seed, at most.
MAX_RECONFIGURATIONS = 3
#: The name a failed progress check gets, next to the invariants' names.
PROGRESS = invariants.PROGRESS
#: Stop shrinking after this many replays of candidate schedules.
SHRINK_BUDGET = 1000

#: The operation kinds a schedule mixes, with their weights in the plain mix. Each kind needs one
#: fault enabled (`_NEEDS`), except deliveries and the passing of time.
PLAIN_MIX = {"deliver": 30, "tick": 8, "run": 5, "deliver_all": 3, "reorder": 10, "drop": 4, "duplicate": 3,
             "delay": 3, "crash": 2, "recover": 4, "cut": 3, "heal_link": 2, "partition": 1, "heal": 2,
             "append": 12, "trim": 1, "snapshot": 1, "reconfigure": 1}
_NEEDS = {"reorder": "reorder", "drop": "drop", "duplicate": "duplicate", "delay": "delay", "crash": "crash",
          "recover": "crash", "cut": "cut", "heal_link": "cut", "partition": "partition", "heal": "partition",
          "append": "append", "trim": "compact", "snapshot": "compact", "reconfigure": "reconfigure"}


@dataclass(frozen=True)
class Shape:
    """One way of mixing the faults: an adversary's habit. ``weights`` change the plain mix
    (`PLAIN_MIX`); ``flaky`` is the probability that a message of the seed's flaky type (drawn
    from `DROPPED_MORE`) is lost instead of delivered, whenever a delivery reaches one (a link that
    loses one kind of message, e.g. every other Accepted); ``crash_leader`` the probability that a
    crash hits the leader; ``retry_after_recover`` the probability that a recovered node gets a
    client write at once (a client retrying at the node that just came back, before it is synced)."""

    name: str
    weights: tuple = ()
    share: int = 1
    stepwise: bool = False
    hold: float = 0.0
    flaky: float = 0.0
    crash_leader: float = 0.0
    retry_after_recover: float = 0.0

    def mix(self) -> dict:
        return {**PLAIN_MIX, **dict(self.weights)}


#: The shapes a default campaign draws from, one per seed (each equally likely):
#:
#: * ``plain``: everything a little, deliveries mostly in order;
#: * ``stale-control``: many delays (control messages held across resends, re-promises and whole
#:   sessions, released late or just ahead of their successor), lost AcceptDecides that make
#:   followers re-promise, and time passing while messages are held;
#: * ``flaky-type``: one message type (Accepted, AcceptDecide, AcceptStopSign, Promise, ...) is lost
#:   half the time, messages are delivered one by one (a lost reply has no second chance but the
#:   resend), with reconfigurations to stall;
#: * ``leader-churn``: crashes, mostly of the leader, recoveries with a client write at the node that
#:   just came back, and reconfigurations while nodes are down.
SHAPES = (
    Shape("plain"),
    Shape("stale-control", (("delay", 6), ("drop", 6), ("tick", 2), ("run", 12), ("deliver", 20),
                            ("reorder", 6), ("append", 16)), share=3, stepwise=True, hold=0.15),
    Shape("flaky-type", (("run", 10), ("deliver_all", 1), ("tick", 2), ("reconfigure", 5), ("append", 14),
                         ("crash", 0), ("recover", 1), ("partition", 0), ("cut", 0), ("heal_link", 0)),
          share=3, stepwise=True, flaky=0.8),
    Shape("leader-churn", (("crash", 5), ("recover", 6), ("reconfigure", 4), ("append", 14), ("run", 6)),
          crash_leader=0.7, retry_after_recover=0.6),
)
PLAIN = SHAPES[0]


def shapes_for(faults: Iterable[str]) -> tuple[Shape, ...]:
    """The shapes a campaign with `faults` draws from: all of `SHAPES` with every fault enabled (the
    default); a campaign restricted to some faults uses the plain mix of those."""
    return SHAPES if set(faults) >= set(FAULTS) else (PLAIN,)


@dataclass
class FuzzResult:
    """One seed of a campaign. ``violation`` is the failed invariant's name ("" when all held);
    ``trace`` is the shrunk failing trace (None when the seed passed); ``shape`` the campaign shape
    the seed drew (`SHAPES`)."""

    seed: int
    ops: int
    events: int
    delivered: int
    dropped: int
    duplicated: int
    crashes: int
    decided: int
    reconfigured: bool
    violation: str = ""
    message: str = ""
    shrunk_ops: Optional[int] = None
    trace: Optional[Trace] = field(default=None, repr=False)
    shape: str = "plain"

    @property
    def ok(self) -> bool:
        return not self.violation

    def row(self) -> dict:
        return {"seed": self.seed, "ok": self.ok, "violation": self.violation, "message": self.message,
                "ops": self.ops, "events": self.events, "delivered": self.delivered, "dropped": self.dropped,
                "duplicated": self.duplicated, "crashes": self.crashes, "decided": self.decided,
                "reconfigured": self.reconfigured, "shrunk_ops": self.shrunk_ops, "shape": self.shape,
                "trace": self.trace}


# --- drawing a schedule ---------------------------------------------------------------------------

class ScheduleDrawer:
    """Draws the next random operation for a cluster from its seeded generator.

    It first draws the seed's `Shape` (from `shapes_for`; no draw when there is only one), and for a
    flaky shape the message type it loses. It remembers the messages it holds back (``held``:
    message id -> the operation count at which it is released) and, while it holds any, never draws
    an operation that would deliver them."""

    def __init__(self, cluster: Cluster, faults: Iterable[str]) -> None:
        self.cluster = cluster
        self.rng = cluster.random
        self.faults = set(faults)
        unknown = self.faults - set(FAULTS)
        if unknown:
            raise BadInput(f"unknown fault(s) {sorted(unknown)}; choose from {list(FAULTS)}")
        shapes = shapes_for(self.faults)
        self.shape: Shape = shapes[0] if len(shapes) == 1 else self.rng.choices(shapes, [x.share for x in shapes])[0]
        self.flaky_type: Optional[type] = None
        if self.shape.flaky:
            types = sorted(DROPPED_MORE, key=_by_name)
            self.flaky_type = self.rng.choices(types, [FLAKY_REPLY_BIAS if t in REPLIES else 1 for t in types])[0]
        self.values = 0
        self.reconfigurations = 0
        #: random choices made so far (the campaign's ``steps``); a burst of drops, a release and
        #: the deliveries of a run while holding are part of the choice that caused them.
        self.choices = 0
        #: deliveries left of a run that delivers message by message (while holding, or flaky).
        self.draining = 0
        self.held: dict[int, int] = {}
        #: for each held message, the newer messages of its type to its receiver already raced with it.
        self.raced: dict[int, set] = {}
        #: operations already decided on, drawn before anything else (the rest of a burst of drops).
        self.queue: list[Operation] = []
        table = self.shape.mix()
        self.kinds = [k for k in table if _NEEDS.get(k, k) in self.faults or k not in _NEEDS]
        self.weights = [table[k] for k in self.kinds]

    @property
    def reconfigured(self) -> bool:
        return self.reconfigurations > 0

    def draw(self) -> Operation:
        in_flight = self.cluster.network.in_flight
        for gone in [m for m in self.held if m not in in_flight]:
            del self.held[gone]  # delivered or dropped meanwhile (a shrunk schedule, a crash)
            self.raced.pop(gone, None)
        op: Optional[Operation]
        while self.queue:
            op = self.queue.pop(0)
            msg_id = getattr(op, "msg_id", None)
            if msg_id is None or msg_id in in_flight:
                return op
        due = [m for m, at in self.held.items() if at <= self.choices] or self._racing()
        if due:
            del self.held[due[0]]
            self.raced.pop(due[0], None)
            return Step(due[0])  # the release, much later (or just ahead of its successor)
        if self.draining:
            self.draining -= 1
            op = self._make("deliver")
            if op is not None:
                return op
            self.draining = 0
        self.choices += 1
        while True:
            kind = self.rng.choices(self.kinds, self.weights)[0]
            op = self._make(kind)
            if op is not None:
                return op

    def _racing(self) -> list[int]:
        """A held message to release now, ahead of a newer one of its type to the same node that has
        just appeared (each newer one gets one chance, `RACE_RELEASE`)."""
        in_flight = self.cluster.network.in_flight
        for held_id in self.held:
            env = in_flight[held_id]
            msg_type, raced = _message_class(env), self.raced.setdefault(held_id, set())
            for msg_id, other in in_flight.items():
                if (msg_id > held_id and msg_id not in raced and msg_id not in self.held
                        and other.receiver == env.receiver and _message_class(other) == msg_type):
                    raced.add(msg_id)
                    if self.rng.random() < RACE_RELEASE:
                        return [held_id]
        return []

    def _free(self) -> list[int]:
        """In-flight message ids not held back."""
        held = self.held
        return [m for m in self.cluster.network.in_flight if m not in held]

    def _make(self, kind: str) -> Optional[Operation]:
        cluster, rng, shape = self.cluster, self.rng, self.shape
        in_flight = cluster.network.in_flight
        servers = cluster.servers
        holding = bool(self.held)
        if kind == "deliver":
            if not holding and not shape.stepwise:
                return Step() if in_flight else None
            for msg_id in self._free():
                msg_type = _message_class(in_flight[msg_id])
                if msg_type == self.flaky_type and rng.random() < shape.flaky:
                    return Drop(msg_id)  # the flaky link loses this one
                if (shape.hold and msg_type in CONTROL_MESSAGES and len(self.held) < MAX_HELD
                        and rng.random() < shape.hold):
                    self.held[msg_id] = self.choices + rng.randint(*DELAY_RANGE)  # delayed on the wire
                    continue
                return Step(msg_id) if self.held else Step()
            return None
        if kind == "tick":
            return Tick()
        if kind in ("run", "deliver_all"):
            if holding or shape.stepwise:
                # `run` / `deliver_all` would deliver what I hold (or spare what the flaky link loses):
                # deliver the rest one message at a time instead, as many draws as it takes
                self.draining = MAX_DRAIN
                return Tick() if kind == "run" else self._make("deliver")
            return Run(1) if kind == "run" else DeliverAll()
        if kind in ("reorder", "duplicate"):
            free = self._free() if holding else list(in_flight)
            if not free:
                return None
            msg_id = rng.choice(free)
            return Step(msg_id) if kind == "reorder" else Duplicate(msg_id)
        if kind == "drop":
            free = self._free() if holding else list(in_flight)
            if not free:
                return None
            weights = [DROP_BIAS if _message_class(in_flight[m]) in DROPPED_MORE else 1 for m in free]
            msg_id = rng.choices(free, weights)[0]
            if rng.random() < BURST_DROP:  # a burst: every message of that type in flight is lost
                msg_type = _message_class(in_flight[msg_id])
                self.queue.extend(Drop(m) for m in free if m != msg_id and _message_class(in_flight[m]) == msg_type)
            return Drop(msg_id)
        if kind == "delay":
            free = self._free() if holding else list(in_flight)
            if not free:
                return None
            if len(self.held) >= MAX_HELD:
                return None
            control: dict[type, list[int]] = {}
            for m in free:
                msg_type = _message_class(in_flight[m])
                if msg_type in CONTROL_MESSAGES:
                    control.setdefault(msg_type, []).append(m)
            if control:
                # a type first, then one of its messages: the rare ones (an AcceptSync, a PrepareReq)
                # are held as often as the Prepares a leader repeats every resend
                msg_id = rng.choice(control[rng.choice(sorted(control, key=_by_name))])
            elif rng.random() < OTHER_DELAY:
                msg_id = rng.choice(free)
            else:
                return None  # mostly heartbeats in flight: wait for a control message to hold
            self.held[msg_id] = self.choices + rng.randint(*DELAY_RANGE)
            return Tick()  # holding is not an operation of its own: time passes while it waits
        if kind == "crash":
            up = [p for p, s in servers.items() if s.up]
            if not up:
                return None
            leader = cluster.leader()
            if leader in up and shape.crash_leader and rng.random() < shape.crash_leader:
                return Crash(leader)
            return Crash(rng.choice(up))
        if kind == "recover":
            down = [p for p, s in servers.items() if not s.up]
            if not down:
                return None
            pid = rng.choice(down)
            if shape.retry_after_recover and rng.random() < shape.retry_after_recover:
                self.values += 1
                self.queue.append(Put(rng.choice("abc"), self.values, pid))  # the client retries there
            return Recover(pid)
        if kind == "cut":
            a, b = rng.sample(list(servers), 2)
            return Cut(a, b, rng.random() < 0.3)
        if kind == "heal_link":
            a, b = rng.sample(list(servers), 2)
            return Heal(a, b)
        if kind == "partition":
            pids = list(servers)
            rng.shuffle(pids)
            split = rng.randint(1, len(pids) - 1)
            return Partition((tuple(sorted(pids[:split])), tuple(sorted(pids[split:]))))
        if kind == "heal":
            return Heal()
        ready = [p for p, s in servers.items() if s.up and s.instances]
        if not ready:
            return None
        if kind == "append":
            self.values += 1
            return Put(rng.choice("abc"), self.values, rng.choice(ready))
        if kind == "trim":
            return TrimLog(None, None)  # at the leader, as far as every node accepted
        if kind == "snapshot":
            local = rng.random() < 0.3
            return SnapshotLog(None, rng.choice(ready) if local else None, local)
        if kind == "reconfigure":
            if self.reconfigurations >= MAX_RECONFIGURATIONS or _stopsign_pending(cluster):
                return None
            self.reconfigurations += 1
            config_id, current = invariants.newest_members(cluster)
            newcomer = max(servers) + 1
            leaving = rng.choice(current)
            nodes = [p for p in current if p != leaving] + [newcomer]
            at = [p for p in ready if servers[p].config_id == config_id] or ready
            return Reconfigure(tuple(sorted(nodes)), rng.choice(at))
        raise AssertionError(kind)


def _message_class(env: Any) -> type:
    """The class of the protocol message `env` carries (a replica message or a service message)."""
    return type(env.payload)


def _by_name(cls: type) -> str:
    # message classes are drawn from in the order of their names, so that a seed draws the same
    # schedule on every run
    return cls.__name__


def _stopsign_pending(cluster: Cluster) -> bool:
    """Some server of the newest configuration holds a StopSign not decided yet."""
    for server in cluster.servers.values():
        omni = server.omnipaxos if server.up else None
        if omni is not None and omni.storage.get_stopsign() is not None and omni.is_reconfigured() is None:
            return True
    return False


# --- running one schedule -------------------------------------------------------------------------

def _perform(cluster: Cluster, op: Operation) -> None:
    """Apply `op`, ignoring what a random schedule may legitimately run into: a refused proposal or
    compaction, or (while shrinking) an operation that no longer makes sense (a message id that was
    never sent)."""
    try:
        op.apply(cluster)
    except (ProposeErr, CompactionErr, SnapshotUnsupported, BadInput):
        pass


#: The name of the failure of an operation that raised an unexpected exception (a replica that
#: crashed on a message, say): the campaign reports it like a violated invariant and shrinks it.
UNEXPECTED = "UnexpectedException"


def _perform_checked(cluster: Cluster, op: Operation) -> Optional[Verdict]:
    """`_perform` `op`, then every invariant; the first failure, or None. An exception that
    `_perform` does not expect is a failure too (`UNEXPECTED`)."""
    try:
        _perform(cluster, op)
    except Exception as err:  # noqa: BLE001 - any crash of the code under test is a finding
        return Verdict(False, UNEXPECTED, f"{op.call() if hasattr(op, 'call') else op!r} raised "
                       f"{type(err).__name__}: {err}")
    return _first_failure(cluster)


def _first_failure(cluster: Cluster) -> Optional[Verdict]:
    for verdict in cluster.check():
        if not verdict.ok:
            return verdict
    return None


def settle_and_probe(cluster: Cluster, progress_ticks: int = 60) -> Optional[Verdict]:
    """The end of every campaign: `Cluster.check_progress` in place (heal, recover every node, run,
    and require a leader, a decided StopSign, started new members and a fresh put applied at every
    member within `progress_ticks` ticks; its calls are recorded, so a failing trace replays to the
    failure), then every invariant once more. Returns the first failure, or None."""
    progress = cluster.check_progress(progress_ticks, in_place=True)
    failure = _first_failure(cluster)
    if failure is not None:
        return failure
    return None if progress.ok else progress


def execute(seed: int, nodes: list[int], ops: list[Operation], cluster_options: dict,
            progress_ticks: int = 60) -> tuple[Cluster, Optional[Verdict]]:
    """Run a fixed schedule `ops` on a fresh cluster, checking after every operation, then settle and
    probe for progress. Returns the cluster and the first failure (None if everything held)."""
    cluster = Cluster(nodes, seed=seed, **cluster_options)
    for op in ops:
        failure = _perform_checked(cluster, op)
        if failure is not None:
            return cluster, failure
    try:
        return cluster, settle_and_probe(cluster, progress_ticks)
    except Exception as err:  # noqa: BLE001
        return cluster, Verdict(False, UNEXPECTED, f"the final progress check raised {type(err).__name__}: {err}")


def shrink(seed: int, nodes: list[int], ops: list[Operation], name: str, cluster_options: dict,
           progress_ticks: int = 60, budget: int = SHRINK_BUDGET) -> list[Operation]:
    """The shortest sub-schedule of `ops` found (delta debugging) that still fails invariant `name`."""
    runs = 0

    def fails(candidate: list[Operation]) -> bool:
        nonlocal runs
        runs += 1
        _, failure = execute(seed, nodes, candidate, cluster_options, progress_ticks)
        return failure is not None and failure.name == name

    granularity = 2
    while len(ops) >= 2 and runs < budget:
        chunk = -(-len(ops) // granularity)
        for start in range(0, len(ops), chunk):
            candidate = ops[:start] + ops[start + chunk:]
            if runs >= budget:
                break
            if fails(candidate):
                ops = candidate
                granularity = max(granularity - 1, 2)
                break
        else:
            if granularity >= len(ops):
                break
            granularity = min(len(ops), granularity * 2)
    return ops


def run_seed(seed: int, steps: int = 100, nodes: Iterable[int] | int = 3, faults: Iterable[str] = FAULTS, *,
             shrink_failures: bool = True, progress_ticks: int = 60, **cluster_options: Any) -> FuzzResult:
    """One seed of a campaign (see the module docstring)."""
    pids = list(range(1, nodes + 1)) if isinstance(nodes, int) else list(nodes)
    cluster = Cluster(pids, seed=seed, **cluster_options)
    drawer = ScheduleDrawer(cluster, faults)
    ops: list[Operation] = []
    failure = None
    while drawer.choices < steps:
        op = drawer.draw()
        ops.append(op)
        failure = _perform_checked(cluster, op)
        if failure is not None:
            break
    if failure is None:
        try:
            failure = settle_and_probe(cluster, progress_ticks)
        except Exception as err:  # noqa: BLE001
            failure = Verdict(False, UNEXPECTED, f"the final progress check raised {type(err).__name__}: {err}")
    stats = _statistics(cluster)
    result = FuzzResult(seed, len(ops), **stats, reconfigured=cluster.config_id > 1, shape=drawer.shape.name)
    if failure is not None:
        result.violation, result.message = failure.name, failure.message
        trace = cluster.trace
        if shrink_failures:
            small = shrink(seed, pids, ops, failure.name, cluster_options, progress_ticks)
            shrunk, again = execute(seed, pids, small, cluster_options, progress_ticks)
            if again is not None and again.name == failure.name:
                trace, result.message = shrunk.trace, again.message
                result.shrunk_ops = len(small)
        result.trace = trace
    return result


def _statistics(cluster: Cluster) -> dict:
    delivered = dropped = duplicated = crashes = 0
    for item in cluster.trace:
        kind = type(item)
        if kind is Delivered:
            delivered += 1
        elif kind is Dropped:
            dropped += 1
        elif kind is Duplicated:
            duplicated += 1
        elif kind is Crash:
            crashes += 1
    decided = sum(1 for (config_id, idx) in cluster.ledger.slots)
    return {"events": len(cluster.trace), "delivered": delivered, "dropped": dropped, "duplicated": duplicated,
            "crashes": crashes, "decided": decided}


def run_campaign(seeds: Iterable[int] | int = 100, steps: int = 100, nodes: Iterable[int] | int = 3,
                 faults: Iterable[str] = FAULTS, **options: Any) -> list[FuzzResult]:
    """`run_seed` for every seed (``seeds`` = a count means ``range(seeds)``)."""
    seed_list = range(seeds) if isinstance(seeds, int) else list(seeds)
    faults = tuple(faults)
    return [run_seed(seed, steps, nodes, faults, **options) for seed in seed_list]


def fuzz(seeds: Iterable[int] | int = 100, steps: int = 100, nodes: Iterable[int] | int = 3,
         faults: Iterable[str] = FAULTS, **options: Any):
    """Run a campaign and return a DataFrame with one row per seed: ``ok``, ``violation``,
    ``message``, counts of what happened, and the shrunk failing ``trace`` (None for passing seeds).

    ``seeds``: a count (``range(seeds)``) or the seeds themselves; ``steps``: random operations per
    seed; ``nodes``: a count or the pids of configuration 1; ``faults``: a subset of `FAULTS`.
    Keyword options: ``shrink_failures=True``, ``progress_ticks=60``, and `ServerConfig` fields
    passed through to every `Cluster`.
    """
    import pandas as pd

    results = run_campaign(seeds, steps, nodes, faults, **options)
    return pd.DataFrame([r.row() for r in results]).set_index("seed")
