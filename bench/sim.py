"""Benchmark: the simulator (omnilab.sim.Cluster) against the bare replica driver.

Workload, the same for both (as bench/replica.py): an elected cluster, then ENTRIES key-value
appends at the leader, one by one, delivering the network to quiescence after each, with one tick
(an election round, heartbeats included) every TICK_EVERY appends. It prints, for 3 and 5 nodes:

- messages delivered per second through the simulator (every delivery is an id'd envelope with trace
  events, and every decided slot feeds the key-value store, the ledger and the client history);
- the ratio of simulator time to the bare driver (tests/replica/driver.py) on the same workload
  (the aim: at most 1.5, i.e. the simulator adds at most 50%), with Python's cyclic garbage collector
  on (as users run it) and off, and the seconds the collector took during the simulator run. That is
  most of the difference: every message (with its envelope and its Sent and Delivered events) and every
  decision stays reachable for replay and reading, some 45 tracked objects per put with 3 nodes, and
  the collector's full collections re-scan all of them, while the bare driver lets its messages die
  young. The simulator leaves the collector alone (no gc.disable() or gc.freeze() of its own: those
  are process-wide choices for the caller to make);

and fault-campaign seeds per second at 400 steps (3 nodes, every fault, invariants after every step);
and, for 3 and 5 nodes, how many times per second a cluster can be forked (`Cluster.fork`, a deep
copy) and fingerprinted (`Cluster.fingerprint`), in a state an explorer would meet: elected, FORK_PUTS
puts decided, the next put's messages in flight.

Run from the repository root: ``python bench/sim.py`` (or ``make bench``). Wall clock only here;
it asserts nothing about time.
"""

from __future__ import annotations

import gc
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from omnilab.kv import KeyValue  # noqa: E402
from omnilab.sim import Cluster, Delivered  # noqa: E402
from omnilab.sim.campaigns import run_campaign  # noqa: E402
from tests.replica.driver import Cluster as Driver  # noqa: E402

ENTRIES = 4000
TICK_EVERY = 128
REPEAT = 3  # best of, interleaved (the machine may be busy)
FUZZ_SEEDS = 20
FUZZ_STEPS = 400
FORK_PUTS = 20
FORK_SECONDS = 1.0  # time each of fork and fingerprint this long


class CollectorClock:
    """Seconds spent in the cyclic garbage collector while `running` (a `gc.callbacks` hook)."""

    def __init__(self) -> None:
        self.running = False
        self.seconds = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        elif self.running:
            self.seconds += time.perf_counter() - self._start


COLLECTOR = CollectorClock()
gc.callbacks.append(COLLECTOR)


def simulator(num_nodes: int) -> tuple[float, int, float]:
    cluster = Cluster(num_nodes)
    cluster.run(ticks=3)
    leader = cluster.leader()
    delivered_before = sum(1 for e in cluster.trace if type(e) is Delivered)
    COLLECTOR.seconds, COLLECTOR.running = 0.0, True
    start = time.perf_counter()
    for i in range(ENTRIES):
        cluster.put(f"k{i % 100}", i, at=leader)
        cluster.deliver_all()
        if (i + 1) % TICK_EVERY == 0:
            cluster.run(ticks=1)
    elapsed = time.perf_counter() - start
    COLLECTOR.running = False
    assert cluster.server(leader).omnipaxos.get_decided_idx() >= ENTRIES
    delivered = sum(1 for e in cluster.trace if type(e) is Delivered) - delivered_before
    return elapsed, delivered, COLLECTOR.seconds


def driver(num_nodes: int) -> float:
    cluster = Driver(num_nodes)
    cluster.tick(3)
    leader = cluster.leader_of(1)
    start = time.perf_counter()
    for i in range(ENTRIES):
        cluster.append(leader, KeyValue(f"k{i % 100}", i))
        if (i + 1) % TICK_EVERY == 0:
            cluster.tick()
    elapsed = time.perf_counter() - start
    assert cluster.decided_idx(leader) >= ENTRIES
    return elapsed


def best(num_nodes: int) -> tuple[float, int, float, float]:
    """The fastest simulator run (time, deliveries, collector time) and the fastest driver run."""
    runs = [(simulator(num_nodes), driver(num_nodes)) for _ in range(REPEAT)]
    (sim_time, delivered, collector), _ = min(runs, key=lambda r: r[0][0])
    return sim_time, delivered, collector, min(bare for _, bare in runs)


def explorer_state(num_nodes: int) -> Cluster:
    cluster = Cluster(num_nodes)
    cluster.run(ticks=3)
    for i in range(FORK_PUTS):
        cluster.put(f"k{i}", i)
        cluster.deliver_all()
    cluster.put("next", 0)
    cluster.tick()
    return cluster


def per_second(call) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < FORK_SECONDS:
        call()
        done += 1
    return done / (time.perf_counter() - start)


def main() -> None:
    print(f"omnilab.sim vs tests/replica/driver.py: {ENTRIES} puts at the leader, quiescence after each, "
          f"a tick every {TICK_EVERY}; best of {REPEAT}")
    print(f"{'nodes':>5} {'delivered msgs/s':>17} {'sim s':>7} {'(in gc)':>8} {'driver s':>9} {'sim/driver':>11} "
          f"{'sim/driver (gc off)':>20}")
    for num_nodes in (3, 5):
        driver(num_nodes)  # warm up
        sim_time, delivered, collector, bare_time = best(num_nodes)
        gc.disable()
        try:
            sim_nogc, _, _, bare_nogc = best(num_nodes)
        finally:
            gc.enable()
        print(f"{num_nodes:>5} {delivered / sim_time:>17,.0f} {sim_time:>7.2f} {collector:>8.2f} {bare_time:>9.2f} "
              f"{sim_time / bare_time:>11.2f} {sim_nogc / bare_nogc:>20.2f}")
    start = time.perf_counter()
    results = run_campaign(FUZZ_SEEDS, FUZZ_STEPS, 3)
    elapsed = time.perf_counter() - start
    failures = sum(not r.ok for r in results)
    print(f"fuzz: {FUZZ_SEEDS} seeds x {FUZZ_STEPS} steps (3 nodes, all faults): "
          f"{FUZZ_SEEDS / elapsed:.1f} seeds/s, {failures} violations")
    for num_nodes in (3, 5):
        cluster = explorer_state(num_nodes)
        print(f"{num_nodes} nodes, {FORK_PUTS} puts decided, {len(cluster.network)} messages in flight: "
              f"{per_second(cluster.fork):,.0f} forks/s, {per_second(cluster.fingerprint):,.0f} fingerprints/s")


if __name__ == "__main__":
    main()
