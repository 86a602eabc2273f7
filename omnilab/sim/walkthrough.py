"""Walking through a run one message at a time, as the course notebooks do.

`steps(cluster)` delivers messages one by one with `Cluster.step` (so each delivery is an ordinary,
traced operation) and returns a table with one row per protocol message delivered: which message,
then every node's progress right after it (``decided_idx/accepted_idx``, its phase unless it is
Accept, ★ on a leader). Heartbeats of leader election are delivered too, without a row.
`in_flight` finds message ids by type and receiver, `protocol_messages` is `Cluster.pending`
without the heartbeats, and `verdicts` puts `Cluster.check` on one line.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from omnilab.replica.state import Phase, Role

from .describe import summarize


def in_flight(cluster: Any, kind: Optional[str] = None, to: Optional[int] = None) -> list[int]:
    """Ids of the in-flight messages of type `kind` (and to node `to`), oldest first."""
    return [env.id for env in cluster.network
            if (kind is None or env.kind == kind) and (to is None or env.receiver == to)]


def protocol_messages(cluster: Any):
    """`cluster.pending()` without the heartbeats of leader election."""
    table = cluster.pending()
    return table[~table.type.str.startswith("Heartbeat")]


def progress(cluster: Any, pid: int) -> str:
    """Node `pid` in a few characters: ``decided_idx/accepted_idx``, its phase unless it is Accept,
    ★ if it leads; "crashed" if it is down."""
    server = cluster.server(pid)
    if not server.up:
        return "crashed"
    state = server.omnipaxos.inspect()
    text = f"{state.decided_idx}/{state.accepted_idx}"
    if state.phase is not Phase.ACCEPT:
        text += f" {state.phase.value}"
    return ("★ " if state.role is Role.LEADER else "") + text


def steps(cluster: Any, ids: Optional[Sequence[int]] = None):
    """Deliver the messages `ids` in that order (default: the oldest, until nothing is in flight),
    one `cluster.step` each; one row per protocol message delivered, with every node's `progress`
    right after it."""
    import pandas as pd

    rows, delivered = [], 0
    while (len(cluster.network) > 0) if ids is None else (delivered < len(ids)):
        env = cluster.step(None if ids is None else ids[delivered])
        delivered += 1
        if env.kind.startswith("Heartbeat"):
            continue
        lost = "" if cluster.server(env.receiver).up else "  ✗ (receiver crashed)"
        rows.append([f"#{env.id} {env.sender}→{env.receiver} {summarize(env.message)}{lost}"]
                    + [progress(cluster, pid) for pid in cluster.pids])
    return pd.DataFrame(rows, columns=["delivered"] + [f"node {pid}" for pid in cluster.pids],
                        index=pd.RangeIndex(1, len(rows) + 1, name="step"))


def verdicts(cluster: Any) -> str:
    """`cluster.check()` on one line: ✓ or ✗ per invariant, with the reason when one fails."""
    return "  ".join(f"{v.name} ✓" if v.ok else f"{v.name} ✗ ({v.message})" for v in cluster.check())
