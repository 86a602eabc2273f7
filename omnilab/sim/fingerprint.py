"""A canonical picture of a cluster's state, and a fingerprint of it: equal states, equal fingerprints.

`canonical_state(cluster)` turns the state that decides what a cluster does next into nested tuples
and frozensets of immutable values, so two clusters in the same state give equal pictures, however
they got there. `fingerprint(cluster)` is its hash. An explorer keeps the fingerprints of the states
it has seen and skips a state it meets again.

What is in it:

* every server: everything on the `Server` object, walked attribute by attribute (its durable
  storages, configurations and transferred state; its instances with their Ballot Leader
  Election, Sequence Paxos, log and logical clocks; its key-value state, applied indexes and the
  reconfiguration service's bookkeeping; whether it is up). The walk is generic, so a variant's
  extra attributes are in it too;
* the network: the *multiset* of messages in flight as (sender, receiver, configuration, message),
  and the cut links. Message ids are left out (two states that differ only in the ids of their
  messages are equal), and so is the order in flight (the explorer picks messages by id; FIFO
  `step()` would see the difference).

What is left out, and why:

* the cluster clock: it only stamps `Ticked` events; every timer that changes behaviour counts in
  the replicas' and servers' own clocks, which are in;
* the trace, the ledger and the version: they record how the cluster got here (the evidence the
  invariants read), not what it does next;
* the seeded random generator: it only draws `step_random` choices and campaign schedules.

Values are compared as Python compares them (so ``1``, ``1.0`` and ``True`` are the same value), and
dicts and sets as unordered collections. The fingerprint is Python's ``hash`` of the strict picture
(every frozen value walked with its class, see `fingerprint`): equal states give equal fingerprints
in one process (strings hash differently across processes unless ``PYTHONHASHSEED`` is set);
different states collide only by chance.
"""

from __future__ import annotations

import types
from collections import Counter
from typing import Any

from .copying import is_immutable_value, slot_names

#: Types whose values are their own canonical form.
_ATOMS = frozenset({int, float, complex, str, bytes, bool, type(None), type, range})
#: Attribute values left out: behaviour, not state (e.g. Sequence Paxos's table of handlers).
_SKIPPED = (types.MethodType, types.FunctionType, types.BuiltinFunctionType)
_IN_PROGRESS = object()


def canonical_state(cluster: Any, strict: bool = False) -> tuple:
    """The cluster's state as nested tuples and frozensets (see the module docstring). Frozen
    dataclasses (messages, ballots, entries) stand for themselves; with `strict`, those that do not
    hash (an entry holding a list) are walked field by field instead."""
    walker = _Walker(strict)
    canon = walker.canon
    servers = tuple((pid, canon(server)) for pid, server in sorted(cluster.servers.items()))
    network = cluster.network
    in_flight = Counter((env.sender, env.receiver, env.config_id, canon(env.message))
                        for env in network.in_flight.values())
    return servers, frozenset(in_flight.items()), frozenset(network.cut_links)


def fingerprint(cluster: Any) -> int:
    """``hash(canonical_state(cluster, strict=True))``: equal for clusters in equal states.

    Strict, because a dataclass hashes its fields and not its class: ``PaxosMessage(1, 3,
    NotAccepted(b))`` and ``PaxosMessage(1, 3, PrepareReq(b))`` differ but hash alike, so two
    clusters that differ only in which of them is in flight would get one fingerprint. The strict
    picture names the class of every value it walks. (The explorer, which met exactly that pair,
    compares states by equality, `omnilab.sim.memo`, and does not use this hash.)"""
    return hash(canonical_state(cluster, strict=True))


class _Walker:
    """One walk over an object graph; objects met twice (a storage held by a server and by its
    instance) are walked once."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.memo: dict[int, Any] = {}

    def canon(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in _ATOMS:
            return obj
        rule = _RULES.get(kind)
        if rule is None:
            rule = _RULES[kind] = _rule_for(kind)
        if rule is _AS_IS and not self.strict:
            return obj
        key = id(obj)
        memo = self.memo
        found = memo.get(key)
        if found is not None:
            return ("<cycle>", kind) if found is _IN_PROGRESS else found
        memo[key] = _IN_PROGRESS
        canon = self.canon
        result: Any  # a hashable canonical form: a tuple or a frozenset
        if rule is _AS_IS or rule is _OBJECT:
            result = (kind, self.attributes(obj))
        elif rule is _SEQUENCE:
            result = tuple([canon(item) for item in obj])
        elif rule is _MAPPING:
            result = frozenset([(canon(k), canon(v)) for k, v in obj.items() if not isinstance(v, _SKIPPED)])
        else:  # _SET
            result = frozenset([canon(item) for item in obj])
        memo[key] = result
        return result

    def attributes(self, obj: Any) -> tuple:
        """An object's attributes (``__dict__`` and ``__slots__``), methods and functions left
        out, sorted by name."""
        kind = type(obj)
        slots = _SLOTS.get(kind)
        if slots is None:
            slots = _SLOTS[kind] = tuple(slot_names(kind))
        names = getattr(obj, "__dict__", _NO_DICT)
        if slots:
            names = dict(names)
            for slot in slots:
                if slot not in names and hasattr(obj, slot):
                    names[slot] = getattr(obj, slot)
        canon = self.canon
        return tuple([(name, canon(value)) for name, value in sorted(names.items()) if not isinstance(value, _SKIPPED)])


_AS_IS, _OBJECT, _SEQUENCE, _MAPPING, _SET = "as is", "object", "sequence", "mapping", "set"
#: How each type met so far is walked (filled in as types appear).
_RULES: dict[type, str] = {}
#: The ``__slots__`` attributes of each type met so far (`slot_names`, read once per type rather than
#: once per object: the explorer canonicalises every new server state, and walking each object's
#: class hierarchy again was a fifth of that; 118 -> 91 us per server, timeit on this machine).
_SLOTS: dict[type, tuple[str, ...]] = {}
_NO_DICT: dict = {}


def _rule_for(kind: type) -> str:
    if is_immutable_value(kind):
        return _AS_IS  # enums and frozen dataclasses (messages, ballots, entries) compare by their fields
    if issubclass(kind, (list, tuple)):
        return _SEQUENCE
    if issubclass(kind, (dict, types.MappingProxyType)):
        return _MAPPING
    if issubclass(kind, (set, frozenset)):
        return _SET
    return _OBJECT

