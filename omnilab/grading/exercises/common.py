"""What the exercises share: turning an answer into a variant, and checks that run a schedule.

A *cluster check* runs one fixed schedule (lines of `Cluster` calls) on a cluster built from the
learner's variant, exports the run (`omnilab.grading.runs.run_schedule`) and judges the export alone
(`omnilab.grading.runs.verdict`): the safety invariants, then the check's progress conditions. The
schedule's first line names the variant by a label (``variant=your_quorum``); `replayer` maps those
labels back to variants, so `Report.lab` can rebuild the failing run with the learner's code.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from ..bank import Check, CheckOutcome
from ..runs import Schedule, decided_by, parse_schedule, random_schedule, replay_schedule, run_schedule, verdict

VariantMaker = Callable[[Mapping[str, Any]], Any]
Condition = Callable[[Mapping], Optional[str]]


def answer(namespace: Mapping[str, Any], name: str, kind: Optional[type] = None) -> Any:
    """The learner's `name` from `namespace`; a clear error when it is missing or of the wrong kind."""
    if name not in namespace:
        raise NameError(f"{name} is not defined: run its answer cell first")
    value = namespace[name]
    if kind is not None and not (isinstance(value, type) and issubclass(value, kind)):
        raise TypeError(f"{name} must be a class derived from {kind.__name__} (keep the class line of the answer "
                        f"cell as given)")
    return value


def make_variant(name: str, description: str = "", **components: Any) -> Any:
    """The reference variant with some replica components replaced."""
    from dataclasses import replace

    from omnilab.sim.variant import REFERENCE

    variant = REFERENCE.with_components(name=name, **components)
    return replace(variant, description=description) if description else variant


def lazy_lines(build: Callable[[], Sequence[str]]) -> Callable[[], list[str]]:
    """`build` computed once, on first use (scenario schedules replay a scenario to print it)."""
    return functools.lru_cache(maxsize=1)(lambda: list(build()))


def scenario_lines(scenario: Callable[..., Any], *more: str) -> list[str]:
    """The calls that build `scenario` (from ``omnilab.sim.scenarios``), then `more` calls."""
    script = scenario().trace.script().splitlines()
    creation = re.sub(r", variant=[^,)]*", "", script[0])
    return [creation] + script[1:] + list(more)


def cluster_check(name: str, points: float, lines: Sequence[str] | Callable[[], Sequence[str]],
                  variant: VariantMaker, label: str, progress: Iterable[Condition] = (), description: str = "",
                  extra: Any = None, hidden: bool = False) -> Check:
    """A check that runs `lines` on the learner's `variant` and requires safety, an error-free run and
    every `progress` condition."""
    conditions = tuple(progress)

    @functools.lru_cache(maxsize=1)
    def schedule() -> Schedule:
        return parse_schedule(lines() if callable(lines) else lines)

    def produce(namespace: Mapping[str, Any], seed: int) -> dict:
        return run_schedule(schedule(), variant(namespace), variant_name=label, extra=extra)

    def judge(artefact: Any, seed: int) -> CheckOutcome:
        return verdict(artefact, schedule().lines(label), conditions)

    return Check(name, points, produce, judge, hidden=hidden, description=description)


def replayer(variants: Mapping[str, VariantMaker]) -> Callable[[Mapping[str, Any], Sequence[str]], Any]:
    """``(namespace, schedule lines) -> Cluster``: rebuild a reported run with the variant its first
    line names (a label of `variants`)."""
    def replay(namespace: Mapping[str, Any], lines: Sequence[str]) -> Any:
        lines = list(lines)
        found = re.search(r", variant=(\w+)", lines[0]) if lines else None
        if found is None or found.group(1) not in variants:
            raise ValueError(f"this schedule names no variant of the exercise ({lines[:1]})")
        lines[0] = lines[0].replace(found.group(0), "")
        return replay_schedule(parse_schedule(lines), variants[found.group(1)](namespace))
    return replay


def campaign_check(name: str, points: float, variant: VariantMaker, label: str, hidden: bool = False) -> Check:
    """A seeded fault campaign on the learner's variant: the seed chooses the schedule
    (`omnilab.grading.runs.random_schedule`), so hidden seeds mean schedules nobody saw. Safety
    throughout, and the final put decided on every node."""

    def produce(namespace: Mapping[str, Any], seed: int) -> dict:
        return run_schedule(parse_schedule(random_schedule(seed)), variant(namespace), variant_name=label)

    def judge(artefact: Any, seed: int) -> CheckOutcome:
        lines = parse_schedule(random_schedule(seed)).lines(label)
        final = f"KeyValue(key='final', value={seed % 1000})"
        return verdict(artefact, lines, [decided_by(final, [1, 2, 3, 4, 5])])

    return Check(name, points, produce, judge, hidden=hidden,
                 description="a seeded random schedule of crashes, partitions, leader changes and puts; then "
                             "heal: safety throughout, and a final put decided everywhere")
