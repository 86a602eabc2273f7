"""How long each of the lab's buttons takes from its click to the visible tab redrawn (the Python side).

A realistic cluster: 3 and 5 nodes after a few hundred operations (puts, ticks, steps, deliveries,
a crash and recovery of a follower), seeded, so every run measures the same work. For every button
the bench presses it several times (``Lab.press``, which is what a click runs: the `Cluster` call,
then the redraw of the title, badges, reconfiguration strip and visible tab), undoing its effect
between presses where a button cannot be pressed twice (Crash / Recover alternate, Cut is followed
by Heal link, ...), with the untimed set-up steps done by typed calls. It prints the median per
button and size with the Diagram tab visible (the lab opens on it) and with the Logs tab visible.
The issue's goal is at most 100 ms per click (figures only; nothing here asserts on time).

    .venv/bin/python bench/lab.py             # 3 and 5 nodes, 300 operations
    .venv/bin/python bench/lab.py --quick     # 5 nodes only, fewer presses
    .venv/bin/python bench/lab.py --profile run   # cProfile of one button's presses (5 nodes)

`bench/render.py` reports the tabs' draw times for Tick / Deliver all at more sizes.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from omnilab.sim import Cluster  # noqa: E402
from omnilab.sim.trace import Operation  # noqa: E402
from omnilab.view import diagrams  # noqa: E402
from omnilab.widgets import TABS, lab  # noqa: E402

OPERATIONS = 300


def build(nodes: int, operations: int = OPERATIONS) -> Cluster:
    """`nodes` servers after about `operations` operations, ending with messages in flight."""
    cluster = Cluster(list(range(1, nodes + 1)), seed=0)
    cluster.run(ticks=3)
    follower = 1  # the highest pid leads: the lowest is a follower
    k = 0
    while sum(isinstance(item, Operation) for item in cluster.trace) < operations:
        if cluster.leader() is None:
            cluster.run(ticks=3)
        cluster.put(f"k{k % 40}", k)
        cluster.tick()
        cluster.step()
        cluster.step()
        if k % 3 == 0:
            cluster.deliver_all()
        if k == 20:
            cluster.crash(follower)
        if k == 30:
            cluster.recover(follower)
            cluster.run(ticks=2)
        k += 1
    cluster.deliver_all()
    cluster.tick()  # heartbeats in flight: Step, Drop and Duplicate have something to act on
    return cluster


class Press:
    """One button: `setup` (untimed, typed calls on the cluster or widget inputs) before each press."""

    def __init__(self, name: str, inputs: dict | None = None, setup: Callable | None = None,
                 label: str | None = None) -> None:
        self.name, self.inputs, self.setup = name, inputs or {}, setup
        self.label = label or name


def _ensure_in_flight(w) -> None:
    if len(w.cluster.network.in_flight) < 3:
        w.cluster.tick()


def _follower(w) -> int:
    leader = w.cluster.leader()
    return next(p for p in sorted(w.cluster.servers) if p != leader and w.cluster.servers[p].up)


def _up(w, pid: int) -> None:
    if not w.cluster.servers[pid].up:
        w.cluster.recover(pid)


def _down(w, pid: int) -> None:
    if w.cluster.servers[pid].up:
        w.cluster.crash(pid)


def _healed(w) -> None:
    if w.cluster.network.cut_links:
        w.cluster.heal()


def _cut(w) -> None:
    if (1, 2) not in w.cluster.network.cut_links:
        w.cluster.cut(1, 2)


def _led(w) -> None:
    """Healed and with a leader every live node agrees on (a put needs one)."""
    _healed(w)
    for _ in range(5):
        if w.cluster.leader() is not None:
            return
        w.cluster.run(ticks=1)


def _fresh(w, base: Cluster) -> None:
    """A copy of the benchmark cluster, shown by the widget (for presses that change it for good)."""
    w.cluster = base.fork()
    w.refresh()


def presses(base: Cluster) -> list[Press]:
    nodes = sorted(base.servers)
    new = max(nodes) + 1
    keep = nodes[1:] + [new]
    return [
        Press("step", setup=_ensure_in_flight),
        Press("step", label="step (a chosen id)", setup=lambda w: (_ensure_in_flight(w), w.controls.msg_id.__setattr__(
            "value", list(w.cluster.network.in_flight)[1]))),
        Press("drop", setup=_ensure_in_flight),
        Press("duplicate", setup=_ensure_in_flight),
        Press("deliver_all", setup=_ensure_in_flight),
        Press("tick"),
        Press("run", {"ticks": "3"}),
        Press("run", {"ticks": "100"}, label="run (100 ticks)"),
        Press("crash", {"node": 1}, setup=lambda w: _up(w, 1)),
        Press("recover", {"node": 1}, setup=lambda w: _down(w, 1)),
        Press("set_priority", {"node": 2, "priority": "3"}),
        Press("try_become_leader", {"node": 2}),
        Press("cut", {"link_a": 1, "link_b": 2}, setup=_healed),
        Press("heal_link", {"link_a": 1, "link_b": 2}, setup=_cut),
        Press("heal", setup=_cut),
        Press("partition", setup=lambda w: (_healed(w), w.controls.preset.__setattr__(
            "value", w.controls.preset.options[0][1]))),
        Press("put", {"key": "x", "value": "1"}, setup=_led),
        Press("reconfigure", {"nodes": ", ".join(map(str, keep))}, setup=lambda w: (_fresh(w, base), _led(w))),
        Press("trim", {"idx": ""}, setup=lambda w: (_fresh(w, base), _led(w))),
        Press("snapshot", {"idx": ""}, setup=lambda w: (_fresh(w, base), _led(w))),
        Press("undo"),
        Press("replay"),
        Press("refresh"),
    ]


def time_presses(w, press: Press, times: int) -> list[float]:
    figures = []
    for _ in range(times):
        if press.setup is not None:
            press.setup(w)
            w.refresh()  # the set-up's own redraw is not part of the press
        diagrams._render_svg.cache_clear()  # a click makes a state not drawn before: no cached picture
        start = time.perf_counter()
        w.press(press.name, **press.inputs)
        figures.append((time.perf_counter() - start) * 1000)
        if w.last_error is not None:
            raise SystemExit(f"{press.label}: {w.last_error}")
    return figures


def measure(nodes: int, tab: str, times: int) -> dict[str, float]:
    base = build(nodes)
    w = lab(base.fork())
    w.tabs.selected_index = [key for key, _ in TABS].index(tab)
    results = {}
    for press in presses(base):
        w.cluster = base.fork()  # every button starts from the same state
        w.refresh()
        results[press.label] = statistics.median(time_presses(w, press, times))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 nodes only, 3 presses per button")
    parser.add_argument("--times", type=int, default=5, help="presses per button (default 5)")
    parser.add_argument("--profile", metavar="BUTTON", help="profile one button's presses at 5 nodes instead")
    parser.add_argument("--tab", action="append", choices=[key for key, _ in TABS],
                        help="the visible tab (repeatable; default: diagram and logs)")
    args = parser.parse_args(argv)
    if args.profile:
        base = build(5)
        w = lab(base.fork())
        w.tabs.selected_index = [key for key, _ in TABS].index((args.tab or ["diagram"])[0])
        press = next(p for p in presses(base) if p.label == args.profile)
        profiler = cProfile.Profile()
        profiler.enable()
        time_presses(w, press, args.times)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        return 0
    times = 3 if args.quick else args.times
    tabs = args.tab or ["diagram", "logs"]
    columns = [(n, tab) for tab in tabs for n in ((5,) if args.quick else (3, 5))]
    results = {}
    for nodes, tab in columns:
        results[(nodes, tab)] = measure(nodes, tab, times)
    labels = list(next(iter(results.values())))
    print(f"median ms from a press to the visible tab redrawn; {times} presses per button; clusters after "
          f"{OPERATIONS} operations")
    header = " ".join(f"{f'{n} nodes {tab}':>16}" for n, tab in columns)
    print(f"{'button':<22} {header}")
    for label in labels:
        row = " ".join(f"{results[col][label]:>16.1f}" for col in columns)
        slow = " *" if any(results[col][label] > 100 for col in columns) else ""
        print(f"{label:<22} {row}{slow}")
    print("* over the 100 ms goal")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
