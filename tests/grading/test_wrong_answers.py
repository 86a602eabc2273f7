"""Each known mistake fails exactly the checks meant to catch it, with a reason (and, for a cluster
check, the schedule that shows it); `Report.lab` rebuilds that schedule on the learner's variant."""

import pytest

from omnilab.grading import bank
from omnilab.grading.report import check

from .wrong_answers import WRONG

CASES = [(ex, name, sources, failing) for ex, answers in WRONG.items() for name, (sources, failing) in answers.items()]


@pytest.mark.parametrize("exercise_id,name,sources,failing", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_a_known_mistake_fails_its_checks(exercise_id, name, sources, failing):
    exercise = bank.EXERCISES[exercise_id]
    namespace = bank.load_answers(exercise, sources)
    report = check(exercise_id, namespace, progress=False, sources=sources)
    assert {r.check for r in report.rows if not r.passed} == failing
    for row in report.rows:
        if not row.passed:
            assert row.reason and row.reason != "not implemented yet"
            assert row.points == 0


def test_a_split_brain_names_the_invariant_and_shows_where_two_quorums_miss():
    exercise = bank.EXERCISES["ex01"]
    sources, _ = WRONG["ex01"]["too-small"]
    report = check("ex01", bank.load_answers(exercise, sources), progress=False, sources=sources)
    row = report.row("split-brain")
    assert row.reason.startswith("UniformAgreement violated: nodes 4 and 2 decided different entries at idx 1")
    assert row.schedule[0] == "cluster = Cluster([1, 2, 3, 4], seed=0, variant=your_quorum)"
    assert "cluster.partition([1, 2], [3, 4])" in row.schedule
    # The schedule stops at the call that revealed the violation; the lab opens the cluster there.
    cluster = report.cluster("split-brain")
    assert cluster.trace.script().splitlines()[1:] == list(row.schedule[1:])
    assert not next(v for v in cluster.check() if v.name == "UniformAgreement").ok
    assert "split-brain failed on this schedule" in repr(report)
    assert "<table>" in report._repr_html_() and "report.lab(&#x27;split-brain&#x27;)" in report._repr_html_()


def test_the_lab_opens_on_the_failing_run():
    pytest.importorskip("ipywidgets")
    exercise = bank.EXERCISES["ex03"]
    sources, _ = WRONG["ex03"]["keeps-own-log"]
    report = check("ex03", bank.load_answers(exercise, sources), progress=False, sources=sources)
    widget = report.lab("missing-decided-entry")
    assert widget.cluster.variant.name == "your MySequencePaxos"
    assert len(widget.cluster.trace.operations()) == len(report.row("missing-decided-entry").schedule)


def test_a_passing_check_has_nothing_to_open():
    exercise = bank.EXERCISES["ex01"]
    sources, _ = WRONG["ex01"]["all-nodes"]
    report = check("ex01", bank.load_answers(exercise, sources), progress=False, sources=sources)
    with pytest.raises(ValueError, match="passed"):
        report.lab("split-brain")


def test_an_answer_that_raises_gets_the_error_as_its_reason():
    exercise = bank.EXERCISES["ex01"]
    sources = {"is_quorum": "def is_quorum(count, num_nodes, flexible_quorum, phase):\n    return count / 0 > 1\n"}
    report = check("ex01", bank.load_answers(exercise, sources), progress=False, sources=sources)
    assert report.score == 0
    table = report.row("majority")
    assert (table.reason, table.error) == ("ZeroDivisionError: division by zero", "ZeroDivisionError")
    run = report.row("split-brain")
    assert run.reason == "cluster.run(ticks=3) raised ZeroDivisionError: division by zero"
    assert run.schedule == ("cluster = Cluster([1, 2, 3, 4], seed=0, variant=your_quorum)", "cluster.run(ticks=3)")
