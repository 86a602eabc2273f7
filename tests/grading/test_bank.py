"""The bank's rules: answers found by tag, loaded fresh, guarded against the reference; seeds."""

import copy
import json
from pathlib import Path

import pytest

from omnilab.grading import bank

ROOT = Path(__file__).resolve().parents[2]
EX01 = bank.EXERCISES["ex01"]


def notebook(folder="solutions", slug="01-quorums"):
    return json.loads((ROOT / folder / f"{slug}.ipynb").read_text())


def test_exercises_are_in_course_order_with_unique_slugs():
    ids = list(bank.EXERCISES)
    assert ids == sorted(ids) and ids[0] == "ex01"
    for exercise in bank.EXERCISES.values():
        assert exercise.slug.startswith(exercise.id[2:] + "-")
        assert exercise.surface and exercise.checks and any(not c.hidden for c in exercise.checks)


def test_answer_cells_are_found_by_tag_never_by_position():
    nb = notebook()
    found = bank.answer_sources(nb)
    shuffled = copy.deepcopy(nb)
    shuffled["cells"] = list(reversed(shuffled["cells"])) + [
        {"cell_type": "code", "metadata": {}, "source": "def is_quorum(*a):\n    return True\n", "outputs": [],
         "execution_count": None}]
    assert bank.answer_sources(shuffled) == found
    assert set(found) == {"is_quorum"} and "def is_quorum" in found["is_quorum"]


def test_a_deleted_answer_cell_is_missing_with_a_reason():
    nb = notebook()
    nb["cells"] = [c for c in nb["cells"] if "answer" not in c["metadata"].get("tags", [])]
    assert bank.answer_sources(nb) == {}
    with pytest.raises(bank.MissingAnswer, match="no answer cell for is_quorum"):
        bank.load_answers(EX01, {})


def test_answers_load_in_a_fresh_namespace_with_the_preamble():
    sources = bank.answer_sources(notebook())
    first, second = bank.load_answers(EX01, sources), bank.load_answers(EX01, sources)
    assert first is not second and first["is_quorum"] is not second["is_quorum"]
    assert first["is_quorum"](3, 5, None, "accept") is True
    assert "FlexibleQuorum" in first  # from the preamble


@pytest.mark.parametrize("source,used", [
    ("from omnilab.replica.config import Quorum\ndef is_quorum(c, n, f, p):\n    return Quorum.of(n, f).is_accept_quorum(c)",
     "Quorum"),
    ("import omnilab.replica.config as c\ndef is_quorum(count, n, f, p):\n    return c.Quorum(1, 1)", "Quorum"),
    ("def is_quorum(count, n, f, p):\n    return getattr(f, 'is_prepare_quorum')(count)", "is_prepare_quorum"),
    ("def is_quorum(count, n, f, p):\n    return type(f).__mro__", "__mro__"),
    ("import omnilab.grading.runs as r\nr.verdict = lambda *a, **k: None\ndef is_quorum(c, n, f, p):\n    return True",
     "grading"),
    ("from omnilab.sim.variant import REFERENCE\ndef is_quorum(c, n, f, p):\n    return True", "REFERENCE"),
])
def test_the_static_guard_names_what_reaches_the_reference(source, used):
    reason = bank.static_guard(EX01, {"is_quorum": source})
    assert reason is not None and repr(used) in reason


def test_the_static_guard_refuses_super_with_arguments():
    ex02 = bank.EXERCISES["ex02"]
    source = ("class MyBallotLeaderElection(BlankBallotLeaderElection):\n"
              "    def check_takeover(self):\n        super(BlankBallotLeaderElection, self).check_takeover()\n")
    assert "super(...)" in bank.static_guard(ex02, {"MyBallotLeaderElection": source})
    plain = source.replace("super(BlankBallotLeaderElection, self)", "super()")
    assert bank.static_guard(ex02, {"MyBallotLeaderElection": plain}) is None


def test_a_blanked_method_reaches_nothing_through_super():
    ex02 = bank.EXERCISES["ex02"]
    source = ("class MyBallotLeaderElection(BlankBallotLeaderElection):\n"
              "    def update_leader(self):\n        super().update_leader()\n"
              "    def update_happiness(self, s):\n        super().update_happiness(s)\n"
              "    def check_takeover(self):\n        super().check_takeover()\n")
    namespace = bank.load_answers(ex02, {"MyBallotLeaderElection": source})
    with pytest.raises(NotImplementedError):
        ex02.checks[0].produce(namespace, 0)


def test_a_guarded_answer_scores_zero_with_the_reason():
    from omnilab.grading.report import check

    source = ("from omnilab.replica.config import Quorum\n"
              "def is_quorum(c, n, f, p):\n"
              "    q = Quorum.of(n, f)\n"
              "    return q.is_prepare_quorum(c) if p == 'prepare' else q.is_accept_quorum(c)\n")
    namespace = bank.load_answers(EX01, {"is_quorum": source})
    report = check("ex01", namespace, progress=False, sources={"is_quorum": source})
    assert report.score == 0 and all("reference implementation" in r.reason for r in report.rows)


def test_in_a_notebook_the_guard_reads_the_answer_from_the_function():
    from omnilab.grading.report import _sources_of

    namespace = bank.load_answers(EX01, bank.answer_sources(notebook()))
    # Functions defined by exec have no source file: the guard then sees nothing (batch grading
    # passes the cell sources instead).
    assert set(_sources_of(EX01, namespace)) == {"is_quorum"}


def test_public_checks_run_the_public_seeds_hidden_ones_only_with_a_secret():
    ex03 = bank.EXERCISES["ex03"]
    public = ex03.check_named("fault-campaign")
    hidden = ex03.check_named("fault-campaign-secret")
    assert ex03.seeds(public, None) == ex03.seeds(public, "s3cret") == list(ex03.public_seeds)
    assert ex03.seeds(hidden, None) == []
    seeds = ex03.seeds(hidden, "s3cret")
    assert seeds == ex03.seeds(hidden, "s3cret") and len(set(seeds)) == bank.SECRET_SEEDS
    assert seeds != ex03.seeds(hidden, "other") and not set(seeds) & set(ex03.public_seeds)


def test_max_points_come_from_the_bank():
    assert EX01.max_points == sum(c.points for c in EX01.checks if not c.hidden) == 10
