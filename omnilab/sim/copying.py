"""Deep copies of a simulated world that share what cannot change.

`deep_copy(obj, memo)` is ``copy.deepcopy`` with one difference: instances of frozen dataclasses
(messages, ballots, log entries, configurations, trace items) and enums are shared, not copied, the
way ``copy.deepcopy`` already shares ints and strings. The replica's messages and entries are
immutable by contract (the network may hand one object to several replicas), so sharing them is
safe. Everything else (servers, replicas, logs, storages, dicts, lists, sets) is copied, and
sharing inside the copied graph is kept (a storage held by a server and by its instance stays one
object); a ``random.Random`` is copied through ``getstate``/``setstate``. A type with its own
``__deepcopy__``, or one this module does not know, is handed to ``copy.deepcopy`` with the same
memo.

Why not plain ``copy.deepcopy``: it copies every message, ballot and entry through
``__reduce_ex__``, and the random generator's state int by int. Measured side by side in one
process (bench/sim.py's explorer state: 20 puts decided, the next one in flight; a busy 2-core
machine): plain ``copy.deepcopy`` of the cluster's attributes 97 forks/s at 3 nodes and 53 at 5;
this walk 288 and 166, about three times as many. `Cluster.fork` is what an explorer calls for
every state it branches from.
"""

from __future__ import annotations

import copy
import random
import types
from enum import Enum
from typing import Any

_ATOMS = frozenset({int, float, complex, str, bytes, bool, type(None), type, range, types.FunctionType,
                    types.BuiltinFunctionType})
_SHARE, _LIST, _DICT, _SET, _OBJECT, _METHOD, _TUPLE, _NAMEDTUPLE, _SLOTS, _RANDOM, _OTHER = range(11)
#: How each type met so far is copied (filled in as types appear).
_RULES: dict[type, int] = {}


def deep_copy(obj: Any, memo: dict) -> Any:
    """A deep copy of `obj` (see the module docstring); `memo` is ``copy.deepcopy``'s memo."""
    kind = type(obj)
    if kind in _ATOMS:
        return obj
    rule = _RULES.get(kind)
    if rule is None:
        rule = _RULES[kind] = _rule_for(kind)
    if rule == _SHARE:
        return obj
    key = id(obj)
    found = memo.get(key, memo)
    if found is not memo:
        return found
    if rule == _LIST:
        clone = kind() if kind is not list else []
        memo[key] = clone
        if _all_shared(obj):  # a log of entries, a list of ints: the items need no walk
            clone.extend(obj)
        else:
            clone.extend([deep_copy(item, memo) for item in obj])
    elif rule == _DICT:
        if kind is dict and _all_shared(obj) and _all_shared(obj.values()):
            clone = obj.copy()  # keeps the hash table: no key is hashed again
            memo[key] = clone
            return clone
        clone = {} if kind is dict else kind()
        memo[key] = clone
        for k, v in obj.items():
            clone[deep_copy(k, memo)] = deep_copy(v, memo)
    elif rule == _SET:
        clone = obj.copy() if kind is set and _all_shared(obj) else kind(deep_copy(item, memo) for item in obj)
        memo[key] = clone
    elif rule == _TUPLE:
        if _all_shared(obj):
            return obj
        items = [deep_copy(item, memo) for item in obj]
        clone = obj if all(a is b for a, b in zip(items, obj)) else tuple(items)
        memo[key] = clone
    elif rule == _NAMEDTUPLE:
        items = [deep_copy(item, memo) for item in obj]
        clone = obj if all(a is b for a, b in zip(items, obj)) else kind._make(items)
        memo[key] = clone
    elif rule == _SLOTS:
        clone = object.__new__(kind)
        memo[key] = clone
        for name in slot_names(kind):
            if hasattr(obj, name):
                setattr(clone, name, deep_copy(getattr(obj, name), memo))
    elif rule == _RANDOM:  # its state as one tuple of ints: copy.deepcopy walks it int by int
        clone = random.Random()
        clone.setstate(obj.getstate())
        memo[key] = clone
    elif rule == _METHOD:
        clone = types.MethodType(obj.__func__, deep_copy(obj.__self__, memo))
        memo[key] = clone
    elif rule == _OBJECT:
        clone = object.__new__(kind)
        memo[key] = clone
        state = clone.__dict__
        for name, value in obj.__dict__.items():
            state[name] = deep_copy(value, memo)
    else:
        clone = copy.deepcopy(obj, memo)
    return clone


def _all_shared(items: Any) -> bool:
    """Every item is a value a copy shares (an atom, an enum, a frozen dataclass, or a tuple of those
    types of value, one level deep): checked without a call per item, which is what copying a
    replica's log or the ledger's tables costs otherwise."""
    rules, atoms = _RULES, _ATOMS
    for item in items:
        kind = type(item)
        if kind in atoms or rules.get(kind) == _SHARE:
            continue
        if kind is tuple:
            for inner in item:
                inner_kind = type(inner)
                if inner_kind not in atoms and rules.get(inner_kind) != _SHARE:
                    return False
            continue
        return False
    return True


def is_immutable_value(kind: type) -> bool:
    """Enums and frozen dataclasses (messages, ballots, entries, configurations, trace items): values
    that compare by their fields and never change, so a copy may share them."""
    if issubclass(kind, Enum):
        return True
    params = getattr(kind, "__dataclass_params__", None)
    return params is not None and params.frozen


def _rule_for(kind: type) -> int:
    if getattr(kind, "__deepcopy__", None) is not None:
        return _OTHER
    if is_immutable_value(kind):
        return _SHARE
    if kind is list:
        return _LIST
    if kind is dict:
        return _DICT
    if kind is set:
        return _SET
    if kind is tuple:
        return _TUPLE
    if kind is types.MethodType:
        return _METHOD
    if kind is random.Random:
        return _RANDOM
    if issubclass(kind, tuple) and hasattr(kind, "_make") and _python_class(kind, tuple):
        return _NAMEDTUPLE
    if _plain(kind):
        return _SLOTS if "__slots__" in _all_namespaces(kind) else _OBJECT
    return _OTHER


def slot_names(kind: type) -> list[str]:
    """The instance attributes `kind` declares in ``__slots__`` (its bases' included)."""
    return [slot for cls in kind.__mro__ for slot in getattr(cls, "__slots__", ())
            if slot not in ("__dict__", "__weakref__")]


def _python_class(kind: type, base: type = object) -> bool:
    """Every class between `kind` and `base` is written in Python (no C extension type)."""
    return all(cls.__flags__ & _HEAPTYPE for cls in kind.__mro__[:kind.__mro__.index(base)])


def _all_namespaces(kind: type) -> dict:
    merged: dict = {}
    for cls in reversed(kind.__mro__[:-1]):
        merged.update(vars(cls))
    return merged


# `object.__getstate__` exists from Python 3.11 on; before, a class has one only if it defines it.
_OBJECT_GETSTATE = getattr(object, "__getstate__", None)


def _plain(kind: type) -> bool:
    """A Python class whose instances are just their attributes (a ``__dict__`` or ``__slots__``,
    never both): no custom pickling, no custom ``__new__``, no C base class."""
    namespace = _all_namespaces(kind)
    has_slots = "__slots__" in namespace
    return (kind.__reduce_ex__ is object.__reduce_ex__ and kind.__reduce__ is object.__reduce__
            and getattr(kind, "__getstate__", None) is _OBJECT_GETSTATE
            and "__setstate__" not in namespace and kind.__new__ is object.__new__ and _python_class(kind)
            and (not has_slots or "__dict__" not in slot_names(kind) and not hasattr(kind, "__dataclass_fields__")))


_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class created by a class statement
