"""Exercise 2, Ballot Leader Election's round end: adopt the leader, happiness, quorum-connected takeover.

At the end of every heartbeat round, `BallotLeaderElection.hb_timeout` calls three methods, in
this order: ``update_leader`` (adopt the largest ballot heard from a node that leads it),
``update_happiness`` (do I, or my leader, still have a quorum?) and ``check_takeover`` (take over
when I am unhappy, every node I heard is unhappy too, and I hear a quorum). The learner writes those
three in a subclass of `BlankBallotLeaderElection`, where they are blanked, so ``super()`` reaches
nothing; the rest of Ballot Leader Election (heartbeats, rounds, the hand-off to Sequence Paxos) and
all of Sequence Paxos are the reference.

The checks run clusters whose every replica uses the learner's class: the first election, a
re-election after the leader crashes, and the three partial-connectivity scenarios of the OmniPaxos
paper (quorum loss, constrained election, chained) from `omnilab.sim.scenarios`, each for safety
(the invariants, re-checked from the run's export) and liveness (the right node leads, entries are
decided, and in the chained case the leadership stays put).
"""

from __future__ import annotations

from typing import Any, Mapping

from omnilab.replica.ballot_leader_election import BallotLeaderElection
from omnilab.replica.state import Phase, Role
from omnilab.sim import scenarios

from ..bank import Exercise
from ..runs import ballots_stable, decided_by, leader_is
from .common import answer, campaign_check, cluster_check, lazy_lines, make_variant, replayer, scenario_lines

SURFACE = "MyBallotLeaderElection"
PREAMBLE = ("from omnilab.grading.exercises.ble_round_end import BlankBallotLeaderElection\n"
            "from omnilab.replica import Ballot, Phase, Role\n")


class BlankBallotLeaderElection(BallotLeaderElection):
    """Ballot Leader Election with its round end left to you: `hb_timeout` calls
    ``update_leader()``, ``update_happiness(sp_state)`` and ``check_takeover()`` in that order, then
    starts the next round. Everything else is the reference.

    What you can read and write (all on ``self``): ``pid``, ``peers``, ``quorum``
    (``is_prepare_quorum(count)``, ``is_accept_quorum(count)``), ``current_ballot`` (mine),
    ``leader`` (the ballot I follow), ``happy`` (bool), and ``heartbeat_replies``: the
    `HeartbeatReply` messages of this round, each with ``ballot`` (the replier's own ballot),
    ``leader`` (the ballot it follows) and ``happy``. Ballots compare with ``<``, ``>``, ``max``.
    """

    def update_leader(self) -> None:
        raise NotImplementedError("update_leader is yours to write")

    def update_happiness(self, sp_state: tuple[Role, Phase]) -> None:
        raise NotImplementedError("update_happiness is yours to write")

    def check_takeover(self) -> None:
        raise NotImplementedError("check_takeover is yours to write")


def variant(namespace: Mapping[str, Any]) -> Any:
    cls = answer(namespace, SURFACE, BlankBallotLeaderElection)
    return make_variant("your MyBallotLeaderElection", "the learner's Ballot Leader Election round end",
                        ballot_leader_election=cls)


LABEL = "your_ble"
VARIANTS = {LABEL: variant}


def _kv(key: str, value: int) -> str:
    return f"KeyValue(key={key!r}, value={value})"


FIRST_ELECTION = [
    "cluster = Cluster([1, 2, 3], seed=0)",
    "cluster.run(ticks=3)",
    "cluster.put('a', 1, at=1)",
    "cluster.run(ticks=10)",
]

RE_ELECTION = [
    "cluster = Cluster([1, 2, 3], seed=0)",
    "cluster.run(ticks=3)",
    "cluster.put('a', 1, at=3)",
    "cluster.run(ticks=1)",
    "cluster.crash(3)",
    "cluster.run(ticks=5)",
    "cluster.put('b', 2, at=1)",
    "cluster.run(ticks=2)",
    "cluster.recover(3)",
    "cluster.run(ticks=5)",
    "cluster.put('c', 3, at=1)",
    "cluster.run(ticks=3)",
]


def _after_crash_leader(artefact: Mapping) -> Any:
    """Liveness after the crash: nodes 1 and 2 agree on a leader among themselves before b is put."""
    lines = artefact["schedule"]
    k = lines.index("cluster.put('b', 2, at=1)") - 1
    rows = [r for r in artefact["leader"] if r[0] == k]
    got = rows[-1][1] if rows else None
    if got not in (1, 2):
        return (f"after leader 3 crashed and cluster.run(ticks=5), nodes 1 and 2 agree on leader {got}; a new "
                f"leader (node 2, the higher pid) should have been elected")
    return None


PRIORITIES = [
    "cluster = Cluster([1, 2, 3], seed=0)",
    "cluster.run(ticks=3)",
    "cluster.set_priority(1, 5)",
    "cluster.set_priority(2, 6)",
    "cluster.run(ticks=3)",
    "cluster.crash(3)",
    "cluster.run(ticks=6)",
    "cluster.put('a', 1, at=1)",
    "cluster.run(ticks=3)",
]

ISOLATED = [
    "cluster = Cluster([1, 2, 3], seed=0)",
    "cluster.run(ticks=3)",
    "cluster.partition([1], [2, 3])",
    "cluster.run(ticks=10)",
    "cluster.heal()",
    "cluster.run(ticks=5)",
    "cluster.put('i', 1, at=1)",
    "cluster.run(ticks=3)",
]

QUORUM_LOSS = lazy_lines(lambda: scenario_lines(scenarios.quorum_loss, "cluster.run(ticks=6)",
                                                "cluster.put('q', 1, at=1)", "cluster.run(ticks=3)"))
CONSTRAINED = lazy_lines(lambda: scenario_lines(scenarios.constrained_election, "cluster.run(ticks=4)",
                                                "cluster.put('n', 1, at=1)", "cluster.run(ticks=3)"))
CHAINED = lazy_lines(lambda: scenario_lines(scenarios.chained, "cluster.run(ticks=10)",
                                            "cluster.put('p', 1, at=2)", "cluster.run(ticks=3)"))


def _stable_after_setup(artefact: Mapping) -> Any:
    """Chained: no node leads a new ballot once the link 1-3 is cut."""
    lines = artefact["schedule"]
    return ballots_stable(lines.index("cluster.cut(1, 3)"))(artefact)


CHECKS = (
    cluster_check("first-election", 1, FIRST_ELECTION, variant, LABEL,
                  [decided_by(_kv("a", 1), [1, 2, 3]), leader_is(3), ballots_stable(1)],
                  description="three healthy nodes elect node 3 (the highest pid), decide, and keep that leader"),
    cluster_check("re-election-after-crash", 2, RE_ELECTION, variant, LABEL,
                  [_after_crash_leader, decided_by(_kv("b", 2), [1, 2]), decided_by(_kv("c", 3), [1, 2, 3])],
                  description="leader 3 crashes: nodes 1 and 2 elect a new leader and decide; "
                              "3 recovers and catches up"),
    cluster_check("priorities", 1, PRIORITIES, variant, LABEL,
                  [leader_is(2), decided_by(_kv("a", 1), [1, 2])],
                  description="followers 1 and 2 raise their priorities; leader 3 crashes: node 2 (priority 6) "
                              "wins the next election"),
    cluster_check("isolated-node", 1, ISOLATED, variant, LABEL,
                  [ballots_stable(2, "although it could not reach a quorum (an isolated node must not take over)"),
                   decided_by(_kv("i", 1), [1, 2, 3])],
                  description="node 1 is cut off for ten rounds, then heals: it never takes over, leader 3 stays"),
    cluster_check("quorum-loss", 2, QUORUM_LOSS, variant, LABEL,
                  [leader_is(3), decided_by(_kv("q", 1), [1, 2, 3, 4, 5])],
                  description="scenarios.quorum_loss(): only node 3 reaches everybody; it must take over"),
    cluster_check("constrained-election", 2, CONSTRAINED, variant, LABEL,
                  [leader_is(3), decided_by(_kv("n", 1), [1, 2, 3, 4])],
                  description="scenarios.constrained_election(): node 3, with an outdated log, must take over"),
    cluster_check("chained", 2, CHAINED, variant, LABEL,
                  [_stable_after_setup, leader_is(3), decided_by(_kv("p", 1), [2, 3])],
                  description="scenarios.chained(): 1 - 2 - 3; node 1 must not take over, leader 3 keeps deciding"),
    campaign_check("fault-campaign-secret", 2, variant, LABEL, hidden=True),
)

EXERCISE = Exercise(
    id="ex02", title="Ballot Leader Election: the round end", slug="02-ble-round-end", surface=(SURFACE,),
    forbidden=("BallotLeaderElection", "ballot_leader_election", "mutants", "hb_timeout"),
    checks=CHECKS, preamble=PREAMBLE, replay=replayer(VARIANTS), variant=variant,
)
