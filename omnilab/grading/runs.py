"""Schedules as data, cluster runs exported as artefacts, and the judges' checks over artefacts.

A *schedule* is a list of lines of Python, each one `Cluster` call as ``trace.script()`` prints it:

    cluster = Cluster([1, 2, 3], seed=0)
    cluster.run(ticks=3)
    cluster.partition([1, 2], [3])
    cluster.put('a', 1, at=1)

`parse_schedule` reads such lines with `ast` (literal arguments only, known methods only): a
schedule is data, never executed as code. `run_schedule` performs one on a cluster built from a
variant and exports what happened as a JSON-serialisable artefact: every decided slot per node, the
proposals, who led which ballot, the agreed leader after each call, and the first error. The judges
(`first_violation`, `decided_on`, ...) read only that artefact, so they can run in a process that
never loaded the learner's code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from .bank import CheckOutcome

#: The `Cluster` methods a schedule may call (the recorded operations).
SCHEDULE_METHODS = ("step", "step_random", "deliver_all", "drop", "duplicate", "tick", "run", "crash", "recover",
                    "cut", "partition", "heal", "put", "append", "get", "reconfigure", "set_priority",
                    "try_become_leader", "trim", "snapshot")
#: The `ServerConfig` fields a schedule's first line may pass to `Cluster(...)`.
CLUSTER_FIELDS = ("election_tick_timeout", "resend_message_tick_timeout", "buffer_size", "batch_size",
                  "flush_batch_tick_timeout", "leader_priority")


class ScheduleError(ValueError):
    """A schedule line that is not a plain `Cluster` call with literal arguments."""


@dataclass(frozen=True)
class Call:
    """One schedule line: ``cluster.<method>(*args, **kwargs)``."""

    method: str
    args: tuple = ()
    kwargs: tuple = ()   # (name, value) pairs

    def line(self) -> str:
        text = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs]
        return f"cluster.{self.method}({', '.join(text)})"

    def apply(self, cluster: Any) -> Any:
        return getattr(cluster, self.method)(*self.args, **dict(self.kwargs))


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: how to build the cluster, then the calls."""

    nodes: tuple
    seed: int
    fields: tuple          # (ServerConfig field, value) pairs
    calls: tuple           # Call, ...

    def creation_line(self, variant_name: Optional[str] = None) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.fields)
        shown = f", variant={variant_name}" if variant_name else ""
        return f"cluster = Cluster({list(self.nodes)!r}, seed={self.seed}{extra}{shown})"

    def lines(self, variant_name: Optional[str] = None) -> list[str]:
        return [self.creation_line(variant_name)] + [c.line() for c in self.calls]


def _literal(node: ast.AST, where: str) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        raise ScheduleError(f"{where}: arguments must be literals (numbers, strings, lists, tuples, None), not "
                            f"{ast.unparse(node)!r}") from None


def parse_line(line: str) -> Optional[Call]:
    """One line as a `Call`, or None for a blank line or a comment. Raises `ScheduleError`."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ScheduleError(f"{text!r} is not a Cluster call such as cluster.run(ticks=3)") from None
    call = tree.body
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name) and call.func.value.id == "cluster"):
        raise ScheduleError(f"{text!r} is not a Cluster call: write cluster.<method>(...), e.g. cluster.run(ticks=3)")
    method = call.func.attr
    if method not in SCHEDULE_METHODS:
        raise ScheduleError(f"{text!r}: cluster.{method} is not a schedule operation; use one of "
                            f"{', '.join(SCHEDULE_METHODS)}")
    args = tuple(_literal(a, text) for a in call.args)
    if any(k.arg is None for k in call.keywords):
        raise ScheduleError(f"{text!r}: name every keyword argument (no **kwargs)")
    kwargs = tuple((k.arg, _literal(k.value, text)) for k in call.keywords)
    return Call(method, args, kwargs)


def parse_creation(line: str) -> tuple[tuple, int, tuple]:
    """``cluster = Cluster([1, 2, 3], seed=0, **fields)`` -> (nodes, seed, fields)."""
    text = line.strip()
    try:
        tree = ast.parse(text)
    except SyntaxError:
        raise ScheduleError(f"{text!r} is not a line such as cluster = Cluster([1, 2, 3], seed=0)") from None
    ok = (len(tree.body) == 1 and isinstance(tree.body[0], ast.Assign) and len(tree.body[0].targets) == 1
          and isinstance(tree.body[0].targets[0], ast.Name) and tree.body[0].targets[0].id == "cluster")
    call = tree.body[0].value if ok else None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "Cluster"):
        raise ScheduleError(f"{text!r}: the first line creates the cluster, e.g. cluster = Cluster([1, 2, 3], seed=0)")
    if len(call.args) > 1:
        raise ScheduleError(f"{text!r}: Cluster takes the nodes positionally; pass seed= and the rest by name")
    values = {k.arg: k.value for k in call.keywords}
    if None in values:
        raise ScheduleError(f"{text!r}: name every keyword argument (no **kwargs)")
    if "variant" in values:
        raise ScheduleError(f"{text!r}: leave out variant=; the exercise chooses the variant")
    nodes_node = call.args[0] if call.args else values.pop("nodes", None)
    if nodes_node is None:
        raise ScheduleError(f"{text!r}: name the nodes, e.g. Cluster([1, 2, 3])")
    nodes = _literal(nodes_node, text)
    nodes = tuple(range(1, nodes + 1)) if isinstance(nodes, int) else tuple(nodes)
    seed = _literal(values.pop("seed"), text) if "seed" in values else 0
    unknown = sorted(set(values) - set(CLUSTER_FIELDS) - {"check_every_step"})
    if unknown:
        raise ScheduleError(f"{text!r}: Cluster has no argument {unknown[0]!r}; the ServerConfig fields are "
                            f"{', '.join(CLUSTER_FIELDS)}")
    values.pop("check_every_step", None)
    fields = tuple((k, _literal(v, text)) for k, v in values.items())
    return nodes, seed, fields


def parse_schedule(lines: Sequence[str] | str, nodes: Sequence[int] = (1, 2, 3), seed: int = 0,
                   max_calls: int = 400) -> Schedule:
    """Parse `lines` (a list of lines or one string). A first line ``cluster = Cluster(...)`` sets
    the nodes, seed and server fields; without it, `nodes` and `seed` are used."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    if not isinstance(lines, (list, tuple)) or not all(isinstance(line, str) for line in lines):
        raise ScheduleError("a schedule is a list of strings, each one Cluster call such as 'cluster.run(ticks=3)'")
    body = [line for line in lines if line.strip() and not line.strip().startswith("#")]
    fields: tuple = ()
    if body and body[0].lstrip().startswith("cluster ="):
        nodes, seed, fields = parse_creation(body[0])
        body = body[1:]
    calls = tuple(call for call in map(parse_line, body) if call is not None)
    if len(calls) > max_calls:
        raise ScheduleError(f"the schedule has {len(calls)} calls; keep it under {max_calls}")
    return Schedule(tuple(nodes), int(seed), fields, calls)


def build_cluster(schedule: Schedule, variant: Any = None) -> Any:
    """A new cluster as `schedule`'s first line says, built from `variant` (None: the reference)."""
    from omnilab.sim import Cluster

    kwargs = dict(schedule.fields)
    if variant is not None:
        kwargs["variant"] = variant
    return Cluster(list(schedule.nodes), seed=schedule.seed, **kwargs)


def replay_schedule(schedule: Schedule, variant: Any = None, upto: Optional[int] = None) -> Any:
    """The cluster after performing `schedule`'s calls (the first `upto` of them) on `variant`.
    A call that raises stops the replay there (the cluster shows the moment it failed)."""
    cluster = build_cluster(schedule, variant)
    for call in schedule.calls[:upto]:
        try:
            call.apply(cluster)
        except NotImplementedError:
            raise
        except Exception:  # noqa: BLE001 - the failing call is the moment to show
            break
    return cluster


# --- running a schedule and exporting what happened ---------------------------------------------------

def _text(value: Any) -> str:
    return repr(value)


def _ballot(b: Any) -> list:
    return [b.config_id, b.n, b.priority, b.pid]


def run_schedule(schedule: Schedule, variant: Any = None, *, variant_name: Optional[str] = None,
                 extra: Optional[Callable[[Any, list, int, dict], None]] = None) -> dict:
    """Perform `schedule` on a cluster built from `variant`; return the artefact (plain lists, dicts,
    strings and ints). Call ``k`` (1-based; 0 is building the cluster) is recorded with:

    * ``decided``: ``[k, pid, config_id, idx, entry, pos]`` for every slot a node applied (``pos``: the
      position in the trace, which orders the records);
    * ``compacted``: ``[k, pid, config_id, upto_idx, pos]`` when a prefix arrived as a snapshot or trim;
    * ``proposed``: ``[k, entry]`` for every proposal handed to a replica;
    * ``leading``: ``[k, pid, config_id, ballot]`` whenever a node leads a ballot it did not lead
      after the previous call (ballot = [config_id, n, priority, pid]);
    * ``leader``: ``[k, pid or None]``, the leader the live nodes agree on after the call;
    * ``error``: ``[k, "Type: message"]`` if call k raised (the run stops there), else None.

    ``extra(cluster, new_trace_items, k, artefact)`` may add exercise-specific records. A
    ``NotImplementedError`` from the learner's code propagates (the exercise is not done yet).
    """
    from omnilab.replica.state import Role
    from omnilab.sim.trace import EntryDecided, Proposed, SnapshotInstalled

    artefact: dict = {"schedule": schedule.lines(variant_name), "decided": [], "compacted": [], "proposed": [],
                      "leading": [], "leader": [], "error": None, "final": {}}
    leading_now: dict = {}

    def record(cluster: Any, start: int, k: int) -> None:
        items = cluster.trace[start:]
        for pos, item in enumerate(items, start=start):
            kind = type(item)
            if kind is EntryDecided:
                artefact["decided"].append([k, item.pid, item.config_id, item.idx, _text(item.entry), pos])
            elif kind is Proposed:
                artefact["proposed"].append([k, _text(item.proposal)])
            elif kind is SnapshotInstalled:
                artefact["compacted"].append([k, item.pid, item.config_id, item.upto_idx, pos])
        for pid, config_id, omni in cluster.live_replicas():
            sp = omni.seq_paxos
            if sp.role is Role.LEADER:
                ballot = _ballot(sp.leader_state.n_leader)
                if leading_now.get((pid, config_id)) != ballot:
                    leading_now[(pid, config_id)] = ballot
                    artefact["leading"].append([k, pid, config_id, ballot])
            else:
                leading_now.pop((pid, config_id), None)
        artefact["leader"].append([k, cluster.leader()])
        if extra is not None:
            extra(cluster, items, k, artefact)

    try:
        cluster = build_cluster(schedule, variant)
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - the learner's class may fail to build
        artefact["error"] = [0, f"{type(err).__name__}: {err}"]
        return artefact
    record(cluster, 0, 0)
    for k, call in enumerate(schedule.calls, start=1):
        start = len(cluster.trace)
        try:
            call.apply(cluster)
        except NotImplementedError:
            raise
        except Exception as err:  # noqa: BLE001 - reported to the learner with the schedule
            record(cluster, start, k)
            artefact["error"] = [k, f"{type(err).__name__}: {err}"]
            break
        record(cluster, start, k)
    artefact["final"] = final_state(cluster)
    return artefact


def final_state(cluster: Any) -> dict:
    """Each server's key-value state, running configurations and ballot leader at the end."""
    state: dict = {"kv": {}, "up": [], "instances": {}, "ble_leader": {}}
    for pid, server in cluster.servers.items():
        key = str(pid)
        state["kv"][key] = sorted([repr(k), repr(v)] for k, v in dict(server.kv).items())
        if server.up:
            state["up"].append(pid)
        state["instances"][key] = sorted(server.instances)
        if server.up and server.instances:
            omni = server.instances[max(server.instances)]
            state["ble_leader"][key] = _ballot(omni.ble.leader)
    return state


# --- judging from an artefact ----------------------------------------------------------------------

@dataclass(frozen=True)
class Violation:
    """An invariant the artefact breaks: its name, the reason, and the call that revealed it."""

    invariant: str
    reason: str
    at_call: int


def first_violation(artefact: Mapping) -> Optional[Violation]:
    """Re-check the safety invariants over the artefact's records; the earliest violation, if any.

    * UniformAgreement: no two nodes decide different entries at the same idx of a configuration;
    * Integrity: each node's decided slots of a configuration follow one another (idx 0, 1, 2, ...,
      skipping only a prefix that arrived compacted) and none is decided twice;
    * Validity: every decided entry was proposed by then;
    * StopSignSeal: nothing is decided after a configuration's StopSign;
    * OneLeaderPerBallot: no two nodes lead the same ballot;
    * ConfigurationTransition, when the run recorded ``starts`` (`record_starts`): see
      `transition_violation`.
    """
    found: list[Violation] = []
    chosen: dict = {}
    next_idx: dict = {}
    proposed_at: dict = {}
    for k, text in artefact.get("proposed", []):
        proposed_at.setdefault(text, k)
    stopsign_idx: dict = {}
    events = sorted([(row[-1], 0, row) for row in artefact.get("decided", [])]
                    + [(row[-1], 1, row) for row in artefact.get("compacted", [])])
    for _, kind, row in events:
        k = row[0]
        if kind == 1:
            _, pid, config_id, upto, _ = row
            next_idx[(pid, config_id)] = max(next_idx.get((pid, config_id), 0), upto)
            continue
        _, pid, config_id, idx, text, _ = row
        expected = next_idx.get((pid, config_id), 0)
        if idx < expected:
            found.append(Violation("Integrity", f"node {pid} decided idx {idx} of configuration {config_id} a "
                                   f"second time ({text})", k))
        elif idx > expected:
            found.append(Violation("Integrity", f"node {pid} decided idx {idx} of configuration {config_id} "
                                   f"next, but its decided log ended at idx {expected - 1}", k))
        next_idx[(pid, config_id)] = max(expected, idx + 1)
        first = chosen.setdefault((config_id, idx), (pid, text))
        if first[1] != text:
            found.append(Violation("UniformAgreement", f"nodes {first[0]} and {pid} decided different entries at "
                                   f"idx {idx} of configuration {config_id}: {first[1]} and {text}", k))
        if text not in proposed_at or proposed_at[text] > k:
            found.append(Violation("Validity", f"node {pid} decided {text} at idx {idx} of configuration "
                                   f"{config_id}, which nobody proposed", k))
        if text.startswith("StopSign("):
            stopsign_idx.setdefault(config_id, idx)
        elif config_id in stopsign_idx and idx > stopsign_idx[config_id]:
            found.append(Violation("StopSignSeal", f"node {pid} decided {text} at idx {idx} of configuration "
                                   f"{config_id}, after its StopSign (idx {stopsign_idx[config_id]})", k))
    leaders: dict = {}
    for k, pid, config_id, ballot in artefact.get("leading", []):
        other = leaders.setdefault(tuple(ballot), pid)
        if other != pid:
            found.append(Violation("OneLeaderPerBallot", f"nodes {other} and {pid} both lead ballot "
                                   f"(n={ballot[1]}, pid={ballot[3]}) of configuration {config_id}", k))
        elif ballot[3] != pid:
            found.append(Violation("OneLeaderPerBallot", f"node {pid} leads a ballot of node {ballot[3]}", k))
    transition = transition_violation(artefact)
    if transition is not None:
        found.append(transition)
    # At the same call, the most telling first: two different entries at one slot.
    order = ("UniformAgreement", "Integrity", "Validity", "StopSignSeal", "OneLeaderPerBallot",
             "ConfigurationTransition")
    return min(found, key=lambda v: (v.at_call, order.index(v.invariant))) if found else None


def decided_entries(artefact: Mapping, pid: int, config_id: int = 1) -> list[str]:
    """The entries node `pid` decided in configuration `config_id`, in idx order."""
    rows = sorted((r[3], r[4]) for r in artefact.get("decided", []) if r[1] == pid and r[2] == config_id)
    return [text for _, text in rows]


def decided_anywhere(artefact: Mapping, text: str) -> list[int]:
    """The nodes that decided entry `text` (in any configuration)."""
    return sorted({r[1] for r in artefact.get("decided", []) if r[4] == text})


def prefix(artefact: Mapping, at_call: Optional[int]) -> tuple[str, ...]:
    """The artefact's schedule up to and including call `at_call` (the whole one for None)."""
    lines = artefact.get("schedule", [])
    return tuple(lines if at_call is None else lines[:at_call + 1])


def verdict(artefact: Mapping, expected_lines: Sequence[str],
            progress: Iterable[Callable[[Mapping], Optional[str]]] = ()) -> CheckOutcome:
    """The usual judgement of a cluster run: the artefact must come from the expected schedule, run
    to its end without error, break no safety invariant, and satisfy every `progress` condition (each
    returns a reason when it fails)."""
    lines = list(artefact.get("schedule", []))
    if [_strip_variant(line) for line in lines] != [_strip_variant(line) for line in expected_lines]:
        return CheckOutcome(False, "the run does not come from this check's schedule (the artefact was altered)")
    violation = first_violation(artefact)
    if violation is not None:
        return CheckOutcome(False, f"{violation.invariant} violated: {violation.reason} (after "
                            f"{lines[violation.at_call] if violation.at_call < len(lines) else 'the run'})",
                            prefix(artefact, violation.at_call))
    error = artefact.get("error")
    if error is not None:
        k, text = error
        return CheckOutcome(False, f"{lines[k] if k < len(lines) else 'the run'} raised {text}", prefix(artefact, k))
    for condition in progress:
        reason = condition(artefact)
        if reason:
            return CheckOutcome(False, reason, tuple(lines))
    return CheckOutcome(True, "")


def _strip_variant(line: str) -> str:
    cut = line.find(", variant=")
    return line if cut < 0 else line[:cut] + ")"


# --- progress conditions -------------------------------------------------------------------------------

def has_decided(artefact: Mapping, pid: int, entry: str, config_id: int = 1) -> bool:
    """Node `pid` decided `entry` in configuration `config_id`, or received a compacted prefix (a
    snapshot) covering the idx where some node decided it."""
    rows = artefact.get("decided", [])
    if any(r[1] == pid and r[2] == config_id and r[4] == entry for r in rows):
        return True
    idxs = {r[3] for r in rows if r[2] == config_id and r[4] == entry}
    return any(c[1] == pid and c[2] == config_id and any(c[3] > i for i in idxs) for c in artefact.get("compacted", []))


def decided_by(entry: str, pids: Sequence[int], config_id: int = 1) -> Callable[[Mapping], Optional[str]]:
    """Progress: every node of `pids` decided `entry` in configuration `config_id` (or holds it in a
    snapshot)."""
    def condition(artefact: Mapping) -> Optional[str]:
        missing = [p for p in pids if not has_decided(artefact, p, entry, config_id)]
        if missing:
            return (f"no progress: {entry} was never decided on node{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(map(str, missing))} (configuration {config_id})")
        return None
    return condition


def leader_is(pid: Optional[int], at_end: bool = True) -> Callable[[Mapping], Optional[str]]:
    """Progress: the nodes agree on leader `pid` after the last call."""
    def condition(artefact: Mapping) -> Optional[str]:
        rows = artefact.get("leader", [])
        got = rows[-1][1] if rows else None
        if got != pid:
            return f"after the last call the nodes agree on leader {got}, expected node {pid}"
        return None
    return condition


def ballots_stable(after_call: int, why: str = "although the leader still reached a quorum (no election was "
                                                  "needed)") -> Callable[[Mapping], Optional[str]]:
    """Liveness under partial connectivity: no node starts leading a new ballot after call `after_call`
    (no leader ping-pong); `why` ends the reason."""
    def condition(artefact: Mapping) -> Optional[str]:
        late = [r for r in artefact.get("leading", []) if r[0] > after_call]
        if late:
            k, pid, _, ballot = late[0]
            line = artefact["schedule"][k] if k < len(artefact["schedule"]) else "?"
            return f"leadership moved: node {pid} took over with ballot n={ballot[1]} at {line}, {why}"
        return None
    return condition


# --- seeded random schedules -----------------------------------------------------------------------------

def random_schedule(seed: int, nodes: Sequence[int] = (1, 2, 3, 4, 5), steps: int = 30) -> list[str]:
    """A fault campaign as a schedule: `steps` calls drawn from a generator seeded with `seed` (puts,
    runs, ticks and deliveries, crashes and recoveries keeping a majority up, partitions, cuts, heals,
    try_become_leader), then a heal, every crashed node recovered, and a final put. Only calls that
    cannot be refused whatever the replicas do, so the schedule is the same for every variant; the
    final put is ``('final', seed % 1000)``."""
    import random

    rng = random.Random(seed)
    pids = list(nodes)
    majority = len(pids) // 2 + 1
    lines = [f"cluster = Cluster({pids!r}, seed={seed % 1000})", "cluster.run(ticks=3)"]
    crashed: list[int] = []
    puts = 0
    for _ in range(steps):
        live = [p for p in pids if p not in crashed]
        kind = rng.choice(("put", "put", "put", "run", "run", "tick", "deliver", "crash", "recover", "partition",
                           "cut", "heal", "leader"))
        if kind == "put":
            puts += 1
            lines.append(f"cluster.put('k{puts % 4}', {puts}, at={rng.choice(live)})")
        elif kind == "run":
            lines.append(f"cluster.run(ticks={rng.randint(1, 3)})")
        elif kind == "tick":
            lines.append("cluster.tick()")
        elif kind == "deliver":
            lines.append("cluster.deliver_all()")
        elif kind == "crash" and len(live) > majority:
            victim = rng.choice(live)
            crashed.append(victim)
            lines.append(f"cluster.crash({victim})")
        elif kind == "recover" and crashed:
            back = crashed.pop(rng.randrange(len(crashed)))
            lines.append(f"cluster.recover({back})")
        elif kind == "partition":
            shuffled = pids[:]
            rng.shuffle(shuffled)
            cut = rng.randint(1, len(pids) - 1)
            lines.append(f"cluster.partition({sorted(shuffled[:cut])!r}, {sorted(shuffled[cut:])!r})")
        elif kind == "cut":
            a, b = rng.sample(pids, 2)
            lines.append(f"cluster.cut({a}, {b})")
        elif kind == "heal":
            lines.append("cluster.heal()")
        elif kind == "leader":
            lines.append(f"cluster.try_become_leader({rng.choice(live)})")
    lines.append("cluster.heal()")
    lines.extend(f"cluster.recover({p})" for p in crashed)
    lines.append("cluster.run(ticks=8)")
    lines.append(f"cluster.put('final', {seed % 1000}, at={pids[0]})")
    lines.append("cluster.run(ticks=4)")
    return lines


# --- configuration transitions -------------------------------------------------------------------------

def record_starts(cluster: Any, items: list, k: int, artefact: dict) -> None:
    """Extra record: ``starts`` = [k, pid, config_id, state] for every instance a server starts
    (``state``: its key-value state then, as sorted [repr(key), repr(value)] pairs)."""
    from omnilab.sim.trace import InstanceStarted

    rows = artefact.setdefault("starts", [])
    for item in items:
        if type(item) is InstanceStarted:
            state = cluster.servers[item.pid].start_state.get(item.config_id, {})
            rows.append([k, item.pid, item.config_id, sorted([repr(a), repr(b)] for a, b in state.items())])


def _key_value(text: str) -> Optional[tuple[str, str]]:
    """``"KeyValue(key='a', value=1)"`` -> ``("'a'", "1")`` (read with ast, never evaluated)."""
    try:
        call = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "KeyValue"):
        return None
    fields = {k.arg: k.value for k in call.keywords}
    if set(fields) != {"key", "value"}:
        return None
    return ast.unparse(fields["key"]), ast.unparse(fields["value"])


def state_before_stopsign(artefact: Mapping, config_id: int) -> Optional[list]:
    """The key-value state every write decided in `config_id` before its StopSign builds (on top of
    the state configuration `config_id` started from), as sorted pairs; None if no StopSign was
    decided there."""
    slots = {}
    for row in artefact.get("decided", []):
        if row[2] == config_id:
            slots.setdefault(row[3], row[4])
    ss_idx = next((i for i, text in sorted(slots.items()) if text.startswith("StopSign(")), None)
    if ss_idx is None:
        return None
    starts = [r for r in artefact.get("starts", []) if r[2] == config_id]
    state = dict((a, b) for a, b in starts[0][3]) if starts and config_id > 1 else {}
    for idx in range(ss_idx):
        kv = _key_value(slots.get(idx, ""))
        if kv is not None:
            state[kv[0]] = kv[1]
    return sorted([a, b] for a, b in state.items())


def transition_violation(artefact: Mapping) -> Optional[Violation]:
    """ConfigurationTransition from the artefact: each server starts a configuration once, and starts
    configuration k+1 with exactly the state decided in configuration k before its StopSign."""
    seen = set()
    for k, pid, config_id, state in artefact.get("starts", []):
        if (pid, config_id) in seen:
            return Violation("ConfigurationTransition", f"node {pid} started configuration {config_id} twice", k)
        seen.add((pid, config_id))
        if config_id == 1:
            continue
        expected = state_before_stopsign(artefact, config_id - 1)
        if expected is None:
            return Violation("ConfigurationTransition", f"node {pid} started configuration {config_id} before "
                             f"configuration {config_id - 1} decided its StopSign", k)
        if state != expected:
            missing = [f"{a}: {b}" for a, b in expected if [a, b] not in state]
            return Violation("ConfigurationTransition", f"node {pid} started configuration {config_id} with the state "
                             f"{_pairs(state)}, not the state decided before the StopSign {_pairs(expected)}"
                             + (f" (it lacks {', '.join(missing)})" if missing else ""), k)
    return None


def _pairs(pairs: list) -> str:
    return "{" + ", ".join(f"{a}: {b}" for a, b in pairs) + "}"

