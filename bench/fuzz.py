"""Benchmark: the fault campaigns of ``omnilab fuzz`` at their default settings.

For 3 and 5 nodes it runs the seeds ``omnilab fuzz`` runs by default (100 seeds of 100 random
operations, every fault, every invariant after every operation, `Cluster.check_progress` at the end,
failing seeds shrunk) and prints one line per node count: seeds, steps, wall-clock seconds and the
number of seeds that violated an invariant; then one line per failing seed: the invariant, the
shrunk schedule's length and the verdict's message.

Run from the repository root: ``python bench/fuzz.py`` (``--seeds N --steps N --first-seed N
--no-shrink`` to change the campaign). Wall clock only here; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from omnilab.sim.campaigns import FAULTS, run_campaign  # noqa: E402

#: ``omnilab fuzz``'s defaults (omnilab/cli.py).
DEFAULT_SEEDS = 100
DEFAULT_STEPS = 100


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    parser.add_argument("--nodes", type=int, nargs="+", default=[3, 5])
    parser.add_argument("--no-shrink", action="store_true")
    args = parser.parse_args(argv)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print(f"faults: {', '.join(FAULTS)}; shrinking {'off' if args.no_shrink else 'on'}")
    for nodes in args.nodes:
        start = time.perf_counter()
        results = run_campaign(seeds, args.steps, nodes, FAULTS, shrink_failures=not args.no_shrink)
        seconds = time.perf_counter() - start
        failed = [r for r in results if not r.ok]
        print(f"{nodes} nodes: {len(results)} seeds x {args.steps} steps in {seconds:.1f} s "
              f"({len(results) / seconds:.1f} seeds/s), {len(failed)} violations; "
              f"{sum(r.reconfigured for r in results)} seeds reconfigured, "
              f"{sum(r.decided for r in results) / len(results):.1f} slots decided per seed")
        for r in failed:
            shrunk = f"shrunk to {r.shrunk_ops} ops" if r.shrunk_ops is not None else "not shrunk"
            print(f"  seed {r.seed}: {r.violation} ({r.ops} ops, {shrunk}): {r.message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
