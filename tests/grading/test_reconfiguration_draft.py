"""Exercise 4 waits for the reconfiguration service to become a swappable part of a variant.

Its checks are complete: here the test itself routes the cluster's decided-suffix loop through the
variant's service (the seam the exercise needs), and the draft solution scores full marks while the
untouched exercise scores 0 through NotImplementedError. When the simulator grows that seam,
`test_the_exercise_waits_for_the_seam` fails on purpose: move solutions/drafts/04-reconfiguration.py
to solutions/, add the exercise to omnilab.grading.exercises.ALL and run omnilab exercises build.
"""

from pathlib import Path

import pytest

from omnilab.grading import bank
from omnilab.grading.build import strip_solution
from omnilab.grading.exercises import ALL, reconfiguration
from omnilab.grading.report import NOT_IMPLEMENTED, run_check
from omnilab.sim import Cluster

DRAFT = Path(__file__).resolve().parents[2] / "solutions" / "drafts" / "04-reconfiguration.py"
EX04 = reconfiguration.EXERCISE


@pytest.fixture
def service_seam(monkeypatch):
    """The seam exercise 4 needs: the cluster runs the variant's decided-suffix loop."""
    monkeypatch.setattr(Cluster, "_apply_decided",
                        lambda self, *args, **kwargs: self.variant.service._apply_decided(self, *args, **kwargs))


def draft_sources(blank: bool = False) -> dict:
    import jupytext

    notebook = jupytext.read(DRAFT, fmt="py:percent")
    sources = bank.answer_sources(notebook)
    return {name: strip_solution(text, name) for name, text in sources.items()} if blank else sources


def test_the_exercise_waits_for_the_seam():
    assert not reconfiguration.service_seam_reaches_the_loop(), (
        "a variant's service now replaces the decided-suffix loop: enable exercise 4 (see this module's docstring)")
    assert EX04 not in ALL and "ex04" not in bank.EXERCISES


def test_with_the_seam_the_draft_solution_scores_full_marks(service_seam):
    assert reconfiguration.service_seam_reaches_the_loop()
    namespace = bank.load_answers(EX04, draft_sources())
    for check in EX04.checks:
        outcome, error = run_check(EX04, check, namespace, 0)
        assert outcome.passed and error is None, (check.name, outcome.reason)


def test_with_the_seam_the_untouched_exercise_scores_zero(service_seam):
    namespace = bank.load_answers(EX04, draft_sources(blank=True))
    for check in EX04.checks:
        outcome, error = run_check(EX04, check, namespace, 0)
        assert (outcome.passed, outcome.reason, error) == (False, NOT_IMPLEMENTED, "NotImplementedError")


def test_with_the_seam_a_loop_that_never_tells_the_new_nodes_fails(service_seam):
    sources = draft_sources()
    broken = {name: text.replace("tell_new_nodes(self, server, config_id, stopsign, idx, new_pids, replaying)", "pass")
              for name, text in sources.items()}
    namespace = bank.load_answers(EX04, broken)
    failed = {c.name for c in EX04.checks if not run_check(EX04, c, namespace, 0)[0].passed}
    assert failed == {"replace-crashed-node", "two-in-a-row", "all-new-nodes"}
