"""A tiny exercise bank for testing the batch grader's machinery, independent of the real exercises.

It has the shape of ``omnilab.grading.bank`` (``EXERCISES``, ``answer_sources``, ``load_answers``,
``static_guard``, exercises of checks that are a ``produce`` / ``judge`` pair) and two exercises:

- ``tq01`` (slug ``01-toy-quorums``): the learner writes ``is_quorum(count, n)``, a majority test.
  Two public checks on fixed cluster sizes and one hidden check on sizes drawn from the seed.
- ``tq02`` (slug ``02-toy-break-it``): the learner writes ``schedule``, a list of operations on a toy
  durable counter. The buggy counter forgets the adds since its last checkpoint when it crashes;
  the schedule must make it lose an add, and must not make the reference lose one (``wipe``,
  erasing the disk, breaks both: against the rules of the game).

Every check's judge works from the artefact alone, as the real bank's do.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import random
from dataclasses import dataclass
from typing import Any, Callable, Mapping

ANSWER_TAG = "answer"
TIMEOUT = 3.0  # short, so that the endless-loop submissions cost the test little


@dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    reason: str = ""
    schedule: tuple[str, ...] = ()
    trace: Any = None


@dataclass(frozen=True)
class Check:
    name: str
    points: float
    produce: Callable[[Mapping[str, Any], int], Any]
    judge: Callable[[Any, int], CheckOutcome]
    hidden: bool = False
    timeout: float = 20.0


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    slug: str
    surface: tuple[str, ...]
    forbidden: tuple[str, ...]
    checks: tuple[Check, ...]

    def seeds(self, check: Check, secret: str | None) -> list[int]:
        if not check.hidden:
            return [0]
        if secret is None:
            return []
        return [int.from_bytes(hmac.new(secret.encode(), f"{self.id}/{check.name}/{i}".encode(),
                                        hashlib.sha256).digest()[:4], "big") for i in range(2)]


# --- tq01: quorums -------------------------------------------------------------------------------

def reference_is_quorum(count: int, n: int) -> bool:
    """The reference answer: more than half of the n nodes."""
    return count > n // 2


def _quorum_table(is_quorum, sizes) -> list[list]:
    return [[n, c, bool(is_quorum(c, n))] for n in sizes for c in range(n + 1)]


def _judge_table(artefact, seed) -> CheckOutcome:
    for n, c, answer in artefact:
        if answer != (c > n // 2):
            need = n // 2 + 1
            return CheckOutcome(False, f"is_quorum({c}, {n}) returned {answer}; a majority of {n} nodes "
                                       f"is {need} or more", schedule=(f"is_quorum({c}, {n})",))
    return CheckOutcome(True)


def _hidden_sizes(seed: int) -> list[int]:
    rng = random.Random(seed)
    return sorted(rng.sample(range(10, 60), 3))


QUORUMS = Exercise(
    id="tq01", title="Toy quorums", slug="01-toy-quorums", surface=("is_quorum",),
    forbidden=("reference_is_quorum",),
    checks=(
        Check("small-clusters", 1.0, lambda ns, seed: _quorum_table(ns["is_quorum"], range(1, 6)),
              _judge_table, timeout=TIMEOUT),
        Check("large-clusters", 2.0, lambda ns, seed: _quorum_table(ns["is_quorum"], range(6, 10)),
              _judge_table, timeout=TIMEOUT),
        Check("random-sizes", 1.0, lambda ns, seed: _quorum_table(ns["is_quorum"], _hidden_sizes(seed)),
              _judge_table, hidden=True, timeout=TIMEOUT),
    ))


# --- tq02: break it -------------------------------------------------------------------------------

OPERATIONS = {"add", "crash", "recover", "wipe"}


def run_counter(schedule, buggy: bool) -> str | None:
    """Replay `schedule` on the toy counter; the violation's description, or None."""
    value = durable = checkpoint = 0
    total = 0
    up = True
    adds = 0
    for i, op in enumerate(schedule):
        kind = op[0]
        if kind == "add" and up:
            value += op[1]
            total += op[1]
            adds += 1
            if buggy:
                if adds % 2 == 0:
                    checkpoint = value
            else:
                durable = value
        elif kind == "crash":
            up = False
        elif kind == "recover" and not up:
            up = True
            value = checkpoint if buggy else durable
        elif kind == "wipe":
            durable = checkpoint = 0
        if up and value != total:
            return f"after operation {i} ({op[0]}) the counter reads {value}, but {total} was added"
    return None


def _produce_schedule(namespace, seed):
    return [list(op) for op in namespace["schedule"]]


def _judge_schedule(artefact, seed) -> CheckOutcome:
    lines = tuple(f"counter.{op[0]}({', '.join(map(repr, op[1:]))})" for op in artefact
                  if isinstance(op, list) and op)
    for op in artefact:
        if not (isinstance(op, list) and op and op[0] in OPERATIONS
                and (op[0] != "add" or (len(op) == 2 and isinstance(op[1], int)))):
            return CheckOutcome(False, f"{op!r} is not an operation (use add n, crash, recover)")
    on_buggy = run_counter(artefact, buggy=True)
    if on_buggy is None:
        return CheckOutcome(False, "the schedule violates nothing on the buggy counter", schedule=lines)
    on_reference = run_counter(artefact, buggy=False)
    if on_reference is not None:
        return CheckOutcome(False, "the schedule breaks the reference counter too (" + on_reference
                            + "): it breaks the rules, not the bug", schedule=lines)
    return CheckOutcome(True, schedule=lines)


BREAK_IT = Exercise(
    id="tq02", title="Toy break-it", slug="02-toy-break-it", surface=("schedule",), forbidden=(),
    checks=(Check("loses-an-add", 2.0, _produce_schedule, _judge_schedule, timeout=TIMEOUT),))

EXERCISES = {exercise.id: exercise for exercise in (QUORUMS, BREAK_IT)}


# --- the bank's helpers ----------------------------------------------------------------------------

def answer_sources(notebook) -> dict[str, str]:
    sources = {}
    for cell in notebook["cells"]:
        if cell.get("cell_type") == "code" and ANSWER_TAG in cell.get("metadata", {}).get("tags", []):
            surface = cell["metadata"].get("omnilab", {}).get("surface")
            if surface:
                source = cell["source"]
                sources[surface] = "".join(source) if isinstance(source, list) else source
    return sources


def load_answers(exercise, sources) -> dict:
    namespace: dict = {"__name__": "__answer__"}
    for surface in exercise.surface:
        exec(compile(sources[surface], f"<answer {surface}>", "exec"), namespace)
    return namespace


def static_guard(exercise, sources) -> str | None:
    for surface, source in sources.items():
        try:
            tree = ast.parse(source)
        except SyntaxError as error:
            return None  # loading the answer reports the syntax error, with its line
        for node in ast.walk(tree):
            name = (node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute)
                    else node.name.rsplit(".", 1)[-1] if isinstance(node, ast.alias) else None)
            if name in exercise.forbidden:
                return f"the answer for {surface} uses {name}, the reference implementation"
    return None
