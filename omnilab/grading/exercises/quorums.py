"""Exercise 1, quorums: the learner's ``is_quorum`` decides every quorum question of the replica.

The surface is one function, ``is_quorum(count, num_nodes, flexible_quorum, phase)``. It becomes a
`Quorum` subclass (`quorum_class`) in ``Components(quorum=...)``: Sequence Paxos asks it whether
enough nodes promised (``phase="prepare"``) or accepted (``phase="accept"``), and Ballot Leader
Election whether a node is quorum-connected (``"prepare"``) and whether a leader still has enough
followers.

The checks: the function's truth table for majorities and for flexible quorums, the overlap rule as
a property of that table (every read quorum meets every write quorum), and clusters built on the
learner's rule: a 2 | 2 partition of four nodes, where a rule that is too small lets both halves
decide (the schedule shows where two quorums miss), and five nodes losing two, where a rule that is
too large stops the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from omnilab.replica.config import FlexibleQuorum, Quorum

from ..bank import Check, CheckOutcome, Exercise
from ..runs import decided_by
from .common import answer, campaign_check, cluster_check, make_variant, replayer

SURFACE = "is_quorum"
PREAMBLE = "from omnilab import FlexibleQuorum\n"
#: The configurations the truth table covers.
SIZES = range(2, 8)


def quorum_class(is_quorum: Callable, fixed: Optional[FlexibleQuorum] = None) -> type:
    """A `Quorum` whose two questions are answered by `is_quorum`. With `fixed`, the configuration's
    flexible quorum is `fixed` whatever the cluster configuration says (the simulator's clusters
    have none), so a cluster can run on flexible quorums."""

    @dataclass(frozen=True)
    class LearnerQuorum(Quorum):
        num_nodes: int = 0
        flexible_quorum: Optional[FlexibleQuorum] = None

        @classmethod
        def of(cls, num_nodes: int, flexible_quorum: Optional[FlexibleQuorum]) -> "LearnerQuorum":
            # read_size / write_size are not used by this rule: every question goes to is_quorum.
            return cls(0, 0, num_nodes, fixed if fixed is not None else flexible_quorum)

        def is_prepare_quorum(self, count: int) -> bool:
            return _as_bool(is_quorum(count, self.num_nodes, self.flexible_quorum, "prepare"))

        def is_accept_quorum(self, count: int) -> bool:
            return _as_bool(is_quorum(count, self.num_nodes, self.flexible_quorum, "accept"))

    LearnerQuorum.__name__ = LearnerQuorum.__qualname__ = "LearnerQuorum"
    return LearnerQuorum


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError(f"is_quorum must return True or False, not {value!r}")


def variant(namespace: Mapping[str, Any], fixed: Optional[FlexibleQuorum] = None) -> Any:
    rule = answer(namespace, SURFACE)
    if not callable(rule):
        raise TypeError(f"{SURFACE} must be a function")
    suffix = f" with FlexibleQuorum({fixed.read_quorum_size}, {fixed.write_quorum_size})" if fixed else ""
    return make_variant(f"your is_quorum{suffix}", "the learner's quorum rule",
                        quorum=quorum_class(rule, fixed))


FLEX_3_2 = FlexibleQuorum(3, 2)
VARIANTS = {"your_quorum": variant, "your_quorum_r3_w2": lambda ns: variant(ns, FLEX_3_2)}


# --- the truth table ---------------------------------------------------------------------------------

def configurations(flexible: Optional[bool]) -> list[tuple[int, Optional[FlexibleQuorum]]]:
    """Every (num_nodes, flexible_quorum) a configuration may have with a flexible quorum (as
    `ClusterConfig.validate` allows: 2 <= w <= r <= n and r + w > n), only majorities
    (`flexible` False), or both (None)."""
    majorities = [(n, None) for n in SIZES]
    flexibles = [(n, FlexibleQuorum(r, w)) for n in SIZES for r in range(2, n + 1) for w in range(2, r + 1)
                 if r + w > n]
    return majorities if flexible is False else flexibles if flexible else majorities + flexibles


def truth_table(flexible: Optional[bool]) -> Callable[[Mapping[str, Any], int], list]:
    def produce(namespace: Mapping[str, Any], seed: int) -> list:
        rule = answer(namespace, SURFACE)
        rows = []
        for n, fq in configurations(flexible):
            r, w = (fq.read_quorum_size, fq.write_quorum_size) if fq else (None, None)
            for phase in ("prepare", "accept"):
                for count in range(0, n + 1):
                    got = rule(count, n, fq, phase)
                    rows.append([n, r, w, phase, count, got if isinstance(got, bool) else repr(got)])
        return rows
    return produce


def expected(n: int, r: Optional[int], w: Optional[int], phase: str, count: int) -> bool:
    if r is None:
        return count >= n // 2 + 1
    return count >= (r if phase == "prepare" else w)


def _call(n: int, r: Optional[int], w: Optional[int], phase: str, count: int) -> str:
    fq = "None" if r is None else f"FlexibleQuorum({r}, {w})"
    return f"is_quorum({count}, {n}, {fq}, {phase!r})"


def _check_rows(rows: Any, flexible: Optional[bool]) -> CheckOutcome:
    wanted = {(n, r, w, phase, count) for n, fq in configurations(flexible)
              for r, w in [((fq.read_quorum_size, fq.write_quorum_size) if fq else (None, None))]
              for phase in ("prepare", "accept") for count in range(n + 1)}
    seen = set()
    for n, r, w, phase, count, got in rows:
        seen.add((n, r, w, phase, count))
        if not isinstance(got, bool):
            return CheckOutcome(False, f"{_call(n, r, w, phase, count)} returned {got}, not True or False")
        want = expected(n, r, w, phase, count)
        if got != want:
            return CheckOutcome(False, _explain(n, r, w, phase, count, got))
    if seen != wanted:
        return CheckOutcome(False, "the truth table is incomplete (the artefact was altered)")
    return CheckOutcome(True)


def _explain(n: int, r: Optional[int], w: Optional[int], phase: str, count: int, got: bool) -> str:
    call = _call(n, r, w, phase, count)
    if r is None:
        majority = n // 2 + 1
        if got:
            return (f"{call} returned True: {count} of {n} nodes is not a majority (a majority is {majority}); "
                    f"two disjoint groups of {count} could then both decide")
        return f"{call} returned False: {count} of {n} nodes is a majority (at least {majority})"
    size = r if phase == "prepare" else w
    which = "read (Prepare) quorum size" if phase == "prepare" else "write (Accept) quorum size"
    return (f"{call} returned {got}: the {which} is {size}, "
            f"so {count} nodes {'are' if count >= size else 'are not'} enough")


def judge_table(flexible: bool) -> Callable[[Any, int], CheckOutcome]:
    return lambda rows, seed: _check_rows(rows, flexible)


def smallest(rows: list, n: int, r: Optional[int], w: Optional[int], phase: str) -> Optional[int]:
    counts = sorted(row[4] for row in rows if row[:4] == [n, r, w, phase] and row[5] is True)
    return counts[0] if counts else None


def judge_overlap(rows: Any, seed: int) -> CheckOutcome:
    """The overlap rule as a property of the table: in every configuration, a quorum stays a quorum
    when nodes join it, no empty set is one, and every read quorum meets every write quorum (for
    majorities: every two quorums meet)."""
    configs = sorted({(row[0], row[1], row[2]) for row in rows}, key=lambda c: (c[0], c[1] or 0, c[2] or 0))
    for n, r, w in configs:
        fq = "no flexible quorum" if r is None else f"FlexibleQuorum({r}, {w})"
        for phase in ("prepare", "accept"):
            answers = {row[4]: row[5] for row in rows if row[:4] == [n, r, w, phase]}
            if answers.get(0) is True:
                return CheckOutcome(False, f"with {n} nodes and {fq}, is_quorum says 0 nodes are a {phase} quorum")
            for count in range(1, n + 1):
                if answers.get(count - 1) is True and answers.get(count) is False:
                    return CheckOutcome(False, f"with {n} nodes and {fq}, {count - 1} nodes are a {phase} quorum "
                                        f"but {count} are not: adding a node to a quorum must keep it a quorum")
        read, write = smallest(rows, n, r, w, "prepare"), smallest(rows, n, r, w, "accept")
        if read is None or write is None:
            continue  # no quorum at all: safe, and the other checks report it
        if read + write <= n:
            reads = list(range(1, read + 1))
            writes = list(range(n - write + 1, n + 1))
            return CheckOutcome(False, f"two quorums miss: with {n} nodes and {fq}, is_quorum accepts the prepare "
                                f"quorum {reads} and the accept quorum {writes}, which share no node, so a new "
                                f"leader could miss a decided entry (read + write must exceed {n})")
        if r is None and 2 * write <= n:
            return CheckOutcome(False, f"two quorums miss: with {n} nodes, the accept quorums "
                                f"{list(range(1, write + 1))} and {list(range(n - write + 1, n + 1))} share no node")
    return CheckOutcome(True)


# --- clusters on the learner's rule --------------------------------------------------------------------

SPLIT = [
    "cluster = Cluster([1, 2, 3, 4], seed=0)",
    "cluster.run(ticks=3)",
    "cluster.put('a', 1, at=4)",
    "cluster.run(ticks=1)",
    "cluster.partition([1, 2], [3, 4])",
    "cluster.put('b', 2, at=4)",
    "cluster.run(ticks=6)",
    "cluster.put('c', 3, at=1)",
    "cluster.run(ticks=2)",
    "cluster.heal()",
    "cluster.run(ticks=6)",
    "cluster.put('d', 4, at=1)",
    "cluster.run(ticks=3)",
]

CRASHES = [
    "cluster = Cluster([1, 2, 3, 4, 5], seed=0)",
    "cluster.run(ticks=3)",
    "cluster.put('a', 1, at=5)",
    "cluster.run(ticks=1)",
    "cluster.crash(5)",
    "cluster.crash(4)",
    "cluster.run(ticks=6)",
    "cluster.put('b', 2, at=1)",
    "cluster.run(ticks=3)",
]


def _decided_during_partition(entry: str, pids: list[int]) -> Callable[[Mapping], Optional[str]]:
    """Progress for FlexibleQuorum(3, 2): the old leader's half (a write quorum) decides `entry`
    before the partition heals."""
    def condition(artefact: Mapping) -> Optional[str]:
        heal = artefact["schedule"].index("cluster.heal()")
        nodes = {row[1] for row in artefact["decided"] if row[4] == entry and row[0] < heal}
        missing = [p for p in pids if p not in nodes]
        if missing:
            return (f"no progress: with FlexibleQuorum(3, 2) the leader's half {pids} is a write quorum, but "
                    f"{entry} was not decided on node {missing[0]} before cluster.heal()")
        return None
    return condition


CHECKS = (
    Check("majority", 2, truth_table(False), judge_table(False),
          description="is_quorum without a flexible quorum: a majority of num_nodes, for 2 to 7 nodes"),
    Check("flexible", 2, truth_table(True), judge_table(True),
          description="is_quorum with every valid FlexibleQuorum of 2 to 7 nodes"),
    Check("overlap", 2, truth_table(None), judge_overlap,
          description="the overlap rule: quorums only grow, and every read quorum meets every write quorum"),
    cluster_check("split-brain", 2, SPLIT, VARIANTS["your_quorum"], "your_quorum",
                  [decided_by("KeyValue(key='d', value=4)", [1, 2, 3, 4])],
                  description="four nodes split 2 | 2 on your rule: agreement, then progress after heal()"),
    cluster_check("flexible-split", 1, SPLIT, VARIANTS["your_quorum_r3_w2"], "your_quorum_r3_w2",
                  [_decided_during_partition("KeyValue(key='b', value=2)", [3, 4]),
                   decided_by("KeyValue(key='d', value=4)", [1, 2, 3, 4])],
                  description="the same split with FlexibleQuorum(3, 2): the leader's half decides, the other "
                              "cannot elect"),
    cluster_check("two-crashes", 1, CRASHES, VARIANTS["your_quorum"], "your_quorum",
                  [decided_by("KeyValue(key='b', value=2)", [1, 2, 3])],
                  description="five nodes, leader 5 and node 4 crash: the three left still decide"),
    campaign_check("fault-campaign-secret", 2, VARIANTS["your_quorum"], "your_quorum", hidden=True),
)

EXERCISE = Exercise(
    id="ex01", title="Quorums", slug="01-quorums", surface=(SURFACE,),
    forbidden=("Quorum", "is_prepare_quorum", "is_accept_quorum", "read_size", "write_size", "quorum_class",
               "LearnerQuorum"),
    checks=CHECKS, preamble=PREAMBLE, replay=replayer(VARIANTS), variant=variant,
)
