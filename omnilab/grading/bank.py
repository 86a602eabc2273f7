"""The exercise bank: every graded exercise, its declared surface and its checks.

An exercise is a small hole in an otherwise complete OmniPaxos: one function, or one method of a
class whose reference method is blanked. The learner fills it in an *answer cell* (a notebook cell
tagged ``answer`` whose metadata names the exercise and the surface); the checks plug the answer in
through the simulator's variant mechanism and grade it through public behaviour only.

Each `Check` is two functions, kept apart on purpose:

* ``produce(namespace, seed)`` runs the learner's code (a truth table of their function, a `Cluster`
  run built on their variant) and returns a JSON-serialisable *artefact*: what happened, never a
  verdict;
* ``judge(artefact, seed)`` decides from the artefact alone (agreement, integrity, progress, ...),
  in a process that never loaded the learner's code, so an answer that patches the simulator or the
  invariants cannot credit itself.

The bank also guards the reference: omnilab ships the complete implementation, so `static_guard`
refuses an answer whose source reaches it by name (``forbidden``), and the classes a learner
completes have their exercised methods blanked, so ``super()`` reaches nothing.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

#: The cell tag of answer cells. Their metadata also has
#: ``{"omnilab": {"exercise": "ex01", "surface": "is_quorum"}}``; cells are found by these, never by
#: position, so a learner may insert, move or delete other cells freely.
ANSWER_TAG = "answer"

#: Names no answer may use, whatever the exercise: they lead around a blanked method to the
#: reference (``__mro__`` / ``__bases__`` reach the parent; ``super(Blank, self)`` is refused
#: separately), import behind the guard's back, or reach the grading and the simulator's reference
#: variant (an answer has no business patching its own grader).
ALWAYS_FORBIDDEN = ("__mro__", "__bases__", "__base__", "__subclasses__", "__import__", "importlib", "modules",
                    "builtins", "__builtins__", "grading", "REFERENCE")

#: How many secret-derived seeds a hidden check runs in batch grading.
SECRET_SEEDS = 3


@dataclass(frozen=True)
class CheckOutcome:
    """The verdict of one check on one seed."""

    passed: bool
    reason: str = ""                   # learner-facing: what failed, which invariant, which node/index/value
    schedule: tuple[str, ...] = ()     # the failing schedule as `Cluster` calls (lines of Python), if any
    trace: Any = None                  # a trace that Cluster.replay / omnilab.lab can open, when in-process


@dataclass(frozen=True)
class Check:
    """One graded property of an exercise (see the module docstring for produce and judge)."""

    name: str                          # unique within the exercise, e.g. "majority-overlap"
    points: float
    produce: Callable[[Mapping[str, Any], int], Any]
    judge: Callable[[Any, int], CheckOutcome]
    hidden: bool = False               # hidden checks only run in batch grading with --secret
    timeout: float = 20.0              # seconds per check in batch grading
    description: str = ""              # one line: what the check runs and what it requires


@dataclass(frozen=True)
class Exercise:
    """One graded exercise. ``slug`` names its files: ``solutions/<slug>.py`` (the source),
    ``solutions/<slug>.ipynb`` and ``exercises/<slug>.ipynb`` (generated)."""

    id: str                            # "ex01", "ex02", ...
    title: str
    slug: str                          # "01-quorums"
    surface: tuple[str, ...]           # names the answer cells must define, e.g. ("is_quorum",)
    forbidden: tuple[str, ...]         # reference names an answer may not reach
    checks: tuple[Check, ...]
    #: Imports the answer cells rely on; `load_answers` runs them first (the notebook has the same
    #: lines in its set-up cell).
    preamble: str = ""
    #: Seeds every public check runs with.
    public_seeds: tuple[int, ...] = (0,)
    #: ``(namespace, schedule lines) -> Cluster``: rebuild a failing run with the learner's variant
    #: (for `Report.lab`); None when the exercise's checks run no cluster.
    replay: Optional[Callable[[Mapping[str, Any], tuple[str, ...]], Any]] = None
    #: ``namespace -> Variant``: the learner's answer as a simulator variant, when it is one.
    variant: Optional[Callable[[Mapping[str, Any]], Any]] = None

    def __post_init__(self) -> None:
        names = [c.name for c in self.checks]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.id}: check names repeat: {names}")

    @property
    def max_points(self) -> float:
        """Points of the public checks (what the in-notebook check can give)."""
        return sum(c.points for c in self.checks if not c.hidden)

    def check_named(self, name: str) -> Check:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(f"{self.id} has no check {name!r}; its checks are {[c.name for c in self.checks]}")

    def seeds(self, check: Check, secret: Optional[str]) -> list[int]:
        """The seeds `check` runs with: the public seeds for a public check; for a hidden check,
        seeds derived from the instructor's `secret` (none without one, so a hidden check never runs
        in a learner's notebook)."""
        if not check.hidden:
            return list(self.public_seeds)
        if secret is None:
            return []
        return [secret_seed(secret, self.id, check.name, k) for k in range(SECRET_SEEDS)]


def secret_seed(secret: str, exercise_id: str, check_name: str, k: int) -> int:
    """A seed nobody can guess without `secret` (the first 8 bytes of a SHA-256)."""
    digest = hashlib.sha256(f"{secret}\0{exercise_id}\0{check_name}\0{k}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


# --- answer cells ------------------------------------------------------------------------------------

def _cells(notebook: Any) -> list:
    if isinstance(notebook, Mapping):
        return list(notebook.get("cells", []))
    return list(getattr(notebook, "cells", []))


def _source(cell: Mapping) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def answer_sources(notebook: Any) -> dict[str, str]:
    """``{surface name: source}`` of the notebook's answer cells (an nbformat notebook or its JSON
    dict). A cell counts when it carries the ``answer`` tag and ``omnilab.surface`` metadata;
    position never matters. Two cells for one surface: the last one wins, as when Run All executes
    both."""
    found: dict[str, str] = {}
    for cell in _cells(notebook):
        if cell.get("cell_type") != "code":
            continue
        metadata = cell.get("metadata", {}) or {}
        if ANSWER_TAG not in (metadata.get("tags") or []):
            continue
        surface = (metadata.get("omnilab") or {}).get("surface")
        if surface:
            found[str(surface)] = _source(cell)
    return found


class MissingAnswer(LookupError):
    """A surface has no answer cell (deleted, or its tag removed)."""


def load_answers(exercise: Exercise, sources: Mapping[str, str]) -> dict:
    """Run the exercise's preamble, then each surface's answer source (in surface order), in one
    fresh namespace; return it. Raises `MissingAnswer` when a surface has no source, and whatever
    the answer code raises (a `SyntaxError`, an import error, ...)."""
    missing = [name for name in exercise.surface if name not in sources]
    if missing:
        raise MissingAnswer(f"{exercise.id}: no answer cell for {', '.join(missing)} (a code cell tagged "
                            f"{ANSWER_TAG!r} with omnilab metadata surface={missing[0]!r}); copy it back from "
                            f"exercises/{exercise.slug}.ipynb")
    namespace: dict = {"__name__": f"omnilab_answer_{exercise.id}"}
    if exercise.preamble:
        exec(compile(exercise.preamble, f"<{exercise.id} preamble>", "exec"), namespace)
    for name in exercise.surface:
        exec(compile(sources[name], f"<{exercise.id} answer {name}>", "exec"), namespace)
    return namespace


def static_guard(exercise: Exercise, sources: Mapping[str, str]) -> Optional[str]:
    """A reason when an answer reaches a forbidden name (a name, an attribute, an imported name or a
    string spelling one, as ``getattr(x, "outranks")`` would), or calls ``super`` with arguments
    (which skips the blanked method); None when the answers are clean. A source that does not parse
    is left to `load_answers` to report."""
    forbidden = set(exercise.forbidden) | set(ALWAYS_FORBIDDEN)
    for surface, source in sources.items():
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            used = None
            if isinstance(node, ast.Name) and node.id in forbidden:
                used = node.id
            elif isinstance(node, ast.Attribute) and node.attr in forbidden:
                used = node.attr
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [a.asname for a in node.names if a.asname]
                names += [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
                used = next((part for n in names for part in n.split(".") if part in forbidden), None)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in forbidden:
                used = node.value
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"
                  and (node.args or node.keywords)):
                return (f"the answer for {surface} calls super(...) with arguments, which skips the blanked "
                        f"method and reaches the reference: call super() without arguments, or not at all")
            if used is not None:
                return (f"the answer for {surface} uses {used!r}, which reaches omnilab's reference "
                        f"implementation of this exercise: write the logic yourself (the exercise scores 0 "
                        f"while it does)")
    return None


# --- the bank ----------------------------------------------------------------------------------------

_EXERCISES: dict[str, Exercise] = {}


def _bank() -> dict[str, Exercise]:
    """Every exercise by id, in order. Built on first use: the exercise modules import the classes
    above, so importing them from here at import time would be circular."""
    if not _EXERCISES:
        from omnilab.grading.exercises import ALL

        _EXERCISES.update((ex.id, ex) for ex in ALL)
    return _EXERCISES


def __getattr__(name: str) -> Any:
    if name == "EXERCISES":  # ``bank.EXERCISES`` / ``from omnilab.grading.bank import EXERCISES``
        return _bank()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def exercise(exercise_id: str) -> Exercise:
    """The exercise `exercise_id` ("ex01", ...), or a KeyError naming the ones there are."""
    bank = _bank()
    try:
        return bank[exercise_id]
    except KeyError:
        raise KeyError(f"no exercise {exercise_id!r}; the exercises are {list(bank)}") from None
