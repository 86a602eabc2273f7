"""Exhaustive exploration: every schedule within small bounds, and the shortest one that breaks an
invariant, replayable in the lab.

``explore(start, ...)`` searches breadth-first over the choices a scheduler (the network, the clock,
the clients, the operator) has at each state of a `Cluster`:

* deliver any in-flight message (``cluster.step(id)``), drop one (``drop``, within ``drops``),
  duplicate one (``duplicate``, within ``duplicates``);
* tick (``cluster.tick()``: every live server runs one timer round; within ``ticks``). Ticks are
  global, a decision: the replica's only timers are its election round and its resend timeout, and
  asynchrony is already modelled by holding any message back for as long as the search likes, so a
  node "slower" than another is a node whose messages wait. Ticking one node alone is not a choice;
* crash a live node (within ``crashes``) or recover a crashed one;
* a client write ``put(key, value, at=pid)`` (within ``appends``; a follower forwards it to its
  leader), the i-th write being ``put("k<i>", i)``;
* a reconfiguration ``reconfigure(nodes, at=pid)`` to each node list in ``reconfigure_to`` (within
  ``reconfigurations``);
* a leader change ``try_become_leader(pid)`` (within ``elections``): the node starts a Prepare
  phase with a ballot above its promise, as the leader-election stub of the OmniPaxos TLA+ model
  does.

Writes, reconfigurations and leader changes are made at every live, started node, or only at the
nodes in ``at``. With ``at="leader"``, writes and reconfigurations go only to a node that believes
itself the leader (its `get_current_leader` names itself, in either phase), as a client that finds
the leader does, and leader changes may still start at any node. ``at="named"`` (with ``leaders``)
goes one step closer to the TLA+ model, whose clients send each proposal to the leader its
election stub named last: writes and reconfigurations go only to the node of the latest leader
change, or, before the first one, to a node that believes itself leader. With ``leaders=(p1, p2, ...)``
the i-th leader change is made at ``pi`` and nowhere else, as the leader-election stub of the
OmniPaxos TLA+ model names each next leader itself (``elections`` defaults to ``len(leaders)``).
They only narrow the choices, and they read nothing the state leaves out (who believes itself
leader is in the servers, how many leader changes were made is in the budgets used, and with
``leaders`` that names the node of the latest one), so each
distinct state is still visited once. A crashed node may always recover.

**Links.** By default any message in flight may be delivered next: the network may reorder, as
OmniPaxos allows between sessions. With ``fifo=True`` the links are reliable and FIFO, as in the
OmniPaxos TLA+ model: only the oldest message in flight on each (sender, receiver) link may be
delivered, nothing is lost or repeated (``drops`` and ``duplicates`` must be 0), and the state keeps
each link's order rather than a multiset. Far fewer schedules, and some faults are out of reach:
``accept-lower-ballot`` is caught from ``contested`` only when messages may overtake one another
(notebook 09 shows both searches).

**States.** Each distinct state is visited once: a state is `Cluster.fingerprint`'s canonical state
(`omnilab.sim.fingerprint`: every server, the multiset of messages in flight without their ids, the
cut links; the clock, trace, ledger and random generator left out) together with the budgets used so
far. The search stores a 64-bit hash of that per state with a parent pointer (the state it was
first reached from and the choice taken, a message named by its content, not its id), never the
state itself; only the frontier holds clusters. The counterexample is rebuilt by replaying the
choices from the start with public `Cluster` calls, so it is an ordinary trace:
``Cluster.replay(result.counterexample)`` and ``omnilab.lab(...)`` play it step by step, and
``result.script()`` prints it as Cluster calls.

What leaving the ledger out assumes: two schedules that reach the same servers and network have
the same future, and the invariants are checked on the first (shortest) one that reaches it. A
violation that only the recorded history of a later, longer path to the same state would show
(evidence the ledger keeps about the past, such as the order in which client writes completed) is
not looked for again.

After every new state the invariants are checked (default: all of `Cluster.check`; ``invariants``
names a subset). The frontier is taken lowest depth first, so the first violation found has a
shortest schedule; the tests compare its length with the search without the reduction.

**Partial-order reduction (sleep sets).** Two choices are *independent* when both are network
choices (a delivery or a drop) on different messages and they are not both deliveries to the same
receiver. The reduction assumes, and the simulator guarantees, that independent choices commute and
do not disable each other: delivering to node A changes only server A, the messages A sends and the
ledger's evidence about A; delivering to B, or dropping a message, reads none of it, and neither
removes the other's message from flight. Under that assumption sleep sets prune *transitions only,
never states*: after exploring ``a`` then ``b`` from a state, the search does not also explore ``b``
then ``a``, since both reach the same state. Every reachable state within the bounds is still
visited (a state reached again with fewer choices asleep is expanded again, for the choices it
slept on before), so no reachable violation is lost, and the distinct-state count is the same with
and without the reduction (``reduction=False`` turns it off; the tests compare both). Messages equal
in content (sender, receiver, configuration, payload) are one choice: delivering either gives the
same state.

Bounds: ``depth`` (choices after the start), ``max_states`` (distinct states), ``seconds`` (wall
time: the only clock here, and it only decides when to stop, never what is explored). ``exhausted``
says the search ran out of states to expand within the depth bound before any other bound or a
violation stopped it.

**Workers.** ``workers=n`` runs the search on n processes forked from this one
(`omnilab.sim.workers`): level by level, each worker expanding its share of a level, the levels
merged here in the order one process meets the states. The distinct states, depth, state count and
shortest counterexample are the same as one process's (the tests compare); the sleep sets are not
used there (they prune transitions only). On this project's 2-core bench machine, in one run of
``bench/explore.py 120``, two workers took bound (a) from 8,205 to 11,441 distinct states/s, and
exhausted it to depth 16 (1,233,463 states) in 117 s, against 174 s on one process.

Named starts (``STARTS``) are staged searches in the way of DSLabs: a set-up prefix built by public
calls (an elected cluster, a decided write, a StopSign proposed, a rival candidate) together with
the budgets worth exploring from there; ``unelected`` has no prefix at all (nobody elected, nothing
in flight: the initial state of the OmniPaxos TLA+ model). ``explore("steady", variant="decide-without-write-quorum")``.
``CATALOGUE`` names the start each mutant of `omnilab.sim.mutants` is caught from.
"""

from __future__ import annotations

import gc
import html
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Sequence

from omnilab.presentation import present
from omnilab.replica.errors import CompactionErr, ProposeErr

from .cluster import RECORDED_REFUSALS, Cluster
from .errors import BadInput, SimulationError
from .ledger import Verdict
from .memo import Interner, Successors, message_key
from .trace import Operation, Trace

# --- choices --------------------------------------------------------------------------------------
#
# A choice is a small tuple. In the search a network choice names its message by number
# (`omnilab.sim.memo.Interner`: one number per message content, ids aside, since ids differ between
# two paths to the same state): ("step", number, receiver), ("drop", number, receiver),
# ("duplicate", number, receiver). In a result (``ExploreResult.choices``) it names it by content:
# ("step", key) with key = (sender, receiver, config_id, message). The others: ("tick",),
# ("crash", pid), ("recover", pid), ("put", pid, key, value), ("reconfigure", pid, nodes),
# ("elect", pid).

_NETWORK = ("step", "drop")
#: budget slots, in the order the state key records how much of each was used.
BUDGETS = _BUDGETS = ("appends", "crashes", "reconfigurations", "elections", "ticks", "drops", "duplicates")
#: the other bounds given by keyword.
_OPTIONS = ("reconfigure_to", "at", "leaders", "fifo")
_SLOT = {"put": 0, "crash": 1, "reconfigure": 2, "elect": 3, "tick": 4, "drop": 5, "duplicate": 6}


def _independent(a: tuple, b: tuple) -> bool:
    """Whether search choices `a` and `b` commute (see the module docstring): both network choices
    on different messages, not both deliveries to the same receiver."""
    if a[0] not in _NETWORK or b[0] not in _NETWORK or a[1] == b[1]:
        return False
    return not (a[0] == "step" and b[0] == "step" and a[2] == b[2])


def _find_message(cluster: Cluster, key: tuple) -> int:
    """The id of the oldest in-flight message with content `key`."""
    for env in cluster.network.in_flight.values():
        if env.receiver == key[1] and env.sender == key[0] and message_key(env) == key:
            return env.id
    raise SimulationError(f"no message {key!r} is in flight: the explorer's replay diverged")


def _apply(cluster: Cluster, choice: tuple, find: Callable[[Cluster, Any], int] = _find_message) -> None:
    """Perform `choice` on `cluster` through its public methods (`find` gives the id of the message
    a network choice names). A refused proposal is a state too (recorded as refused), so ProposeErr
    is swallowed; other refusals (BadInput) propagate."""
    kind = choice[0]
    if kind == "step":
        cluster.step(find(cluster, choice[1]))
    elif kind == "drop":
        cluster.drop(find(cluster, choice[1]))
    elif kind == "duplicate":
        cluster.duplicate(find(cluster, choice[1]))
    elif kind == "tick":
        cluster.tick()
    elif kind == "crash":
        cluster.crash(choice[1])
    elif kind == "recover":
        cluster.recover(choice[1])
    elif kind == "elect":
        cluster.try_become_leader(choice[1])
    else:
        try:
            if kind == "put":
                cluster.put(choice[2], choice[3], at=choice[1])
            elif kind == "reconfigure":
                cluster.reconfigure(list(choice[2]), at=choice[1])
            else:  # pragma: no cover - every choice kind is handled above
                raise ValueError(f"unknown choice {choice!r}")
        except (ProposeErr, CompactionErr):
            pass


@dataclass(frozen=True)
class Bounds:
    """What the search may choose and how far it goes (see `explore`)."""

    depth: int = 14
    max_states: int = 200_000
    seconds: float = 60.0
    appends: int = 0
    crashes: int = 0
    reconfigurations: int = 0
    reconfigure_to: tuple = ()
    elections: int = 0
    ticks: int = 0
    drops: int = 0
    duplicates: int = 0
    #: the nodes client writes, reconfigurations and leader changes are made at (None: every live,
    #: started node; "leader": writes and reconfigurations only at a node that believes itself the
    #: leader, leader changes anywhere; "named": writes and reconfigurations only at the node of the
    #: latest leader change in `leaders`).
    at: Any = None
    #: the node of each leader change, in order (None: any node `at` allows).
    leaders: Optional[tuple] = None
    #: reliable FIFO links: only the oldest message in flight on each (sender, receiver) link may be
    #: delivered (what the OmniPaxos TLA+ model assumes; no drops or duplicates with it).
    fifo: bool = False

    def budget(self) -> tuple:
        return tuple(getattr(self, name) for name in _BUDGETS)


def _choices(cluster: Cluster, used: tuple, bounds: Bounds, budget: tuple, interner: Interner,
             ids: Optional[dict] = None, numbers: Optional[list] = None) -> list[tuple]:
    """Every choice enabled at `cluster`, in a fixed order (messages oldest first, then the rest);
    network choices name their message by its number in `interner`. When `ids` is given it is
    filled with number -> the id of the oldest envelope in flight with that content (the one a
    network choice acts on); `numbers` may give the numbers of the envelopes in flight, in order."""
    choices: list[tuple] = []
    seen: dict = ids if ids is not None else {}
    drop_left = used[5] < budget[5]
    dup_left = used[6] < budget[6]
    fifo = bounds.fifo
    links = interner.links
    heads: set = set()  # with fifo: the links whose oldest message has been met
    envelopes = cluster.network.in_flight.values()
    if numbers is None:
        numbers = [interner.message(env) for env in envelopes]
    for env, key in zip(envelopes, numbers):
        if key in seen:
            continue
        if fifo:
            link = links[key]
            if link in heads:
                continue  # behind the oldest message of its link
            heads.add(link)
        seen[key] = env.id
        receiver = env.receiver
        choices.append(("step", key, receiver))
        if drop_left:
            choices.append(("drop", key, receiver))
        if dup_left:
            choices.append(("duplicate", key, receiver))
    if used[4] < budget[4]:
        choices.append(("tick",))
    servers = cluster.servers
    live = [pid for pid, s in servers.items() if s.up and s.instances]
    at = bounds.at
    if at is None:
        clients = candidates = live
    elif at == "leader":
        clients, candidates = [pid for pid in live if _believes_leader(servers[pid])], live
    elif at == "named":
        clients, candidates = _named_leader(live, servers, bounds, used), live
    else:
        clients = candidates = [pid for pid in live if pid in at]
    if used[0] < budget[0]:
        i = used[0] + 1
        choices.extend(("put", pid, f"k{i}", i) for pid in clients)
    if used[2] < budget[2]:
        for nodes in bounds.reconfigure_to:
            choices.extend(("reconfigure", pid, tuple(nodes)) for pid in clients)
    if used[3] < budget[3]:
        if bounds.leaders is not None:
            candidates = [pid for pid in candidates if pid == bounds.leaders[used[3]]]
        choices.extend(("elect", pid) for pid in candidates)
    if used[1] < budget[1]:
        choices.extend(("crash", pid) for pid, s in servers.items() if s.up)
    choices.extend(("recover", pid) for pid, s in servers.items() if not s.up)
    return choices


def _narrowing(bounds: Bounds) -> list[str]:
    """How `bounds` narrow the network and where choices are made, in words (for summaries)."""
    parts = ["FIFO links"] if bounds.fifo else []
    if bounds.at == "leader":
        parts.append("writes at the leader")
    elif bounds.at == "named":
        parts.append("writes at the leader named last")
    elif bounds.at is not None:
        parts.append(f"at {list(bounds.at)}")
    if bounds.leaders is not None:
        parts.append(f"leader changes at {list(bounds.leaders)}")
    return parts


def _named_leader(live: list, servers: dict, bounds: Bounds, used: tuple) -> list:
    """With ``at="named"``: the node of the latest leader change (``leaders[i-1]`` after i of
    them), if it is live, whether or not it has heard of a higher ballot since; before the first
    one, the nodes that believe themselves leader (an elected start's leader)."""
    made = used[3]
    if made and bounds.leaders is not None:  # explore() refuses at="named" without leaders
        named = bounds.leaders[made - 1]
        return [named] if named in live else []
    return [pid for pid in live if _believes_leader(servers[pid])]


def _believes_leader(server: Any) -> bool:
    """Whether `server`'s newest instance names itself as the leader it follows."""
    leader = server.omnipaxos.get_current_leader()
    return leader is not None and leader[0] == server.pid


# --- the result -----------------------------------------------------------------------------------

@dataclass
class ExploreResult:
    """What `explore` found. ``explored``: states expanded; ``transitions``: choices performed;
    ``pruned``: choices the sleep sets skipped; ``distinct``: distinct states seen (the start
    included); ``depth``: the deepest state reached; ``seconds``: wall time; ``exhausted``: every
    state within the depth bound was expanded; ``stopped_by``: "violation", "exhausted", "states" or
    "seconds". ``violation``: the first violated invariant (a `Verdict`), ``counterexample``: the
    trace from the start's creation to the violating state (None when none was found),
    ``choices``: the schedule's choices after the start. On several `workers`, ``explored`` and
    ``transitions`` count the whole level the search stopped in (one process stops at the violating
    state); the other figures are the same."""

    start: str
    variant: str
    bounds: Bounds
    explored: int = 0
    transitions: int = 0
    pruned: int = 0
    distinct: int = 0
    depth: int = 0
    seconds: float = 0.0
    exhausted: bool = False
    stopped_by: str = ""
    violation: Optional[Verdict] = None
    counterexample: Optional[Trace] = field(default=None, repr=False)
    choices: tuple = ()
    prefix_ops: int = 0
    #: the processes that searched (`explore`'s ``workers``).
    workers: int = 1
    _variant_object: Any = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.violation is None

    @property
    def length(self) -> Optional[int]:
        """How many choices after the start the counterexample takes (None without one)."""
        return None if self.violation is None else len(self.choices)

    @property
    def states_per_second(self) -> float:
        return self.distinct / self.seconds if self.seconds > 0 else 0.0

    def schedule(self, name: str = "cluster") -> list[str]:
        """The counterexample's choices after the start, as Cluster calls."""
        if self.counterexample is None:
            return []
        ops = self.counterexample.operations()
        return [op.call(name) for op in ops[1 + self.prefix_ops:]]

    def after_start(self) -> Trace:
        """The counterexample's trace items after the start's set-up: each choice (an operation) and
        the events it caused; ``.format()`` prints them."""
        if self.counterexample is None:
            return Trace()
        positions = [i for i, item in enumerate(self.counterexample) if isinstance(item, Operation)]
        first = positions[1 + self.prefix_ops] if len(positions) > 1 + self.prefix_ops else len(self.counterexample)
        return Trace(self.counterexample[first:])

    def script(self, name: str = "cluster") -> str:
        """The whole counterexample (the start's set-up, then the schedule) as Python calls."""
        if self.counterexample is None:
            return ""
        ops = self.counterexample.operations()
        setup = [op.call(name) for op in ops[:1 + self.prefix_ops]]
        lines = ["# the start: " + self.start] + setup + [f"# the schedule ({len(self.choices)} choices)"]
        return "\n".join(lines + self.schedule(name))

    def replay(self) -> Cluster:
        """The cluster at the violating state, rebuilt from the counterexample."""
        if self.counterexample is None:
            raise BadInput("no counterexample: the search found no violation within its bounds")
        return Cluster.replay(self.counterexample, variant=self._variant_object)

    def lab(self):
        """The lab widget on the counterexample, opened at the violating step with the violated
        invariant named in its status line (undo walks back through the schedule)."""
        widget = present("lab", self.replay())
        widget.announce(f"explore: the last step violates {self.violation.name}: {self.violation.message} "
                        f"({len(self.choices)} choices after the start {self.start!r}; undo walks back)")
        return widget

    def summary(self, timing: bool = False) -> str:
        """The result in a few lines; with `timing`, the seconds and states per second too
        (left out by default so the text is deterministic)."""
        b = self.bounds
        budgets = ", ".join(f"{name} {getattr(b, name)}" for name in _BUDGETS if getattr(b, name))
        lines = [f"explore {self.start!r}, variant {self.variant}: depth ≤ {b.depth}"
                 + "".join(f", {part}" for part in ([budgets] if budgets else []) + _narrowing(b))]
        lines.append(f"{self.distinct} distinct states, {self.explored} expanded, {self.transitions} transitions "
                     f"({self.pruned} pruned by sleep sets), depth reached {self.depth}; "
                     + ("exhausted" if self.exhausted else f"stopped by {self.stopped_by}"))
        if timing:
            on = f" on {self.workers} worker processes" if self.workers > 1 else ""
            lines.append(f"{self.seconds:.2f} s{on}, {self.states_per_second:,.0f} distinct states/s")
        if self.violation is None:
            lines.append("no invariant violated")
        else:
            lines.append(f"VIOLATED {self.violation.name} after {len(self.choices)} choices: {self.violation.message}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        verdict = ("<span style=\"color:#080\">no invariant violated</span>" if self.violation is None else
                   f"<span style=\"color:#b00\"><b>{html.escape(self.violation.name)}</b> violated after "
                   f"{len(self.choices)} choices</span>: {html.escape(self.violation.message)}")
        head = html.escape(self.summary(timing=True).split("\n")[0])
        stats = (f"{self.distinct:,} distinct states · {self.explored:,} expanded · {self.transitions:,} transitions "
                 f"({self.pruned:,} pruned) · depth {self.depth} · {self.seconds:.2f} s · "
                 f"{self.states_per_second:,.0f} states/s · "
                 + ("exhausted" if self.exhausted else f"stopped by {html.escape(self.stopped_by)}"))
        body = ""
        if self.counterexample is not None:
            rows = "".join(f"<li><code>{html.escape(call)}</code></li>" for call in self.schedule())
            body = f"<div>the shortest schedule (after the start):</div><ol>{rows}</ol>"
        return (f"<div class=\"omnilab-explore\"><div><b>{head}</b></div><div>{stats}</div><div>{verdict}</div>"
                f"{body}</div>")


# --- named starts ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Start:
    """A named start: how to build the cluster (``build(variant) -> Cluster``, public calls only)
    and the bounds worth exploring from there."""

    name: str
    build: Callable[[Any], Cluster]
    bounds: Bounds
    description: str = ""


def _unelected(variant: Any) -> Cluster:
    return Cluster([1, 2, 3], variant=variant)  # no tick yet: nobody leads, nothing is in flight


def _steady(variant: Any) -> Cluster:
    cluster = Cluster([1, 2, 3], variant=variant)
    cluster.run(ticks=3)  # node 3 is elected and every node accepts in its ballot
    return cluster


def _contested(variant: Any) -> Cluster:
    cluster = _steady(variant)
    cluster.try_become_leader(2)  # node 2 starts a Prepare phase; its Prepares are in flight
    return cluster


def _stopsign_contested(variant: Any) -> Cluster:
    cluster = _decided_write(variant)
    cluster.reconfigure([1, 2, 3])  # the leader, node 3, proposes a StopSign to the same members
    cluster.try_become_leader(2)  # and node 2 starts a Prepare phase
    return cluster


def _decided_write(variant: Any) -> Cluster:
    cluster = _steady(variant)
    cluster.put("a", 0)
    cluster.deliver_all()
    return cluster


STARTS: dict[str, Start] = {s.name: s for s in (
    Start("unelected", _unelected, Bounds(appends=1, elections=1),
          "three nodes, nobody elected yet and nothing in flight (the initial state of the OmniPaxos TLA+ model); one "
          "leader change and one client write to explore"),
    Start("steady", _steady, Bounds(appends=1, elections=1),
          "three nodes, node 3 elected and idle; one client write and one leader change to explore"),
    Start("replace", _decided_write, Bounds(reconfigurations=1, reconfigure_to=((1, 2, 4),), ticks=2, at=(3,)),
          "three nodes with one decided write; at the leader (3) a reconfiguration replacing node 3 by a new node "
          "4, and two ticks"),
    Start("replace-write", _decided_write,
          Bounds(appends=1, reconfigurations=1, reconfigure_to=((1, 2, 4),), at=(3,)),
          "three nodes with one decided write; at the leader (3) a reconfiguration replacing node 3 by a new node "
          "4, and one more write"),
    Start("contested", _contested, Bounds(appends=1, at=(3,)),
          "three nodes, node 3 elected, then node 2 starts a Prepare phase (its Prepares in flight); one client "
          "write at the old leader, node 3"),
    Start("stopsign-contested", _stopsign_contested, Bounds(),
          "three nodes with one decided write, then the leader (3) proposes a StopSign to the same members and "
          "node 2 starts a Prepare phase; only the network moves"),
)}


#: Each mutant of `omnilab.sim.mutants` and the named start `explore` catches it from, within the
#: start's bounds and the default depth, state and time bounds (`catalogue` runs them; the tests pin
#: each catch, the invariant and the counterexample's length, and the reference's silence).
CATALOGUE: dict[str, str] = {
    "decide-without-write-quorum": "steady",
    "ignore-most-up-to-date-promise": "steady",
    "accept-lower-ballot": "contested",
    "append-after-stopsign": "replace-write",
    "stopsign-decided-when-accepted": "stopsign-contested",
    "start-without-state-transfer": "replace",
    "takeover-without-quorum-connected": "replace",
}


@dataclass(frozen=True)
class Catch:
    """One row of the catalogue: `mutant` explored from `start`; the invariant it broke ("" if none),
    the counterexample's length (choices after the start) and the search's seconds and size."""

    mutant: str
    start: str
    invariant: str
    length: Optional[int]
    seconds: float
    distinct: int
    result: Any = field(default=None, repr=False, compare=False)


def catalogue(names: Optional[Iterable[str]] = None, progress: bool = False, **bounds: Any) -> list[Catch]:
    """Explore each mutant of `CATALOGUE` (or of `names`) from its start; one `Catch` each."""
    rows = []
    for name in (names or list(CATALOGUE)):
        start = CATALOGUE[name]
        result = explore(start, variant=name, progress=progress, **bounds)
        broken = result.violation.name if result.violation is not None else ""  # a Verdict is falsy when violated
        rows.append(Catch(name, start, broken, result.length, result.seconds, result.distinct, result))
    return rows


def format_catalogue(rows: Sequence[Catch]) -> str:
    """The catalogue as a plain-text table (mutant, start, invariant, length, seconds, states)."""
    table = [("mutant", "start", "invariant", "length", "seconds", "states")]
    table += [(r.mutant, r.start, r.invariant or "-", "-" if r.length is None else str(r.length),
               f"{r.seconds:.1f}", str(r.distinct)) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table)


def _build_start(start: Any, variant: Any, bounds: Optional[Bounds]) -> tuple[str, Cluster, Bounds]:
    from .scenarios import SCENARIOS
    from .variant import resolve

    if isinstance(start, Cluster):
        chosen = start.variant if variant is None else resolve(variant)
        return "a cluster", Cluster.replay(start.trace, variant=chosen), bounds or Bounds()
    if isinstance(start, str) and start in STARTS:
        named = STARTS[start]
        return start, named.build(resolve(variant)), bounds or named.bounds
    if isinstance(start, str) and start in SCENARIOS:
        built = SCENARIOS[start]()
        return start, Cluster.replay(built.trace, variant=resolve(variant)), bounds or Bounds()
    known = sorted(STARTS) + sorted(SCENARIOS)
    raise BadInput(f"explore(start): give a Cluster, a named start or a scenario; the names are {known}, "
                   f"not {start!r}")


# --- the search -----------------------------------------------------------------------------------

_EMPTY: frozenset = frozenset()


def explore(start: Any = "steady", *, variant: Any = None, depth: Optional[int] = None,
            max_states: Optional[int] = None, seconds: Optional[float] = None,
            invariants: Optional[Iterable[str]] = None,
            reduction: bool = True, progress: bool = False, workers: int = 1, **budgets: Any) -> ExploreResult:
    """Search every schedule from `start` within the bounds, breadth-first; stop at the first
    violated invariant (see the module docstring for the choices, the state and the reduction).

    `start`: a `Cluster` (not changed: the search starts from a replay of its trace), the name of a
    start in ``STARTS`` (its bounds are the defaults) or of a scenario
    (`omnilab.sim.scenarios.SCENARIOS`). `variant`: run that variant from the same set-up (a
    Variant or a name `omnilab.sim.variant.resolve` accepts). Bounds: `depth`, `max_states`,
    `seconds`, and the budgets ``appends``, ``crashes``, ``reconfigurations`` (with
    ``reconfigure_to``, node lists), ``elections``, ``ticks``, ``drops``, ``duplicates`` (each given
    one replaces the start's), and where the choices are made: ``at`` (node ids, "leader" or "named"),
    ``leaders`` (the node of each leader change, in order), ``fifo`` (reliable FIFO links).
    `invariants`: names of the `Cluster.check` verdicts to check (default: all). `progress`: show
    a tqdm progress bar (distinct states, depth, states/s). `workers`: processes to search with
    (`omnilab.sim.workers`: forked from this one, level by level; the same states, depth, counts
    of states and shortest counterexample as one process, without the sleep sets, which only prune
    transitions)."""
    unknown = sorted(set(budgets) - set(_BUDGETS) - set(_OPTIONS))
    if unknown:
        raise BadInput(f"explore: unknown bound(s) {unknown}; the budgets are "
                       f"{list(_BUDGETS) + list(_OPTIONS)}")
    name, root, bounds = _build_start(start, variant, None)
    given: dict[str, Any] = {k: v for k, v in (("depth", depth), ("max_states", max_states), ("seconds", seconds))
                             if v is not None}
    given.update(budgets)
    if "reconfigure_to" in given:
        given["reconfigure_to"] = tuple(tuple(nodes) for nodes in given["reconfigure_to"])
    if given.get("at") is not None and given["at"] not in ("leader", "named"):
        given["at"] = _node_ids(given["at"], 'at is a list of node ids, "leader" or "named",')
    if given.get("leaders") is not None:
        leaders = given["leaders"] = _node_ids(
            given["leaders"], "leaders is the list of nodes of the leader changes, in order, e.g. leaders=[2, 3, 1];")
        given.setdefault("elections", len(leaders))
    if given:
        from dataclasses import replace

        bounds = replace(bounds, **given)
    for field_name in _BUDGETS + ("depth", "max_states"):
        value = getattr(bounds, field_name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise BadInput(f"explore: {field_name} is a non-negative integer, not {value!r}")
    if isinstance(bounds.seconds, bool) or not isinstance(bounds.seconds, (int, float)) or bounds.seconds < 0:
        raise BadInput(f"explore: seconds is a non-negative number, not {bounds.seconds!r}")
    if not isinstance(bounds.fifo, bool):
        raise BadInput(f"explore: fifo is True or False, not {bounds.fifo!r}")
    if bounds.fifo and (bounds.drops or bounds.duplicates):
        raise BadInput("explore: fifo=True explores reliable FIFO links, which lose and repeat nothing; give "
                       "drops=0 and duplicates=0 with it, or fifo=False to deliver in any order with drops")
    if bounds.at == "named" and bounds.leaders is None:
        raise BadInput('explore: at="named" makes writes at the node of the latest leader change, which only '
                       'leaders names; give leaders=[...] with it (e.g. leaders=[1, 2, 3]), or at="leader"')
    if bounds.leaders is not None and bounds.elections > len(bounds.leaders):
        raise BadInput(f"explore: elections={bounds.elections} leader changes need as many nodes in leaders, "
                       f"which names {len(bounds.leaders)}: {list(bounds.leaders)}")
    known = set(root.servers) | {pid for nodes in bounds.reconfigure_to for pid in nodes}
    for option in ("at", "leaders"):
        value = getattr(bounds, option)
        strays = [] if value is None or value in ("leader", "named") else sorted(set(value) - known, key=repr)
        if strays:
            raise BadInput(f"explore: {option} names node(s) {strays}, which are not in the cluster "
                           f"(nodes {sorted(known)}) or in reconfigure_to")
    if bounds.reconfigurations and not bounds.reconfigure_to:
        raise BadInput("explore: reconfigurations > 0 needs reconfigure_to, the node lists to reconfigure to, "
                       "e.g. reconfigure_to=[(1, 2, 4)]")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise BadInput(f"explore: workers is a whole number of processes, at least 1, not {workers!r}")
    wanted = None if invariants is None else set(invariants)
    names = {v.name for v in root.check()}
    if wanted is not None and not wanted <= names:
        raise BadInput(f"explore: unknown invariant(s) {sorted(wanted - names)}; the invariants are {sorted(names)}")
    # The search allocates millions of small objects that live long (the seen table, the frontier's
    # clusters) and frees none through cycles, so Python's cyclic collector only re-walks them: on
    # bench/explore.py's bound (a'') it took half the time (5,511 distinct states/s with it,
    # 10,889/s without, same states). It is off during the search and back as it was after; what cyclic
    # garbage the search leaves (server copies the memo threw away) is collected as usual then.
    collecting = gc.isenabled()
    gc.disable()
    try:
        search = _Search(name, root, bounds, wanted, reduction and workers == 1, progress)
        if workers > 1:
            from . import workers as _workers

            return _workers.run(search, workers)
        return search.run()
    finally:
        if collecting:
            gc.enable()


def _node_ids(value: Any, what: str) -> tuple:
    """`value` (a list of node ids) as a tuple; `what` says what it should have been if it is not."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise BadInput(f"explore: {what} not {value!r}")
    return tuple(value)


class _Search:
    #: Build every successor, also those whose key the memo predicts as seen, and compare the keys
    #: (the tests turn it on: a prediction that strays from the cluster raises).
    verify = False

    def __init__(self, name: str, root: Cluster, bounds: Bounds, wanted: Optional[set], reduction: bool,
                 progress: bool) -> None:
        self.name, self.root, self.bounds, self.wanted = name, root, bounds, wanted
        self.reduction, self.progress = reduction, progress
        self.budget = bounds.budget()
        self.prefix_ops = len(root.trace.operations()) - 1

    def _violated(self, cluster: Cluster) -> Optional[Verdict]:
        for verdict in cluster.check():
            if not verdict.ok and (self.wanted is None or verdict.name in self.wanted):
                return verdict
        return None

    def run(self) -> ExploreResult:
        bounds, budget = self.bounds, self.budget
        variant = self.root.variant
        result = ExploreResult(self.name, variant.name, bounds, prefix_ops=self.prefix_ops, _variant_object=variant)
        began = time.perf_counter()
        deadline = began + bounds.seconds
        start = self.root.fork()
        # The successors are built with memoized servers and their keys predicted where the memo
        # can (`omnilab.sim.memo`); a state's key names the same state `Cluster.fingerprint` does.
        successors = Successors(start, RECORDED_REFUSALS, bounds.fifo)
        # Every cluster of the search holds representatives only, which never change (memo.py): the
        # invariants may keep what they read from each replica's log (`Cluster.log_shapes`); every
        # state built from `start` shares this table.
        start.log_shapes = {}
        interner = successors.interner
        build, predict, state_key = successors.build, successors.predict, successors.key
        message, flight_key = interner.message, interner.flight_key
        verify = self.verify

        # number -> envelope id of the state being expanded: its successors start from a copy of its
        # network, so the ids hold for them (`_choices` fills it).
        ids: dict[int, int] = {}

        def find(cluster: Cluster, number: int) -> int:
            envelope = ids.get(number)
            if envelope is None:
                raise SimulationError(f"explore: message number {number} is not in flight")
            return envelope

        def perform(cluster: Cluster, choice: tuple) -> None:
            _apply(cluster, choice, find)

        used0 = (0,) * len(_BUDGETS)
        key0 = state_key(start, used0)
        # key -> [parent key, choice, depth, sleep set, expanded?]
        seen: dict[int, list] = {key0: [None, None, 0, _EMPTY, False]}
        # frontier by depth: (cluster, key, used, only): `only` restricts a re-expansion to the
        # choices it slept on before.
        levels: list[deque] = [deque([(start, key0, used0, None)])]
        bar = _progress_bar() if self.progress else None
        found: Optional[tuple[int, Verdict]] = None
        stopped = ""
        first = self._violated(start)
        if first is not None:
            found = (key0, first)
        level = 0
        explored = transitions = pruned = 0
        max_depth = 0
        try:
            while found is None:
                while level < len(levels) and not levels[level]:
                    level += 1
                if level >= len(levels):
                    stopped = "exhausted"
                    break
                cluster, key, used, only = levels[level].popleft()
                record = seen[key]
                d = record[2]
                if d >= bounds.depth:
                    continue
                sleep = record[3]
                if only is None:
                    if record[4]:
                        continue
                    record[4] = True
                explored += 1
                done: list[tuple] = []
                numbers = [message(env) for env in cluster.network.in_flight.values()]
                servers_now = successors.servers(cluster)
                messages_now = flight_key(numbers.copy(), bounds.fifo)
                ids.clear()
                for choice in _choices(cluster, used, bounds, budget, interner, ids, numbers):
                    if only is None:
                        if choice in sleep:
                            pruned += 1
                            continue
                    elif choice not in only:
                        continue
                    slot = _SLOT.get(choice[0])
                    child_used = used if slot is None else used[:slot] + (used[slot] + 1,) + used[slot + 1:]
                    if self.reduction and choice[0] in _NETWORK:
                        child_sleep = frozenset(c for c in (*sleep, *done) if _independent(c, choice))
                        done.append(choice)
                    else:
                        child_sleep = _EMPTY
                    predicted = predict(cluster, servers_now, messages_now, choice, child_used)
                    child_record = seen.get(predicted) if predicted is not None else None
                    child: Optional[Cluster] = None
                    if child_record is None or verify or predicted is None:
                        try:
                            child = build(cluster, choice, perform)
                        except BadInput:
                            continue  # not enabled here after all (e.g. no started node to take a write)
                        child_key = state_key(child, child_used)
                        if predicted is not None and predicted != child_key:
                            raise SimulationError(f"explore: the memo predicted another state after {choice!r} "
                                                  "than the cluster reached (omnilab/sim/memo.py)")
                        child_record = seen.get(child_key)
                    else:
                        child_key = predicted
                    transitions += 1
                    if child_record is None:
                        assert child is not None  # a new state is always built
                        seen[child_key] = [key, choice, d + 1, child_sleep, False]
                        while len(levels) <= d + 1:
                            levels.append(deque())
                        levels[d + 1].append((child, child_key, child_used, None))
                        if d + 1 > max_depth:
                            max_depth = d + 1
                        verdict = self._violated(child)
                        if verdict is not None:
                            found = (child_key, verdict)
                            stopped = "violation"
                            break
                        if len(seen) >= bounds.max_states:
                            stopped = "states"
                            break
                    elif child_record[3] and not child_record[3] <= child_sleep:
                        # Reached again with fewer choices asleep: the ones it slept on before and
                        # not now must be explored from it too (no reachable state is lost).
                        woken = child_record[3] - child_sleep
                        child_record[3] = child_record[3] & child_sleep
                        if child_record[4]:
                            if child is None:
                                child = build(cluster, choice, perform)
                            levels[child_record[2]].append((child, child_key, child_used, woken))
                            if child_record[2] < level:
                                level = child_record[2]
                if stopped:
                    break
                if bar is not None and explored % 50 == 0:
                    _update_bar(bar, len(seen), max_depth, time.perf_counter() - began)
                if time.perf_counter() > deadline:
                    stopped = "seconds"
                    break
        finally:
            result.seconds = time.perf_counter() - began
            if bar is not None:
                _update_bar(bar, len(seen), max_depth, result.seconds)
                bar.close()
        result.explored, result.transitions, result.pruned = explored, transitions, pruned
        result.distinct, result.depth = len(seen), max_depth
        result.stopped_by = stopped or "exhausted"
        result.exhausted = result.stopped_by == "exhausted"
        if found is not None:
            result.stopped_by = "violation"
            key, verdict = found
            path = []
            while seen[key][0] is not None:
                parent, choice = seen[key][0], seen[key][1]
                path.append(_public(choice, interner))
                key = parent
            path.reverse()
            result.choices = tuple(path)
            result.counterexample, result.violation = self._rebuild(path, verdict)
        return result

    def _rebuild(self, path: Sequence[tuple], verdict: Verdict) -> tuple[Trace, Verdict]:
        """Replay `path` from the start with public calls; the trace of that is the counterexample."""
        cluster = Cluster.replay(self.root.trace, variant=self.root.variant)
        for choice in path:
            _apply(cluster, choice)
        again = self._violated(cluster)
        if again is None:  # pragma: no cover - replay is deterministic; this would be a simulator bug
            raise SimulationError(f"the counterexample for {verdict.name} did not replay to a violation")
        return cluster.trace, again


def _public(choice: tuple, interner: Interner) -> tuple:
    """A search choice as a result names it: a network choice by its message's content."""
    if choice[0] in ("step", "drop", "duplicate"):
        return (choice[0], interner.message_keys[choice[1]])
    return choice


def _progress_bar():
    from tqdm.auto import tqdm

    # One rate on the bar, ours (distinct states over the search's time): tqdm's own rate counts
    # updates, not states, and would print a second, different "states/s".
    return tqdm(total=None, desc="explore", bar_format="{desc}{postfix} [{elapsed}]", dynamic_ncols=True)


def _update_bar(bar: Any, states: int, depth: int, elapsed: float) -> None:
    bar.n = states
    rate = states / elapsed if elapsed > 0 else 0.0
    bar.set_postfix_str(f"{states:,} distinct states, depth {depth}, {rate:,.0f} states/s", refresh=False)
    bar.refresh()
