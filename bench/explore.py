"""Benchmark: the explorer (omnilab.sim.explore) over three bounds, and the mutant catalogue.

Three bounds, after the issue that asked for the explorer (each from three elected nodes, the
"steady" start, whose leader is node 3; the i-th write is ``put("k<i>", i)``):

(a) the OmniPaxos TLA+ model's bound as closely as the simulator allows: 3 servers, 3 client
    proposals, up to 3 leader changes, reliable FIFO links (``fifo=True``: no loss, each link in
    send order), no StopSign, no ticks (no heartbeats, no resends). As in the model, the election
    stub names each next leader itself (``leaders=(1, 2, 3)``: each node in turn, starting from a
    follower) and a client sends its proposal to a leader (``at="leader"``: a node that believes
    itself leader);
(b) the same with one StopSign (a reconfiguration to the same three nodes, made at a leader);
(c) 3 nodes, 2 appends (at any node), 1 crash (and its recovery), with drops (any message may be
    lost) and any delivery order;
(a') bound (a) with writes and leader changes at any node (the search chooses who leads next);
(a'') bound (a') without FIFO: any message in flight may be delivered next (the network reorders).

For each it prints the distinct states, the transitions, the depth reached, whether the bound was
exhausted within the time limit, the total seconds and the distinct states per second. Then the
catalogue: each mutant of omnilab.sim.mutants explored from its named start (mutant, start, the
invariant that broke, the counterexample's length, seconds).

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

TLA_STUB = dict(at="leader", leaders=(1, 2, 3))
BOUNDS = {
    "(a) 3 servers, 3 proposals at the leader, 3 leader changes named by the stub, FIFO links, no StopSign":
        dict(appends=3, fifo=True, **TLA_STUB),
    "(b) the same with one StopSign":
        dict(appends=3, reconfigurations=1, reconfigure_to=[(1, 2, 3)], fifo=True, **TLA_STUB),
    "(c) 3 nodes, 2 appends, 1 crash, with drops (any delivery order)":
        dict(appends=2, crashes=1, drops=DEPTH),
    "(a') bound (a) with writes and leader changes at any node":
        dict(appends=3, elections=3, fifo=True),
    "(a'') bound (a') with any delivery order (no loss)":
        dict(appends=3, elections=3),
}


def main() -> None:
    print(f"explore: each bound for at most {SECONDS:.0f} s (depth <= {DEPTH}, states <= {STATES:,})", flush=True)
    for label, budgets in BOUNDS.items():
        result = explore("steady", depth=DEPTH, max_states=STATES, seconds=SECONDS, **budgets)
        status = "exhausted" if result.exhausted else f"NOT exhausted (stopped by {result.stopped_by})"
        verdict = "no invariant violated" if result.ok else f"VIOLATED {result.violation.name}"
        print(f"{label}\n    {result.distinct:,} distinct states, {result.transitions:,} transitions "
              f"({result.pruned:,} pruned by sleep sets), depth reached {result.depth}; {status}; {verdict}\n"
              f"    {result.seconds:.1f} s, {result.states_per_second:,.0f} distinct states/s", flush=True)
    print("\nthe mutant catalogue (each from its named start, default bounds):")
    print(format_catalogue(catalogue()))


if __name__ == "__main__":
    main()
