"""Named situations, shared by tests, notebooks and exercises: each function returns a ready
`Cluster` whose ``description`` explains, in one paragraph, what happened and what to watch for.

Every scenario is built only from public `Cluster` calls, so its setup is in the trace
(``cluster.trace.script()`` prints it) and ``Cluster.replay`` rebuilds it. Topologies and expected
outcomes follow the partial-connectivity scenarios of the OmniPaxos paper (EuroSys'23) and the seed story
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
    a majority/minority split, the leader isolated, quorum loss (one node still reaches everybody)
    and a chain: the partial-connectivity scenarios of the OmniPaxos paper."""
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
    """Five nodes, leader 5; then only node 3 stays connected to everybody (the paper's quorum-loss scenario)."""
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
    (the paper's constrained-election scenario)."""
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
    """Three nodes, leader 3; the link between the leader and node 1 breaks (the paper's chained scenario)."""
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


def leader_crash_mid_append(seed: int = 0) -> Cluster:
    """Three nodes, leader 3, a=1 decided; x=1 appended at 3, its AcceptDecides in flight, and node 3
    crashes: the fork point for "is x decided?"."""
    cluster = Cluster([1, 2, 3], seed=seed)
    cluster.run(ticks=1)
    cluster.put("a", 1)
    cluster.deliver_all()
    cluster.put("x", 1)
    cluster.crash(3)
    cluster.description = (
        "Leader crash mid-append. Nodes 1, 2, 3 elected node 3 and decided a=1. Then leader 3 appended "
        "x=1: it accepted the entry itself and sent an AcceptDecide to each follower, and crashed while "
        "both were still in flight. Messages already on the wire still arrive at live nodes, so whether "
        "x survives depends on what happens to them next, and the survivors cannot ask node 3. Fork the "
        "world with Cluster.replay(cluster.trace) and try both: drop both AcceptDecides (pending() lists "
        "them), run(ticks=4), and nodes 1 and 2 elect node 2 without x; when node 3 recovers, its "
        "AcceptSync cuts x from its log (accepted by one node of three, x can never have been decided). "
        "Or step the AcceptDecide to node 1 and drop the other: x is now accepted by nodes 1 and 3, a "
        "majority, and the new leader adopts it from node 1's Promise and decides it (the client's put "
        "completes, though the leader it asked is dead).")
    return cluster


def leader_in_minority(seed: int = 0) -> Cluster:
    """Five nodes, leader 5; partition([1, 2, 3], [4, 5]) leaves it in the minority with a put it can
    never decide there."""
    cluster = Cluster([1, 2, 3, 4, 5], seed=seed)
    cluster.run(ticks=1)
    cluster.put("a", 1)
    cluster.deliver_all()
    cluster.partition([1, 2, 3], [4, 5])
    cluster.put("m", 1, at=5)
    cluster.description = (
        "Leader in the minority. Five nodes elected node 5 and decided a=1 everywhere; then the network "
        "split into [1, 2, 3] and [4, 5], and a client put m=1 at leader 5. Its AcceptDecides to nodes 1, "
        "2 and 3 were dropped at send time (cut links); only node 4 can accept m=1, two nodes of five, so "
        "m=1 cannot be decided while the partition lasts. run(ticks=10): nodes 1, 2 and 3 lose their "
        "leader, are quorum-connected, and elect node 3 with a higher ballot; node 5 still believes it "
        "leads, harmlessly, and cluster.leader() is None because the live nodes disagree (name a node "
        "with at=). put('M', 2, at=3) is decided on the majority side. heal() and run(ticks=3): nodes 4 "
        "and 5 promise node 3's ballot, and its AcceptSync replaces their undecided m=1 with the "
        "majority's log; the client's put of m stays pending for ever (history() shows it).")
    return cluster


def compaction(seed: int = 0) -> Cluster:
    """Three nodes, leader 3, a dozen decided puts; node 1 crashed after the first six, and the
    leader snapshotted the whole log: node 1 is resynced by a snapshot when it recovers."""
    cluster = Cluster([1, 2, 3], seed=seed)
    cluster.run(ticks=3)
    keys = "abcd"
    for value in range(6):
        cluster.put(keys[value % 4], value)
    cluster.deliver_all()
    cluster.crash(1)
    for value in range(6, 12):
        cluster.put(keys[value % 4], value)
    cluster.deliver_all()
    cluster.snapshot()
    cluster.deliver_all()
    cluster.description = (
        "Compaction. Nodes 1, 2, 3 (leader 3) decided six puts to the keys a, b, c, d; then node 1 "
        "crashed, and nodes 2 and 3 decided six more (a dozen slots for a state of four keys). Then "
        "cluster.snapshot() at the leader folded its whole decided log into one KVSnapshot "
        "and sent each peer a Snapshot: node 2 snapshotted its own log too; the one to node 1 was "
        "lost at the crashed node. Node 1's storage still holds its six entries. recover(1) and "
        "run(ticks=2): node 1 asks to be prepared again (PrepareReq), promises with decided index 6, and "
        "the leader, whose slots 6 to 11 now exist only inside its snapshot, syncs it with an AcceptSync "
        "carrying a complete snapshot instead of entries (a SnapshotInstalled event in the trace). Node "
        "1's key-value state ends equal to the others', and logs() shows every node's twelve slots as "
        "(snapshot). A trim instead of the snapshot would be refused while node 1 lags: "
        "cluster.trim(12) raises CompactionErr.NotAllDecided (node 1 accepted only 6 slots).")
    return cluster


#: Every scenario by name.
SCENARIOS: dict[str, Callable[..., Cluster]] = {
    "quorum_loss": quorum_loss,
    "constrained_election": constrained_election,
    "chained": chained,
    "replace_crashed_node": replace_crashed_node,
    "leader_crash_mid_append": leader_crash_mid_append,
    "leader_in_minority": leader_in_minority,
    "compaction": compaction,
}
