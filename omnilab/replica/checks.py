"""What the replica checks at its door, before anything changes.

The Rust library's types rule out a negative index, a ballot that is ``None`` or a message for
somebody else's pid at compile time; in Python each is one careless call or one buggy peer away. So
the `OmniPaxos` facade checks every argument and every incoming message here first, and refuses what
is not for it with a typed error, leaving the replica untouched:

- `index` and `optional_index` check caller arguments (``trim(-1)``, ``snapshot(2.5)``) and raise
  `InvalidArgument`;
- `check_message` checks an incoming envelope: addressed to me, from a member of my configuration,
  of my configuration (its ballots carry my configuration id, or 0 for "no ballot yet"), and every
  field of the right type and sign. It raises a `MessageErr` subclass.

The field rules are read once from the message dataclasses' own annotations (``n: Ballot``,
``decided_idx: int``, ``log_sync: Optional[LogSync]``, ...), so a new message type is checked as
soon as it is declared.
"""

from __future__ import annotations

import numbers
import typing
from dataclasses import fields
from typing import Any, Callable, Optional

from .ballot import Ballot, SequenceNumber
from .entries import StopSign
from .errors import InvalidArgument, MessageErr
from .messages import BLE_MESSAGE_TYPES, PAXOS_MESSAGE_TYPES, BLEMessage, LogSync, PaxosMessage, SnapshotType


def is_int(value: Any) -> bool:
    """A true integer (``True`` and ``2.0`` are not)."""
    # `type(...) is int` first: the ABC check alone doubled the cost of delivering a message.
    kind = type(value)
    return kind is int or (kind is not bool and isinstance(value, numbers.Integral))


def index(value: Any, call: str, argument: str = "idx") -> int:
    """`value` as a log index (an integer >= 0), else `InvalidArgument`."""
    if not is_int(value) or value < 0:
        raise InvalidArgument(call, argument, value, "a log index (an integer >= 0)")
    return value


def optional_index(value: Any, call: str, argument: str = "idx") -> Optional[int]:
    return None if value is None else index(value, call, argument)


# --- incoming messages -----------------------------------------------------------------------------

# A field check returns None when the value is fine, else the reason it is not.
FieldCheck = Callable[[Any], Optional[str]]


def _natural(value: Any) -> Optional[str]:
    return None if is_int(value) and value >= 0 else "must be an integer >= 0"


def _natural_fast(value: Any) -> Optional[str]:
    # Most fields of most messages are plain non-negative ints: answer those without a call.
    if type(value) is int and value >= 0:
        return None
    return _natural(value)


def _ballot(value: Any) -> Optional[str]:
    # Every message carries a ballot or two: the common case in one expression, without calls.
    if (type(value) is Ballot and type(value.config_id) is int and type(value.n) is int
            and type(value.priority) is int and type(value.pid) is int
            and value.config_id >= 0 and value.n >= 0 and value.priority >= 0 and value.pid >= 0):
        return None
    if not isinstance(value, Ballot):
        return "must be a Ballot"
    for v in (value.config_id, value.n, value.priority, value.pid):
        if not (is_int(v) and v >= 0):
            return "must be a Ballot of integers >= 0"
    return None


def _seq_num(value: Any) -> Optional[str]:
    if not isinstance(value, SequenceNumber) or not (is_int(value.session) and is_int(value.counter)):
        return "must be a SequenceNumber of integers"
    return None


def _log_sync(value: Any) -> Optional[str]:
    if not isinstance(value, LogSync):
        return "must be a LogSync"
    problem = _fields_problem(value)
    return None if problem is None else f"is a LogSync whose {problem}"


def _instance_of(kind: type) -> FieldCheck:
    def check(value: Any) -> Optional[str]:
        return None if isinstance(value, kind) else f"must be a {kind.__name__}"
    return check


def _optional(check: FieldCheck) -> FieldCheck:
    def optional(value: Any) -> Optional[str]:
        return None if value is None else check(value)
    return optional


_CHECKS: dict[Any, FieldCheck] = {
    int: _natural_fast, bool: _instance_of(bool), tuple: _instance_of(tuple), Ballot: _ballot,
    SequenceNumber: _seq_num, LogSync: _log_sync, StopSign: _instance_of(StopSign),
    SnapshotType: _instance_of(SnapshotType),
}


def _check_for(hint: Any) -> Optional[FieldCheck]:
    if hint is Any:
        return None
    args = typing.get_args(hint)
    if typing.get_origin(hint) is typing.Union and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        check = _check_for(inner)
        return None if check is None else _optional(check)
    return _CHECKS[hint]


def _field_checks(cls: type) -> list[tuple[str, FieldCheck]]:
    hints = typing.get_type_hints(cls)
    checks = []
    for f in fields(cls):
        check = _check_for(hints[f.name])
        if check is not None:
            checks.append((f.name, check))
    return checks


#: Per message class, the check of each of its fields, read from the dataclass annotations.
FIELD_CHECKS: dict[type, list[tuple[str, FieldCheck]]] = {
    cls: _field_checks(cls) for cls in (*PAXOS_MESSAGE_TYPES, *BLE_MESSAGE_TYPES, LogSync)}

#: Per message class, the fields whose ballot carries the sender's configuration (``config_id``).
#: HeartbeatReply's ballots are left to Ballot Leader Election, which ignores replies of another
#: configuration as stale news, as the library does.
CONFIG_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(name for name in ("n", "n_accepted") if name in {f.name for f in fields(cls)})
    for cls in (*PAXOS_MESSAGE_TYPES, *BLE_MESSAGE_TYPES)}


def _fields_problem(msg: Any) -> Optional[str]:
    for name, check in FIELD_CHECKS[type(msg)]:
        problem = check(getattr(msg, name))
        if problem is not None:
            return f"field {name}={getattr(msg, name)!r} {problem}"
    return None


def _plain_types(cls: type) -> Optional[tuple]:
    """``((field, type), ...)`` when every field of `cls` has one plain type (int, bool, tuple,
    Ballot, SequenceNumber), for the fast path of `check_message`; None otherwise."""
    hints = typing.get_type_hints(cls)
    plain = []
    for f in fields(cls):
        hint = hints[f.name]
        if hint is Any:
            continue
        if hint not in (int, bool, tuple, Ballot, SequenceNumber):
            return None
        plain.append((f.name, hint))
    return tuple(plain)


#: The fast path's field types, for the message classes whose fields all have plain types.
PLAIN_TYPES: dict[type, Optional[tuple]] = {
    cls: _plain_types(cls) for cls in (*PAXOS_MESSAGE_TYPES, *BLE_MESSAGE_TYPES)}


def _plainly_well_formed(msg: Any, plain: tuple) -> bool:
    # The fast path: every field exactly of its type, with no function call per field. Delivering a
    # message costs about a fifth more with the general per-field checks alone (bench: 800 puts on a
    # 3-node Cluster); this path answers for nearly every message and leaves the rest to them.
    for name, kind in plain:
        value = getattr(msg, name)
        if type(value) is not kind:
            return False
        if kind is int:
            if value < 0:
                return False
        elif kind is Ballot:
            if not (type(value.config_id) is int and type(value.n) is int and type(value.priority) is int
                    and type(value.pid) is int and value.config_id >= 0 and value.n >= 0
                    and value.priority >= 0 and value.pid >= 0):
                return False
        elif kind is SequenceNumber:
            if not (type(value.session) is int and type(value.counter) is int):
                return False
    return True


def check_message(message: Any, pid: int, configuration_id: int, nodes: tuple) -> None:
    """Raise a `MessageErr` unless `message` is a well-formed message of my configuration for me."""
    if not isinstance(message, (PaxosMessage, BLEMessage)):
        raise MessageErr.Malformed(pid, message, "handle_incoming takes a Message.SequencePaxos or Message.BLE")
    msg = message.msg
    kinds = PAXOS_MESSAGE_TYPES if isinstance(message, PaxosMessage) else BLE_MESSAGE_TYPES
    if type(msg) not in kinds:
        family = "Sequence Paxos" if isinstance(message, PaxosMessage) else "Ballot Leader Election"
        raise MessageErr.Malformed(pid, message, f"{type(msg).__name__} is not a {family} message")
    if message.receiver != pid:
        raise MessageErr.NotForMe(pid, message, f"it is addressed to node {message.receiver!r}, and I am node {pid}")
    if message.sender == pid or message.sender not in nodes:
        raise MessageErr.UnknownSender(
            pid, message, f"its sender {message.sender!r} is not one of my peers {[p for p in nodes if p != pid]}")
    plain = PLAIN_TYPES[type(msg)]
    if plain is None or not _plainly_well_formed(msg, plain):
        problem = _fields_problem(msg)
        if problem is not None:
            raise MessageErr.Malformed(pid, message, problem)
    for name in CONFIG_FIELDS[type(msg)]:
        ballot = getattr(msg, name)
        # Config id 0 is the default ballot, "nothing promised yet", which any configuration sends.
        if ballot.config_id != configuration_id and ballot.config_id != 0:
            raise MessageErr.OtherConfiguration(
                pid, message, f"its ballot {name} belongs to configuration {ballot.config_id}, and I am an instance "
                f"of configuration {configuration_id}; deliver it to that configuration's instance")

