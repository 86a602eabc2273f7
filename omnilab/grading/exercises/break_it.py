"""Exercise 6, break it: write the schedule that makes a buggy OmniPaxos violate an invariant.

The learner is given a mutant (a variant with one deliberate bug, from `omnilab.sim.mutants`) and
writes ``schedule()``, returning a list of `Cluster` calls as strings. The schedule is data: the
check parses it with `ast` (`omnilab.grading.runs.parse_schedule`: known methods, literal arguments)
and never executes it as code. The judge replays it itself, in its own process, on the mutant and on
the reference, checking every invariant after every call: it must break an invariant on the mutant
and break nothing on the reference (a schedule that breaks the reference too breaks the rules of
the game, not the mutant).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

from omnilab.replica.config import Quorum

from ..bank import Check, CheckOutcome, Exercise
from ..runs import Schedule, ScheduleError, build_cluster, parse_schedule, replay_schedule
from .common import answer

SURFACE = "schedule"
PREAMBLE = "from omnilab.grading.exercises.break_it import MUTANT\n"
#: The catalogue name of the mutant to break.
MUTANT_NAME = "decide-without-write-quorum"
#: Limits that keep a replay short: calls, and ticks in all.
MAX_CALLS, MAX_TICKS = 200, 300


@dataclass(frozen=True)
class LoneDeciderQuorum(Quorum):
    """The bug: any single node is a write quorum, so a leader decides an entry as soon as it has
    accepted it itself. UniformAgreement catches it once another leader decides the same slot."""

    def is_accept_quorum(self, count: int) -> bool:
        return count >= 1


def mutant() -> Any:
    """The mutant of this exercise: the catalogue's ``decide-without-write-quorum`` when the
    catalogue has it, else the same bug defined here."""
    from omnilab.sim.mutants import MUTANTS
    from omnilab.sim.variant import REFERENCE

    if MUTANT_NAME in MUTANTS:
        return MUTANTS[MUTANT_NAME]
    return REFERENCE.with_components(name=MUTANT_NAME, quorum=LoneDeciderQuorum)


class _Mutant:
    """``MUTANT`` in the notebook: the variant, looked up when first used."""

    def __getattr__(self, name: str) -> Any:
        return getattr(mutant(), name)

    def __repr__(self) -> str:
        variant = mutant()
        return f"<mutant {variant.name!r}: {variant.description or 'a leader decides without a write quorum'}>"


MUTANT = _Mutant()


def produce(namespace: Mapping[str, Any], seed: int) -> dict:
    """Call the learner's ``schedule()`` and export its lines (nothing else runs)."""
    make = answer(namespace, SURFACE)
    if not callable(make):
        raise TypeError("schedule must be a function returning a list of strings")
    lines = make()
    if isinstance(lines, str):
        lines = lines.splitlines()
    if not isinstance(lines, (list, tuple)) or not all(isinstance(line, str) for line in lines):
        raise TypeError(f"schedule() must return a list of strings such as 'cluster.run(ticks=3)', not {lines!r:.80}")
    return {"schedule": [str(line) for line in lines]}


def _parsed(artefact: Any) -> Schedule:
    lines = artefact.get("schedule") if isinstance(artefact, Mapping) else None
    if not isinstance(lines, list):
        raise ScheduleError("no schedule")
    schedule = parse_schedule(lines, max_calls=MAX_CALLS)
    ticks = sum(int(dict(c.kwargs).get("ticks", c.args[0] if c.args else 1)) for c in schedule.calls
                if c.method == "run") + sum(int(dict(c.kwargs).get("n", c.args[0] if c.args else 1))
                                            for c in schedule.calls if c.method == "tick")
    if ticks > MAX_TICKS:
        raise ScheduleError(f"the schedule lets {ticks} ticks pass; keep it under {MAX_TICKS}")
    return schedule


@dataclass(frozen=True)
class Replayed:
    """How a replay ended: ``at`` is the call (1-based) after which an invariant failed
    (``violated``) or which raised (not ``violated``), None when every call ran and everything held."""

    at: Optional[int]
    violated: bool
    reason: str
    cluster: Any


def replay_checked(schedule: Schedule, variant: Any) -> Replayed:
    """Perform `schedule` on `variant`, checking every invariant after every call. A proposal or a
    compaction the replica refuses is part of the game (it is recorded), not an error."""
    from omnilab.replica.errors import CompactionErr, ProposeErr, SnapshotUnsupported

    cluster = build_cluster(schedule, variant)
    for k, call in enumerate(schedule.calls, start=1):
        try:
            call.apply(cluster)
        except (ProposeErr, CompactionErr, SnapshotUnsupported):
            pass
        except Exception as err:  # noqa: BLE001 - a call the cluster refuses ends the game
            return Replayed(k, False, f"{call.line()} raised {type(err).__name__}: {err}", cluster)
        failed = [v for v in cluster.check() if not v.ok]
        if failed:
            return Replayed(k, True, f"{failed[0].name} violated: {failed[0].message}", cluster)
    return Replayed(None, False, "", cluster)


def _lines(schedule: Schedule, label: str, upto: Optional[int] = None) -> tuple[str, ...]:
    lines = schedule.lines(label)
    return tuple(lines if upto is None else lines[:upto + 1])


def judge_breaks(artefact: Any, seed: int) -> CheckOutcome:
    try:
        schedule = _parsed(artefact)
    except ScheduleError as err:
        return CheckOutcome(False, f"the schedule cannot be read: {err}")
    on_mutant = replay_checked(schedule, mutant())
    if on_mutant.at is None:
        return CheckOutcome(False, f"no invariant failed on the mutant: all {len(schedule.calls)} calls ran and "
                            "every invariant held after each", _lines(schedule, "MUTANT"))
    if not on_mutant.violated:
        return CheckOutcome(False, f"on the mutant, {on_mutant.reason}", _lines(schedule, "MUTANT", on_mutant.at))
    on_reference = replay_checked(schedule, None)
    if on_reference.at is not None:
        return CheckOutcome(False, f"the reference fails too, so the schedule breaks the rules rather than the "
                            f"mutant: on the reference, {on_reference.reason}",
                            _lines(schedule, "REFERENCE", on_reference.at))
    return CheckOutcome(True, f"the mutant broke after call {on_mutant.at}: {on_mutant.reason}")


def judge_reference(artefact: Any, seed: int) -> CheckOutcome:
    try:
        schedule = _parsed(artefact)
    except ScheduleError as err:
        return CheckOutcome(False, f"the schedule cannot be read: {err}")
    if not schedule.calls:
        return CheckOutcome(False, "the schedule is empty")
    on_reference = replay_checked(schedule, None)
    if on_reference.at is not None:
        return CheckOutcome(False, f"on the reference, {on_reference.reason}",
                            _lines(schedule, "REFERENCE", on_reference.at))
    return CheckOutcome(True)


def replay(namespace: Mapping[str, Any], lines: Any) -> Any:
    """Rebuild a reported run: the first line names ``variant=MUTANT`` or ``variant=REFERENCE``."""
    lines = list(lines)
    label = "MUTANT" if ", variant=MUTANT" in lines[0] else "REFERENCE"
    lines[0] = lines[0].replace(f", variant={label}", "")
    return replay_schedule(parse_schedule(lines), mutant() if label == "MUTANT" else None)


CHECKS = (
    Check("breaks-the-mutant", 3, produce, judge_breaks,
          description="replayed on the mutant, some invariant fails; replayed on the reference, none does"),
    Check("fair-on-the-reference", 2, produce, judge_reference,
          description="the schedule is readable and runs on the reference without an error or a violation"),
)

EXERCISE = Exercise(
    id="ex06", title="Break it", slug="06-break-it", surface=(SURFACE,),
    forbidden=("exec", "eval", "compile", "open"),
    checks=CHECKS, preamble=PREAMBLE, replay=replay, variant=None,
)
