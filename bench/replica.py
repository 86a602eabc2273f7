"""Benchmark: the OmniPaxos replica driven by the deterministic test driver (tests/replica/driver.py).

For 3 and 5 nodes and batch sizes 1 and 64 it appends entries at the leader, one by one, delivering
the network to quiescence after each append ("each send flushes"), and prints:

- decided entries per second (wall clock, `time.perf_counter`; only here, never in a test);
- Sequence Paxos messages per decided entry in the steady state after the election (AcceptDecide,
  Accepted, Decide, ...; BLE heartbeats excluded), next to the protocol's minimum 2*(n-1)/batch
  (one AcceptDecide and one Accepted per follower per batch; the decided index piggy-backs);
- the same total with BLE heartbeats included, at one tick (one BLE round) per TICK_EVERY appends.

Run from the repository root: ``python bench/replica.py`` (or ``make bench``). It prints figures and
asserts nothing about time.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from omnilab.replica import BLEMessage  # noqa: E402
from tests.replica.driver import Cluster  # noqa: E402
from tests.replica.values import Value  # noqa: E402

ENTRIES = 32000  # a multiple of every batch size, so every batch fills
TICK_EVERY = 128


def run(num_nodes: int, batch_size: int) -> dict:
    cluster = Cluster(num_nodes, batch_size=batch_size)
    leader = cluster.elected_leader(1)
    cluster.tick(2)  # settle: every follower synced
    cluster.sent.clear()
    cluster.sent_by_type.clear()
    decided_before = cluster.decided_idx(leader)
    start = time.perf_counter()
    for i in range(ENTRIES):
        cluster.append(leader, Value(i + 1))
        if (i + 1) % TICK_EVERY == 0:
            cluster.tick()
    elapsed = time.perf_counter() - start
    decided = cluster.decided_idx(leader) - decided_before
    assert decided == ENTRIES, f"only {decided} of {ENTRIES} entries were decided"
    assert all(cluster.decided_idx(p) >= ENTRIES - batch_size for p in cluster.pids)
    return {
        "nodes": num_nodes,
        "batch": batch_size,
        "rate": decided / elapsed,
        "sp": cluster.sent["sp"] / decided,
        "all": (cluster.sent["sp"] + cluster.sent["ble"]) / decided,
        "min": 2 * (num_nodes - 1) / batch_size,
        "types": dict(cluster.sent_by_type),
    }


def run_pipelined(num_nodes: int, batch_size: int) -> dict:
    """The steady state of a busy leader: the next batch is already waiting in the leader's outbox
    when the previous batch's Accepted replies arrive, so the new decided index rides on that
    AcceptDecide instead of a Decide. Messages are moved by hand here (leader -> followers -> leader)."""
    cluster = Cluster(num_nodes, batch_size=batch_size)
    leader_pid = cluster.elected_leader(1)
    cluster.tick(2)
    leader = cluster.node(leader_pid)
    decided_before = leader.get_decided_idx()
    messages = 0
    replies: list = []
    start = time.perf_counter()
    for batch in range(ENTRIES // batch_size):
        for i in range(batch_size):
            leader.append(Value(batch * batch_size + i + 1))
        for reply in replies:  # the previous batch's Accepted: decide, piggy-backing on the waiting batch
            leader.handle_incoming(reply)
        replies = []
        for msg in leader.take_outgoing_messages():
            if isinstance(msg, BLEMessage):
                continue
            messages += 1
            follower = cluster.node(msg.receiver)
            follower.handle_incoming(msg)
            for reply in follower.take_outgoing_messages():
                if not isinstance(reply, BLEMessage):
                    messages += 1
                    replies.append(reply)
    for reply in replies:
        leader.handle_incoming(reply)
    cluster.take(leader_pid)
    cluster.deliver()  # the last Decide
    elapsed = time.perf_counter() - start
    decided = leader.get_decided_idx() - decided_before
    assert decided == ENTRIES, f"only {decided} of {ENTRIES} entries were decided"
    return {"nodes": num_nodes, "batch": batch_size, "rate": decided / elapsed, "sp": messages / decided,
            "min": 2 * (num_nodes - 1) / batch_size}


def main() -> None:
    print(f"omnilab replica through tests/replica/driver.py: {ENTRIES} appends at the leader per row,")
    print("network delivered to quiescence after each append. msgs/entry counts Sequence Paxos messages")
    print("sent after the election (BLE heartbeats excluded); 'with HB' adds the heartbeats of one tick")
    print(f"per {TICK_EVERY} appends; minimum = 2*(n-1)/batch (AcceptDecide + Accepted per follower per batch).")
    print()
    header = f"{'nodes':>5} {'batch':>5} {'entries/s':>10} {'msgs/entry':>10} {'minimum':>8} {'with HB':>8}"
    print(header)
    print("-" * len(header))
    rows = []
    for num_nodes in (3, 5):
        for batch_size in (1, 64):
            r = run(num_nodes, batch_size)
            rows.append(r)
            print(f"{r['nodes']:>5} {r['batch']:>5} {r['rate']:>10.0f} {r['sp']:>10.3f} {r['min']:>8.3f} "
                  f"{r['all']:>8.3f}")
    print()
    print("Observed 3*(n-1)/batch: each batch is delivered before the next append, so the decided index")
    print("travels in its own Decide instead of piggy-backing on the next AcceptDecide.")
    print()
    print("Pipelined steady state: the next batch waits in the leader's outbox when the previous batch's")
    print("Accepted replies arrive, so the decided index piggy-backs (BLE excluded).")
    print(header.replace(" with HB", ""))
    for num_nodes in (3, 5):
        for batch_size in (1, 64):
            r = run_pipelined(num_nodes, batch_size)
            print(f"{r['nodes']:>5} {r['batch']:>5} {r['rate']:>10.0f} {r['sp']:>10.3f} {r['min']:>8.3f}")
    print()
    print("Messages sent by type, per row:")
    for r in rows:
        types = ", ".join(f"{k} {v}" for k, v in sorted(r["types"].items()))
        print(f"  n={r['nodes']} batch={r['batch']}: {types}")


if __name__ == "__main__":
    main()
