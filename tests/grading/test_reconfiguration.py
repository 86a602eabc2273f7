"""Exercise 4, the reconfiguration service: the learner's decided-suffix loop runs in every server.

The solution scores full marks and behaves exactly as the reference (the same trace on the same
calls, recovery included); the untouched exercise scores 0 through NotImplementedError; a loop that
never tells the new nodes scores less, with a reason and the failing schedule; answers that reach the
reference service (exercise 4's or exercise 5's surface) are refused by the static guard.
"""

from dataclasses import replace
from pathlib import Path

import pytest

from omnilab.grading import bank
from omnilab.grading.build import strip_solution
from omnilab.grading.exercises import ALL, reconfiguration
from omnilab.grading.report import NOT_IMPLEMENTED, check, run_check
from omnilab.sim import Cluster
from omnilab.sim.service import ReconfigurationService
from omnilab.sim.variant import REFERENCE

from .wrong_answers import RC_NEVER_TELLS

SOLUTION = Path(__file__).resolve().parents[2] / "solutions" / "04-reconfiguration.py"
EX04 = reconfiguration.EXERCISE


def solution_sources(blank: bool = False) -> dict:
    import jupytext

    notebook = jupytext.read(SOLUTION, fmt="py:percent")
    sources = bank.answer_sources(notebook)
    return {name: strip_solution(text, name) for name, text in sources.items()} if blank else sources


def test_a_variants_service_runs_the_decided_suffix_loop():
    class Probe(ReconfigurationService):
        def apply_decided(self, config_id, omni, replaying=False):
            raise LookupError(f"node {self.server.pid} runs the variant's loop")

    cluster = Cluster([1, 2, 3], variant=replace(REFERENCE, name="probe", service=Probe))
    cluster.run(ticks=3)
    cluster.put("a", 1)
    with pytest.raises(LookupError, match="runs the variant's loop"):
        cluster.run(ticks=1)


def test_exercise_4_is_in_the_bank():
    assert EX04 in ALL and bank.EXERCISES["ex04"] is EX04
    assert [e.id for e in ALL] == sorted(e.id for e in ALL)


def test_the_solution_scores_full_marks():
    sources = solution_sources()
    assert bank.static_guard(EX04, sources) is None
    namespace = bank.load_answers(EX04, sources)
    for c in EX04.checks:
        outcome, error = run_check(EX04, c, namespace, 0)
        assert outcome.passed and error is None, (c.name, outcome.reason)


def test_the_solution_behaves_as_the_reference_through_reconfigurations_and_recoveries():
    namespace = bank.load_answers(EX04, solution_sources())
    learner = reconfiguration.variant(namespace)

    def run(variant):
        cluster = Cluster([1, 2, 3], seed=0, variant=variant)
        cluster.run(ticks=3)
        cluster.put("a", 1)
        cluster.run(ticks=1)
        cluster.snapshot()
        cluster.reconfigure([1, 2, 4])
        cluster.run(ticks=4)
        cluster.put("b", 2, at=4)
        cluster.run(ticks=2)
        cluster.crash(4)
        cluster.crash(1)
        cluster.recover(4)  # a joiner rebuilds from its transferred state, replaying its new log
        cluster.recover(1)  # an old member replays the StopSign it decided before its crash
        cluster.run(ticks=4)
        cluster.reconfigure([2, 4, 5])
        cluster.run(ticks=5)
        cluster.put("c", 3, at=5)
        cluster.run(ticks=3)
        return cluster

    theirs, ours = run(learner), run(REFERENCE)
    assert list(theirs.trace)[1:] == list(ours.trace)[1:]
    assert all(theirs.check())
    assert dict(theirs.server(5).kv) == {"a": 1, "b": 2, "c": 3}


def test_the_untouched_exercise_scores_zero():
    sources = solution_sources(blank=True)
    assert bank.static_guard(EX04, sources) is None
    namespace = bank.load_answers(EX04, sources)
    for c in EX04.checks:
        outcome, error = run_check(EX04, c, namespace, 0)
        assert (outcome.passed, outcome.reason, error) == (False, NOT_IMPLEMENTED, "NotImplementedError")


def test_a_loop_that_never_tells_the_new_nodes_scores_less_and_shows_the_schedule():
    sources = {"MyReconfigurationService": RC_NEVER_TELLS}
    report = check("ex04", bank.load_answers(EX04, sources), progress=False, sources=sources)
    assert report.score < report.max_score
    row = report.row("replace-crashed-node")
    assert not row.passed and row.points == 0
    assert "node 4 has not started: it waits for its state transfer" in row.reason
    assert row.schedule[0].startswith("cluster = Cluster(") and "variant=your_service" in row.schedule[0]
    assert "cluster.reconfigure([1, 2, 4])" in row.schedule
    assert "replace-crashed-node failed on this schedule" in repr(report)
    # The lab's replay rebuilds that run with the learner's loop.
    cluster = report.cluster("replace-crashed-node")
    assert cluster.variant.service.__name__ == "MyReconfigurationService"
    assert not cluster.server(4).instances


CALLS_THE_REFERENCE = {
    "ex04": [
        # the reference loop itself, by its class
        "class MyReconfigurationService(BlankReconfigurationService):\n"
        "    def apply_decided(self, config_id, omni, replaying=False):\n"
        "        from omnilab.sim.service import ReconfigurationService\n"
        "        ReconfigurationService.apply_decided(self, config_id, omni, replaying)\n",
        # the reference's handling of the decided StopSign, the heart of the exercise
        "class MyReconfigurationService(BlankReconfigurationService):\n"
        "    def apply_decided(self, config_id, omni, replaying=False):\n"
        "        for slot in omni.read_decided_suffix(self.server.applied[config_id]):\n"
        "            self.on_stopsign_decided(config_id, slot.stopsign, 1, replaying)\n",
        # around the blanked class, through the variant's default
        "class MyReconfigurationService(BlankReconfigurationService):\n"
        "    def apply_decided(self, config_id, omni, replaying=False):\n"
        "        from omnilab.sim.variant import Variant\n"
        "        Variant.__dataclass_fields__['service'].default.apply_decided(self, config_id, omni)\n",
    ],
    "ex05": [
        "class MyStateTransfer(BlankStateTransfer):\n"
        "    def handle_message(self, env):\n"
        "        from omnilab.sim import service\n"
        "        service.ReconfigurationService.handle_message(self, env)\n",
        "class MyStateTransfer(BlankStateTransfer):\n"
        "    def handle_message(self, env):\n"
        "        import inspect\n"
        "        inspect.getmro(type(self))[2].handle_message(self, env)\n",
        "class MyStateTransfer(BlankStateTransfer):\n"
        "    def handle_message(self, env):\n"
        "        super(BlankStateTransfer, self).handle_message(env)\n",
    ],
}


@pytest.mark.parametrize("exercise_id,source", [(e, s) for e, sources in CALLS_THE_REFERENCE.items() for s in sources])
def test_the_guard_refuses_an_answer_that_reaches_the_reference_service(exercise_id, source):
    exercise = bank.EXERCISES[exercise_id]
    (surface,) = exercise.surface
    reason = bank.static_guard(exercise, {surface: source})
    assert reason is not None and ("reaches omnilab's reference" in reason or "super(...)" in reason)
    report = check(exercise_id, bank.load_answers(exercise, {surface: source}), progress=False,
                   sources={surface: source})
    assert report.score == 0 and all(r.reason == reason for r in report.rows)


def test_the_blanked_stopsign_handler_reaches_nothing():
    """Even reached without its name, the reference's StopSign handling is not there to call."""
    blank = reconfiguration.BlankReconfigurationService
    with pytest.raises(NotImplementedError):
        getattr(blank, "on_stopsign_" + "decided")(object(), 1, None, 1, False)
