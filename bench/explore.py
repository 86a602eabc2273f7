"""Benchmark: the explorer (omnilab.sim.explore) over five bounds, and the mutant catalogue.

The three bounds of the issue that asked for the explorer, and two wider ones (the i-th write is
``put("k<i>", i)``):

(a) the OmniPaxos TLA+ model's bound as closely as the simulator allows: 3 servers, 3 client
    proposals, 3 leader changes (3 ballots), reliable FIFO links (``fifo=True``: no loss, each link
    in send order), no StopSign, no ticks (no heartbeats, no resends). As in the model, it starts
    with nobody elected and nothing in flight (the "unelected" start), the election stub names each
    next leader itself (``leaders=(1, 2, 3)``) and the client sends each proposal to the leader
    the stub named last (``at="named"``);
(b) the same with one StopSign (a reconfiguration to the same three nodes, made there too);
(c) 3 nodes, 2 appends (at any node), 1 crash (and its recovery), with drops (any message may be
    lost) and any delivery order, from three elected nodes (the "steady" start, leader node 3);
(a') bound (a) with writes and leader changes at any node (the search chooses who leads next and
    where each write goes);
(a'') bound (a') without FIFO: any message in flight may be delivered next (the network reorders).

For each it prints the distinct states, the transitions, the depth reached, whether the bound was
exhausted within the time limit, the total seconds and the distinct states per second. Then (a) and
(b) again on one worker process per core (``explore(..., workers=n)``, omnilab.sim.workers: the same
states, level by level). Then how big (a) is: its distinct states when exhausted at each depth bound
in turn, as far as the time allows (on the workers). Then the catalogue: each mutant of
omnilab.sim.mutants explored from its named start (mutant, start, the invariant that broke, the
counterexample's length, seconds).

Run from the repository root: ``python bench/explore.py [SECONDS]`` (default 120 per bound; ``make
bench`` runs it). Wall clock only here; it asserts nothing about time. The depth bound is large
enough never to bind; a bound not exhausted in the time given reports how far it got.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from omnilab.sim.explore import catalogue, explore, format_catalogue  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 120.0
DEPTH = 1_000
STATES = 5_000_000

TLA_STUB = dict(at="named", leaders=(1, 2, 3))
#: bound (a): a named start and the budgets explored from it.
TLA_BOUND = ("unelected", dict(appends=3, fifo=True, **TLA_STUB))
BOUNDS = {
    "(a) 3 servers, 3 proposals at the leader named last, 3 leader changes named by the stub, FIFO links, "
    "no StopSign, from nobody elected":
        TLA_BOUND,
    "(b) the same with one StopSign":
        ("unelected", dict(appends=3, reconfigurations=1, reconfigure_to=[(1, 2, 3)], fifo=True, **TLA_STUB)),
    "(c) 3 nodes, 2 appends, 1 crash, with drops (any delivery order), from three elected nodes":
        ("steady", dict(appends=2, crashes=1, drops=DEPTH)),
    "(a') bound (a) with writes and leader changes at any node":
        ("unelected", dict(appends=3, elections=3, fifo=True)),
    "(a'') bound (a') with any delivery order (no loss)":
        ("unelected", dict(appends=3, elections=3)),
}


#: worker processes for the rows that use them: one per core.
WORKERS = os.cpu_count() or 1


def _row(label: str, start: str, budgets: dict, workers: int = 1) -> None:
    result = explore(start, depth=DEPTH, max_states=STATES, seconds=SECONDS, workers=workers, **budgets)
    status = "exhausted" if result.exhausted else f"NOT exhausted (stopped by {result.stopped_by})"
    verdict = "no invariant violated" if result.ok else f"VIOLATED {result.violation.name}"
    on = f" on {workers} worker processes" if workers > 1 else ""
    print(f"{label}{on}\n    {result.distinct:,} distinct states, {result.transitions:,} transitions "
          f"({result.pruned:,} pruned by sleep sets), depth reached {result.depth}; {status}; {verdict}\n"
          f"    {result.seconds:.1f} s, {result.states_per_second:,.0f} distinct states/s", flush=True)


def main() -> None:
    print(f"explore: each bound for at most {SECONDS:.0f} s (depth <= {DEPTH}, states <= {STATES:,}); "
          f"{WORKERS} core(s)", flush=True)
    for label, (start, budgets) in BOUNDS.items():
        _row(label, start, budgets)
    if WORKERS > 1:
        for label, (start, budgets) in list(BOUNDS.items())[:2]:
            _row(label, start, budgets, WORKERS)
    start, budgets = TLA_BOUND
    print(f"\nhow big (a) is: exhausted at each depth bound on {WORKERS} worker process(es), until one takes "
          f"more than {SECONDS:.0f} s", flush=True)
    last = 0
    for depth in range(4, DEPTH):
        result = explore(start, depth=depth, max_states=STATES, seconds=SECONDS, workers=WORKERS, **budgets)
        grew = f" ({result.distinct / last:.2f}x the depth before)" if last else ""
        print(f"    depth {depth}: {result.distinct:,} distinct states{grew}, "
              f"{result.seconds:.1f} s{'' if result.exhausted else ', NOT exhausted'}", flush=True)
        if not result.exhausted:
            break
        last = result.distinct
    print("\nthe mutant catalogue (each from its named start, default bounds):")
    print(format_catalogue(catalogue()))


if __name__ == "__main__":
    main()
