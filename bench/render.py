"""How long the lab takes from a control's action to redrawn views.

For 3, 5 and 7 nodes with 10, 100 and 1000 decided log entries, press Tick and Deliver all
alternately (each press is a real `Cluster` call followed by the widget's redraw) and report the
median time per press with each tab as the visible one (the widget only redraws the visible tab),
and the time to draw every tab at once. Diagrams are cached by their DOT source, so a state seen
before costs nothing: the alternation makes most presses new states.

    .venv/bin/python bench/render.py            # all sizes
    .venv/bin/python bench/render.py --quick    # 5 nodes, 100 entries only

Figures only; nothing here asserts on time (see bench/README.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from omnilab.sim import Cluster  # noqa: E402
from omnilab.widgets import TABS, lab  # noqa: E402

PRESSES = 10


def build(nodes: int, entries: int) -> Cluster:
    cluster = Cluster(list(range(1, nodes + 1)), seed=0)
    cluster.run(ticks=3)
    for i in range(entries):
        cluster.put(f"k{i % 50}", i)
    cluster.run(ticks=1)
    return cluster


def press_times(widget, tab: int) -> list[float]:
    widget.tabs.selected_index = tab
    times = []
    for k in range(PRESSES):
        name = "tick" if k % 2 == 0 else "deliver_all"
        start = time.perf_counter()
        widget.press(name)
        times.append(time.perf_counter() - start)
        assert widget.last_error is None, widget.last_error
    return times


def all_tabs_time(widget) -> float:
    widget.press("tick")
    start = time.perf_counter()
    for key, _ in TABS:
        widget.draw(key)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only 5 nodes with 100 entries")
    args = parser.parse_args(argv)
    sizes = [(5, 100)] if args.quick else [(n, e) for n in (3, 5, 7) for e in (10, 100, 1000)]
    titles = [title for _, title in TABS]
    print("median ms from a press (Tick / Deliver all) to the visible tab redrawn; "
          f"{PRESSES} presses per cell; last column: every tab drawn")
    print(f"{'nodes':>5} {'entries':>7} " + " ".join(f"{t:>10}" for t in titles) + f" {'all tabs':>9}")
    for nodes, entries in sizes:
        cluster = build(nodes, entries)
        widget = lab(cluster)
        medians = [statistics.median(press_times(widget, tab)) * 1000 for tab in range(len(TABS))]
        every = all_tabs_time(widget) * 1000
        print(f"{nodes:>5} {entries:>7} " + " ".join(f"{m:>10.1f}" for m in medians) + f" {every:>9.1f}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
