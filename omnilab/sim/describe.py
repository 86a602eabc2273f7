"""Short, readable descriptions of protocol messages, for the trace, `pending()` and the views.

`message_fields(msg)` picks the fields that matter to a learner stepping messages (ballot, sequence
number, indices, entries) into a flat dict; `summarize(msg)` renders a message on one line, with
ballots written ``n.pid`` (see `Ballot.short`). Both accept replica messages (`Prepare`, ...),
the replica's envelopes (`PaxosMessage`, `BLEMessage`) and the simulator's service messages.
"""

from __future__ import annotations

from typing import Any

from omnilab.replica.ballot import Ballot, SequenceNumber
from omnilab.replica.config import ClusterConfig
from omnilab.replica.entries import StopSign
from omnilab.replica.messages import LogSync, Message, SnapshotType


def _short(value: Any) -> str:
    if isinstance(value, Ballot):
        return value.short()
    if isinstance(value, SequenceNumber):
        return f"{value.session}.{value.counter}"
    if isinstance(value, StopSign):
        return f"StopSign(c{value.next_config.configuration_id} {list(value.next_config.nodes)})"
    if isinstance(value, ClusterConfig):
        return f"c{value.configuration_id} {list(value.nodes)}"
    if isinstance(value, LogSync):
        parts = []
        if value.decided_snapshot is not None:
            parts.append(f"{type(value.decided_snapshot).__name__.lower()} snapshot")
        parts.append(f"{len(value.suffix)} entries at {value.sync_idx}")
        if value.stopsign is not None:
            parts.append(_short(value.stopsign))
        return "sync(" + ", ".join(parts) + ")"
    if isinstance(value, SnapshotType):
        return f"{type(value).__name__} snapshot"
    if isinstance(value, tuple):
        if len(value) > 4:
            return "[" + ", ".join(_short_entry(v) for v in value[:3]) + f", ... {len(value)} entries]"
        return "[" + ", ".join(_short_entry(v) for v in value) + "]"
    return repr(value)


def _short_entry(value: Any) -> str:
    return str(value) if type(value).__str__ is not object.__str__ else repr(value)


def payload(msg: Any) -> Any:
    """The protocol message inside a replica envelope, or `msg` itself."""
    return msg.msg if isinstance(msg, Message) else msg


def message_fields(msg: Any) -> dict:
    """The fields of a message as short strings/ints: ``type`` plus one key per dataclass field."""
    inner = payload(msg)
    fields: dict = {"type": type(inner).__name__}
    for name in getattr(inner, "__dataclass_fields__", ()):
        value = getattr(inner, name)
        fields[name] = value if isinstance(value, (int, bool)) else _short(value)
    return fields


def summarize(msg: Any) -> str:
    """One line: ``Prepare(n=2.3, decided_idx=4, n_accepted=1.3, accepted_idx=5)``."""
    fields = message_fields(msg)
    kind = fields.pop("type")
    return f"{kind}(" + ", ".join(f"{k}={v}" for k, v in fields.items()) + ")"
