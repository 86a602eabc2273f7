"""The operations added for the notebooks and the lab: numpy ids and pids at the API boundary, the
NoLeader message, leadership (priorities, try_become_leader), compaction (trim, snapshot) and the
change counter. Each is recorded, replayable and undoable."""

from __future__ import annotations

import numpy as np
import pytest

from omnilab import CompactionErr
from omnilab.replica.errors import SnapshotUnsupported
from omnilab.sim import (BadInput, Cluster, CompactionRefused, InvalidConfiguration, NoLeader, NodeDown,
                         SetPriority, SnapshotInstalled, Trace, TrimLog, TryBecomeLeader, UnknownNode,
                         invariants)

WRITES = [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5), ("d", 6)]


def _six_writes(seed: int = 0) -> Cluster:
    cluster = Cluster([1, 2, 3], seed=seed)
    cluster.run(ticks=3)
    for key, value in WRITES:
        cluster.put(key, value)
    cluster.deliver_all()
    return cluster


def _same_world(a: Cluster, b: Cluster) -> bool:
    return (a.trace == b.trace and a.logs().equals(b.logs())
            and {p: dict(s.kv) for p, s in a.servers.items()} == {p: dict(s.kv) for p, s in b.servers.items()})


# --- ids and pids at the API boundary ----------------------------------------------------------------

def test_message_ids_from_the_pending_table_are_recorded_as_plain_ints():
    cluster = Cluster([1, 2, 3])
    cluster.tick()
    first = cluster.pending().index[0]
    assert isinstance(first, np.integer)
    cluster.drop(first)
    cluster.step(cluster.pending().index[0])
    copy = cluster.duplicate(cluster.pending().index[0])
    ops = cluster.trace.operations()[-3:]
    assert [type(op.msg_id) for op in ops] == [int, int, int] and type(copy) is int
    script = cluster.trace.script()
    assert f"cluster.drop({int(first)})" in script and "np." not in script and "int64" not in script
    assert Cluster.replay(cluster.trace).trace == cluster.trace


def test_numpy_pids_counts_and_node_lists_are_plain_ints_in_the_trace():
    cluster = Cluster(np.array([1, 2, 3]), seed=0)
    cluster.run(ticks=np.int64(3))
    cluster.put("a", 1, at=np.int32(1))
    cluster.cut(np.int64(1), np.int64(3))
    cluster.partition(np.array([1, 2]), [np.int64(3)])
    cluster.heal(np.int64(1), np.int64(2))
    cluster.crash(np.int64(2))
    cluster.recover(np.int64(2))
    script = cluster.trace.script()
    assert "np." not in script and "array" not in script and "int64" not in script
    assert "cluster.partition([1, 2], [3])" in script and "cluster.put('a', 1, at=1)" in script
    namespace = {"Cluster": Cluster}
    exec(script, namespace)
    assert namespace["cluster"].trace == cluster.trace


@pytest.mark.parametrize("call, error", [
    (lambda c: c.drop(True), Exception), (lambda c: c.step(1.0), Exception), (lambda c: c.crash("1"), UnknownNode),
    (lambda c: c.crash(True), UnknownNode), (lambda c: c.tick(1.5), BadInput),
])
def test_non_integer_ids_are_refused_without_a_trace_entry(call, error):
    cluster = Cluster([1, 2, 3])
    cluster.tick()
    before = Trace(cluster.trace)
    with pytest.raises(error):
        call(cluster)
    assert cluster.trace == before


# --- NoLeader ---------------------------------------------------------------------------------------

def test_no_leader_says_the_live_nodes_still_follow_a_crashed_node():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=1)
    cluster.crash(3)
    with pytest.raises(NoLeader) as info:
        cluster.put("k", 1)
    assert str(info.value) == ("the live nodes still follow node 3, which is crashed: run(ticks=3) so they elect "
                               "another leader, or choose a node with at=pid")
    cluster.run(ticks=3)  # what the message advises is enough
    assert cluster.leader() == 2


def test_no_leader_keeps_its_text_when_the_live_nodes_disagree():
    cluster = Cluster([1, 2, 3, 4, 5])
    cluster.run(ticks=3)
    cluster.partition([1, 2, 3], [4, 5])
    cluster.run(ticks=10)  # 1, 2, 3 elect 3; 4 still follows 5, which still leads
    with pytest.raises(NoLeader, match="do not agree on a leader yet"):
        cluster.put("k", 1)
    fresh = Cluster([1, 2, 3])
    with pytest.raises(NoLeader, match="do not agree on a leader yet"):
        fresh.put("k", 1)


# --- leadership ------------------------------------------------------------------------------------

def test_a_per_node_leader_priority_decides_the_first_election_and_replays():
    cluster = Cluster([1, 2, 3], leader_priority={1: 5})
    cluster.run(ticks=3)
    assert cluster.leader() == 1
    assert cluster.server(1).omnipaxos.inspect().ble_ballot.priority == 5
    assert cluster.server(2).omnipaxos.inspect().ble_ballot.priority == 0
    assert cluster.trace[0].call() == "cluster = Cluster([1, 2, 3], seed=0, leader_priority={1: 5})"
    assert _same_world(Cluster.replay(cluster.trace), cluster)
    cluster.reconfigure([1, 2, 4])  # a server added later gets 0
    assert cluster.server(4).server_config.leader_priority == 0
    assert Cluster([1, 2, 3], leader_priority=5).server(2).server_config.leader_priority == 5


def test_leader_priority_dicts_are_checked():
    with pytest.raises(InvalidConfiguration, match="pids are positive"):
        Cluster([1, 2, 3], leader_priority={0: 1})
    with pytest.raises(InvalidConfiguration, match="priority is an integer"):
        Cluster([1, 2, 3], leader_priority={1: "high"})
    cluster = Cluster([1, 2, 3], leader_priority={np.int64(2): np.int64(4)})
    assert cluster.trace[0].server_config == (("leader_priority", {2: 4}),)


def test_set_priority_is_traced_and_survives_undo_and_replay():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.set_priority(np.int64(1), 5)
    assert cluster.trace[-1] == SetPriority(1, 5) and cluster.trace[-1].call() == "cluster.set_priority(1, 5)"
    cluster.run(ticks=1)
    assert cluster.server(1).omnipaxos.inspect().ble_ballot.priority == 5
    cluster.undo()  # undoes the run, keeps the priority
    assert cluster.server(1).omnipaxos.inspect().ble_ballot.priority == 5
    assert _same_world(Cluster.replay(cluster.trace), cluster)
    cluster.crash(3)  # the raised priority wins the next election
    cluster.run(ticks=6)
    assert cluster.leader() == 1
    with pytest.raises(NodeDown):
        cluster.set_priority(3, 1)
    with pytest.raises(BadInput, match="priority is an integer"):
        cluster.set_priority(1, "max")


def test_try_become_leader_sends_prepares_at_once_and_replays():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.try_become_leader(1)
    assert cluster.trace.operations()[-1] == TryBecomeLeader(1)
    assert {env.kind for env in cluster.network if env.sender == 1} >= {"Prepare"}
    cluster.deliver_all()
    assert cluster.server(2).omnipaxos.get_promise().pid == 1
    assert _same_world(Cluster.replay(cluster.trace), cluster)
    assert all(cluster.check())


# --- compaction ------------------------------------------------------------------------------------

def test_trim_at_the_leader_sends_trims_at_once_and_is_recorded():
    cluster = _six_writes()
    cluster.trim(4)
    assert cluster.trace.operations()[-1] == TrimLog(4) and cluster.trace.operations()[-1].call() == "cluster.trim(4)"
    assert [(env.sender, env.receiver, env.kind) for env in cluster.network] == [(3, 1, "Trim"), (3, 2, "Trim")]
    cluster.deliver_all()
    assert {p: s.omnipaxos.get_compacted_idx() for p, s in cluster.servers.items()} == {1: 4, 2: 4, 3: 4}
    assert _same_world(Cluster.replay(cluster.trace), cluster)
    cluster.undo()  # the deliver_all
    cluster.undo()  # the trim
    assert cluster.server(3).omnipaxos.get_compacted_idx() == 0 and not cluster.network.in_flight
    assert all(cluster.check())


@pytest.mark.parametrize("call, error, request_text", [
    (lambda c: c.trim(4, at=1), CompactionErr.NotCurrentLeader, "trim(4)"),
    (lambda c: c.trim(9), CompactionErr.NotAllDecided, "trim(9)"),
    (lambda c: c.snapshot(9), CompactionErr.UndecidedIndex, "snapshot(9)"),
    (lambda c: c.snapshot(9, at=2, local_only=True), CompactionErr.UndecidedIndex, "snapshot(9, local_only=True)"),
])
def test_a_refused_compaction_is_recorded_and_reraised(call, error, request_text):
    cluster = _six_writes()
    with pytest.raises(error):
        call(cluster)
    refused = cluster.trace[-1]
    assert isinstance(refused, CompactionRefused) and refused.request == request_text
    assert refused.error.startswith(error.__name__)
    again = Cluster.replay(cluster.trace)  # refused again, recorded the same way
    assert again.trace == cluster.trace


def test_snapshot_of_entries_without_a_snapshot_class_is_refused_and_recorded():
    cluster = Cluster([1, 2, 3])
    cluster.run(ticks=3)
    cluster.append(7)
    cluster.deliver_all()
    with pytest.raises(SnapshotUnsupported):
        cluster.snapshot()
    assert isinstance(cluster.trace[-1], CompactionRefused)
    assert Cluster.replay(cluster.trace).trace == cluster.trace
    cluster.trim()  # ints can be trimmed
    assert cluster.server(3).omnipaxos.get_compacted_idx() == 1


def test_bad_compaction_arguments_change_nothing():
    cluster = _six_writes()
    before = Trace(cluster.trace)
    for call in (lambda: cluster.trim(-1), lambda: cluster.snapshot("4"), lambda: cluster.trim(at=9)):
        with pytest.raises(BadInput):
            call()
    assert cluster.trace == before


def test_snapshot_local_only_and_at_a_follower():
    cluster = _six_writes()
    cluster.snapshot(at=2, local_only=True)
    assert cluster.trace.operations()[-1].call() == "cluster.snapshot(at=2, local_only=True)"
    assert not cluster.network.in_flight
    cluster.snapshot(4)
    assert [env.kind for env in cluster.network] == ["Snapshot", "Snapshot"]
    cluster.deliver_all()
    assert {p: s.omnipaxos.get_compacted_idx() for p, s in cluster.servers.items()} == {1: 4, 2: 6, 3: 4}
    assert _same_world(Cluster.replay(cluster.trace), cluster)
    assert all(cluster.check())


def test_a_node_recovered_from_a_snapshot_keeps_every_write():
    cluster = _six_writes()
    cluster.snapshot(4)
    cluster.deliver_all()
    cluster.crash(1)
    cluster.recover(1)
    cluster.run(ticks=2)
    assert cluster.get("a", at=1) == 3 and dict(cluster.server(1).kv) == {"a": 3, "b": 5, "c": 4, "d": 6}
    assert all(cluster.check())


def test_a_node_recovering_from_a_trimmed_log_reads_every_write():
    # notebook_requests.md, 06-08 request 2: node 1 used to come back without slots 0-3. Its server
    # now saves its key-value state before the trim, and recovers from it (the stale-read check on a
    # server that does not save is in test_compaction_state.py).
    cluster = _six_writes()
    cluster.trim(4)
    cluster.deliver_all()
    cluster.crash(1)
    cluster.recover(1)
    cluster.run(ticks=2)
    assert cluster.get("b", at=1) == 5  # slot 4 survived the trim
    assert cluster.get("a", at=1) == 3  # slot 2 was trimmed; the saved state holds it
    assert dict(cluster.server(1).kv) == {"a": 3, "b": 5, "c": 4, "d": 6}
    assert all(cluster.check())


def test_a_snapshot_asked_after_a_trim_is_refused_and_a_lagging_follower_still_catches_up():
    """The leader trims, then is asked to snapshot what follows. That snapshot would hold only the
    slots after the trim point yet read as the state of the whole prefix (a node synced with it
    would lose the trimmed writes), so the replica refuses it (README divergences); the refusal is
    recorded, and a lagging follower is synced with entries and keeps the writes it applied before
    the trim point."""
    cluster = _six_writes()
    cluster.trim(4)
    cluster.deliver_all()
    cluster.cut(1, 3)
    for key, value in [("e", 7), ("a", 8)]:
        cluster.put(key, value)
    cluster.deliver_all()
    with pytest.raises(CompactionErr.TrimmedPrefix):
        cluster.snapshot(at=3, local_only=True)  # would cover [4, 8) only: the leader trimmed [0, 4)
    assert isinstance(cluster.trace[-1], CompactionRefused)
    cluster.heal()
    cluster.put("f", 9)
    cluster.run(ticks=3)
    # (the leader's prefix is trimmed: it syncs node 1 with the entries it holds, never with a
    # snapshot built from them; README divergences)
    assert not any(isinstance(e, SnapshotInstalled) and e.pid == 1 for e in cluster.trace)
    expected = {"a": 8, "b": 5, "c": 4, "d": 6, "e": 7, "f": 9}
    assert all(dict(s.kv) == expected for s in cluster.servers.values())
    for key in expected:
        cluster.get(key, at=1)
    assert all(cluster.check())


# --- the change counter -----------------------------------------------------------------------------

def test_version_grows_with_every_operation_refusal_and_undo():
    cluster = Cluster([1, 2, 3])
    seen = [cluster.version]
    cluster.run(ticks=3)
    seen.append(cluster.version)
    cluster.put("a", 1)
    seen.append(cluster.version)
    with pytest.raises(CompactionErr):
        cluster.trim(5)
    seen.append(cluster.version)
    cluster.undo()
    seen.append(cluster.version)
    cluster.undo()
    seen.append(cluster.version)
    assert seen == sorted(set(seen)), seen  # strictly growing, never back to an earlier value
    with pytest.raises(BadInput):
        cluster.crash(9)  # refused before anything changed
    assert cluster.version == seen[-1]
