"""Named invariants, each a pure function returning a `Verdict(ok, name, message)`.

The same functions serve the tests, the widget's badges and the grader. Each takes a *world*: any
object with

* ``ledger`` - the `Ledger` of what has been observed so far (decisions, proposals, instance
  starts, the client history, each replica's promises and local state after every call),
* ``servers`` - pid -> `Server` (its durable part: storages, saved state), and
* ``live_replicas()`` - ``(pid, config_id, omnipaxos)`` for every running instance.

`Cluster` is such a world. Checking writes nothing and gives the same answer however often it is
called: evidence is recorded by the cluster and the ledger as it appears (`omnilab.sim.ledger`),
and every rule, with the reason it gives, is here. The safety properties are those of Sequence
Paxos in the OmniPaxos paper (uniform agreement, validity, integrity) plus the reconfiguration and
key-value rules the README lists. When several moments break one rule, its verdict names the first.

Liveness is a check too: `check_progress` heals the network, recovers every node, runs, and asks
for a leader, a decided StopSign, started new members and a fresh write applied everywhere.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional, Protocol

from omnilab.kv import KeyValue, KVSnapshot
from omnilab.replica.entries import StopSign
from omnilab.replica.state import Phase, Role

from .ledger import COMPACTED, Ledger, Verdict, same_value


class World(Protocol):
    ledger: Ledger

    @property
    def servers(self) -> Mapping[int, Any]: ...

    def live_replicas(self) -> Iterable[tuple[int, int, Any]]: ...


def _ok(name: str) -> Verdict:
    """The ok verdict of invariant `name` (verdicts are immutable, so one each serves every check;
    campaigns check after every step)."""
    verdict = _OK.get(name)
    if verdict is None:
        verdict = _OK[name] = Verdict(True, name, "")
    return verdict


_OK: dict[str, Verdict] = {}


def _when(at: Optional[int]) -> int:
    """A trace position for ordering sightings (one of unknown time, None, comes first)."""
    return -1 if at is None else at


def _where(at: Optional[int]) -> str:
    return f" (trace item {at})" if at is not None else ""


def uniform_agreement(world: World) -> Verdict:
    """No two nodes ever decide different entries in the same slot of a configuration. The evidence:
    the ledger keeps the first value decided in each slot, and notes every time a node shows that
    slot decided with another value."""
    name = "UniformAgreement"
    clashes = world.ledger.clashes
    if not clashes:
        return _ok(name)
    c = clashes[0]
    return Verdict(False, name, f"nodes {c.first_pid} and {c.pid} decided different entries at idx {c.idx} of "
                   f"configuration {c.config_id}: {c.first!r} vs {c.value!r}{_where(c.at)}")


def validity(world: World) -> Verdict:
    """Every decided slot holds something a client proposed: an appended entry or the StopSign of a
    `reconfigure` call. The evidence: the ledger notes a slot's first decision whose value was not
    among the proposals made until then."""
    name = "Validity"
    unproposed = world.ledger.unproposed
    if not unproposed:
        return _ok(name)
    d = unproposed[0]
    return Verdict(False, name, f"node {d.pid} decided {d.value!r} at idx {d.idx} of configuration {d.config_id}, "
                   f"which nobody proposed{_where(d.at)}")


# --- integrity, with memory -----------------------------------------------------------------------

def integrity(world: World) -> Verdict:
    """A node's decided log only grows, for ever: an entry it once showed decided at an index stays
    there, or lies inside its compacted prefix *whose state holds it* (its snapshot, or the state its
    server saved before compacting, has the entry's effect). Checked over every node's durable
    storage, crashed or not, against everything the ledger saw it decide since the cluster began."""
    name = "Integrity"
    ledger = world.ledger
    if ledger.redecided:
        pid, config_id, idx, first, later, at = ledger.redecided[0]
        return Verdict(False, name, f"node {pid} first decided {first!r} at idx {idx} of configuration "
                       f"{config_id}, later {later!r}{_where(at)}")
    for pid, server in world.servers.items():
        for config_id, storage in server.durable.storages.items():
            seen = ledger.node_logs.get((pid, config_id))
            if seen:
                message = _integrity_problem(ledger, server, config_id, storage, seen)
                if message:
                    return Verdict(False, name, message)
    return _ok(name)


def _integrity_problem(ledger: Ledger, server: Any, config_id: int, storage: Any, seen: list) -> str:
    """Why node ``server.pid``'s storage of `config_id` no longer holds what it showed decided
    (`seen`, by index), or ""."""
    pid = server.pid
    decided_idx = storage.get_decided_idx()
    if decided_idx < len(seen):
        return (f"node {pid}'s decided index went back from {len(seen)} to {decided_idx} in configuration "
                f"{config_id}")
    compacted = storage.get_compacted_idx()
    ss_idx = ledger.stopsign_idx.get(config_id)
    upto = len(seen) if ss_idx is None or ss_idx >= len(seen) else ss_idx
    if compacted < upto:
        stored = storage.get_entries(compacted, upto)
        if stored != seen[compacted:upto]:  # fast path failed: find the first index that differs
            if len(stored) < upto - compacted:  # all or nothing: read what is left
                stored = storage.get_suffix(compacted)
            for offset, before in enumerate(seen[compacted:upto]):
                idx = compacted + offset
                if offset >= len(stored):
                    return (f"node {pid}'s log of configuration {config_id} no longer holds idx {idx} "
                            f"({before!r}), decided there before")
                value = stored[offset]
                if before is not COMPACTED and before is not value and before != value:
                    return (f"node {pid} decided {before!r} at idx {idx} of configuration {config_id}, now its "
                            f"log holds {value!r} there")
    if upto < len(seen) and compacted <= upto:
        stopsign = storage.get_stopsign()
        if seen[upto] is not COMPACTED and stopsign != seen[upto]:
            return (f"node {pid} decided {seen[upto]!r} at idx {upto} of configuration {config_id}, now its "
                    f"log holds {stopsign!r} there")
    if compacted:
        return _compacted_prefix_problem(ledger, server, config_id, storage, seen, min(compacted, len(seen)))
    return ""


def prefix_state(server: Any, config_id: int, storage: Any) -> tuple[Optional[dict], int]:
    """What node ``server.pid`` holds for the compacted prefix of its `config_id` log, as a recovery
    would use it: ``(state, reach)``, the key-value state after the first `reach` slots, or
    ``(None, 0)`` when nothing holds that prefix's state (a trim with no saved state)."""
    compacted = storage.get_compacted_idx()
    saved = server.durable.saved.get(config_id)
    if saved is not None and saved.applied_idx >= compacted:
        return dict(saved.state), saved.applied_idx
    snapshot = storage.get_snapshot()
    if isinstance(snapshot, KVSnapshot):
        state = dict(saved.state) if saved is not None else {}
        state.update(snapshot.snapshotted)
        return state, compacted
    if saved is not None:
        return dict(saved.state), saved.applied_idx
    return None, 0


def _compacted_prefix_problem(ledger: Ledger, server: Any, config_id: int, storage: Any, seen: list,
                              compacted: int) -> str:
    """The first decided write below `compacted` whose effect node ``server.pid``'s compacted prefix
    of `config_id` lost, or "". Entries that are not `KeyValue` writes change no state; of several
    writes to one key only the last counts (it overwrote the others)."""
    pid = server.pid
    state, reach = prefix_state(server, config_id, storage)
    for idx in range(reach, compacted):
        value = seen[idx] if idx < len(seen) else COMPACTED
        if isinstance(value, KeyValue):
            return (f"node {pid} decided {value} at idx {idx} of configuration {config_id}; its log is compacted "
                    f"up to idx {compacted}, but neither a snapshot nor a state saved before compacting holds that "
                    f"write")
    if state is None:
        return ""
    checked: set = set()
    for idx in range(reach - 1, -1, -1):  # the last write to each key, from the right
        value = seen[idx] if idx < len(seen) else COMPACTED
        shown = value is not COMPACTED
        if not shown:
            first = ledger.slots.get((config_id, idx))
            if first is None:
                break  # a slot nobody showed decided: the writes before it cannot be judged
            value = first[0]
        if not isinstance(value, KeyValue) or value.key in checked:
            continue
        checked.add(value.key)
        found = state.get(value.key, _MISSING)
        if found != value.value:
            held = "nothing" if found is _MISSING else f"{value.key}={found!r}"
            how = "" if shown else " (decided there by other nodes; it holds the slot only as compacted)"
            return (f"node {pid} decided {value} at idx {idx} of configuration {config_id}{how}, the last write to "
                    f"{value.key!r} before idx {reach}; its compacted prefix (up to idx {compacted}) holds {held}")
    return ""


_MISSING = object()


# --- local well-formedness ------------------------------------------------------------------------

def local_bounds(omni: Any) -> tuple[int, int, int, Any]:
    """``(compacted_idx, decided_idx, accepted_idx, promise)`` of a replica, read without copying
    anything (the cluster reads them after every call)."""
    log = getattr(getattr(omni, "seq_paxos", None), "log", None)
    if log is not None:
        return log.compacted_idx, log.decided_idx, log.accepted_idx, log.promise
    state = omni.inspect()
    return state.compacted_idx, state.decided_idx, state.accepted_idx, state.promise


def leading_ballot(omni: Any) -> Any:
    """The ballot a replica leads, or None when it is a follower."""
    sp = getattr(omni, "seq_paxos", None)
    if sp is not None and hasattr(sp, "leader_state"):
        return sp.leader_state.n_leader if sp.role is Role.LEADER else None
    return omni.inspect().n_leader


def local_state_problem(pid: int, config_id: int, compacted_idx: int, decided_idx: int, accepted_idx: int,
                        promise: Any, highest_promise: Any) -> Optional[str]:
    """Why one replica's indexes and promise are ill-formed, or None: ``compacted_idx <= decided_idx
    <= accepted_idx`` (nothing compacted is undecided, nothing decided is missing from the log), and
    the promise never goes below the highest one it showed before (a promise is a vow not to accept
    lower ballots, kept in storage across crashes)."""
    if not compacted_idx <= decided_idx <= accepted_idx:
        return (f"node {pid} in configuration {config_id}: compacted_idx {compacted_idx}, decided_idx "
                f"{decided_idx}, accepted_idx {accepted_idx} (each must be at most the next)")
    if highest_promise is not None and promise < highest_promise:
        return (f"node {pid}'s promise in configuration {config_id} went down from {highest_promise.short()} "
                f"to {promise.short()}")
    return None


def local_well_formedness(world: World) -> Verdict:
    """Every replica's own log is well-formed after every event: ``compacted_idx <= decided_idx <=
    accepted_idx``, ``read(i)`` returns a slot for every decided ``i`` at or above the compacted index,
    a StopSign only in the last slot, and a promise that never goes down. The cluster checks the
    indexes and the promise after every call into a replica (the ledger keeps the first problem);
    this reads that, and every live replica's log as it is now."""
    name = "LocalWellFormedness"
    ledger = world.ledger
    if ledger.local_problem is not None:
        message, at = ledger.local_problem
        return Verdict(False, name, message + _where(at))
    # A cluster whose replicas never change once made (the explorer's) keeps each one's answer:
    # 7.5 of the 120 us per state of bench/explore.py's bound (a) went to reading the same logs again.
    shapes = getattr(world, "log_shapes", None)
    for pid, config_id, omni in world.live_replicas():
        problem: Any = _MISSING if shapes is None else shapes.get(id(omni), _MISSING)
        if problem is _MISSING:
            # The indexes and the promise were checked after the last call into this replica; what
            # is left is the log's shape, read from its storage.
            compacted, decided, accepted, _ = local_bounds(omni)
            problem = _log_shape_problem(pid, config_id, omni, compacted, decided, accepted)
            if shapes is not None:
                shapes[id(omni)] = problem
        if problem is not None:
            return Verdict(False, name, problem)
    return _ok(name)


def _log_shape_problem(pid: int, config_id: int, omni: Any, compacted: int, decided: int,
                       accepted: int) -> Optional[str]:
    # Read the storage directly (what `read` serves from) rather than through `read_entries`, which
    # wraps every slot: campaigns check after every operation.
    storage = omni.storage
    stopsign = storage.get_stopsign()
    end = accepted - (1 if stopsign is not None else 0)
    entries = storage.get_entries(compacted, end) if end > compacted else []
    if len(entries) != max(end - compacted, 0):
        held = compacted + len(storage.get_suffix(compacted))
        if decided > held:
            return (f"node {pid} decided {decided} slots of configuration {config_id}, but read({held}) returns "
                    f"nothing")
        return (f"node {pid}'s log of configuration {config_id} ends at idx {held}, not at its accepted index "
                f"{accepted}")
    if StopSign in map(type, entries):
        idx = compacted + [type(e) for e in entries].index(StopSign)
        return (f"node {pid} holds a StopSign at idx {idx} of configuration {config_id}, before its last slot "
                f"{accepted - 1}")
    return None


# --- leaders, reconfiguration, clients ------------------------------------------------------------

def one_leader_per_ballot(world: World) -> Verdict:
    """At most one node ever leads a given ballot, and a leader's ballot carries its own pid. The
    evidence: the cluster records the ballot a node leads whenever its promise rises to it (after
    every call into a replica), with when it was first seen."""
    name = "OneLeaderPerBallot"
    first: Optional[tuple[int, str]] = None
    for ballot, leaders in world.ledger.leaders.items():
        if len(leaders) == 1 and ballot.pid in leaders:
            continue
        seen = sorted(leaders.items(), key=lambda item: _when(item[1]))
        if len(seen) > 1:
            at = seen[1][1]  # when the second leader appeared
            problem = (_when(at), f"nodes {sorted(pid for pid, _ in seen[:2])} both led ballot {ballot.short()}"
                       f"{_where(at)}")
        else:
            pid, at = seen[0]
            problem = (_when(at), f"node {pid} leads ballot {ballot.short()} of node {ballot.pid}{_where(at)}")
        if first is None or problem[0] < first[0]:
            first = problem
    return _ok(name) if first is None else Verdict(False, name, first[1])


def quorum_connected_takeover(world: World) -> Verdict:
    """A node takes over (at the end of an election round, leads a ballot of its own with a round
    number it raised) only if it heard from a quorum in that round, itself included: Ballot Leader Election's
    quorum-connected condition (the OmniPaxos paper, "Ballot Leader Election"). A node that hears less than a
    quorum can never gather one to prepare with, and if it raised its ballot anyway it would depose
    a working leader as soon as its links came back; under partial connectivity two such nodes can
    keep deposing each other for ever. An operator's ``try_become_leader`` is not a takeover, nor
    is a leader's answer to a restarted node's higher ballot (the README's divergences).

    The evidence: the cluster counts each node's ticks (one election round is
    ``election_tick_timeout`` of them) and notes the peers whose heartbeat replies reached it, and
    records every takeover with whom the node heard within its last round."""
    name = QUORUM_CONNECTED
    for takeover in world.ledger.takeovers:
        if len(takeover.heard) + 1 >= takeover.read_quorum:
            continue
        heard = sorted(takeover.heard)
        return Verdict(False, name, f"node {takeover.pid} took over with ballot {takeover.ballot.short()} after an "
                       f"election round in which it heard "
                       + (f"only node(s) {heard}" if heard else "from no other node")
                       + f": with itself that is {len(heard) + 1}, and a quorum is {takeover.read_quorum}"
                       + _where(takeover.at))
    return _ok(name)


#: The name of the verdict of `quorum_connected_takeover`.
QUORUM_CONNECTED = "QuorumConnectedTakeover"


def stopsign_seal(world: World) -> Verdict:
    """Nothing is decided after a decided StopSign, and a node holding a decided StopSign refuses
    new entries. The evidence: the ledger notes, per configuration, the first decision past its
    decided StopSign, and the cluster the first entry a node accepted after deciding it."""
    name = "StopSignSeal"
    seen = world.ledger.past_stopsign.values()
    if not seen:
        return _ok(name)
    p = min(seen, key=lambda p: p.at)
    if p.idx is None:
        return Verdict(False, name, f"node {p.pid} accepted a new entry after deciding the StopSign of configuration "
                       f"{p.config_id}{_where(p.at)}")
    return Verdict(False, name, f"node {p.pid} decided idx {p.idx} of configuration {p.config_id}, after the "
                   f"StopSign decided at idx {p.stopsign_idx}{_where(p.at)}")


def configuration_transitions(world: World) -> Verdict:
    """An instance of configuration k+1 starts only after configuration k decided the StopSign that
    names it, and every node starts it with the same state: everything decided before the StopSign.
    The evidence: every instance start, with what the ledger knew then of configuration k (where its
    StopSign was decided, and the state its decided slots give up to there)."""
    name = "ConfigurationTransition"
    ledger = world.ledger
    for t in ledger.transitions:
        message = _transition_problem(ledger, t)
        if message:
            return Verdict(False, name, message + _where(t.start.at))
    return _ok(name)


def _transition_problem(ledger: Ledger, t: Any) -> str:
    start, prev = t.start, t.start.prev_config_id
    if t.stopsign_idx is None:
        return (f"node {start.pid} started configuration {start.config_id} before configuration {prev} decided its "
                "StopSign")
    decided = ledger.slots[(prev, t.stopsign_idx)][0]
    if decided.next_config.configuration_id != start.config_id or start.pid not in decided.next_config.nodes:
        return (f"node {start.pid} started configuration {start.config_id}, but the StopSign decided in "
                f"configuration {prev} names {decided.next_config!r}")
    for other in ledger.starts:
        if other is start:
            break
        if other.config_id == start.config_id and other.state != start.state:
            return (f"nodes {other.pid} and {start.pid} started configuration {start.config_id} with different "
                    f"states: {other.state!r} vs {start.state!r}")
    expected = t.expected
    if expected is not None and expected != start.state:
        missing = sorted(set(expected.items()) - set(start.state.items()), key=repr)
        if missing:
            return (f"node {start.pid} started configuration {start.config_id} without the state decided before "
                    f"the StopSign of configuration {prev}: it lacks {missing!r}")
        return (f"node {start.pid} started configuration {start.config_id} with {start.state!r}, but configuration "
                f"{prev} decided {expected!r}")
    return ""


def kv_linearizability(world: World) -> Verdict:
    """The client history is linearizable with the log as the linearization: a write that completed
    before another was invoked sits earlier in the log; a refused write never takes effect; a read
    sees every write to its key that completed before the read began (no stale reads), and what the
    log up to where its node had applied wrote to its key. The evidence: the client history (when
    each call was invoked and completed, and the slot of each write), the decisions of refused
    proposals the ledger noted, and each read with what the history held when it read."""
    name = "KVLinearizability"
    ledger = world.ledger
    problems: list[tuple[int, str]] = []
    for op in ledger.completed_writes:
        latest = ledger.latest_completed_before(op.invoked)
        if latest is None:
            continue
        mine, theirs, done = op.position, latest.position, op.completed
        assert mine is not None and theirs is not None and done is not None  # completed writes have them
        if theirs > mine:
            problems.append((done, f"{latest.describe()} completed (trace item {latest.completed}) before "
                             f"{op.describe()} was invoked (item {op.invoked}), yet the log puts it later: idx "
                             f"{theirs[1]} of configuration {theirs[0]} vs idx {mine[1]} of configuration {mine[0]}"))
            break  # the first in completion order is the first in time
    if ledger.refused_decided:
        d = ledger.refused_decided[0]
        problems.append((d.at, f"node {d.pid} decided {d.value!r} at idx {d.idx} of configuration {d.config_id}, "
                         f"but that proposal was refused to its client"))
    for read in ledger.reads:
        message = _stale_read(ledger, read)
        if message:
            problems.append((read.op.invoked, message))
            break
    if not problems:
        return _ok(name)
    at, message = min(problems, key=lambda p: p[0])
    return Verdict(False, name, message + _where(at))


def _stale_read(ledger: Ledger, read: Any) -> str:
    op = read.op
    config_id, applied = op.observed
    latest = read.latest_put
    if latest is not None:
        position = latest.position
        if not (position[0] < config_id or (position[0] == config_id and position[1] < applied)):
            return (f"stale read: {op.describe()} misses {latest.describe()}, which completed earlier (item "
                    f"{latest.completed}) at idx {position[1]} of configuration {position[0]}; node {op.at} had "
                    f"applied only {applied} slots of configuration {config_id}")
    if read.written is None:
        return ""
    value, idx = read.written
    if same_value(value, op.result):
        return ""
    if idx is None:
        source = f"{op.key!r}={value!r} in the state configuration {config_id} started with"
    else:
        writer = next((w for w in ledger.history if w.position == (config_id, idx) and w.kind != "get"), None)
        source = (f"{KeyValue(op.key, value)} decided at idx {idx} of configuration {config_id}"
                  + (f" ({writer.describe()}, completed at item {writer.completed})" if writer else ""))
    return (f"stale read: {op.describe()} misses {source}: node {op.at} had applied {applied} slots of "
            f"configuration {config_id}, but its key-value state lacks that write")


# --- liveness, as a check ------------------------------------------------------------------------

#: The name of the verdict `check_progress` returns.
PROGRESS = "Progress"
#: The key `check_progress` writes to (a fresh value each time it proposes).
PROGRESS_KEY = "progress"
#: Ticks `check_progress` waits for one probe write before it proposes another.
PROBE_PATIENCE = 12
#: The name of the verdict of `no_silent_proposal_loss` (which `check_progress` returns when it fails).
NO_SILENT_LOSS = "NoSilentProposalLoss"
#: Ticks `check_progress` keeps running, once the cluster made progress, for the replicas to let go of
#: the proposals they still hold back (a retired instance may be synced a little later).
RELEASE_PATIENCE = 12


def check_progress(cluster: Any, ticks: int = 60, in_place: bool = False) -> Verdict:
    """Liveness as a check: once every fault is repaired, does the cluster make progress again?

    Heal every link, recover every crashed node, then run up to `ticks` ticks and require, all at
    once: a leader agreed on in the newest configuration; no StopSign left stored but undecided, and
    every member of the newest configuration running it (new members started); and a fresh write
    ``put("progress", n)`` proposed at the leader, decided and applied at every member. Then no
    replica may still hold a proposal back (`no_silent_proposal_loss`, given `RELEASE_PATIENCE`
    more ticks). Returns ``Verdict(True, "Progress")``, a failed one saying what was still missing
    after `ticks` ticks, or the failed verdict of `no_silent_proposal_loss`.

    By default this runs on a copy (``Cluster.replay(cluster.trace)``, identical by determinism), so
    `cluster` is not changed; a cluster changed behind its trace (calls made directly on a replica)
    gives a copy that differs. With ``in_place=True`` it runs on `cluster` itself and records its
    calls (heal, recover, run, put) in the trace like any other (the campaigns do this, so that a
    failing trace replays to the failure)."""
    world = cluster if in_place else type(cluster).replay(cluster.trace)
    world.heal()
    for pid, server in list(world.servers.items()):
        if not server.up:
            world.recover(pid)
    probe, probe_tick = None, 0
    missing: Optional[str] = "nothing ran"
    for tick in range(ticks):
        world.run(1)
        missing = _progress_missing(world, probe)
        if missing is None:
            return _after_progress(world)
        stale = probe is not None and probe.completed is None and tick - probe_tick >= PROBE_PATIENCE
        if probe is None or probe.refused is not None or stale:
            target = _probe_target(world)
            if target is not None:
                try:
                    probe, probe_tick = world.put(PROGRESS_KEY, tick, at=target), tick
                except Exception as err:  # a ProposeErr: a StopSign is pending; try again next tick
                    if not _is_propose_err(err):
                        raise
                    probe = None
    return Verdict(False, PROGRESS, f"after healing every link and recovering every node, {ticks} ticks were not "
                   f"enough: {missing}")


def _after_progress(world: Any) -> Verdict:
    """Progress was made: now no proposal may be left behind silently (`no_silent_proposal_loss`).
    A replica may still be letting go of one (an old instance synced a tick later), so run up to
    `RELEASE_PATIENCE` more ticks before saying so."""
    for _ in range(RELEASE_PATIENCE):
        if no_silent_proposal_loss(world).ok:
            return _ok(PROGRESS)
        world.run(1)
    verdict = no_silent_proposal_loss(world)
    return _ok(PROGRESS) if verdict.ok else verdict


def held_proposals(world: World) -> list[tuple[int, int, Any]]:
    """``(pid, config_id, proposal)`` for every proposal a live replica holds back, not yet in its
    log: buffered while it knew no leader or was preparing, or a StopSign waiting likewise."""
    held = []
    for pid, config_id, omni in world.live_replicas():
        sp: Any = getattr(omni, "seq_paxos", None)
        buffered = getattr(sp, "buffered_proposals", None)
        if buffered is None:  # a replica of another shape: count what inspect() says
            state = omni.inspect()
            held += [(pid, config_id, None)] * state.buffered_proposals
            stopsign = state.buffered_stopsign
        else:
            held += [(pid, config_id, proposal) for proposal in buffered]
            stopsign = sp.buffered_stopsign
        if stopsign is not None:
            held.append((pid, config_id, stopsign))
    return held


def no_silent_proposal_loss(world: World) -> Verdict:
    """No proposal is lost silently (the README: every proposal is decided or reported with a
    ``ProposalLost``, on the follower side too). Meant for a cluster that has just made progress
    again (`check_progress` calls it then: every link healed, every node up, a leader, a fresh write
    applied at every member): from then on no replica may still hold a proposal back. A leader that
    knows its log proposes what it buffered; a follower forwards it to the leader it now follows;
    and a replica whose log ends in a StopSign, behind which nothing can be decided, reports it lost
    (``take_dropped_proposals``). A proposal still held at that point is never decided and never
    reported: its client waits for ever.

    (A client write may also vanish without a report when the network loses the message carrying it,
    or when a new leader's sync overwrites an entry a deposed leader accepted but never got chosen;
    Sequence Paxos allows both, and the client retries after a timeout. This rule is about what the
    replicas themselves still hold.)"""
    name = NO_SILENT_LOSS
    held = held_proposals(world)
    if not held:
        return _ok(name)
    pid, config_id, proposal = held[0]
    ledger = world.ledger
    op = ledger.pending_writes.find(proposal) if proposal is not None else None
    what = op.describe() if op is not None else (repr(proposal) if proposal is not None else "a proposal")
    since = f" (client call at trace item {op.invoked})" if op is not None else ""
    replica = next((o for p, c, o in world.live_replicas() if p == pid and c == config_id), None)
    where = ""
    if replica is not None:
        state = replica.inspect()
        sealed = state.stopsign is not None
        where = (f", a {state.role.value}/{state.phase.value} whose log "
                 + ("ends in the StopSign" if sealed
                    else f"holds {state.accepted_idx} slot" + ("" if state.accepted_idx == 1 else "s"))
                 + f" (decided {state.decided_idx})")
    more = f"; {len(held) - 1} more held" if len(held) > 1 else ""
    return Verdict(False, name, f"node {pid}{where}, still holds {what}{since} back in configuration {config_id} "
                   f"after the cluster made progress again: it is never decided and no ProposalLost reports it"
                   f"{more}")


def _is_propose_err(err: Exception) -> bool:
    from omnilab.replica.errors import ProposeErr

    return isinstance(err, ProposeErr)


def newest_members(world: Any) -> tuple[int, list[int]]:
    """The newest configuration any server knows, and its members."""
    config_id = max(max(s.durable.configs, default=0) for s in world.servers.values())
    holder = next(s for s in world.servers.values() if config_id in s.durable.configs)
    return config_id, list(holder.durable.configs[config_id].nodes)


def _probe_target(world: Any) -> Optional[int]:
    """The agreed leader, or else the newest configuration's member leading the highest ballot in
    the Accept phase (a member that has not caught up yet may keep the others from agreeing)."""
    leader = world.leader()
    if leader is not None:
        return leader
    config_id, _ = newest_members(world)
    best = None
    for pid, server in world.servers.items():
        omni = server.instances.get(config_id) if server.up else None
        if omni is None:
            continue
        state = omni.inspect()
        if state.n_leader is not None and state.phase is Phase.ACCEPT and (best is None or state.n_leader > best[0]):
            best = (state.n_leader, pid)
    return None if best is None else best[1]


def _progress_missing(world: Any, probe: Any) -> Optional[str]:
    """What `check_progress` still waits for, or None when everything is there."""
    config_id, members = newest_members(world)
    not_started = [p for p in members if config_id not in world.servers[p].instances]
    if not_started:
        return (f"member(s) {not_started} of configuration {config_id} have not started it "
                f"({', '.join(_replica_summary(world, p) for p in not_started)})")
    undecided = [p for p in members if _undecided_stopsign(world.servers[p].instances[config_id])]
    if undecided:
        return (f"the StopSign of configuration {config_id} is stored but not decided at node(s) {undecided} "
                f"({', '.join(_replica_summary(world, p) for p in undecided)})")
    leader = world.leader()
    if leader is None:
        return (f"no leader agreed on in configuration {config_id} "
                f"({', '.join(_replica_summary(world, p) for p in members)})")
    if probe is None or probe.refused is not None:
        return f"no write proposed at leader {leader} yet"
    if probe.completed is None:
        return f"{probe.describe()} was proposed but not decided (leader {leader})"
    behind = [p for p in members if not _has_applied(world.servers[p], probe.position)]
    if behind:
        return (f"{probe.describe()} was decided at idx {probe.position[1]} of configuration {probe.position[0]} "
                f"but not applied at node(s) {behind} ({', '.join(_replica_summary(world, p) for p in behind)}; "
                f"leader {leader})")
    return None


def _undecided_stopsign(omni: Any) -> bool:
    return omni.storage.get_stopsign() is not None and omni.is_reconfigured() is None


def _has_applied(server: Any, position: tuple) -> bool:
    current = server.config_id
    if not server.up or current is None:
        return False
    return position[0] < current or (position[0] == current and position[1] < server.applied.get(current, 0))


def _replica_summary(world: Any, pid: int) -> str:
    server = world.servers[pid]
    if not server.instances:
        return f"node {pid} {server.status.value}"
    state = server.omnipaxos.inspect()
    return (f"node {pid} {state.role.value}/{state.phase.value} in c{state.configuration_id}, decided "
            f"{state.decided_idx}, accepted {state.accepted_idx}")


#: Every invariant, in the order `check` reports them.
INVARIANTS: tuple[Callable[[World], Verdict], ...] = (
    uniform_agreement, integrity, validity, local_well_formedness, one_leader_per_ballot, quorum_connected_takeover,
    stopsign_seal, configuration_transitions, kv_linearizability,
)


def check(world: World) -> list[Verdict]:
    """Run every invariant over `world`; one verdict each."""
    return [invariant(world) for invariant in INVARIANTS]
