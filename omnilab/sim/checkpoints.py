"""Checkpoints: copies of a cluster taken as it goes, so that going back costs a bounded replay.

``Cluster.replay(trace)`` rebuilds a cluster from its first operation: its cost grows with the whole
session. `undo` needs the cluster as it was one operation ago, and a call interrupted by Ctrl-C (or
failing half-way) needs the cluster as it was before the call, or after the rounds it completed
(`omnilab.sim.interrupts`). Both are `rebuild(cluster, upto, then)`: the cluster that
``Cluster.replay(cluster.trace[:upto] + then)`` would give, built from the newest checkpoint at or
before `upto` (a `Cluster.fork` taken after an operation) by performing only the operations recorded
after it. A checkpoint is a copy made by the same replay rules, so the result is the same cluster
(state, trace, ledger, random generator) as the full replay; the tests compare fingerprints and
traces over random sessions.

When to take one, measured on a busy 2-core machine with the workload of ``bench/scale.py``
(10,000 puts; 192,000 trace items at 3 nodes, 634,000 at 9): a checkpoint costs about 0.2 µs per
trace item so far (it copies the servers' logs and the ledger; `omnilab.sim.copying` shares the
immutable values), a full replay about 20 µs per item. A checkpoint is taken after an operation once
the trace has grown by `MIN_GAP` items and by a `SPREAD`-th of its length since the last one, so
their cost is a bounded share of the session's own time whatever its length (measured at SPREAD =
8: 14% on top at 3 nodes, 16% at 9; at 4: 6%), and a rebuild replays at most a SPREAD-th of the
trace plus one copy of the checkpoint (kept for the next undo): undo took 0.7 s at 3 nodes and 1.2 s
at 9 (at SPREAD = 4: 0.65 s and 1.9 s), against 4.6 s and 16 s for the full replay before, and takes
milliseconds in a lab-sized session, where MIN_GAP rules. Memory is bounded: the newest `KEEP`
checkpoints are kept, older ones thinned to one per doubling of distance from the newest.

Checkpoints are kept only for a cluster that goes back: `keep(cluster)` turns them on (the lab does
when it opens a cluster), and so does the first `undo` (which itself replays in full). A scripted run
that never goes back (a fuzz campaign, the explorer, the grader, ``bench/sim.py``) pays nothing for
them: on ``bench/sim.py``'s workload (4,000 puts at 3 nodes) they cost 25% on top.

A checkpoint is a fork (`Cluster.fork`), so it shares what a fork shares: the proposals, and the
ledger's final client operations (`Ledger.__deepcopy__`: nothing changes a write once it is decided
or refused, nor a read once it returned).
"""

from __future__ import annotations

import copy
from typing import Any, Iterable, Optional

#: Trace items a cluster grows by, at least, between two checkpoints: an undo in a lab-sized session
#: replays at most about this many items (about 20 ms), and a checkpoint of one costs a millisecond.
MIN_GAP = 1_000
#: ... and at least this fraction's inverse of its length (a checkpoint per eighth of the trace).
SPREAD = 8
#: The newest checkpoints always kept; older ones are thinned.
KEEP = 3


class Checkpoints:
    """A cluster's checkpoints: ``(trace length, copy)`` pairs, oldest first."""

    __slots__ = ("saved",)

    def __init__(self, saved: Optional[list[tuple[int, Any]]] = None) -> None:
        self.saved: list[tuple[int, Any]] = saved or []

    def last_length(self) -> int:
        return self.saved[-1][0] if self.saved else 0

    def take(self, cluster: Any) -> None:
        self.saved.append((len(cluster.trace), _copy(cluster)))
        self._thin()

    def forget_after(self, length: int) -> None:
        """Drop the checkpoints of trace items beyond `length` (the trace was cut or rewritten there)."""
        while self.saved and self.saved[-1][0] > length:
            self.saved.pop()

    def nearest(self, length: int) -> Optional[tuple[int, Any]]:
        for saved in reversed(self.saved):
            if saved[0] <= length:
                return saved
        return None

    def _thin(self) -> None:
        # Keep the newest KEEP; older ones at least twice as far from the newest as the one after them.
        if len(self.saved) <= KEEP:
            return
        newest = self.saved[-1][0]
        kept = list(self.saved[-KEEP:])
        for saved in reversed(self.saved[:-KEEP]):
            if newest - saved[0] >= 2 * (newest - kept[0][0]):
                kept.insert(0, saved)
        self.saved = kept


def of(cluster: Any) -> Checkpoints:
    """The checkpoints of `cluster` (its ``checkpoints`` attribute, which a fork does not copy);
    from now on `cluster` keeps checkpoints."""
    kept = cluster.checkpoints
    if kept is None:
        kept = cluster.checkpoints = Checkpoints()
    return kept


def keep(cluster: Any) -> None:
    """Keep checkpoints for `cluster` from now on, so that its `undo` replays a bounded stretch."""
    of(cluster)


def kept(cluster: Any) -> Optional[Checkpoints]:
    """The checkpoints of `cluster`, or None if it keeps none."""
    return cluster.checkpoints


def inherit(cluster: Any, fork: Any) -> None:
    """`fork` (a copy of `cluster` in the same state) starts with `cluster`'s checkpoints: they are
    never changed (a rebuild copies the one it starts from), so both may use them."""
    kept = cluster.checkpoints
    if kept is not None and kept.saved:
        fork.checkpoints = Checkpoints(list(kept.saved))


def after_operation(cluster: Any) -> None:
    """Called after every operation that completed: take a checkpoint when one is due."""
    store = cluster.checkpoints
    if store is None:
        return  # this cluster does not go back (see `keep`)
    length = len(cluster.trace)
    gap = length - store.last_length()
    if gap >= MIN_GAP and gap * SPREAD >= length:
        store.take(cluster)


def rebuild(cluster: Any, upto: int, then: Iterable[Any] = ()) -> Any:
    """A new cluster equal to ``Cluster.replay(cluster.trace[:upto] + list(then))`` (see the module
    docstring), built from the newest checkpoint of `cluster` at or before `upto`. `cluster` and its
    checkpoints are not changed."""
    from .cluster import Cluster, replay_operations

    trace = cluster.trace
    kept = cluster.checkpoints
    saved = kept.nearest(upto) if kept is not None else None
    extra = list(then)
    if saved is None:  # a full replay, which keeps checkpoints on its way for the next time
        items = list(trace[:upto]) + extra
        rebuilt = Cluster.replay(items[:1], variant=cluster.variant)
        keep(rebuilt)
        replay_operations(rebuilt, items[1:])
        return rebuilt
    length, checkpoint = saved
    rebuilt = _copy(checkpoint)
    positions = trace.operation_positions()
    ops = [trace[pos] for pos in positions[_first_at_or_after(positions, length):] if pos < upto]
    replay_operations(rebuilt, ops + extra)
    return rebuilt


def restore(cluster: Any, upto: int, then: Iterable[Any] = ()) -> None:
    """Make `cluster` (in place) the cluster ``Cluster.replay(cluster.trace[:upto] + list(then))``
    gives, keeping its ``version`` (which still grows) and ``description``; its checkpoints beyond
    `upto` are dropped."""
    rebuilt = rebuild(cluster, upto, then)
    rebuilt.trace.keep_derived_from(cluster.trace, upto)  # e.g. the space-time diagram's lanes
    rebuilt.description = cluster.description
    version = cluster.version
    kept = of(cluster)
    kept.forget_after(upto)
    made = rebuilt.checkpoints  # those the rebuild took on its way serve this cluster now
    if made is not None:
        last = kept.last_length()
        kept.saved.extend(saved for saved in made.saved if saved[0] > last)
        kept._thin()
    cluster.__dict__.clear()
    cluster.__dict__.update(rebuilt.__dict__)
    cluster.checkpoints = kept
    cluster.version = version + 1


def _first_at_or_after(positions: list[int], length: int) -> int:
    from bisect import bisect_left

    return bisect_left(positions, length)


def _copy(cluster: Any) -> Any:
    """`Cluster.fork`, keeping no checkpoints of its own (see the module docstring)."""
    clone = copy.deepcopy(cluster)
    clone.checkpoints = None  # a checkpoint keeps no checkpoints (older ones would never be freed)
    return clone
