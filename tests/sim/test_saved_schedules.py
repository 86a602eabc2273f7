"""Schedules the fuzzer found, saved as the Cluster calls they are, replayed as regression tests.

``tests/sim/data/seed30970_sim.calls``: ``omnilab fuzz --seeds 1 --first-seed 30970 --steps 1000``
with the campaign generator as it was before the delay fault was added (a seed means another
schedule now), followed by that campaign's settle-and-probe calls. It ended with new node 4 of
configuration 2 stuck at decided 74 (accepted 78) while the leader and node 3 reached 80: the leader
counted node 4 as not promised and node 4, in Follower/Accept with the right promise, never asked
again (issue 8, fault 5; the fix is in the replica).
"""

from __future__ import annotations

from pathlib import Path

from omnilab import CompactionErr, ProposeErr
from omnilab.sim import Cluster

DATA = Path(__file__).parent / "data"


def replay_calls(path: Path) -> Cluster:
    """Run the calls in `path` (one per line, ``cluster = Cluster(...)`` first; ``#`` lines are
    comments). A call the cluster refuses is skipped, as the campaign that drew it skipped it."""
    lines = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    namespace = {"Cluster": Cluster}
    exec(lines[0], namespace)
    for line in lines[1:]:
        try:
            exec(line, namespace)
        except (ProposeErr, CompactionErr):
            pass
    return namespace["cluster"]


def test_seed_30970_new_node_4_catches_up():
    cluster = replay_calls(DATA / "seed30970_sim.calls")
    assert cluster.config_id == 2 and 4 in cluster.servers
    verdict = cluster.check_progress(ticks=100)
    assert verdict.ok, verdict.message
    cluster.check_progress(ticks=100, in_place=True)
    leader = cluster.server(cluster.leader()).omnipaxos.get_decided_idx()
    assert cluster.server(4).omnipaxos.get_decided_idx() == leader
    assert all(cluster.check()), [v for v in cluster.check() if not v.ok]
