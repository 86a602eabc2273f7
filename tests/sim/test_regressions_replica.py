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
from omnilab.replica.state import Phase, Role
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
    assert all(v == "Promised" for p, v in leader_state.leader_promised.items() if p != leader)
    assert all(v.ok for v in cluster.check()), [v for v in cluster.check() if not v.ok]
