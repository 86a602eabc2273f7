"""Checks a `Cluster` call makes before it changes anything.

A call on the cluster first validates every argument, then applies, then records (see
`omnilab.sim.cluster`). Each function here either returns the argument in the form the cluster
records (a plain int, a bool) or raises a `BadInput` whose message says what to pass instead. None of
them changes anything.

What is checked, and why:

* **Seeds** are integers (``operator.index``: a numpy integer is fine, a bool is not). The seed is the
  only source of randomness, and ``Cluster.replay`` rebuilds a cluster from the seed its trace
  recorded: ``seed=None`` would draw a fresh seed from the operating system (no replay could follow
  it), and a float, a string or a list would be recorded in a form ``trace.script()`` cannot paste
  back as the same seed.
* **Keys** of `put` and `get` are hashable: every server's key-value state is a dict, so a list key
  would be accepted by the leader and then fail at every node that applies the decided entry.
* **Entries** (`append`, and the value of a `put`) compare with ``==`` to a plain truth value and can
  be copied: the ledger the invariants read compares decided entries with proposed ones, and
  ``Cluster.fork`` (checkpoints, `undo`, the explorer) copies every mutable entry a log holds.
* **Counts** of ticks are integers from 1 to `MAX_TICKS` (a bool is not a count).
* **Flags** (``one_way``, ``local_only``) are bools.
"""

from __future__ import annotations

import operator
from typing import Any, Iterable, Optional

from .copying import deep_copy, is_immutable_value
from .errors import BadInput

#: The most ticks one `tick` or `run` call may ask for. A 3-node cluster records about 25 trace items
#: per round, so a million rounds would hold tens of millions of items in memory; call again to go on.
MAX_TICKS = 100_000


def as_int(value: Any) -> Optional[int]:
    """`value` as a plain int (``operator.index``: numpy integers become ints), or None for anything
    else, a bool included."""
    if type(value) is int:
        return value
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def seed(value: Any) -> int:
    """A `Cluster` seed as a plain int."""
    number = as_int(value)
    if number is None:
        hint = ("seed=None would draw a fresh random seed that no replay could follow" if value is None
                else f"not {value!r} ({type(value).__name__})")
        raise BadInput(f"Cluster(seed=...) takes an integer, so that Cluster.replay(trace) and trace.script() "
                       f"rebuild the same run: {hint}; e.g. Cluster([1, 2, 3], seed=0)")
    return number


def tick_count(n: Any, where: str) -> int:
    """A number of ticks (rounds) from 1 to `MAX_TICKS`."""
    number = as_int(n)
    if number is None or number < 1:
        name, _, arg = where.partition("(")
        example = f"{name}({arg.rstrip(')')}=1)" if arg.rstrip(")") == "ticks" else f"{name}(1)"
        raise BadInput(f"{where} takes a positive number of ticks (a whole number), not {n!r}; e.g. {example}")
    if number > MAX_TICKS:
        raise BadInput(f"{where}: at most {MAX_TICKS:,} ticks per call, not {number:,} (the trace keeps every "
                       f"tick in memory); call it again to go on")
    return number


def limit(n: Any, where: str) -> Optional[int]:
    """An optional count of deliveries: None, or an int >= 1."""
    if n is None:
        return None
    number = as_int(n)
    if number is None or number < 1:
        raise BadInput(f"{where} is a positive whole number of deliveries (or None: until nothing is in "
                       f"flight), not {n!r}")
    return number


def flag(value: Any, where: str) -> bool:
    """A keyword that is True or False."""
    if isinstance(value, bool):
        return value
    if type(value).__name__ == "bool_":  # numpy's bool
        return bool(value)
    raise BadInput(f"{where} is True or False, not {value!r}")


def key(value: Any, where: str) -> Any:
    """A key of the key-value store: it must be hashable (a str, an int, a tuple of those, ...)."""
    try:
        hash(value)
    except TypeError:
        suggestion = ""
        if isinstance(value, list):
            try:
                hash(tuple(value))
                suggestion = f", e.g. {tuple(value)!r} instead of {value!r}"
            except TypeError:
                pass
        raise BadInput(f"{where}: the key {_short(value)} is a {type(value).__name__}, which cannot be a key "
                       f"(keys must be hashable: every node keeps its state in a dict); use a str, an int or a tuple"
                       f"{suggestion}") from None
    except Exception as err:  # a __hash__ of the learner's own that fails another way
        raise BadInput(f"{where}: the key {_short(value)} cannot be hashed ({type(err).__name__}: {err}); use a str, "
                       f"an int or a tuple") from None
    _comparable(value, where, "key")
    return value


def entry(value: Any, where: str, what: str = "entry") -> Any:
    """An entry (or a put's value): it compares with ``==`` to a truth value and can be copied."""
    try:
        hash(value)
    except TypeError:
        pass  # unhashable entries are fine: the ledger finds them by identity and equality
    except Exception as err:
        raise BadInput(f"{where}: the {what} {_short(value)} cannot be hashed ({type(err).__name__}: {err}); use "
                       f"plain values (numbers, strings, tuples, lists, dicts, dataclasses)") from None
    _comparable(value, where, what)
    if not is_immutable_value(type(value)):
        try:
            deep_copy(value, {})
        except Exception as err:
            raise BadInput(f"{where}: the {what} {_short(value)} cannot be copied ({type(err).__name__}: {err}), "
                           f"and the cluster copies its logs (fork, undo); use plain values (numbers, strings, "
                           f"tuples, lists, dicts, dataclasses)") from None
    return value


def _comparable(value: Any, where: str, what: str) -> None:
    try:
        bool(value == value)
    except Exception as err:
        raise BadInput(f"{where}: the {what} {_short(value)} does not compare with == to True or False "
                       f"({type(err).__name__}: {err}); the invariants compare what was decided with what was "
                       f"proposed. Use a tuple or a list (e.g. list(array) for a numpy array)") from None


def groups(given: Iterable[Any]) -> list[list[Any]]:
    """The groups of `partition` as lists (their pids are checked by the cluster)."""
    lists = []
    for group in given:
        if isinstance(group, (str, bytes)) or not hasattr(group, "__iter__"):
            raise BadInput(f"partition() takes one list of pids per group, e.g. partition([1, 2], [3]), not "
                           f"{group!r}")
        members = list(group)
        if not members:
            raise BadInput("partition(): a group with no node in it; give each group at least one pid, e.g. "
                           "partition([1, 2], [3])")
        lists.append(members)
    if not lists:
        raise BadInput("partition() needs the groups, e.g. partition([1, 2], [3]); heal() brings every link back")
    return lists


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = repr(value)
    except Exception:  # a __repr__ that fails: name the type
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit - 1] + "…"
