"""How log entries and protocol messages read, everywhere omnilab shows them as text.

There is one renderer of each: `entry_text` for a log entry (``a=1``, ``StopSign→c2 [1, 2, 4]``) and
`message_text` for a message (``Prepare(n=2.3, decided_idx=4, n_accepted=1.3, accepted_idx=5)``),
with ballots written ``n.pid`` (see `Ballot.short`). The tables, the diagrams, the lab and the
walkthrough all go through them, so an entry or a message reads the same in each.

`message_fields` is the data underneath `message_text`: the fields that matter to a learner
stepping messages (ballot, sequence number, indices, entries) as short strings or ints, and
`message_fields_text` gives the two parts a table shows in separate columns (type and fields);
`envelope_text` is a message on the wire: ``#17 3→1 c1 Prepare(...)``.
Every function accepts a replica message (`Prepare`, ...), the replica's envelopes (`PaxosMessage`,
`BLEMessage`, as `OmniPaxos.take_outgoing_messages` hands them out) and the simulator's service
messages (`StartInstance`, `StateTransfer`, `TransferAck`).
"""

from __future__ import annotations

from typing import Any

from omnilab.replica.ballot import Ballot, SequenceNumber
from omnilab.replica.config import ClusterConfig
from omnilab.replica.entries import StopSign
from omnilab.replica.messages import LogSync, Message, SnapshotType

__all__ = ["entry_text", "message_text", "envelope_text", "message_fields", "message_fields_text", "payload"]

#: A tuple of entries longer than this reads as its first three and a count.
_LONG = 4


def entry_text(value: Any, members: bool = True) -> str:
    """A log entry as a learner reads it: ``a=1`` for a KeyValue, ``StopSign→c2 [1, 2, 4]`` for a
    StopSign (the configuration it starts and, unless ``members=False``, its members), else its
    ``str`` (or ``repr`` when the class has no ``__str__`` of its own)."""
    if isinstance(value, StopSign):
        config = value.next_config
        return f"StopSign→c{config.configuration_id}" + (f" {list(config.nodes)}" if members else "")
    return str(value) if type(value).__str__ is not object.__str__ else repr(value)


def payload(msg: Any) -> Any:
    """The protocol message inside a replica envelope (`PaxosMessage`, `BLEMessage`), or `msg` itself."""
    return msg.msg if isinstance(msg, Message) else msg


def _field_text(value: Any) -> str:
    """One field of a message, short: ballots ``n.pid``, entries through `entry_text`."""
    if isinstance(value, Ballot):
        return value.short()
    if isinstance(value, SequenceNumber):
        return f"{value.session}.{value.counter}"
    if isinstance(value, StopSign):
        return entry_text(value)
    if isinstance(value, ClusterConfig):
        return f"c{value.configuration_id} {list(value.nodes)}"
    if isinstance(value, LogSync):
        parts = []
        if value.decided_snapshot is not None:
            parts.append(f"{type(value.decided_snapshot).__name__.lower()} snapshot")
        parts.append(f"{len(value.suffix)} entries at {value.sync_idx}")
        if value.stopsign is not None:
            parts.append(entry_text(value.stopsign))
        return "sync(" + ", ".join(parts) + ")"
    if isinstance(value, SnapshotType):
        return f"{type(value).__name__} snapshot"
    if isinstance(value, tuple):
        if len(value) > _LONG:
            return "[" + ", ".join(entry_text(v) for v in value[:3]) + f", ... {len(value)} entries]"
        return "[" + ", ".join(entry_text(v) for v in value) + "]"
    return repr(value)


def message_fields(msg: Any) -> dict:
    """The fields of a message, in declaration order, as short strings (ints and bools kept as
    they are): one key per dataclass field of the protocol message."""
    inner = payload(msg)
    return {name: value if isinstance(value, (int, bool)) else _field_text(value)
            for name in getattr(inner, "__dataclass_fields__", ())
            for value in (getattr(inner, name),)}


def message_fields_text(msg: Any) -> tuple[str, str]:
    """(type, ``"field=value, ..."``) of a message: the two columns of a table of messages."""
    fields = message_fields(msg)
    return type(payload(msg)).__name__, ", ".join(f"{k}={v}" for k, v in fields.items())


def message_text(msg: Any) -> str:
    """A message on one line: ``Prepare(n=2.3, decided_idx=4, n_accepted=1.3, accepted_idx=5)``."""
    kind, fields = message_fields_text(msg)
    return f"{kind}({fields})"


def envelope_text(env: Any) -> str:
    """A simulator `Envelope` on one line: ``#17 3→1 c1 Prepare(n=1.3, ...)`` (its id, sender →
    receiver, the sender's configuration, then `message_text`)."""
    return f"#{env.id} {env.sender}→{env.receiver} c{env.config_id} {message_text(env.message)}"


def kv_text(mapping: Any) -> str:
    """A key-value state on one line, ``k1=1, k2='x'``, keys in a stable order (``{}`` when empty)."""
    if not mapping:
        return "{}"
    return ", ".join(f"{k}={v!r}"
                     for k, v in sorted(mapping.items(), key=lambda kv: (type(kv[0]).__name__, str(kv[0]))))
