"""`omnilab grade` on the course's own exercises: a class of 21 submissions made from the solution
notebooks (solutions/*.ipynb), the untouched exercises (exercises/*.ipynb) and known mistakes.

Every solution scores full marks and every untouched exercise 0 with "not implemented yet"; each
broken submission (an endless loop, an import error, a memory hog, a megabyte printer, a
monkeypatcher of omnilab.grading, the invariants and Cluster.check, a caller of the reference, a
deleted answer cell, break-it schedules that violate nothing or break the reference too) gets 0 for
exactly what it broke, with the reason, and the rest of the class is graded all the same. Checks
get 3 s each here (the course's own limit is 20 s) to keep the endless loop cheap.
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import nbformat
import pytest

from omnilab.grading import bank, batch
from tests.grading import wrong_answers

ROOT = Path(__file__).resolve().parents[2]
LIMITS = batch.Limits(load_timeout=5.0, memory_mb=768, timeout=3.0)
SECRET = "course-secret"


def solution(exercise_id: str):
    return nbformat.read(ROOT / "solutions" / f"{bank.EXERCISES[exercise_id].slug}.ipynb", as_version=4)


def blank(exercise_id: str):
    return nbformat.read(ROOT / "exercises" / f"{bank.EXERCISES[exercise_id].slug}.ipynb", as_version=4)


def with_answers(exercise_id: str, sources: dict[str, str | None]):
    """The solution notebook with some answer cells' sources replaced (None deletes the cell)."""
    notebook = copy.deepcopy(solution(exercise_id))
    cells = []
    for cell in notebook.cells:
        surface = cell.metadata.get("omnilab", {}).get("surface") if "answer" in cell.metadata.get("tags", []) else None
        if surface in sources:
            if sources[surface] is None:
                continue
            cell.source = sources[surface]
        cells.append(cell)
    notebook.cells = cells
    return notebook


def answer(exercise_id: str, surface: str) -> str:
    return bank.answer_sources(solution(exercise_id))[surface]


SOLVED_QUORUM = answer("ex01", "is_quorum")
MONKEYPATCH = (
    # It reaches the grader's modules around the static guard (which refuses `import omnilab.grading`).
    "import sys\n"
    "import omnilab.sim, omnilab.sim.invariants\n"
    "loaded = vars(sys)['modu' + 'les']\n"
    "bank = loaded['omnilab.grad' + 'ing.bank']\n"
    "loaded['omnilab.grad' + 'ing'].check = lambda *args, **kwargs: 'full marks'\n"
    "omnilab.sim.Cluster.check = lambda self: []\n"
    # every invariant that returns a verdict says ok (its helpers, which the simulator calls, stay)
    "for name in ('check', 'uniform_agreement', 'validity', 'integrity', 'local_well_formedness',\n"
    "             'one_leader_per_ballot', 'stopsign_seal', 'configuration_transitions', 'kv_linearizability'):\n"
    "    setattr(omnilab.sim.invariants, name, lambda *args, **kwargs: [])\n"
    "for exercise in bank.EXERCISES.values():\n"
    "    for check in exercise.checks:\n"
    "        object.__setattr__(check, 'judge', lambda artefact, seed: bank.CheckOutcome(True))\n"
    "        object.__setattr__(check, 'points', 100)\n"
    + wrong_answers.QUORUM_TOO_SMALL)

EX01 = [c.name for c in bank.EXERCISES["ex01"].checks]
TOO_SMALL = wrong_answers.WRONG["ex01"]["too-small"][1]

# learner -> ({exercise id: notebook, or None for no notebook}, {(exercise, check): (status, phrase)})
#   Unnamed exercises get the solution; unlisted checks must pass.
CLASS: dict[str, tuple[dict, dict]] = {
    "ada": ({}, {}),
    "ben": ({exercise_id: blank(exercise_id) for exercise_id in bank.EXERCISES}, "blank"),
    "cleo": ({"ex02": with_answers("ex02", wrong_answers.WRONG["ex02"]["never-takes-over"][0])},
             {("ex02", name): ("fail", "") for name in wrong_answers.WRONG["ex02"]["never-takes-over"][1]}),
    "dmitri": ({"ex01": with_answers("ex01", {"is_quorum": "def is_quorum(count, num_nodes, flexible_quorum, phase):\n"
                                                            "    while True:\n        pass\n"})},
               {("ex01", name): ("timeout", "did not finish within 3 s") for name in EX01}),
    "elif": ({"ex01": with_answers("ex01", {"is_quorum": "import omnilab_quorum_helpers\n" + SOLVED_QUORUM})},
             {("ex01", name): ("error", "ModuleNotFoundError") for name in EX01}),
    "femi": ({"ex01": with_answers("ex01", {"is_quorum": "hog = []\nwhile True:\n    hog.append(bytearray(2**26))\n"})},
             {("ex01", name): ("error", "MemoryError") for name in EX01}),
    "gus": ({"ex01": with_answers("ex01", {"is_quorum": "for _ in range(20):\n    print('#' * 2**20)\n" + SOLVED_QUORUM})},
            {}),
    "hana": ({"ex01": with_answers("ex01", {"is_quorum": MONKEYPATCH})},
             {("ex01", name): ("fail", "") for name in TOO_SMALL}),
    "ines": ({"ex01": with_answers("ex01", {"is_quorum": "from omnilab.replica.config import Quorum\n"
                                                          "def is_quorum(count, num_nodes, flexible_quorum, phase):\n"
                                                          "    return Quorum.of(num_nodes, flexible_quorum).is_accept_quorum(count)\n"})},
             {("ex01", name): ("fail", "reaches omnilab's reference") for name in EX01}),
    "jon": ({"ex02": with_answers("ex02", {"MyBallotLeaderElection": None})},
            {("ex02", c.name): ("missing", "no answer cell for MyBallotLeaderElection")
             for c in bank.EXERCISES["ex02"].checks}),
    "kai": ({"ex06": with_answers("ex06", wrong_answers.WRONG["ex06"]["breaks-nothing"][0])},
            {("ex06", "breaks-the-mutant"): ("fail", "")}),
    "lena": ({"ex06": with_answers("ex06", wrong_answers.WRONG["ex06"]["breaks-the-reference-too"][0])},
             {("ex06", "breaks-the-mutant"): ("fail", ""), ("ex06", "fair-on-the-reference"): ("fail", "")}),
    "milo": ({"ex06": with_answers("ex06", wrong_answers.WRONG["ex06"]["code-not-data"][0])},
             {("ex06", "breaks-the-mutant"): ("fail", ""), ("ex06", "fair-on-the-reference"): ("fail", "")}),
    "nell": ({"ex03": None}, {("ex03", c.name): ("missing", "no notebook for 03-promises")
                              for c in bank.EXERCISES["ex03"].checks}),
    "omar": ({"ex03": with_answers("ex03", wrong_answers.WRONG["ex03"]["sync-too-low"][0])},
             {("ex03", name): ("fail", "") for name in wrong_answers.WRONG["ex03"]["sync-too-low"][1]}),
    "pia": ({"ex01": with_answers("ex01", wrong_answers.WRONG["ex01"]["all-nodes"][0])},
            {("ex01", name): ("fail", "") for name in wrong_answers.WRONG["ex01"]["all-nodes"][1]}),
    "quinn": ({"ex02": with_answers("ex02", wrong_answers.WRONG["ex02"]["no-quorum-connected"][0])},
              {("ex02", name): ("fail", "") for name in wrong_answers.WRONG["ex02"]["no-quorum-connected"][1]}),
    "rosa": ({"ex01": with_answers("ex01", {"is_quorum": "def is_quorum(count, num_nodes, flexible_quorum, phase)\n"
                                                          "    return True\n"})},
             {("ex01", name): ("error", "SyntaxError") for name in EX01}),
    "sam": ({"ex03": with_answers("ex03", wrong_answers.WRONG["ex03"]["longest-log"][0])},
            {("ex03", name): ("fail", "") for name in wrong_answers.WRONG["ex03"]["longest-log"][1]}),
    "tess": ({"ex01": with_answers("ex01", {"is_quorum": "import os\n"
                                                          "def is_quorum(count, num_nodes, flexible_quorum, phase):\n"
                                                          "    os._exit(1)\n"})},
             {("ex01", name): ("error", "exited (code 1)") for name in EX01}),
    "uma": ({}, {}),
}


def expected(learner: str) -> dict:
    _, marks = CLASS[learner]
    if marks == "blank":
        return {(e.id, c.name): ("fail", "not implemented yet") for e in bank.EXERCISES.values() for c in e.checks}
    return marks


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("course")
    for learner, (notebooks, _) in CLASS.items():
        folder = base / "submissions" / learner
        folder.mkdir(parents=True)
        for exercise in bank.EXERCISES.values():
            notebook = notebooks.get(exercise.id, solution(exercise.id))
            if notebook is not None:
                nbformat.write(notebook, folder / f"{exercise.slug}.ipynb")
    run = batch.grade(base / "submissions", base / "out", secret=SECRET, limits=LIMITS, jobs=2, progress=False)
    with open(base / "out" / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return base, run, rows


@pytest.mark.parametrize("learner", sorted(CLASS))
def test_each_course_submission_gets_its_score_and_reason(graded, learner):
    _, _, rows = graded
    mine = [r for r in rows if r["learner"] == learner]
    checks = [(e.id, c.name) for e in bank.EXERCISES.values() for c in e.checks]
    assert [(r["exercise"], r["check"]) for r in mine] == checks      # hidden ones too: the secret was given
    marks = expected(learner)
    for r in mine:
        status, phrase = marks.get((r["exercise"], r["check"]), ("pass", ""))
        assert r["status"] == status, (r["exercise"], r["check"], r["reason"])
        assert phrase in r["reason"], (r["exercise"], r["check"], r["reason"])
        maximum = bank.EXERCISES[r["exercise"]].check_named(r["check"]).points
        assert float(r["max"]) == maximum
        assert float(r["points"]) == (maximum if status == "pass" else 0)
        if status == "fail" and not phrase:
            assert r["reason"], (r["exercise"], r["check"])      # a failure always says why


def test_solutions_score_full_marks_including_the_hidden_checks(graded):
    base, _, _ = graded
    grades = {line.split(",")[0]: line.split(",") for line in (base / "out" / "grades.csv").read_text().splitlines()}
    full = sum(c.points for e in bank.EXERCISES.values() for c in e.checks)
    assert float(grades["ada"][-1]) == float(grades["uma"][-1]) == full
    assert float(grades["ben"][-1]) == 0


def test_grading_again_gives_the_same_rows_and_skips_what_is_graded(graded, tmp_path):
    base, run, _ = graded
    assert run.graded == len(CLASS) * len(bank.EXERCISES)      # nell's missing ex03 is graded "missing"
    first = (base / "out" / "results.csv").read_text()
    # Four learners graded again from scratch, into a fresh folder: the same rows, byte for byte.
    chosen = {"ada", "cleo", "hana", "kai"}
    subset = tmp_path / "subs"
    subset.mkdir()
    for learner in sorted(chosen):
        (subset / learner).symlink_to(base / "submissions" / learner)
    batch.grade(subset, tmp_path / "out", secret=SECRET, limits=LIMITS, jobs=2, progress=False)
    again = (tmp_path / "out" / "results.csv").read_text().splitlines()
    assert again[1:] == [line for line in first.splitlines()[1:] if line.split(",")[0] in chosen]
    # The same folder again: everything is already graded.
    rerun = batch.grade(base / "submissions", base / "out", secret=SECRET, limits=LIMITS, progress=False)
    assert (rerun.graded, rerun.skipped) == (0, run.graded)
    assert (base / "out" / "results.csv").read_text() == first


def test_feedback_shows_the_failing_schedule_as_cluster_calls(graded):
    base, _, rows = graded
    kai = (base / "out" / "feedback" / "kai.md").read_text()
    assert "breaks-the-mutant: the failing schedule" in kai and "cluster." in kai
    cleo = (base / "out" / "feedback" / "cleo.md").read_text()
    assert "```python" in cleo and "Cluster(" in cleo
