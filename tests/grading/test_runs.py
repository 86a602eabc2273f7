"""Schedules are data (parsed, never executed); artefacts are judged alone."""

import json

import pytest

from omnilab.grading.runs import (ScheduleError, first_violation, parse_schedule, random_schedule, replay_schedule,
                                  run_schedule, verdict)
from omnilab.sim import Cluster, scenarios


def test_a_trace_script_parses_back_to_the_same_lines():
    cluster = scenarios.chained()
    lines = cluster.trace.script().splitlines()
    schedule = parse_schedule(lines)
    assert schedule.lines() == lines
    assert replay_schedule(schedule).trace.script() == cluster.trace.script()


@pytest.mark.parametrize("line", [
    "__import__('os').system('true')", "cluster.servers[1].up", "cluster.run(ticks=len('abc'))",
    "cluster._deliver_all()", "import os", "cluster.run(**{'ticks': 3})", "other.run(ticks=1)",
    "cluster.put('a', open('x'))",
])
def test_anything_but_a_literal_cluster_call_is_refused(line):
    with pytest.raises(ScheduleError):
        parse_schedule([line])


def test_the_creation_line_chooses_nodes_but_not_the_variant():
    schedule = parse_schedule(["cluster = Cluster([1, 2, 3, 4], seed=3, batch_size=2)", "cluster.run(ticks=1)"])
    assert (schedule.nodes, schedule.seed, schedule.fields) == ((1, 2, 3, 4), 3, (("batch_size", 2),))
    with pytest.raises(ScheduleError, match="variant"):
        parse_schedule(["cluster = Cluster([1, 2, 3], variant='accept-lower-ballot')"])


def test_an_artefact_is_plain_json_and_judged_from_itself():
    lines = ["cluster = Cluster([1, 2, 3], seed=0)", "cluster.run(ticks=3)", "cluster.put('a', 1, at=1)",
             "cluster.run(ticks=1)"]
    artefact = run_schedule(parse_schedule(lines))
    assert json.loads(json.dumps(artefact)) == artefact
    assert verdict(artefact, lines).passed
    forged = json.loads(json.dumps(artefact))
    forged["decided"].append([3, 2, 1, 0, "KeyValue(key='a', value=2)", 10 ** 6])
    outcome = verdict(forged, lines)
    assert not outcome.passed and outcome.reason.startswith("UniformAgreement violated")
    assert not verdict(artefact, lines[:-1]).passed  # another schedule's artefact


def test_first_violation_checks_integrity_validity_and_one_leader_per_ballot():
    base = {"schedule": [], "proposed": [[1, "A"]], "compacted": [], "leading": []}
    gap = dict(base, decided=[[1, 1, 1, 0, "A", 1], [1, 1, 1, 2, "A", 2]])
    assert first_violation(gap).invariant == "Integrity"
    invented = dict(base, decided=[[1, 1, 1, 0, "B", 1]])
    assert first_violation(invented).invariant == "Validity"
    two = dict(base, decided=[], leading=[[1, 1, 1, [1, 2, 0, 1]], [2, 2, 1, [1, 2, 0, 1]]])
    assert first_violation(two).invariant == "OneLeaderPerBallot"
    snapshot = dict(base, decided=[[1, 1, 1, 3, "A", 2]], compacted=[[1, 1, 1, 3, 1]])
    assert first_violation(snapshot) is None


def test_random_schedules_are_seeded_and_always_run():
    assert random_schedule(7) == random_schedule(7) != random_schedule(8)
    for seed in range(5):
        artefact = run_schedule(parse_schedule(random_schedule(seed)))
        assert artefact["error"] is None, artefact["error"]
        assert first_violation(artefact) is None


def test_a_call_that_raises_ends_the_run_with_the_reason():
    lines = ["cluster = Cluster([1, 2, 3], seed=0)", "cluster.crash(1)", "cluster.crash(1)", "cluster.run(ticks=1)"]
    artefact = run_schedule(parse_schedule(lines))
    assert artefact["error"][0] == 2 and artefact["error"][1].startswith("NodeDown")
    outcome = verdict(artefact, lines)
    assert not outcome.passed and outcome.schedule == tuple(lines[:3])
    assert isinstance(replay_schedule(parse_schedule(lines)), Cluster)
