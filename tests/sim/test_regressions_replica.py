"""Regressions from issue 8 whose schedule came out of a fault campaign, replayed from a saved trace.

A campaign seed names a schedule only as long as the schedule generator stays the same, so the
schedule is kept as the calls it made (``trace.script()`` text, one call per line) under
``tests/sim/fixtures/`` and replayed call by call, as the campaigns replay a schedule while they
shrink it: a proposal or a compaction the replica refuses is refused again, and a call that no
longer makes sense is skipped.

A fix changes which messages the replicas send (one more Accepted here, one Prepare less there), so
message ids drift: the same id may name another message on replay. Every call that names a message
(``step(id)``, ``drop(id)``, ``duplicate(id)``) therefore carries, as a comment, the message it named
when the schedule was recorded (``sender->receiver c<config> <message>``); the replay picks the
in-flight message that matches it (the recorded id if it still does, else the oldest match). With
that, the saved schedule still drives the replicas into the state that went wrong (checked: with the
fix reverted, the replay below ends with node 4 behind again). The tests require that no call was
skipped, so a schedule that drifts away from its recording fails loudly instead of quietly testing
something else.
"""

from __future__ import annotations

import ast
from pathlib import Path

from omnilab import Cluster
from omnilab.replica.errors import CompactionErr, ProposeErr, SnapshotUnsupported
from omnilab.replica.state import Phase, PromiseState, Role
from omnilab.sim.errors import BadInput

FIXTURES = Path(__file__).parent / "fixtures"


def _literal_call(source: str) -> tuple[str, list, dict]:
    """``cluster.put('a', 1, at=2)`` -> ("put", ['a', 1], {"at": 2}), ``Cluster([1, 2], seed=3)`` ->
    ("Cluster", [[1, 2]], {"seed": 3}); only literal arguments are allowed."""
    node = ast.parse(source, mode="eval").body
    if isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name)):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
        return (name, [ast.literal_eval(a) for a in node.args],
                {k.arg: ast.literal_eval(k.value) for k in node.keywords})
    raise ValueError(f"not a cluster call: {source!r}")


def _describe(envelope) -> str:
    return f"{envelope.sender}->{envelope.receiver} c{envelope.config_id} {envelope.payload!r}"


def _resolve(cluster: Cluster, msg_id: int, recorded: str) -> int:
    """The id of the in-flight message the recorded call meant (see the module docstring)."""
    env = cluster.network.in_flight.get(msg_id)
    if env is not None and _describe(env) == recorded:
        return msg_id
    matches = [e.id for e in cluster.network.in_flight.values() if _describe(e) == recorded]
    return min(matches) if matches else msg_id


def replay_script(path: Path) -> tuple[Cluster, int]:
    """Build the cluster of a saved schedule: its first line (``cluster = Cluster(...)``) creates
    it, every other line is one call on it. Returns the cluster and how many calls were skipped
    because they no longer made sense."""
    lines = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    name, args, kwargs = _literal_call(lines[0].split("=", 1)[1].strip())
    assert name == "Cluster", lines[0]
    cluster = Cluster(*args, **kwargs)
    skipped = 0
    for line in lines[1:]:
        code, _, recorded = line.partition("  # ")
        method, args, kwargs = _literal_call(code)
        if recorded and args:
            args = [_resolve(cluster, args[0], recorded)]
        try:
            getattr(cluster, method)(*args, **kwargs)
        except (ProposeErr, CompactionErr, SnapshotUnsupported):
            pass  # refused then, refused now (and recorded in the trace both times)
        except BadInput:
            skipped += 1
    return cluster, skipped


def _settle(cluster: Cluster) -> None:
    cluster.heal()
    for pid, server in cluster.servers.items():
        if not server.up:
            cluster.recover(pid)


def test_new_member_of_seed_30970_catches_up():
    """Issue 8, fault 5 (``omnilab fuzz --seeds 1 --first-seed 30970 --steps 1000`` before the fix,
    shrunk): configuration 2's leader recorded new node 4 as not promised while node 4 sat in
    Follower/Accept with the right promise, so neither side ever re-synced and node 4 stayed behind.
    After healing and recovering everyone, a fresh put must be applied by every member."""
    cluster, skipped = replay_script(FIXTURES / "progress_seed30970.py")
    assert skipped == 0
    assert cluster.config_id == 2
    _settle(cluster)
    cluster.run(ticks=30)
    leader = cluster.leader()
    assert leader is not None, "configuration 2 has no agreed leader after healing"
    op = cluster.put("probe", 1, at=leader)
    cluster.run(ticks=30)
    assert op.completed is not None, f"the probe put is {op.status}"
    members = cluster.server(leader).durable.configs[2].nodes
    lagging = {}
    for pid in members:
        omni = cluster.server(pid).omnipaxos
        state = omni.inspect()
        if state.decided_idx < cluster.server(leader).omnipaxos.get_decided_idx():
            lagging[pid] = (state.role, state.phase, state.decided_idx, state.accepted_idx)
        if cluster.server(pid).kv.get("probe") != 1:
            lagging.setdefault(pid, "probe not applied")
    assert not lagging, f"members behind the leader {leader}: {lagging}"
    leader_state = cluster.server(leader).omnipaxos.inspect()
    assert (leader_state.role, leader_state.phase) == (Role.LEADER, Phase.ACCEPT)
    assert all(v is PromiseState.PROMISED for p, v in leader_state.leader_promised.items() if p != leader)
    assert all(v.ok for v in cluster.check()), [v for v in cluster.check() if not v.ok]


# --- compaction: faults the campaigns' compact fault found -------------------------------------------

DATA = Path(__file__).parent / "data"


def _replay_calls(path: Path) -> Cluster:
    """Run a ``.calls`` file (``cluster = Cluster(...)`` first, then one call a line); a proposal or a
    compaction the replica refuses is refused again."""
    lines = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    namespace = {"Cluster": Cluster}
    exec(lines[0], namespace)
    for line in lines[1:]:
        try:
            exec(line, namespace)
        except (ProposeErr, CompactionErr, SnapshotUnsupported):
            pass
    return namespace["cluster"]


def _log(cluster: Cluster, pid: int):
    return cluster.server(pid).omnipaxos.seq_paxos.log


def test_trim_past_a_followers_decided_index_keeps_its_writes():
    """The leader trims as far as every node accepted, past what follower 1 decided; syncing node 1
    later with a 'Complete' snapshot of the leader's trimmed log lost a=2. Before the fix Integrity
    and KVLinearizability reported it."""
    cluster = _replay_calls(DATA / "replica_trim_past_decided.calls")
    assert all(v.ok for v in cluster.check()), [v for v in cluster.check() if not v.ok]
    assert cluster.server(1).kv.get("a") == 2


def test_trim_after_a_snapshot_does_not_keep_the_stale_snapshot():
    """A trim after a snapshot kept the old snapshot (b=6) for the longer prefix, so recovering node 1
    was synced without b=8. Before the fix Integrity and KVLinearizability reported it."""
    cluster = _replay_calls(DATA / "replica_stale_snapshot_after_trim.calls")
    assert all(v.ok for v in cluster.check()), [v for v in cluster.check() if not v.ok]
    assert cluster.server(1).kv.get("b") == 8


def test_a_follower_that_decided_less_than_the_trim_point_is_synced_with_entries():
    """The rule directly: the leader's trimmed prefix holds no write, so a follower that decided less
    than it gets no snapshot; it keeps the entries it accepted there (the decided ones) and decides them."""
    cluster = Cluster([1, 2, 3], seed=0)
    cluster.run(ticks=3)
    leader = cluster.leader()
    cluster.put("a", 1)
    cluster.deliver_all()
    cluster.put("a", 2)
    cluster.deliver_all()
    cluster.trim()
    leader_log = _log(cluster, leader)
    assert leader_log.compacted_idx == 2 and leader_log.storage.get_snapshot() is None
    assert not leader_log.can_snapshot_from(1) and leader_log.can_snapshot_from(2)
    sync = leader_log.create_log_sync(1, 1)  # a follower that decided 1 slot of the trimmed 2
    assert sync.decided_snapshot is None and sync.sync_idx == 2
    assert all(v.ok for v in cluster.check()), [v for v in cluster.check() if not v.ok]


def test_a_trim_over_a_snapshotted_prefix_drops_the_snapshot():
    """The rule directly: after snapshot then trim, the compacted prefix reads as trimmed, never as the
    old snapshot standing for the longer prefix."""
    cluster = Cluster([1, 2, 3], seed=0)
    cluster.run(ticks=3)
    leader = cluster.leader()
    cluster.put("b", 6)
    cluster.deliver_all()
    cluster.snapshot()
    cluster.deliver_all()
    cluster.put("b", 8)
    cluster.deliver_all()
    assert _log(cluster, leader).storage.get_snapshot() is not None
    cluster.trim()
    cluster.deliver_all()
    for pid in (1, 2, 3):
        log = _log(cluster, pid)
        assert log.compacted_idx == 2 and log.storage.get_snapshot() is None, pid
        assert type(log.compacted_entry()).__name__ == "Trimmed"
    assert all(v.ok for v in cluster.check()), [v for v in cluster.check() if not v.ok]
