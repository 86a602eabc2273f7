"""Walking through a run one message at a time, as the course notebooks do.

`steps(cluster)` delivers messages one by one with `Cluster.step` (so each delivery is an ordinary,
traced operation) and returns a table with one row per protocol message delivered: which message,
then every node's progress right after it (``decided_idx/accepted_idx``, its phase unless it is
Accept, ★ on a leader). Heartbeats of leader election are delivered too, without a row.
`in_flight` finds message ids by type and receiver, `protocol_messages` is `Cluster.pending`
without the heartbeats, and `verdicts` puts `Cluster.check` on one line.

Messages are told apart by their class: `in_flight(cluster, Prepare)`, or by the class's name,
``in_flight(cluster, "Prepare")``, which is looked up among the message classes of Sequence Paxos,
Ballot Leader Election and the reconfiguration service (a name that is none of them is refused).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import pandas as pd

from omnilab.replica.messages import BLE_MESSAGE_TYPES, PAXOS_MESSAGE_TYPES
from omnilab.replica.state import Phase, Role
from omnilab.sim.errors import BadInput
from omnilab.sim.service import SERVICE_MESSAGE_TYPES

from .text import message_text

__all__ = ["MESSAGE_TYPES", "message_type", "in_flight", "protocol_messages", "progress", "steps", "verdicts"]

#: Every message class that can be in flight, by name.
MESSAGE_TYPES: dict[str, type] = {cls.__name__: cls
                                  for cls in PAXOS_MESSAGE_TYPES + BLE_MESSAGE_TYPES + SERVICE_MESSAGE_TYPES}


def message_type(kind: Union[str, type]) -> type:
    """The message class `kind` names (a class is returned as it is)."""
    if isinstance(kind, type):
        return kind
    cls = MESSAGE_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise BadInput(f"{kind!r} is not a message type; use one of {', '.join(MESSAGE_TYPES)} "
                       "(or the class itself, e.g. from omnilab.replica.messages import Prepare)")
    return cls


def in_flight(cluster: Any, kind: Union[str, type, None] = None, to: Optional[int] = None) -> list[int]:
    """Ids of the in-flight messages of type `kind` (a message class or its name; all types when
    None), and to node `to` (any node when None), oldest first."""
    cls = None if kind is None else message_type(kind)
    return [env.id for env in cluster.network
            if (cls is None or isinstance(env.payload, cls)) and (to is None or env.receiver == to)]


def protocol_messages(cluster: Any) -> pd.DataFrame:
    """`cluster.pending()` without the heartbeats of leader election."""
    table = cluster.pending()
    heartbeats = {env.id for env in cluster.network if isinstance(env.payload, BLE_MESSAGE_TYPES)}
    return table[[msg_id not in heartbeats for msg_id in table.index]]


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


def steps(cluster: Any, ids: Optional[Sequence[int]] = None) -> pd.DataFrame:
    """Deliver the messages `ids` in that order (default: the oldest, until nothing is in flight),
    one `cluster.step` each; one row per protocol message delivered, with every node's `progress`
    right after it."""
    rows, delivered = [], 0
    while (len(cluster.network) > 0) if ids is None else (delivered < len(ids)):
        env = cluster.step(None if ids is None else ids[delivered])
        delivered += 1
        if isinstance(env.payload, BLE_MESSAGE_TYPES):
            continue
        lost = "" if cluster.server(env.receiver).up else "  ✗ (receiver crashed)"
        rows.append([f"#{env.id} {env.sender}→{env.receiver} {message_text(env.message)}{lost}"]
                    + [progress(cluster, pid) for pid in cluster.pids])
    return pd.DataFrame(rows, columns=["delivered"] + [f"node {pid}" for pid in cluster.pids],
                        index=pd.RangeIndex(1, len(rows) + 1, name="step"))


def verdicts(cluster: Any) -> str:
    """`cluster.check()` on one line: ✓ or ✗ per invariant, with the reason when one fails."""
    return "  ".join(f"{v.name} ✓" if v.ok else f"{v.name} ✗ ({v.message})" for v in cluster.check())
