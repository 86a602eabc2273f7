"""Every solution scores full marks; every untouched exercise scores 0, only through NotImplementedError.

Both run the notebooks' answer cells the way the batch grader does: found by tag
(`answer_sources`), executed in a fresh namespace (`load_answers`).
"""

import json
from pathlib import Path

import pytest

from omnilab.grading import bank
from omnilab.grading.report import NOT_IMPLEMENTED, check

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = list(bank.EXERCISES.values())


def answers(folder: str, exercise):
    notebook = json.loads((ROOT / folder / f"{exercise.slug}.ipynb").read_text())
    sources = bank.answer_sources(notebook)
    assert set(sources) == set(exercise.surface)
    return sources, bank.load_answers(exercise, sources)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_solution_scores_full_marks(exercise):
    sources, namespace = answers("solutions", exercise)
    assert bank.static_guard(exercise, sources) is None
    report = check(exercise.id, namespace, progress=False, sources=sources)
    assert [(r.check, r.reason) for r in report.rows if not r.passed] == []
    assert report.score == report.max_score == exercise.max_points > 0


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_untouched_exercise_scores_zero_through_not_implemented(exercise):
    sources, namespace = answers("exercises", exercise)
    assert bank.static_guard(exercise, sources) is None
    for c in exercise.checks:
        with pytest.raises(NotImplementedError):
            c.produce(namespace, 0)
    report = check(exercise.id, namespace, progress=False, sources=sources)
    assert report.score == 0
    assert {(r.reason, r.error) for r in report.rows} == {(NOT_IMPLEMENTED, "NotImplementedError")}


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_solution_notebook_ends_by_asserting_full_marks(exercise):
    notebook = json.loads((ROOT / "solutions" / f"{exercise.slug}.ipynb").read_text())
    last = "".join(notebook["cells"][-1]["source"])
    assert "report.score == report.max_score" in last and "assert" in last
    assert f'omnilab.grading.check("{exercise.id}")' in "".join(
        "".join(c["source"]) for c in notebook["cells"])


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_the_preamble_is_what_the_notebook_imports(exercise):
    notebook = json.loads((ROOT / "exercises" / f"{exercise.slug}.ipynb").read_text())
    first_answer = next(i for i, c in enumerate(notebook["cells"]) if "answer" in c["metadata"].get("tags", []))
    before = "\n".join("".join(c["source"]) for c in notebook["cells"][:first_answer] if c["cell_type"] == "code")
    for line in exercise.preamble.splitlines():
        assert line in before


@pytest.mark.parametrize("exercise", [e for e in EXERCISES if any(c.hidden for c in e.checks)], ids=lambda e: e.id)
def test_solution_passes_the_hidden_checks_on_secret_seeds(exercise):
    from omnilab.grading.report import run_check

    _, namespace = answers("solutions", exercise)
    for c in exercise.checks:
        if c.hidden:
            seeds = exercise.seeds(c, "an instructor's secret")
            assert seeds
            for seed in seeds:
                outcome, error = run_check(exercise, c, namespace, seed)
                assert outcome.passed and error is None, (c.name, seed, outcome.reason)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_artefacts_survive_json_and_judge_the_same(exercise):
    """Batch grading ships each artefact out of the learner's process as JSON, and must give the same
    result on every run."""
    import json as _json

    _, namespace = answers("solutions", exercise)
    for c in exercise.checks:
        if c.hidden:
            continue
        artefact = c.produce(namespace, 0)
        assert c.produce(namespace, 0) == artefact  # deterministic: the same run every time
        shipped = _json.loads(_json.dumps(artefact))
        assert c.judge(shipped, 0) == c.judge(artefact, 0)
        assert c.judge(shipped, 0).passed


def test_artefacts_do_not_depend_on_the_process():
    """The same answers give byte-identical artefacts in two processes with different hash seeds."""
    import os
    import subprocess
    import sys

    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from omnilab.grading import bank\n"
        "out = {}\n"
        "for ex in bank.EXERCISES.values():\n"
        "    nb = json.loads((Path(sys.argv[1]) / 'solutions' / f'{ex.slug}.ipynb').read_text())\n"
        "    ns = bank.load_answers(ex, bank.answer_sources(nb))\n"
        "    out[ex.id] = {c.name: c.produce(ns, 0) for c in ex.checks if not c.hidden}\n"
        "print(json.dumps(out, sort_keys=True))\n")
    runs = [subprocess.run([sys.executable, "-c", script, str(ROOT)], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")]
    assert runs[0] == runs[1] and len(runs[0]) > 1000
