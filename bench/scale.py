"""Benchmark: a long session at 3, 7 and 9 nodes (PUTS puts), and what undo and the views cost then.

Workload per node count, run in a fresh Python process each (so the peak memory is that run's): a
cluster elected with ``run(ticks=3)``, then PUTS times ``put(f"k{i % 100}", i, at=leader)`` followed
by ``deliver_all()``, with ``run(ticks=1)`` every TICK_EVERY puts (heartbeats, as a learner's session
has). Then, once each on the long cluster:

- ``Cluster.replay(cluster.trace)``: rebuilding the whole session;
- ``undo()``: going back one operation (the lab's Undo button), on a fork of the long cluster (a
  fork starts with the cluster's checkpoints), then a second ``undo()`` right after it (pressing the
  button twice);
- the views: ``logs()``, ``pending()``, ``history()``, ``view.events(cluster)`` (the last 20 items),
  ``view.events(cluster, last=40, heartbeats=False)`` (the lab's Events tab), ``view.events(cluster,
  last=None)`` (every item, a table as long as the trace) and the space-time diagram's Graphviz source
  (``view.spacetime(cluster).source``, the lab's window), drawn first on the long cluster, then again
  after an ``undo()`` (what the lab draws after Undo), and on a replayed copy (a trace the view has not
  met: what the lab draws after Replay).

Printed as one table: puts/s, peak resident memory (``resource.getrusage``'s ``ru_maxrss`` of the
run's process), the trace length, and seconds for each of the above. Run from the repository root:
``python bench/scale.py`` (``--puts N`` for a shorter run). Wall clock only; it asserts nothing about
time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

PUTS = 10_000
TICK_EVERY = 128
NODES = (3, 7, 9)


def _timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def measure(num_nodes: int, puts: int) -> dict:
    """One session at `num_nodes` nodes, measured (runs in the current process)."""
    from omnilab import view
    from omnilab.sim import Cluster, checkpoints

    cluster = Cluster(num_nodes)
    checkpoints.keep(cluster)  # as the lab does: undo replays from the newest checkpoint
    cluster.run(ticks=3)
    leader = cluster.leader()
    start = time.perf_counter()
    for i in range(puts):
        cluster.put(f"k{i % 100}", i, at=leader)
        cluster.deliver_all()
        if (i + 1) % TICK_EVERY == 0:
            cluster.run(ticks=1)
    put_seconds = time.perf_counter() - start
    figures = {"nodes": num_nodes, "puts/s": puts / put_seconds, "trace": len(cluster.trace)}
    figures["replay s"] = _timed(lambda: Cluster.replay(cluster.trace))
    figures["spacetime s"] = _timed(lambda: view.spacetime(cluster).source)
    figures["spacetime again s"] = _timed(lambda: view.spacetime(cluster).source)
    copy = cluster.fork()  # undone here; the views read the long cluster
    figures["undo s"] = _timed(copy.undo)
    figures["undo again s"] = _timed(copy.undo)
    figures["spacetime undone s"] = _timed(lambda: view.spacetime(copy).source)
    figures["logs s"] = _timed(cluster.logs)
    figures["pending s"] = _timed(cluster.pending)
    figures["history s"] = _timed(cluster.history)
    figures["events s"] = _timed(lambda: view.events(cluster))
    figures["events tab s"] = _timed(lambda: view.events(cluster, last=40, heartbeats=False))
    figures["events all s"] = _timed(lambda: view.events(cluster, last=None))
    fresh = Cluster.replay(cluster.trace)
    figures["spacetime fresh s"] = _timed(lambda: view.spacetime(fresh).source)
    figures["peak MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


COLUMNS = ["nodes", "puts/s", "peak MB", "trace", "replay s", "undo s", "undo again s", "logs s", "pending s",
           "history s", "events s", "events tab s", "events all s", "spacetime s", "spacetime again s",
           "spacetime undone s", "spacetime fresh s"]


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if value < 100 else f"{value:.0f}"
    return str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--puts", type=int, default=PUTS)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one node count, print JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.puts)))
        return
    print(f"{args.puts} puts at the leader, deliver_all() after each, run(ticks=1) every {TICK_EVERY}; "
          "then replay, undo and the views once each (seconds)")
    rows = []
    for num_nodes in NODES:
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", str(num_nodes), "--puts",
                               str(args.puts)], capture_output=True, text=True, check=True, cwd=ROOT)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    widths = [max(len(c), 8) for c in COLUMNS]
    print("  ".join(c.rjust(w) for c, w in zip(COLUMNS, widths)))
    for row in rows:
        print("  ".join(_cell(row[c]).rjust(w) for c, w in zip(COLUMNS, widths)))


if __name__ == "__main__":
    main()
