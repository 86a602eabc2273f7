"""The explorer on several processes (`explore(..., workers=n)`, `omnilab.sim.workers`): the same
states, counts and shortest counterexamples as one process, real forked workers, and clean failure.

`SPLIT` is set to 1 in most tests, so the workers take over after the first level and do nearly all
of the work even on the small bounds a test can afford.
"""

from __future__ import annotations

import multiprocessing

import pytest

from omnilab import cli
from omnilab.sim import BadInput
from omnilab.sim import workers as workers_module
from omnilab.sim.errors import SimulationError
from omnilab.sim.explore import CATALOGUE, _Search, explore

TLA = dict(appends=3, fifo=True, at="named", leaders=(1, 2, 3))


@pytest.fixture
def split_early(monkeypatch):
    monkeypatch.setattr(workers_module, "SPLIT", 1)


def _same_search(one, many):
    assert (many.distinct, many.explored, many.transitions, many.depth) == \
        (one.distinct, one.explored, one.transitions, one.depth)
    assert (many.exhausted, many.stopped_by, many.choices) == (one.exhausted, one.stopped_by, one.choices)


@pytest.mark.parametrize("count", [2, 3])
def test_the_tla_bound_on_workers_has_the_states_and_counts_of_one_process(split_early, count):
    one = explore("unelected", depth=8, reduction=False, **TLA)
    many = explore("unelected", depth=8, workers=count, **TLA)
    assert one.distinct == 4_822 and one.exhausted  # as bench/explore.py's depth table
    _same_search(one, many)
    assert many.workers == count and many.pruned == 0
    assert f"on {count} worker processes" in many.summary(timing=True)
    assert multiprocessing.active_children() == []  # every worker stopped


def test_without_an_early_split_the_first_levels_run_here_and_the_result_is_the_same():
    one = explore("unelected", depth=9, reduction=False, **TLA)
    many = explore("unelected", depth=9, workers=2, **TLA)  # forks once a level holds 128 states
    _same_search(one, many)


def test_any_delivery_order_with_drops_on_workers(split_early):
    one = explore("steady", depth=5, appends=1, crashes=1, drops=2, reduction=False)
    many = explore("steady", depth=5, appends=1, crashes=1, drops=2, workers=2)
    _same_search(one, many)


@pytest.mark.parametrize("mutant", sorted(CATALOGUE))
def test_every_mutant_is_caught_on_workers_with_the_same_shortest_counterexample(split_early, mutant):
    one = explore(CATALOGUE[mutant], variant=mutant, reduction=False)
    many = explore(CATALOGUE[mutant], variant=mutant, workers=2)
    assert not many.ok and many.stopped_by == "violation"
    assert many.violation == one.violation
    assert many.choices == one.choices and many.length == one.length
    assert many.distinct == one.distinct  # counted up to the violating state, as one process does
    assert many.script() == one.script()  # rebuilt by replay here: an ordinary trace
    assert any(not v.ok for v in many.replay().check())


def test_depth_zero_is_the_start_alone():
    result = explore("unelected", depth=0, workers=2, **TLA)
    assert (result.distinct, result.explored, result.depth, result.exhausted) == (1, 0, 0, True)


def test_the_state_bound_stops_where_one_process_stops(split_early):
    one = explore("unelected", depth=20, max_states=3_000, reduction=False, **TLA)
    many = explore("unelected", depth=20, max_states=3_000, workers=2, **TLA)
    assert one.stopped_by == many.stopped_by == "states"
    assert one.distinct == many.distinct == 3_000
    assert many.depth == one.depth


def test_the_time_bound_stops_the_workers(split_early):
    result = explore("unelected", depth=40, max_states=10_000_000, seconds=0.5, workers=2, **TLA)
    assert result.stopped_by == "seconds" and not result.exhausted and result.ok
    assert result.distinct > 1
    assert multiprocessing.active_children() == []


def test_predictions_are_checked_in_the_workers_too(split_early, monkeypatch):
    monkeypatch.setattr(_Search, "verify", True)  # every successor built and its key compared
    one = explore("unelected", depth=7, reduction=False, **TLA)
    many = explore("unelected", depth=7, workers=2, **TLA)
    assert many.distinct == one.distinct == 1_914


def test_a_failing_worker_fails_the_search_and_no_worker_is_left(split_early, monkeypatch):
    expand = workers_module._Expander.expand

    def broken(self, order, deadline):
        if self.progress is not None:  # only in a worker process
            raise RuntimeError("planted failure")
        return expand(self, order, deadline)

    monkeypatch.setattr(workers_module._Expander, "expand", broken)
    with pytest.raises(SimulationError, match="a worker failed: RuntimeError: planted failure"):
        explore("unelected", depth=6, workers=2, **TLA)
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "2"])
def test_a_bad_worker_count_is_refused(bad):
    with pytest.raises(BadInput, match="workers is a whole number of processes"):
        explore("steady", depth=2, workers=bad)


def test_the_command_line_takes_workers(capsys):
    assert cli.main(["explore", "steady", "--variant", "decide-without-write-quorum", "--workers", "2",
                     "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "on 2 worker processes" in out and "VIOLATED Integrity after 7 choices" in out
    assert cli.main(["explore", "steady", "--workers", "0", "--no-progress"]) == 2
    assert "workers is a whole number" in capsys.readouterr().out


def test_the_progress_bar_runs_on_workers(split_early, capsys):
    result = explore("unelected", depth=7, workers=2, progress=True, **TLA)
    assert result.distinct == 1_914
    err = capsys.readouterr().err
    assert "explore, 1,914 distinct states, depth 7," in err
