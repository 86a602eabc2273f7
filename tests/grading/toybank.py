"""A tiny exercise bank for testing the batch grader's machinery, independent of the real exercises.

It is a bank as ``omnilab.grading.bank`` is (``EXERCISES``, and that module's ``answer_sources``,
``load_answers``, ``static_guard`` and types), with two exercises whose checks cost nothing, so that
the tests can spend their time on misbehaving submissions:

- ``tq01`` (slug ``01-toy-quorums``): the learner writes ``is_quorum(count, n)``, a majority test.
  Two public checks on fixed cluster sizes and one hidden check on sizes drawn from the seed.
- ``tq02`` (slug ``02-toy-break-it``): the learner writes ``schedule``, a list of operations on a toy
  durable counter. The buggy counter forgets the adds since its last checkpoint when it crashes;
  the schedule must make it lose an add, and must not make the reference lose one (``wipe``,
  erasing the disk, breaks both: against the rules of the game).

Every check's judge works from the artefact alone, as the real bank's do.
"""

from __future__ import annotations

import random

# The course bank's types and helpers: answer cells by tag, loading, the static guard.
from omnilab.grading.bank import (  # noqa: F401 - re-exported: the grader reads them from this module
    ANSWER_TAG, Check, CheckOutcome, Exercise, answer_sources, load_answers, static_guard,
)

TIMEOUT = 3.0  # short, so that the endless-loop submissions cost the test little


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
