"""Exercise 3, promises and log synchronisation: which promised log a new leader adopts, and how much
of each follower's log it keeps.

A leader that gathered a read quorum of promises must adopt the most up-to-date log among them (its
own included), so it holds every entry that may have been decided; then it sends each follower an
AcceptSync that overwrites the follower's log *after the point where the two logs are certainly
equal* (the sync point). The learner writes those two decisions as methods of a subclass of
`BlankSequencePaxos`:

* ``is_more_up_to_date(promise, best)``: does this promise's log beat the best one so far?
* ``sync_point(follower, adopted)``: how much of the follower's log is certainly the adopted log?

`BlankSequencePaxos` is the reference Sequence Paxos with those two decisions taken out of
``handle_leader``, ``handle_promise_prepare`` and ``send_accsync`` and handed to the two methods,
which are blanked (``super()`` reaches nothing).

The checks: both methods' truth tables, then clusters on the learner's class: the constrained
election (the new leader's log is behind: the promises must bring it the decided entries), a decided
entry the new leader lacks, a longer log from an older round against a shorter one from a newer
round, a sync that must send only what the follower lacks, and a seeded fault campaign (crashes,
partitions, leader changes) re-checked for safety and progress.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from omnilab.replica.ballot import Ballot
from omnilab.replica.config import ClusterConfig, OmniPaxosConfig, ServerConfig
from omnilab.replica.messages import AcceptSync
from omnilab.replica.sequence_paxos import SequencePaxos
from omnilab.replica.sequence_paxos.leader_state import NO_PROMISE, LeaderState, PromiseMeta
from omnilab.replica.storage import MemoryStorage
from omnilab.sim import scenarios

from ..bank import Check, CheckOutcome, Exercise
from ..runs import decided_by, leader_is
from .common import answer, campaign_check, cluster_check, lazy_lines, make_variant, replayer, scenario_lines

SURFACE = "MySequencePaxos"
PREAMBLE = ("from omnilab.grading.exercises.promises import BlankSequencePaxos, PromiseMeta\n"
            "from omnilab.replica import Ballot\n")


class BlankSequencePaxos(SequencePaxos):
    """The reference Sequence Paxos, with two decisions left to you (`is_more_up_to_date`,
    `sync_point`). ``self.leader_state.n_leader`` is the ballot I lead."""

    def is_more_up_to_date(self, promise: PromiseMeta, best: PromiseMeta) -> bool:
        raise NotImplementedError("is_more_up_to_date is yours to write")

    def sync_point(self, follower: PromiseMeta, adopted: PromiseMeta) -> int:
        raise NotImplementedError("sync_point is yours to write")

    # --- the reference, with the two decisions handed to the methods above --------------------------

    def consider_promise(self, meta: PromiseMeta, log_sync: Any) -> None:
        """Keep `meta` (and the log it sent) as the log to adopt if it beats the best so far."""
        ls = self.leader_state
        beats = self.is_more_up_to_date(meta, ls.max_promise_meta)
        if not isinstance(beats, bool):
            raise TypeError(f"is_more_up_to_date must return True or False, not {beats!r}")
        if beats:
            ls.max_promise_meta, ls.max_promise_sync = meta, log_sync

    def handle_leader(self, n: Ballot) -> None:
        before = self.leader_state
        super().handle_leader(n)
        ls = self.leader_state
        if ls is not before:
            # I started leading n: my own promise is the first candidate (the reference chose it already).
            ls.max_promise_meta, ls.max_promise_sync = NO_PROMISE, None
            self.consider_promise(ls.promise_meta[self.pid], None)

    def handle_promise_prepare(self, sender: int, prom: Any) -> None:
        ls = self.leader_state
        if prom.n != ls.n_leader:
            return
        meta = PromiseMeta(prom.n_accepted, prom.accepted_idx, prom.decided_idx, sender)
        self.consider_promise(meta, prom.log_sync)
        if ls.set_promise(meta):
            self.handle_majority_promises()

    def send_accsync(self, follower: int) -> None:
        ls = self.leader_state
        f = ls.promise_meta[follower]
        valid_prefix = self.sync_point(f, ls.max_promise_meta)
        if isinstance(valid_prefix, bool) or not isinstance(valid_prefix, int) or valid_prefix < 0:
            raise TypeError(f"sync_point must return a log index (an int >= 0), not {valid_prefix!r}")
        log_sync = self.log.create_log_sync(valid_prefix, f.decided_idx)
        ls.latest_accept.pop(follower, None)
        seq = ls.new_session(follower)
        self.outbox.send(follower, AcceptSync(ls.n_leader, seq, self.log.decided_idx, log_sync))


def variant(namespace: Mapping[str, Any]) -> Any:
    cls = answer(namespace, SURFACE, BlankSequencePaxos)
    return make_variant("your MySequencePaxos", "the learner's promise choice and sync point", sequence_paxos=cls)


LABEL = "your_sequence_paxos"
VARIANTS = {LABEL: variant}


# --- the truth tables ----------------------------------------------------------------------------------

ROUNDS = (Ballot(), Ballot(1, 1, 0, 3), Ballot(1, 2, 0, 2), Ballot(1, 2, 0, 3), Ballot(1, 3, 0, 1))
MY_BALLOT = Ballot(1, 3, 0, 1)


def _metas() -> list[PromiseMeta]:
    metas = []
    for n_accepted in ROUNDS[:4]:
        for accepted_idx in range(0, 4) if n_accepted != Ballot() else (0,):
            for decided_idx in sorted({0, accepted_idx // 2, accepted_idx}):
                metas.append(PromiseMeta(n_accepted, accepted_idx, decided_idx, 2))
    return metas


def _ballot_list(b: Ballot) -> list:
    return [b.config_id, b.n, b.priority, b.pid]


def _meta_list(m: PromiseMeta) -> list:
    return [_ballot_list(m.n_accepted), m.accepted_idx, m.decided_idx, m.pid]


def _instance(cls: type) -> Any:
    config = OmniPaxosConfig(ClusterConfig(1, [1, 2, 3]), ServerConfig(pid=1))
    replica = cls(config, MemoryStorage(), None)
    replica.leader_state = LeaderState(MY_BALLOT, replica.nodes, replica.quorum)
    return replica


def produce_up_to_date(namespace: Mapping[str, Any], seed: int) -> list:
    replica = _instance(answer(namespace, SURFACE, BlankSequencePaxos))
    metas = _metas()
    rows = []
    for promise in metas:
        for best in metas + [NO_PROMISE]:
            got = replica.is_more_up_to_date(promise, best)
            rows.append([_meta_list(promise), _meta_list(best), got if isinstance(got, bool) else repr(got)])
    return rows


def _ballot(values: list) -> Ballot:
    return Ballot(*values)


def _meta(values: list) -> PromiseMeta:
    return PromiseMeta(_ballot(values[0]), values[1], values[2], values[3])


def _describe(m: PromiseMeta) -> str:
    round_ = "no round" if m.n_accepted == Ballot() else f"round n={m.n_accepted.n} of node {m.n_accepted.pid}"
    return f"(accepted in {round_}, accepted_idx={m.accepted_idx}, decided_idx={m.decided_idx})"


def judge_up_to_date(rows: Any, seed: int) -> CheckOutcome:
    if len(rows) != len(_metas()) * (len(_metas()) + 1):
        return CheckOutcome(False, "the truth table is incomplete (the artefact was altered)")
    for promise_v, best_v, got in rows:
        promise, best = _meta(promise_v), _meta(best_v)
        want = promise.n_accepted > best.n_accepted or (
            promise.n_accepted == best.n_accepted and promise.accepted_idx > best.accepted_idx)
        if got != want:
            if not isinstance(got, bool):
                return CheckOutcome(False, f"is_more_up_to_date returned {got}, not True or False")
            why = ("a log accepted in a higher round is more up to date, whatever its length"
                   if promise.n_accepted != best.n_accepted else
                   "in the same round, the longer log is more up to date; an equal one does not beat the best")
            return CheckOutcome(False, f"is_more_up_to_date(promise={_describe(promise)}, best={_describe(best)}) "
                                f"returned {got}: {why}")
    return CheckOutcome(True)


def produce_sync_point(namespace: Mapping[str, Any], seed: int) -> list:
    replica = _instance(answer(namespace, SURFACE, BlankSequencePaxos))
    metas = _metas() + [PromiseMeta(MY_BALLOT, k, 0, 3) for k in range(4)]
    rows = []
    for follower in metas:
        for adopted in _metas():
            if adopted.n_accepted < follower.n_accepted and follower.n_accepted != MY_BALLOT:
                continue  # the adopted log is the most up to date: never behind a follower's round
            got = replica.sync_point(follower, adopted)
            rows.append([_meta_list(follower), _meta_list(adopted),
                         got if isinstance(got, int) and not isinstance(got, bool) else repr(got)])
    return rows


def expected_sync_point(follower: PromiseMeta, adopted: PromiseMeta) -> int:
    if follower.n_accepted == MY_BALLOT:
        return follower.accepted_idx
    if follower.n_accepted == adopted.n_accepted:
        return min(adopted.accepted_idx, follower.accepted_idx)
    return follower.decided_idx


def judge_sync_point(rows: Any, seed: int) -> CheckOutcome:
    if not rows:
        return CheckOutcome(False, "the truth table is empty (the artefact was altered)")
    for follower_v, adopted_v, got in rows:
        follower, adopted = _meta(follower_v), _meta(adopted_v)
        want = expected_sync_point(follower, adopted)
        if got == want:
            continue
        call = f"sync_point(follower={_describe(follower)}, adopted={_describe(adopted)})"
        if not isinstance(got, int):
            return CheckOutcome(False, f"{call} returned {got}, not a log index")
        if got > want:
            return CheckOutcome(False, f"{call} returned {got}: unsafe, the follower's entries from idx {want} on may "
                                f"differ from the adopted log, and the AcceptSync would leave them in place")
        return CheckOutcome(False, f"{call} returned {got}: safe but wasteful, the logs certainly agree up to idx "
                            f"{want}, so the AcceptSync should start there")
    return CheckOutcome(True)


# --- clusters on the learner's class -------------------------------------------------------------------

def _kv(key: str, value: int) -> str:
    return f"KeyValue(key={key!r}, value={value})"


CONSTRAINED = lazy_lines(lambda: scenario_lines(scenarios.constrained_election, "cluster.run(ticks=4)",
                                                "cluster.put('n', 1, at=1)", "cluster.run(ticks=3)"))

MISSING_DECIDED = [
    "cluster = Cluster([1, 2, 3, 4, 5], seed=0)",
    "cluster.run(ticks=3)",
    "cluster.put('a', 1, at=5)",
    "cluster.run(ticks=1)",
    "cluster.cut(5, 1)",
    "cluster.cut(5, 2)",
    "cluster.put('x', 1, at=5)",
    "cluster.deliver_all()",
    "cluster.crash(5)",
    "cluster.heal()",
    "cluster.try_become_leader(1)",
    "cluster.deliver_all()",
    "cluster.run(ticks=3)",
    "cluster.put('y', 2, at=1)",
    "cluster.run(ticks=3)",
]

ROUND_BEATS_LENGTH = [
    "cluster = Cluster([1, 2, 3, 4, 5, 6, 7], seed=0)",
    "cluster.run(ticks=3)",
    "cluster.put('a', 1, at=7)",
    "cluster.run(ticks=1)",
    "cluster.partition([1, 7], [2], [3, 4, 5, 6])",
    "cluster.put('x', 1, at=7)",
    "cluster.put('x', 2, at=7)",
    "cluster.deliver_all()",
    "cluster.crash(7)",
    "cluster.run(ticks=6)",
    "cluster.put('y', 1, at=6)",
    "cluster.run(ticks=2)",
    "cluster.crash(6)",
    "cluster.heal()",
    "cluster.try_become_leader(2)",
    "cluster.deliver_all()",
    "cluster.try_become_leader(2)",
    "cluster.deliver_all()",
    "cluster.run(ticks=3)",
    "cluster.put('z', 1, at=2)",
    "cluster.run(ticks=3)",
]

SHORT_SYNC = [
    "cluster = Cluster([1, 2, 3], seed=0)",
    "cluster.run(ticks=3)",
    "cluster.put('a', 1, at=3)",
    "cluster.run(ticks=1)",
    "cluster.put('c', 2, at=3)",
    "cluster.step()",
    "cluster.step()",
    "cluster.crash(3)",
    "cluster.run(ticks=5)",
    "cluster.put('d', 3, at=1)",
    "cluster.run(ticks=2)",
]


def record_accept_syncs(cluster: Any, items: list, k: int, artefact: dict) -> None:
    """Extra record: ``accept_syncs`` = [k, sender, receiver, sync_idx, entries sent] per AcceptSync."""
    from omnilab.sim.trace import Sent

    rows = artefact.setdefault("accept_syncs", [])
    for item in items:
        if type(item) is Sent and item.envelope.kind == "AcceptSync":
            sync = item.envelope.payload.log_sync
            rows.append([k, item.envelope.sender, item.envelope.receiver,
                         None if sync is None else sync.sync_idx, 0 if sync is None else len(sync.suffix)])


def _sync_sends_nothing(artefact: Mapping) -> Optional[str]:
    """Efficiency: node 1 accepted everything node 2 has, in the same round: the AcceptSync the new
    leader 2 sends it carries no entries."""
    rows = [r for r in artefact.get("accept_syncs", []) if r[1] == 2 and r[2] == 1]
    if not rows:
        return "the new leader 2 never sent node 1 an AcceptSync"
    k, _, _, sync_idx, sent = rows[0]
    if sent:
        return (f"the new leader 2 sent node 1 {sent} entr{'y' if sent == 1 else 'ies'} from idx {sync_idx} in its "
                f"AcceptSync, but node 1 had accepted all of them in the same round: the sync point is too low "
                f"(safe, but it resends the log)")
    return None


CHECKS = (
    Check("most-up-to-date", 2, produce_up_to_date, judge_up_to_date,
          description="is_more_up_to_date over promises from rounds 0-2 with logs of 0-3 entries"),
    Check("sync-point", 2, produce_sync_point, judge_sync_point,
          description="sync_point for followers of my round, the adopted round and older rounds"),
    cluster_check("constrained-election", 1, CONSTRAINED, variant, LABEL,
                  [leader_is(3), decided_by(_kv("n", 1), [1, 2, 3, 4])],
                  description="scenarios.constrained_election(): leader 3's log is behind; the promises bring it "
                              "the decided entries"),
    cluster_check("missing-decided-entry", 1, MISSING_DECIDED, variant, LABEL,
                  [decided_by(_kv("y", 2), [1, 2, 3, 4])],
                  description="x is decided by 3, 4, 5; 5 crashes; node 1, which lacks x, leads next"),
    cluster_check("round-beats-length", 1, ROUND_BEATS_LENGTH, variant, LABEL,
                  [decided_by(_kv("z", 1), [1, 2, 3, 4, 5])],
                  description="a longer log from an older round against a shorter, decided one from a newer round"),
    cluster_check("efficient-sync", 1, SHORT_SYNC, variant, LABEL,
                  [_sync_sends_nothing, decided_by(_kv("d", 3), [1, 2])], extra=record_accept_syncs,
                  description="the new leader's AcceptSync sends a follower only what it lacks"),
    campaign_check("fault-campaign", 2, variant, LABEL),
    campaign_check("fault-campaign-secret", 2, variant, LABEL, hidden=True),
)

EXERCISE = Exercise(
    id="ex03", title="Promises and log synchronisation", slug="03-promises", surface=(SURFACE,),
    forbidden=("outranks", "SequencePaxos", "LeaderHandlers", "send_accsync", "handle_promise_prepare",
               "handle_leader", "consider_promise", "mutants"),
    checks=CHECKS, preamble=PREAMBLE, replay=replayer(VARIANTS), variant=variant,
)
