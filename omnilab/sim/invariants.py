"""Named safety invariants, each returning a `Verdict(ok, name, message)`.

The same functions serve the tests, the widget's badges and the grader. Each takes a *world*: any
object with

* ``ledger`` - the `Ledger` of what has been observed so far (decisions, proposals, instance
  starts, the client history), and
* ``live_replicas()`` - ``(pid, config_id, omnipaxos)`` for every running instance.

`Cluster` is such a world. Invariants whose evidence is historical (a slot decided differently by
two nodes, a proposal nobody made) are checked by the ledger the moment the evidence appears; the
functions here report that, and add the checks that need the replicas' current state (PROTOCOL.md §5).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Protocol

from omnilab.replica.entries import Decided, Snapshotted, StopSignEntry, Trimmed
from omnilab.replica.state import Role

from .ledger import COMPACTED, Ledger, Verdict


class World(Protocol):
    ledger: Ledger

    def live_replicas(self) -> Iterable[tuple[int, int, Any]]: ...


def _ok(name: str) -> Verdict:
    """The ok verdict of invariant `name` (verdicts are immutable, so one each serves every check;
    campaigns check after every step)."""
    verdict = _OK.get(name)
    if verdict is None:
        verdict = _OK[name] = Verdict(True, name, "")
    return verdict


_OK: dict[str, Verdict] = {}


def _recorded(world: World, name: str) -> Verdict:
    """The violation the ledger recorded for `name`, or an ok verdict. (Verdicts are falsy when
    violated, so test them with ``.ok``, never with ``or``.)"""
    found = world.ledger.violations.get(name)
    return found if found is not None else _ok(name)


def uniform_agreement(world: World) -> Verdict:
    """No two nodes ever decide different entries in the same slot of a configuration (SC2)."""
    return _recorded(world, "UniformAgreement")


def validity(world: World) -> Verdict:
    """Every decided slot holds something a client proposed: an appended entry or the StopSign of a
    `reconfigure` call (SC1)."""
    return _recorded(world, "Validity")


def integrity(world: World) -> Verdict:
    """A node's decided log only grows: once it shows a value decided at an index, that index keeps
    the value (or is compacted) and the decided index never goes back (SC3)."""
    name = "Integrity"
    found = _recorded(world, name)
    if not found.ok:
        return found
    ledger = world.ledger
    for pid, config_id, omni in world.live_replicas():
        seen = ledger.node_logs.get((pid, config_id))
        if not seen:
            continue
        decided_idx = omni.get_decided_idx()
        if decided_idx < len(seen):
            return Verdict(False, name, f"node {pid}'s decided index went back from {len(seen)} to "
                           f"{decided_idx} in configuration {config_id}")
        # Fast path: the stored entries between the compacted index and the StopSign equal what was seen.
        compacted = omni.get_compacted_idx()
        ss_idx = ledger.stopsign_idx.get(config_id)
        upto = len(seen) if ss_idx is None or ss_idx >= len(seen) else ss_idx
        if compacted <= upto and omni.storage.get_entries(compacted, upto) == seen[compacted:upto] and (
                upto == len(seen) or omni.is_reconfigured() == seen[upto]):
            continue
        message = _integrity_difference(pid, config_id, omni, seen)
        if message:
            return Verdict(False, name, message)
    return _ok(name)


def _integrity_difference(pid: int, config_id: int, omni: Any, seen: list) -> str:
    """Slot by slot, the first index where `omni`'s decided log differs from what it showed before."""
    idx = 0
    for slot in omni.read_entries(0, len(seen)) or []:
        kind = type(slot)
        if kind is Snapshotted or kind is Trimmed:
            idx = slot.snapshotted_entry.trimmed_idx if kind is Snapshotted else slot.trimmed_idx
            continue
        value = slot.entry if kind is Decided else slot.stopsign if kind is StopSignEntry else slot
        before = seen[idx]
        if before is not COMPACTED and before is not value and before != value:
            return (f"node {pid} decided {before!r} at idx {idx} of configuration {config_id}, now its log "
                    f"holds {value!r} there")
        idx += 1
    if idx < len(seen):
        return f"node {pid}'s log of configuration {config_id} no longer holds idx {idx}, decided before"
    return ""


def one_leader_per_ballot(world: World) -> Verdict:
    """At most one node ever leads a given ballot, and a leader's ballot carries its own pid."""
    name = "OneLeaderPerBallot"
    ledger = world.ledger
    for pid, config_id, omni in world.live_replicas():
        if omni.get_promise().pid != pid:
            continue  # a leader has promised its own ballot
        state = omni.inspect()
        if state.role is Role.LEADER and state.n_leader is not None:
            ledger.on_leader(pid, state.n_leader, None)
    return _recorded(world, name)


def stopsign_seal(world: World) -> Verdict:
    """Nothing is decided after a decided StopSign, and a node holding a decided StopSign refuses
    new entries (PROTOCOL.md §5 item 7)."""
    return _recorded(world, "StopSignSeal")


def configuration_transitions(world: World) -> Verdict:
    """An instance of configuration k+1 starts only after configuration k decided the StopSign that
    names it, and every node starts it with the same state: everything decided before the StopSign."""
    return _recorded(world, "ConfigurationTransition")


def kv_linearizability(world: World) -> Verdict:
    """The client history is linearizable with the log as the linearization: a write that completed
    before another was invoked sits earlier in the log; a refused write never takes effect; a read
    sees every write to its key that completed before the read began (no stale reads). The ledger
    checks each write as it completes and each read as it happens."""
    return _recorded(world, "KVLinearizability")


#: Every invariant, in the order `check` reports them.
INVARIANTS: tuple[Callable[[World], Verdict], ...] = (
    uniform_agreement, integrity, validity, one_leader_per_ballot, stopsign_seal, configuration_transitions,
    kv_linearizability,
)


def check(world: World) -> list[Verdict]:
    """Run every invariant over `world`; one verdict each."""
    return [invariant(world) for invariant in INVARIANTS]
