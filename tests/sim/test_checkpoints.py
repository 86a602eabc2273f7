"""`undo` from checkpoints gives exactly the cluster a full replay gives.

``cluster.undo()`` starts from the newest checkpoint before the operation it takes back
(`omnilab.sim.checkpoints`) instead of replaying the whole trace; the result must be the cluster
``Cluster.replay(trace[:last operation])`` builds: the same fingerprint, trace, client history,
clock, message ids and random generator. Checkpoints are made frequent here (a small gap) so that
random sessions cross many of them, undo past them, and go on after undoing.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnilab import CompactionErr, ProposeErr
from omnilab.replica.errors import SnapshotUnsupported
from omnilab.sim import BadInput, Cluster, checkpoints

REFUSED = (ProposeErr, CompactionErr, SnapshotUnsupported, BadInput)


@pytest.fixture
def frequent(monkeypatch):
    """A checkpoint after every operation that grew the trace by 30 items, whatever its length."""
    monkeypatch.setattr(checkpoints, "MIN_GAP", 30)
    monkeypatch.setattr(checkpoints, "SPREAD", 10 ** 9)


def _same(a: Cluster, b: Cluster) -> None:
    assert a.trace == b.trace
    assert a.fingerprint() == b.fingerprint()
    assert a.history().equals(b.history())
    assert (a.clock, a.network.next_id, list(a.network.in_flight)) == (b.clock, b.network.next_id,
                                                                       list(b.network.in_flight))
    assert a.random.getstate() == b.random.getstate()
    assert [v.ok for v in a.check()] == [v.ok for v in b.check()]


def _replayed_without_last_operation(cluster: Cluster) -> Cluster:
    last = cluster.trace.operation_positions()[-1]
    return Cluster.replay(cluster.trace[:last])


ACTIONS = st.sampled_from(["put", "put", "deliver_all", "step", "step_random", "run", "tick", "crash", "recover",
                           "cut", "heal", "drop", "duplicate", "get", "trim", "snapshot", "reconfigure",
                           "set_priority", "undo", "undo"])


def _act(cluster: Cluster, action: str, n: int) -> None:
    pids = cluster.pids
    pid = pids[n % len(pids)]
    in_flight = list(cluster.network.in_flight)
    try:
        if action == "put":
            cluster.put(f"k{n % 4}", n)
        elif action == "deliver_all":
            cluster.deliver_all()
        elif action == "step" and in_flight:
            cluster.step(in_flight[n % len(in_flight)])
        elif action == "step_random" and in_flight:
            cluster.step_random()
        elif action == "run":
            cluster.run(ticks=1 + n % 3)
        elif action == "tick":
            cluster.tick(1 + n % 2)
        elif action == "crash":
            cluster.crash(pid)
        elif action == "recover":
            cluster.recover(pid)
        elif action == "cut":
            cluster.cut(pids[0], pids[1 + n % (len(pids) - 1)])
        elif action == "heal":
            cluster.heal()
        elif action == "drop" and in_flight:
            cluster.drop(in_flight[-1])
        elif action == "duplicate" and in_flight:
            cluster.duplicate(in_flight[0])
        elif action == "get":
            cluster.get(f"k{n % 4}")
        elif action == "trim":
            cluster.trim()
        elif action == "snapshot":
            cluster.snapshot()
        elif action == "reconfigure" and cluster.config_id < 3:
            cluster.reconfigure([1, 2, 3, 4][: 3 + n % 2])
        elif action == "set_priority":
            cluster.set_priority(pid, n % 5)
        elif action == "undo":
            expected = _replayed_without_last_operation(cluster) if len(cluster.trace.operations()) > 1 else None
            cluster.undo()
            _same(cluster, expected)
    except REFUSED:
        pass


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 5), steps=st.lists(st.tuples(ACTIONS, st.integers(0, 1000)), min_size=5, max_size=40))
def test_undo_from_checkpoints_equals_replaying_the_trace(frequent, seed, steps):
    cluster = Cluster([1, 2, 3], seed=seed)
    checkpoints.keep(cluster)  # as the lab does
    cluster.run(ticks=3)
    for action, n in steps:
        _act(cluster, action, n)
    _same(cluster, Cluster.replay(cluster.trace))
    while len(cluster.trace.operations()) > 1:
        expected = _replayed_without_last_operation(cluster)
        cluster.undo()
        _same(cluster, expected)
        if len(cluster.trace.operations()) % 3 == 0:
            break


def test_a_long_session_takes_checkpoints_and_undo_replays_only_from_the_newest(frequent, monkeypatch):
    cluster = Cluster([1, 2, 3], seed=2)
    checkpoints.keep(cluster)  # as the lab does
    cluster.run(ticks=3)
    for i in range(60):
        cluster.put(f"k{i % 7}", i)
        cluster.deliver_all()
    kept = checkpoints.of(cluster).saved
    assert kept and kept[-1][0] > len(cluster.trace) - 200
    assert len(kept) <= checkpoints.KEEP + 12  # thinned: the newest, then one per doubling
    replayed = []
    original = Cluster.replay.__func__

    def counting(cls, trace, variant=None):
        replayed.append(len(list(trace)))
        return original(cls, trace, variant)

    monkeypatch.setattr(Cluster, "replay", classmethod(counting))
    expected = original(Cluster, cluster.trace[:cluster.trace.operation_positions()[-1]])
    replayed.clear()
    cluster.undo()
    assert replayed == []  # no full replay: rebuilt from a checkpoint
    _same(cluster, expected)


def test_a_checkpoint_is_not_changed_by_what_the_cluster_does_next(frequent):
    cluster = Cluster([1, 2, 3], seed=3)
    checkpoints.keep(cluster)  # as the lab does
    cluster.run(ticks=3)
    for i in range(20):
        cluster.put(f"k{i}", [i])  # a mutable value, copied into the checkpoints
        cluster.deliver_all()
    length, checkpoint = checkpoints.of(cluster).saved[-1]
    fingerprint = checkpoint.fingerprint()
    cluster.crash(1)
    cluster.put("after", 1)
    cluster.run(ticks=2)
    assert checkpoint.fingerprint() == fingerprint
    assert checkpoint.trace == cluster.trace[:length]
    _same(checkpoint, Cluster.replay(cluster.trace[:length]))


def test_checkpoints_after_an_undo_are_dropped_and_taken_again(frequent):
    cluster = Cluster([1, 2, 3], seed=4)
    checkpoints.keep(cluster)  # as the lab does
    cluster.run(ticks=3)
    for i in range(15):
        cluster.put(f"k{i}", i)
        cluster.deliver_all()
    for _ in range(6):
        cluster.undo()
    assert all(length <= len(cluster.trace) for length, _ in checkpoints.of(cluster).saved)
    for i in range(10):
        cluster.put(f"again{i}", i)
        cluster.run(ticks=1)
    _same(cluster, Cluster.replay(cluster.trace))
    expected = _replayed_without_last_operation(cluster)
    cluster.undo()
    _same(cluster, expected)


def test_a_fork_starts_with_the_checkpoints_and_both_undo_to_the_replay(frequent):
    cluster = Cluster([1, 2, 3], seed=5)
    checkpoints.keep(cluster)  # as the lab does
    cluster.run(ticks=3)
    for i in range(10):
        cluster.put(f"k{i}", i)
        cluster.deliver_all()
    fork = cluster.fork()
    assert checkpoints.of(fork).saved == checkpoints.of(cluster).saved
    assert all(checkpoints.of(c).saved == [] for _, c in checkpoints.of(cluster).saved)
    fork.put("only in the fork", 1)
    fork.run(ticks=2)
    for one in (fork, cluster, fork):
        expected = _replayed_without_last_operation(one)
        one.undo()
        _same(one, expected)


def test_a_cluster_that_never_goes_back_keeps_no_checkpoints_until_its_first_undo(frequent):
    cluster = Cluster([1, 2, 3], seed=6)
    cluster.run(ticks=3)
    for i in range(40):
        cluster.put(f"k{i}", i)
        cluster.deliver_all()
    assert checkpoints.kept(cluster) is None  # a scripted run pays nothing for them
    cluster.undo()  # replays in full, then keeps checkpoints
    assert checkpoints.kept(cluster) is not None
    for i in range(40):
        cluster.put(f"again{i}", i)
        cluster.deliver_all()
    assert checkpoints.kept(cluster).saved
