"""Named situations, shared by tests, notebooks and exercises: each function returns a ready
`Cluster` whose ``description`` explains, in one paragraph, what happened and what to watch for.

Every scenario is built only from public `Cluster` calls, so its setup is in the trace
(``cluster.trace.script()`` prints it) and ``Cluster.replay`` rebuilds it. Topologies and expected
outcomes follow PROTOCOL.md §7 (partial connectivity, from the EuroSys'23 paper) and the seed story
of the OmniPaxos reconfiguration documentation.
"""

from __future__ import annotations

from itertools import combinations
from typing import Callable

from .cluster import Cluster


def star_links(hub: int, pids: list[int]) -> list[tuple[int, int]]:
    """The links of a star around `hub`: the quorum-loss shape (only `hub` reaches everybody)."""
    return [(hub, p) for p in pids if p != hub]


def chain_links(pids: list[int]) -> list[tuple[int, int]]:
    """The links of a chain through `pids` in order: the chained shape."""
    return list(zip(pids, pids[1:]))


def cuts_except(pids: list[int], links: list[tuple[int, int]]) -> list[tuple[str, tuple]]:
    """The calls that cut every link between `pids` (both directions) except the undirected `links`."""
    up = {frozenset(link) for link in links}
    return [("cut", (a, b)) for a, b in combinations(sorted(pids), 2) if frozenset((a, b)) not in up]


def network_presets(pids: list[int], leader: int | None = None) -> list[tuple[str, list]]:
    """The topologies of this module, for any set of nodes: ``(name, calls)`` pairs, each call a
    ``(Cluster method name, args)`` pair to apply in order. The lab widget offers them as presets:
    a majority/minority split, the leader isolated, quorum loss (one node still reaches everybody,
    §7.1) and a chain (§7.3)."""
    pids = sorted(pids)
    if len(pids) < 2:
        return []
    presets: list[tuple[str, list]] = []
    majority = len(pids) // 2 + 1
    left, right = pids[:majority], pids[majority:]
    if right:
        presets.append((f"split: {left} | {right}", [("partition", (left, right))]))
    if leader is not None and leader in pids:
        presets.append((f"isolate the leader {leader}", [("partition", ([leader], [p for p in pids if p != leader]))]))
    if len(pids) >= 3:
        hub = pids[len(pids) // 2]
        presets.append((f"quorum loss: only {hub} reaches all",
                        [("heal", ())] + cuts_except(pids, star_links(hub, pids))))
        presets.append((f"chained: {' - '.join(map(str, pids))}",
                        [("heal", ())] + cuts_except(pids, chain_links(pids))))
    return presets


def _keep_only_links(cluster: Cluster, links: list[tuple[int, int]]) -> None:
    """Cut every link (both directions) except the undirected `links`."""
    for method, args in cuts_except(cluster.pids, links):
        getattr(cluster, method)(*args)


def quorum_loss(seed: int = 0) -> Cluster:
    """Five nodes, leader 5; then only node 3 stays connected to everybody (PROTOCOL.md §7.1)."""
    cluster = Cluster([1, 2, 3, 4, 5], seed=seed)
    cluster.run(ticks=3)
    cluster.put("x", 1)
    cluster.run(ticks=1)
    _keep_only_links(cluster, star_links(3, [1, 2, 3, 4, 5]))
    cluster.description = (
        "Quorum loss. Five nodes elected node 5 and decided x=1. Then the network failed: only node 3 "
        "still reaches everybody (links 3-1, 3-2, 3-4, 3-5); every other link is cut. Leader 5 can reach "
        "one follower, so it has no quorum; nodes 1, 2 and 4 lose their leader but are not "
        "quorum-connected themselves. In Raft or Multi-Paxos node 3 still hears the old leader and never "
        "starts an election, so nothing progresses. In OmniPaxos node 3 sees that every neighbour is "
        "unhappy and that it is quorum-connected, so it takes over: run(ticks=6) and node 3 leads on all "
        "five nodes; a put anywhere is decided everywhere, and the ballot stays put afterwards.")
    return cluster


def constrained_election(seed: int = 0) -> Cluster:
    """Five nodes; the only quorum-connected node (3) has an outdated log and the leader is gone
    (PROTOCOL.md §7.2)."""
    cluster = Cluster([1, 2, 3, 4, 5], seed=seed)
    cluster.run(ticks=3)
    for other in (1, 2, 4, 5):
        cluster.cut(3, other)
    for i in range(3):
        cluster.put(f"k{i}", i)
    cluster.run(ticks=2)
    cluster.crash(5)
    cluster.heal()
    _keep_only_links(cluster, star_links(3, [1, 2, 3, 4, 5]))
    cluster.description = (
        "Constrained election. Node 3 was cut off while leader 5 decided k0, k1 and k2 with nodes 1, 2 "
        "and 4, so node 3's log is behind. Then leader 5 crashed and the network changed: node 3 is now "
        "the only node connected to the others (links 3-1, 3-2, 3-4). Raft would refuse to elect node 3 "
        "(its log is not up to date) and nodes 1, 2, 4 cannot form a quorum among themselves: stuck. "
        "OmniPaxos's leader election ignores logs: within three ticks node 3 takes over, and the Promises "
        "of 1, 2 and 4 bring it the entries it missed before it starts accepting. run(ticks=4), then "
        "logs(): node 3 holds every decided entry, and new puts are decided on 1, 2, 3 and 4.")
    return cluster


def chained(seed: int = 0) -> Cluster:
    """Three nodes, leader 3; the link between the leader and node 1 breaks (PROTOCOL.md §7.3)."""
    cluster = Cluster([1, 2, 3], seed=seed)
    cluster.run(ticks=3)
    cluster.cut(1, 3)
    cluster.description = (
        "Chained. Three nodes elected node 3; then the link between node 3 and node 1 broke, so the "
        "nodes form a chain 1 - 2 - 3. In Raft without PreVote, node 1 times out, gets elected through "
        "node 2 and deposes node 3, which then does the same: leadership ping-pongs and progress stalls. "
        "In OmniPaxos node 1 is unhappy, but its only neighbour (node 2) hears a happy leader, so node 1 "
        "never takes over, and node 3 still reaches a quorum (itself and 2). run(ticks=10): the leader "
        "stays 3 with an unchanged ballot; puts are decided on 2 and 3 while node 1's log lags until "
        "heal(1, 3) and the next put.")
    return cluster


def replace_crashed_node(seed: int = 0) -> Cluster:
    """The seed story: node 3 crashes; reconfigure to replace it with node 4."""
    cluster = Cluster([1, 2, 3], seed=seed)
    cluster.run(ticks=3)
    cluster.put("a", 1)
    cluster.put("b", 2)
    cluster.run(ticks=1)
    cluster.crash(3)
    cluster.run(ticks=4)
    cluster.description = (
        "Replace a crashed node. Nodes 1, 2, 3 decided a=1 and b=2 with node 3 as leader; then node 3 "
        "crashed, and nodes 1 and 2 elected node 2. Two of three nodes still make progress, but one more "
        "crash would stop the cluster, so replace node 3: cluster.reconfigure([1, 2, 4]) proposes a "
        "StopSign; once it is decided, nodes 1 and 2 start their configuration-2 instances, and they send "
        "the new node 4 a StartInstance and a StateTransfer (watch them in pending()). run(ticks=3): "
        "node 4 holds a=1 and b=2 (server(4).kv), configuration 2 elects a leader, and new puts go there.")
    return cluster


#: Every scenario by name.
SCENARIOS: dict[str, Callable[..., Cluster]] = {
    "quorum_loss": quorum_loss,
    "constrained_election": constrained_election,
    "chained": chained,
    "replace_crashed_node": replace_crashed_node,
}
