"""Every Cluster call is atomic: one that raises leaves a trace that says exactly what ran.

A `KeyboardInterrupt` (Ctrl-C) during ``run``, ``tick`` or ``deliver_all`` is raised here from
inside the cluster, at a chosen delivery or tick, both as Python raises it (wherever the loop is,
even half-way through a delivery) and as a real SIGINT (which the loop defers to its next clean
point). Either way the trace must record what completed, ``Cluster.replay(trace)`` must rebuild the
same cluster (fingerprint, trace and client history), the `KeyboardInterrupt` must reach the caller,
and the cluster must go on working. Any other error half-way through a call (a failing replica, a
livelock) is undone the same way.
"""

from __future__ import annotations

import os
import signal

import pytest

from omnilab.sim import Cluster, NoQuiescence
from omnilab.sim import cluster as cluster_module
from omnilab.sim.trace import DeliverAll, Operation, Run, Tick


def _busy(seed: int = 1) -> Cluster:
    """An elected 3-node cluster with proposals in flight."""
    cluster = Cluster([1, 2, 3], seed=seed)
    cluster.run(ticks=3)
    for i in range(3):
        cluster.put(f"k{i}", i)
    return cluster


def _assert_replays(cluster: Cluster) -> None:
    again = Cluster.replay(cluster.trace)
    assert again.trace == cluster.trace
    assert again.fingerprint() == cluster.fingerprint()
    assert again.history().equals(cluster.history())
    assert again.clock == cluster.clock
    assert again.network.next_id == cluster.network.next_id


def _ops(cluster: Cluster) -> list[Operation]:
    return cluster.trace.operations()


class _Interrupt:
    """Patches ``Cluster.<method>`` so that the `count`-th call on `target` raises (or, with
    ``signal_it``, sends this process a SIGINT) before or after doing its work."""

    def __init__(self, monkeypatch, target: Cluster, method: str, count: int, after: bool = False,
                 signal_it: bool = False, times: int = 1) -> None:
        self.target, self.count, self.after, self.signal_it, self.times = target, count, after, signal_it, times
        self.calls = 0
        original = getattr(Cluster, method)
        hook = self

        def patched(self_, *args, **kwargs):
            if self_ is not hook.target:
                return original(self_, *args, **kwargs)
            hook.calls += 1
            due = hook.count <= hook.calls < hook.count + hook.times
            if due and not hook.after:
                hook.fire()
            result = original(self_, *args, **kwargs)
            if due and hook.after:
                hook.fire()
            return result

        monkeypatch.setattr(Cluster, method, patched)

    def fire(self) -> None:
        if self.signal_it:
            os.kill(os.getpid(), signal.SIGINT)
        else:
            raise KeyboardInterrupt


@pytest.fixture
def default_sigint():
    """Ctrl-C as Python handles it by default (what a terminal or a Jupyter kernel has)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


# --- KeyboardInterrupt raised anywhere: the cluster rebuilds itself to the last clean point ------------

@pytest.mark.parametrize("count", [1, 2, 7, 40])
@pytest.mark.parametrize("after", [False, True])
def test_an_interrupted_run_records_the_rounds_it_completed(monkeypatch, count, after):
    cluster = _busy()
    before = len(_ops(cluster))
    hook = _Interrupt(monkeypatch, cluster, "_deliver", count, after=after)
    with pytest.raises(KeyboardInterrupt):
        cluster.run(ticks=10_000)
    assert hook.calls == count
    monkeypatch.undo()
    ops = _ops(cluster)
    assert all(not isinstance(op, Run) or op.ticks < 10_000 for op in ops)
    assert len(ops) in (before, before + 1)  # the rounds completed as one run(ticks=k), or nothing
    _assert_replays(cluster)
    cluster.run(ticks=2)
    _assert_replays(cluster)


@pytest.mark.parametrize("count", [1, 3, 5])
def test_an_interrupted_deliver_all_records_the_deliveries_it_made(monkeypatch, count):
    cluster = _busy()
    in_flight = len(cluster.network)
    assert in_flight > 5
    _Interrupt(monkeypatch, cluster, "_deliver", count)
    with pytest.raises(KeyboardInterrupt):
        cluster.deliver_all()
    monkeypatch.undo()
    last = _ops(cluster)[-1]
    if count == 1:
        assert not isinstance(last, DeliverAll)  # nothing completed: nothing recorded
    else:
        assert last == DeliverAll(limit=count - 1)
        assert cluster.trace.script().endswith(f"cluster.deliver_all(limit={count - 1})")
    _assert_replays(cluster)


@pytest.mark.parametrize("count", [1, 4, 9])
def test_an_interrupted_tick_records_the_ticks_it_made(monkeypatch, count):
    cluster = _busy()
    clock = cluster.clock
    _Interrupt(monkeypatch, cluster, "_tick_once", count)
    with pytest.raises(KeyboardInterrupt):
        cluster.tick(50)
    monkeypatch.undo()
    assert cluster.clock == clock + count - 1
    if count > 1:
        assert _ops(cluster)[-1] == Tick(count - 1)
    _assert_replays(cluster)


def test_an_interrupt_inside_a_single_call_takes_the_call_back(monkeypatch):
    cluster = _busy()
    trace, fingerprint = list(cluster.trace), cluster.fingerprint()
    _Interrupt(monkeypatch, cluster, "_apply", 1)
    with pytest.raises(KeyboardInterrupt):
        cluster.put("late", 1)
    monkeypatch.undo()
    assert list(cluster.trace) == trace and cluster.fingerprint() == fingerprint
    _assert_replays(cluster)


def test_an_error_half_way_through_a_call_takes_the_call_back(monkeypatch):
    cluster = _busy()
    cluster.deliver_all()
    trace, fingerprint = list(cluster.trace), cluster.fingerprint()
    original = Cluster._apply

    def failing(self, server, out):
        if self is cluster:
            raise TypeError("a replica bug")
        return original(self, server, out)

    monkeypatch.setattr(Cluster, "_apply", failing)
    with pytest.raises(TypeError, match="a replica bug"):
        cluster.put("x", 1)
    monkeypatch.undo()
    assert list(cluster.trace) == trace and cluster.fingerprint() == fingerprint
    cluster.put("x", 1)
    cluster.deliver_all()
    _assert_replays(cluster)


# --- a real Ctrl-C: deferred to the next clean point, the operation rewritten in place ----------------

@pytest.mark.parametrize("count", [1, 6, 30])
def test_ctrl_c_in_run_stops_after_the_round_under_way(monkeypatch, default_sigint, count):
    cluster = _busy()
    trace = cluster.trace
    position = len(trace)
    _Interrupt(monkeypatch, cluster, "_deliver", count, signal_it=True)
    with pytest.raises(KeyboardInterrupt):
        cluster.run(ticks=10_000)
    monkeypatch.undo()
    assert cluster.trace is trace  # stopped at a clean point: nothing rebuilt
    op = trace[position]
    assert isinstance(op, Run) and 1 <= op.ticks < 10_000
    assert cluster.trace.script().splitlines()[-1] == f"cluster.run(ticks={op.ticks})"
    _assert_replays(cluster)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_in_deliver_all_and_tick_stops_at_once(monkeypatch, default_sigint):
    cluster = _busy()
    _Interrupt(monkeypatch, cluster, "_deliver", 3, signal_it=True, after=True)
    with pytest.raises(KeyboardInterrupt):
        cluster.deliver_all()
    monkeypatch.undo()
    assert _ops(cluster)[-1] == DeliverAll(limit=3)
    _assert_replays(cluster)
    _Interrupt(monkeypatch, cluster, "_tick_once", 5, signal_it=True, after=True)
    with pytest.raises(KeyboardInterrupt):
        cluster.tick(100)
    monkeypatch.undo()
    assert _ops(cluster)[-1] == Tick(5)
    _assert_replays(cluster)


def test_a_second_ctrl_c_stops_at_once_and_the_trace_still_replays(monkeypatch, default_sigint):
    cluster = _busy()
    _Interrupt(monkeypatch, cluster, "_deliver", 4, signal_it=True, times=2)
    with pytest.raises(KeyboardInterrupt):
        cluster.run(ticks=10_000)
    monkeypatch.undo()
    _assert_replays(cluster)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# --- a livelock --------------------------------------------------------------------------------------

def test_no_quiescence_is_recorded_as_the_deliveries_made(monkeypatch):
    cluster = _busy()
    monkeypatch.setattr(cluster_module, "MAX_DELIVERIES", 4)
    with pytest.raises(NoQuiescence, match="deliver_all\\(limit=4\\)"):
        cluster.deliver_all()
    assert _ops(cluster)[-1] == DeliverAll(limit=4)
    monkeypatch.undo()
    _assert_replays(cluster)


def test_a_round_that_does_not_quiesce_takes_that_round_back(monkeypatch):
    cluster = _busy()
    cluster.deliver_all()
    cluster.run(ticks=2)
    before = len(_ops(cluster))
    for i in range(40):
        cluster.put(f"burst{i}", i)
    monkeypatch.setattr(cluster_module, "MAX_DELIVERIES", 30)
    with pytest.raises(NoQuiescence):
        cluster.run(ticks=5)
    assert len(_ops(cluster)) == before + 40  # the run, which completed no round, is not recorded
    monkeypatch.undo()
    _assert_replays(cluster)


def test_ctrl_c_during_the_last_round_completes_the_call_and_still_interrupts(monkeypatch, default_sigint):
    cluster = _busy()
    cluster.deliver_all()
    trace = cluster.trace
    hook = _Interrupt(monkeypatch, cluster, "_tick_once", 3, signal_it=True, after=True)
    with pytest.raises(KeyboardInterrupt):
        cluster.run(ticks=3)
    monkeypatch.undo()
    assert hook.calls == 3 and cluster.trace is trace
    assert _ops(cluster)[-1] == Run(3)
    _assert_replays(cluster)


def test_an_undo_without_checkpoints_leaves_the_ones_its_replay_took(monkeypatch):
    from omnilab.sim import checkpoints

    monkeypatch.setattr(checkpoints, "MIN_GAP", 50)
    monkeypatch.setattr(checkpoints, "SPREAD", 10 ** 9)
    cluster = Cluster.replay(_busy().trace)
    for i in range(10):
        cluster.put(f"more{i}", i)
        cluster.deliver_all()
    checkpoints.of(cluster).saved.clear()
    cluster.undo()
    assert checkpoints.of(cluster).saved  # taken by the rebuild's replay, kept for the next undo
    expected = Cluster.replay(cluster.trace[:cluster.trace.operation_positions()[-1]])
    cluster.undo()
    assert cluster.trace == expected.trace and cluster.fingerprint() == expected.fingerprint()


_CTRL_C = """
import os, signal, sys, threading
sys.path.insert(0, sys.argv[1])
from omnilab.sim import Cluster
cluster = Cluster([1, 2, 3], seed=3)
cluster.run(ticks=3)
cluster.put("a", 1)
threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
try:
    cluster.run(ticks=100_000)
    print("not interrupted")
except KeyboardInterrupt:
    again = Cluster.replay(cluster.trace)
    print(cluster.trace.script().splitlines()[-1], cluster.clock,
          again.trace == cluster.trace and again.fingerprint() == cluster.fingerprint())
"""


def test_ctrl_c_from_outside_during_a_long_run_leaves_a_trace_that_replays():
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", _CTRL_C, str(repo)], capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    line, clock, replays = proc.stdout.split()
    assert line.startswith("cluster.run(ticks=") and line != "cluster.run(ticks=100000)"
    assert int(line[len("cluster.run(ticks="):-1]) == int(clock) - 3  # every round it made, and only those
    assert replays == "True"
