"""The explorer on several processes: `explore(..., workers=n)`.

A breadth-first search level by level, the levels' states shared out among `n` worker processes
forked from this one, and merged here so that the result is the one a single process finds:

* **Levels.** The states at depth d are numbered 0, 1, 2, ... in the order a one-process search
  (`omnilab.sim.explore` without its reduction) meets them: by the position of the state they were
  first reached from, then by the choice's place among that state's choices. Each worker expands
  the states it holds, in that order, and reports every successor it has not seen as
  ``(key, parent position, choice index, violated?)``. Here the reports are merged: a state met by
  two workers in the same level goes to the one with the smaller (position, choice), exactly the
  parent a one-process search records, and the level's new states are numbered in that order. So
  the distinct states, each state's depth and parent, and the shortest counterexample are those of
  one process; the same bounds give the same result on any number of workers (the tests compare).
* **No states move.** A worker keeps the clusters it built; the one that built a state's winning
  copy expands it next level, and the other drops its copy. Between levels only keys (64-bit ints)
  travel: to each worker the positions of its states and the keys the others found, so that it
  knows every state seen so far (`Successors` with ``portable=True``: keys that do not depend on a
  process's own numbering). A state two workers meet in one level is built by both (the waste of
  not sharing a table while a level runs).
* **Start.** The first levels, until there are enough states to share out (`SPLIT`), are expanded
  here; the workers are then forked (copy on write: nothing is pickled) and take every n-th state.
* **What is not used.** The sleep sets (`explore`'s reduction) prune transitions, never states, and
  they would need a table shared by every worker; the search runs without them, with the same
  states. The time bound is read by each worker between states; a search stopped by it, or by
  ``max_states``, reports the states merged so far.

Needs the ``fork`` start method (Linux; not Windows, and on macOS only where forking is safe).
"""

from __future__ import annotations

import multiprocessing
import os
import time
import traceback
from typing import Any, Optional

from .errors import BadInput, SimulationError
from .memo import Successors

#: Expand levels here until the frontier holds this many states per worker, then fork.
SPLIT = 64
#: How often (in states expanded) a worker publishes how many new states it found, for the progress bar.
_TICK = 200


class _Expander:
    """One process's part of the search: the clusters of the states it holds, the keys of every state
    seen so far, and the parent of each state it won (for the counterexample)."""

    def __init__(self, search: Any, start: Any) -> None:
        from .cluster import RECORDED_REFUSALS

        self.search, self.bounds, self.budget = search, search.bounds, search.budget
        self.successors = Successors(start, RECORDED_REFUSALS, self.bounds.fifo, portable=True)
        start.log_shapes = {}  # as in `_Search.run`: its replicas never change
        self.seen: set[int] = set()
        #: key -> (cluster, budgets used) of the states of the level to expand next.
        self.frontier: dict[int, tuple] = {}
        #: key -> (cluster, used, parent key, choice) of the successors found in the level being expanded.
        self.found: dict[int, tuple] = {}
        #: key -> (parent key, choice) of every state this process won.
        self.parents: dict[int, tuple] = {}
        self.progress: Any = None  # a shared counter (multiprocessing.Value) in a worker

    def root(self, start: Any) -> int:
        key = self.successors.key(start, (0,) * len(self.budget))
        self.seen.add(key)
        self.frontier[key] = (start, (0,) * len(self.budget))
        self.parents[key] = (None, None)
        return key

    def expand(self, order: list, deadline: float) -> tuple[list, int, int, bool]:
        """Expand the states `order` names ((position, key), in position order). Returns the new
        successors as (key, position, choice index, violated?), the states expanded, the
        transitions made and whether the deadline stopped it."""
        from .explore import _SLOT, _apply, _choices

        bounds, budget, successors = self.bounds, self.budget, self.successors
        interner = successors.interner
        build, predict, state_key = successors.build, successors.predict, successors.key
        message, flight_key = interner.message, interner.flight_key
        seen, found, verify = self.seen, self.found, self.search.verify
        ids: dict[int, int] = {}

        def find(cluster: Any, number: int) -> int:
            envelope = ids.get(number)
            if envelope is None:
                raise SimulationError(f"explore: message number {number} is not in flight")
            return envelope

        def perform(cluster: Any, choice: tuple) -> None:
            _apply(cluster, choice, find)

        new: list[tuple] = []
        explored = transitions = 0
        for position, key in order:
            if time.perf_counter() > deadline:
                return new, explored, transitions, True
            cluster, used = self.frontier.pop(key)
            explored += 1
            numbers = [message(env) for env in cluster.network.in_flight.values()]
            servers_now = successors.servers(cluster)
            messages_now = flight_key(numbers.copy(), bounds.fifo)
            ids.clear()
            for index, choice in enumerate(_choices(cluster, used, bounds, budget, interner, ids, numbers)):
                slot = _SLOT.get(choice[0])
                child_used = used if slot is None else used[:slot] + (used[slot] + 1,) + used[slot + 1:]
                predicted = predict(cluster, servers_now, messages_now, choice, child_used)
                if predicted is not None and predicted in seen and not verify:
                    transitions += 1
                    continue
                try:
                    child = build(cluster, choice, perform)
                except BadInput:
                    continue  # not enabled here after all
                child_key = state_key(child, child_used)
                if predicted is not None and predicted != child_key:
                    raise SimulationError(f"explore: the memo predicted another state after {choice!r} "
                                          "than the cluster reached (omnilab/sim/memo.py)")
                transitions += 1
                if child_key in seen:
                    continue
                seen.add(child_key)
                found[child_key] = (child, child_used, key, choice)
                new.append((child_key, position, index, self.search._violated(child) is not None))
            if self.progress is not None and explored % _TICK == 0:
                self.progress.value = len(new)
        return new, explored, transitions, False

    def adopt(self, mine: list, others: list) -> None:
        """The merge's answer: `mine`, the keys of the new states this process won (it expands them
        next), and `others`, the keys the other processes won."""
        found, interner = self.found, self.successors.interner
        for key in mine:
            child, used, parent, choice = found[key]
            self.frontier[key] = (child, used)
            self.parents[key] = (parent, _public(choice, interner))
        self.found = {}
        self.seen.update(others)

    def parent(self, key: int) -> tuple:
        return self.parents[key]

    def verdict(self, key: int) -> Any:
        cluster, _ = self.frontier[key]
        return self.search._violated(cluster)


def _public(choice: tuple, interner: Any) -> tuple:
    from .explore import _public as public

    return public(choice, interner)


def _serve(expander: _Expander, connection: Any) -> None:
    """A worker's loop: run each command the coordinator sends, answer, until "stop"."""
    while True:
        command, *args = connection.recv()
        if command == "stop":
            return
        try:
            answer = getattr(expander, command)(*args)
        except BaseException as err:  # the coordinator raises it; the worker stays to be stopped
            connection.send(("error", f"{type(err).__name__}: {err}\n{traceback.format_exc()}"))
        else:
            connection.send(("ok", answer))


class _Remote:
    """The coordinator's handle on one worker process."""

    def __init__(self, expander: _Expander, context: Any) -> None:
        self.progress = context.Value("q", 0, lock=False)
        self.connection, theirs = context.Pipe()
        expander.progress = self.progress
        self.process = context.Process(target=_run_worker, args=(expander, theirs), daemon=True)
        self.process.start()
        theirs.close()
        expander.progress = None

    def send(self, command: str, *args: Any) -> None:
        self.connection.send((command, *args))

    def answer(self) -> Any:
        status, value = self.connection.recv()
        if status == "error":
            raise SimulationError(f"explore: a worker failed: {value}")
        return value

    def call(self, command: str, *args: Any) -> Any:
        self.send(command, *args)
        return self.answer()

    def stop(self) -> None:
        try:
            self.connection.send(("stop",))
        except (OSError, ValueError):
            pass
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()


def _run_worker(expander: _Expander, connection: Any) -> None:
    _serve(expander, connection)
    connection.close()
    os._exit(0)  # no atexit handlers, no flushing of the parent's buffers a second time


def run(search: Any, count: int) -> Any:
    """The search `search` (an `omnilab.sim.explore._Search`) on `count` worker processes; returns
    its `ExploreResult` (see the module docstring)."""
    from .explore import ExploreResult, _progress_bar, _update_bar

    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        raise BadInput("explore: workers > 1 needs the fork start method, which this platform lacks; "
                       "use workers=1") from None
    bounds = search.bounds
    variant = search.root.variant
    result = ExploreResult(search.name, variant.name, bounds, prefix_ops=search.prefix_ops, workers=count,
                           _variant_object=variant)
    began = time.perf_counter()
    deadline = began + bounds.seconds
    start = search.root.fork()
    local = _Expander(search, start)
    key0 = local.root(start)
    #: key -> the worker that holds its parent pointer (-1: this process).
    owner: dict[int, int] = {key0: -1}
    order: list[tuple[int, int]] = [(0, key0)]  # the next level: (position, key), with its holder
    holders: list[int] = [-1]
    remotes: list[_Remote] = []
    bar = _progress_bar() if search.progress else None
    found: Optional[int] = None
    stopped = ""
    explored = transitions = 0
    depth = max_depth = 0
    try:
        if search._violated(start) is not None:
            found, stopped = key0, "violation"
        while not stopped:
            if not order:
                stopped = "exhausted"
                break
            if depth >= bounds.depth:
                stopped = "exhausted"  # the last level is at the depth bound: nothing to expand
                break
            if not remotes and len(order) >= SPLIT * count:
                remotes = _fork(local, order, count, context)
                holders = [position % count for position, _ in order]
            reports: list[list] = []
            timed_out = False
            if remotes:
                for w, remote in enumerate(remotes):
                    remote.progress.value = 0
                    remote.send("expand", [(p, k) for (p, k), h in zip(order, holders) if h == w], deadline)
                answers = _gather(remotes, bar, len(owner), max_depth, began)
                for w, (new, done, moved, late) in enumerate(answers):
                    reports.append([(k, p, i, bad, w) for k, p, i, bad in new])
                    explored, transitions, timed_out = explored + done, transitions + moved, timed_out or late
            else:
                new, done, moved, late = local.expand(order, deadline)
                reports.append([(k, p, i, bad, -1) for k, p, i, bad in new])
                explored, transitions, timed_out = explored + done, transitions + moved, late
            # Merge: each new key to its first discovery in one-process order.
            best: dict[int, tuple] = {}
            for report in reports:
                for key, position, index, bad, holder in report:
                    mine = best.get(key)
                    if mine is None or (position, index) < mine[:2]:
                        best[key] = (position, index, bad, holder)
            ranked = sorted(best.items(), key=lambda item: item[1][:2])
            won: list[tuple[int, int]] = []
            for key, (_, _, bad, holder) in ranked:
                owner[key] = holder
                won.append((key, holder))
                if bad:
                    found, stopped = key, "violation"
                    break
                if len(owner) >= bounds.max_states:
                    stopped = "states"
                    break
            if won:
                max_depth = depth + 1
            depth += 1
            if timed_out and not stopped:
                stopped = "seconds"
            order = [(position, key) for position, (key, _) in enumerate(won)]
            holders = [holder for _, holder in won]
            _adopt(local, remotes, won)
            if bar is not None:
                _update_bar(bar, len(owner), max_depth, time.perf_counter() - began)
            if not stopped and time.perf_counter() > deadline:
                stopped = "seconds"
        result.seconds = time.perf_counter() - began
        result.explored, result.transitions, result.pruned = explored, transitions, 0
        result.distinct, result.depth = len(owner), max_depth
        result.stopped_by = stopped
        result.exhausted = stopped == "exhausted"
        if found is not None:
            path = []
            key = found
            verdict = _ask(local, remotes, owner[key], "verdict", key)
            while True:
                parent, choice = _ask(local, remotes, owner[key], "parent", key)
                if parent is None:
                    break
                path.append(choice)
                key = parent
            path.reverse()
            result.choices = tuple(path)
            result.counterexample, result.violation = search._rebuild(path, verdict)
    finally:
        for remote in remotes:
            remote.stop()
        if bar is not None:
            _update_bar(bar, len(owner), max_depth, time.perf_counter() - began)
            bar.close()
    return result


def _fork(local: _Expander, order: list, count: int, context: Any) -> list[_Remote]:
    """Fork `count` workers from `local`; worker w keeps every count-th state of `order`."""
    remotes = []
    for w in range(count):
        # The child inherits `local` as it is now; it drops the states that are not its share.
        share = {key for position, key in order if position % count == w}
        frontier = local.frontier
        local.frontier = {key: state for key, state in frontier.items() if key in share}
        remotes.append(_Remote(local, context))
        local.frontier = frontier
    local.frontier = {}
    return remotes


def _gather(remotes: list[_Remote], bar: Any, distinct: int, depth: int, began: float) -> list:
    """Every worker's answer to "expand", in worker order, updating the progress bar while they work."""
    from multiprocessing.connection import wait

    from .explore import _update_bar

    pending = {remote.connection: w for w, remote in enumerate(remotes)}
    answers: list[Any] = [None] * len(remotes)
    while pending:
        for connection in wait(list(pending), timeout=0.5):
            w = pending.pop(connection)
            answers[w] = remotes[w].answer()
        if bar is not None and pending:  # about: a state two workers found is counted twice here
            found = sum(remote.progress.value for remote in remotes)
            _update_bar(bar, distinct + found, depth + 1, time.perf_counter() - began)
    return answers


def _adopt(local: _Expander, remotes: list[_Remote], won: list[tuple[int, int]]) -> None:
    """Tell each worker the states it won and the keys the others won."""
    if not remotes:
        local.adopt([key for key, _ in won], [])
        return
    for w, remote in enumerate(remotes):
        remote.send("adopt", [key for key, holder in won if holder == w], [key for key, holder in won if holder != w])
    for remote in remotes:
        remote.answer()


def _ask(local: _Expander, remotes: list[_Remote], holder: int, command: str, key: int) -> Any:
    if holder < 0:
        return getattr(local, command)(key)
    return remotes[holder].call(command, key)
