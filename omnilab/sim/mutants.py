"""A catalogue of buggy variants ("mutants"): each is the reference with one rule broken.

Every mutant is a few lines on top of the reference classes (`omnilab.sim.variant`), and its
docstring says what is wrong and which invariant should catch it. They exist to show that the
invariants and the fault campaigns can fail: ``omnilab fuzz --variant NAME`` runs a campaign
against one, and ``omnilab mutants`` prints, for each, the invariant that caught it, after how many
seeds, and how short the failing schedule shrank.

``MUTANTS`` maps each short name to its `Variant`; each is also a module attribute (the trace
records ``"omnilab.sim.mutants:ACCEPT_LOWER_BALLOT"``, so ``Cluster.replay`` rebuilds it).
``EXPECTED`` maps each name to the invariant that should catch it.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from omnilab.replica.ballot_leader_election import BallotLeaderElection
from omnilab.replica.sequence_paxos import SequencePaxos
from omnilab.replica.sequence_paxos.follower import SequenceCheck
from omnilab.replica.sequence_paxos.leader_state import PromiseMeta
from omnilab.replica.state import Phase, Role

from .instances import start_instance
from .service import ReconfigurationService, StartInstance, StateTransfer, TransferAck
from .variant import REFERENCE, Variant

# --- Ballot Leader Election -----------------------------------------------------------------------


class TakeoverWithoutQuorumConnected(BallotLeaderElection):
    """BUG: a node takes over (raises its ballot and elects itself) whenever it and every peer it
    hears are unhappy, even when it hears less than a quorum. OmniPaxos requires a quorum of
    replies: a node that cannot reach a quorum can never lead, so it must not bump its ballot and
    disrupt the leader when its links come back. QuorumConnectedTakeover catches it: at the very
    first tick, before any reply has arrived, every node is unhappy and this one takes over alone."""

    def check_takeover(self) -> None:
        replies = self.heartbeat_replies
        if not self.happy and all(not r.happy for r in replies):  # the quorum condition is gone
            self.current_ballot = replace(self.current_ballot, n=self.leader.n + 1)
            self.leader = self.current_ballot
            self.happy = True


class CountDuplicateHeartbeatReplies(BallotLeaderElection):
    """BUG (a fixed fault, reverted): a node counts every heartbeat reply it receives in a round,
    also a second copy of one peer's reply that the network duplicated. In five nodes a node that
    hears only one peer, twice, counts a quorum of three and takes over although it is not
    quorum-connected. QuorumConnectedTakeover (whom it really heard in that round) catches it."""

    def handle_heartbeat_reply(self, sender: int, rep: Any) -> None:
        if rep.round == self.hb_round and rep.ballot.config_id == self.configuration_id:
            self.heartbeat_replies.append(rep)  # the fix counts each sender once a round


# --- Sequence Paxos: followers --------------------------------------------------------------------


class AcceptLowerBallot(SequencePaxos):
    """BUG: a follower accepts entries (AcceptDecide) from a leader whose ballot is lower than the one
    it promised since, instead of answering NotAccepted. The old leader counts that acceptance
    towards its write quorum and decides entries that the new leader, which read this follower's
    promise before, does not know of and overwrites: UniformAgreement catches it (or Integrity,
    when the overwritten slots were decided on a node that now holds the new leader's log)."""

    def handle_acceptdecide(self, sender: int, acc: Any) -> None:
        if acc.n < self.log.promise:  # the reference refuses a ballot below its promise here
            self.log.append_without_batching(list(acc.entries))
            self.reply_accepted(acc.n, self.log.accepted_idx)
            return
        super().handle_acceptdecide(sender, acc)


# --- Sequence Paxos: leaders ----------------------------------------------------------------------


class IgnoreMostUpToDatePromise(SequencePaxos):
    """BUG: a new leader keeps its own log instead of adopting the most up-to-date log among the
    promises (and ignores how far the promisers decided). Entries a previous leader got decided but
    this one never accepted are then overwritten: UniformAgreement (or Integrity, when a follower's
    own decided log is rewritten) catches it."""

    def handle_promise_prepare(self, sender: int, prom: Any) -> None:
        if prom.n != self.leader_state.n_leader:
            return
        decided = min(prom.decided_idx, self.log.decided_idx)
        meta = PromiseMeta(prom.n_accepted, prom.accepted_idx, decided, sender)
        if self.leader_state.set_promise(meta, None, track_max=False):  # never adopt a follower's log
            self.handle_majority_promises()


class StopSignDecidedWhenAccepted(SequencePaxos):
    """BUG: a replica treats a StopSign as decided as soon as it has accepted it (the leader when it
    proposes it, a follower when the AcceptStopSign arrives), without waiting for a write quorum.
    The service then starts the next configuration from a StopSign that may never be chosen, while
    a new leader of the old configuration overwrites its slot: Integrity (a node's decided StopSign
    is gone from its log) catches it, or UniformAgreement, ConfigurationTransition or StopSignSeal
    depending on who decides what next."""

    def accept_stopsign_leader(self, ss: Any) -> None:
        super().accept_stopsign_leader(ss)
        self.log.set_decided_idx(self.log.accepted_idx)

    def handle_accept_stopsign(self, sender: int, acc: Any) -> None:
        super().handle_accept_stopsign(sender, acc)
        if self.log.stopsign == acc.ss:
            self.log.set_decided_idx(self.log.accepted_idx)


class AppendAfterStopSign(SequencePaxos):
    """BUG: a replica that holds a StopSign still accepts new entries (the reference refuses them
    with ``ProposeErr.PendingReconfigEntry``): the log goes on after the configuration's end.
    StopSignSeal (an entry accepted after a decided StopSign) catches it, or Integrity /
    UniformAgreement when the appended entry takes the StopSign's slot."""

    def append(self, entry: Any) -> None:
        # The reference's append without its first rule (refuse once a StopSign is stored).
        if self.state == (Role.LEADER, Phase.ACCEPT):
            self.accept_entries_leader([entry])
        elif self.state == (Role.LEADER, Phase.PREPARE):
            self.buffered_proposals.append(entry)
        else:
            self.forward_proposals([entry])


class DecideWithoutWriteQuorum(SequencePaxos):
    """BUG: a leader decides the entries it proposes as soon as it has written them itself, without
    waiting for a write quorum of Accepted replies. A leader cut off from the others goes on
    deciding alone while the majority elects a new leader that never saw those entries: the new
    leader's sync erases them from the old leader's decided log (Integrity catches it), or the two
    decide different entries in one slot (UniformAgreement catches it)."""

    def accept_entries_leader(self, entries: list) -> None:
        super().accept_entries_leader(entries)
        if self.log.accepted_idx > self.log.decided_idx:
            self.log.set_decided_idx(self.log.accepted_idx)  # the reference waits for is_chosen(idx)
            for draft in self.leader_state.latest_accept.values():
                draft.decided_idx = self.log.decided_idx  # and tell the followers, as a decision would


# --- the fixes of issue 8's replica faults, reverted ------------------------------------------------


class ApplyLateAcceptSync(SequencePaxos):
    """BUG (a fixed fault, reverted): a follower applies an AcceptSync that answers an earlier
    Promise of the ballot it already accepts in, delivered late. The sync reflects the leader's log
    as it was then: the follower cuts its log below entries it has since accepted and decided, but
    keeps its decided index (decided 7, accepted 3; ``read(3)`` is None). LocalWellFormedness
    (decided <= accepted) catches it, or Integrity once the lost slots are missed; a late sync that
    starts inside the follower's compacted prefix makes its storage raise (the campaign's
    UnexpectedException catches that)."""

    def is_stale_sync(self, sync: Any) -> bool:
        return False  # the fix recognises the stale sync and ignores it


class SilentOnRepeatedAcceptStopSign(SequencePaxos):
    """BUG (a fixed fault, reverted): a follower that holds the StopSign stays silent when the
    leader repeats its AcceptStopSign with the sequence number it already used. If the follower's
    Accepted replies were lost, the StopSign is never decided and nothing can follow it: the
    reconfiguration stalls for ever. Progress (heal, recover, run: no StopSign left undecided)
    catches it."""

    def handle_accept_stopsign(self, sender: int, acc: Any) -> None:
        if not self.check_valid_ballot(acc.n) or self.state != (Role.FOLLOWER, Phase.ACCEPT):
            return
        if self.handle_sequence_num(acc.seq_num, acc.n.pid) is not SequenceCheck.EXPECTED:
            return  # the fix answers a repeat of the StopSign it holds with its Accepted again
        self.log.flush_batch()
        self.log.set_stopsign(acc.ss)
        self.reply_accepted(acc.n, self.log.accepted_idx)


class KeepBufferedBehindStopSign(SequencePaxos):
    """BUG (a fixed fault, reverted): a follower whose AcceptSync ends in a StopSign keeps the
    proposals it buffered (while no leader was known) for ever instead of reporting them lost: the
    client's write is never decided and never refused, it just stays pending. No safety invariant
    catches it; the trace shows no ProposalLost for the write, and NoSilentProposalLoss (checked by
    `Cluster.check_progress` once the cluster made progress again) catches the write still held."""

    def drop_buffered(self) -> None:
        if self.role is Role.FOLLOWER:
            return  # the fix reports them (take_dropped_proposals -> ProposalLost)
        super().drop_buffered()


class IgnorePrepareWhileAccepting(SequencePaxos):
    """BUG (a fixed fault, reverted): a follower in the Accept phase ignores a Prepare for the ballot
    it already promised. After a late PrepareReq of its own, the leader counts it as not promised
    and sends it only Prepares, so the two never find each other again and the follower stays
    behind for ever. Progress (a fresh put applied at every member) catches it."""

    def handle_prepare(self, sender: int, prep: Any) -> None:
        if self.phase is Phase.ACCEPT and prep.n == self.log.promise:
            return  # the fix promises again, so the leader syncs it
        super().handle_prepare(sender, prep)


# --- the reconfiguration service ------------------------------------------------------------------


class StartWithoutStateTransfer(ReconfigurationService):
    """BUG: a server new in a configuration starts its instance as soon as it is told the
    configuration (StartInstance), on an empty key-value state, instead of waiting for the state
    transfer. It lacks every write decided before the StopSign: ConfigurationTransition (nodes start
    a configuration with different states) catches it, and KVLinearizability when it answers a read.

    The seam: a variant's ``service`` is each server's reconfiguration service; this one overrides
    its handler of service messages (``handle_message``), which is what decides when a new server
    starts."""

    def handle_message(self, env: Any) -> None:
        msg = env.message
        server = self.server
        if type(msg) is StartInstance and msg.config.configuration_id not in server.instances:
            config_id = msg.config.configuration_id
            storage = server.new_storage(msg.config)
            omni = start_instance(server.variant, msg.config, server.server_config, storage)
            self.send(env.sender, config_id, TransferAck(config_id))
            server.install_instance(config_id, omni, {}, env.config_id, None)
            return
        if type(msg) is StateTransfer:
            return  # arrives too late to matter
        super().handle_message(env)


class CompactWithoutSavingState(ReconfigurationService):
    """BUG (issue 8's fault 4, "trim forgets", put back): a server lets its log be compacted (a
    trim, a snapshot, a sync that replaces its prefix) without first saving its key-value state, as
    if the log alone could rebuild it. After a crash it recovers without the writes of the compacted
    slots, and a new node it hands its state to inherits the loss: Integrity (an entry it showed as
    decided is covered by a compacted prefix whose state no longer holds it) catches it, and
    ConfigurationTransition or KVLinearizability when the loss travels or is read."""

    def save_state(self, config_id: int) -> None:
        return None  # the fix persists the state machine here, before the log may be compacted


# --- the catalogue --------------------------------------------------------------------------------


def _mutant(name: str, cls: type, **fields: Any) -> Variant:
    return replace(REFERENCE.with_components(name, **fields), description=inspect.cleandoc(cls.__doc__ or ""))


TAKEOVER_WITHOUT_QUORUM_CONNECTED = _mutant("takeover-without-quorum-connected", TakeoverWithoutQuorumConnected,
                                            ballot_leader_election=TakeoverWithoutQuorumConnected)
ACCEPT_LOWER_BALLOT = _mutant("accept-lower-ballot", AcceptLowerBallot, sequence_paxos=AcceptLowerBallot)
IGNORE_MOST_UP_TO_DATE_PROMISE = _mutant("ignore-most-up-to-date-promise", IgnoreMostUpToDatePromise,
                                         sequence_paxos=IgnoreMostUpToDatePromise)
STOPSIGN_DECIDED_WHEN_ACCEPTED = _mutant("stopsign-decided-when-accepted", StopSignDecidedWhenAccepted,
                                         sequence_paxos=StopSignDecidedWhenAccepted)
APPEND_AFTER_STOPSIGN = _mutant("append-after-stopsign", AppendAfterStopSign, sequence_paxos=AppendAfterStopSign)
DECIDE_WITHOUT_WRITE_QUORUM = _mutant("decide-without-write-quorum", DecideWithoutWriteQuorum,
                                      sequence_paxos=DecideWithoutWriteQuorum)
START_WITHOUT_STATE_TRANSFER = replace(REFERENCE, name="start-without-state-transfer",
                                       description=inspect.cleandoc(StartWithoutStateTransfer.__doc__ or ""),
                                       service=StartWithoutStateTransfer)

APPLY_LATE_ACCEPTSYNC = _mutant("apply-late-acceptsync", ApplyLateAcceptSync, sequence_paxos=ApplyLateAcceptSync)
SILENT_ON_REPEATED_ACCEPTSTOPSIGN = _mutant("silent-on-repeated-acceptstopsign", SilentOnRepeatedAcceptStopSign,
                                            sequence_paxos=SilentOnRepeatedAcceptStopSign)
KEEP_BUFFERED_BEHIND_STOPSIGN = _mutant("keep-buffered-behind-stopsign", KeepBufferedBehindStopSign,
                                        sequence_paxos=KeepBufferedBehindStopSign)
COMPACT_WITHOUT_SAVING_STATE = replace(REFERENCE, name="compact-without-saving-state",
                                       description=inspect.cleandoc(CompactWithoutSavingState.__doc__ or ""),
                                       service=CompactWithoutSavingState)
COUNT_DUPLICATE_HEARTBEAT_REPLIES = _mutant("count-duplicate-heartbeat-replies", CountDuplicateHeartbeatReplies,
                                            ballot_leader_election=CountDuplicateHeartbeatReplies)
IGNORE_PREPARE_WHILE_ACCEPTING = _mutant("ignore-prepare-while-accepting", IgnorePrepareWhileAccepting,
                                         sequence_paxos=IgnorePrepareWhileAccepting)

#: Every mutant of a protocol rule, by its short catalogue name.
MUTANTS: dict[str, Variant] = {v.name: v for v in (
    TAKEOVER_WITHOUT_QUORUM_CONNECTED, ACCEPT_LOWER_BALLOT, IGNORE_MOST_UP_TO_DATE_PROMISE,
    STOPSIGN_DECIDED_WHEN_ACCEPTED, APPEND_AFTER_STOPSIGN, DECIDE_WITHOUT_WRITE_QUORUM,
    START_WITHOUT_STATE_TRANSFER,
)}
#: The mutants that put back a fault fixed in the replica (issue 8's faults 1, 2, 3 and 5, and the
#: duplicated heartbeat reply that QuorumConnectedTakeover found) or in the servers (fault 4), by name.
REVERTED: dict[str, Variant] = {v.name: v for v in (
    APPLY_LATE_ACCEPTSYNC, SILENT_ON_REPEATED_ACCEPTSTOPSIGN, KEEP_BUFFERED_BEHIND_STOPSIGN,
    IGNORE_PREPARE_WHILE_ACCEPTING, COMPACT_WITHOUT_SAVING_STATE, COUNT_DUPLICATE_HEARTBEAT_REPLIES,
)}
REVERTED_FIXES = tuple(REVERTED)
#: Both catalogues: what `omnilab.sim.variant.resolve` and ``omnilab mutants`` know by name.
ALL: dict[str, Variant] = {**MUTANTS, **REVERTED}

#: The invariants expected to catch each mutant (any of them), by name.
EXPECTED: dict[str, tuple[str, ...]] = {
    "takeover-without-quorum-connected": ("QuorumConnectedTakeover",),
    "accept-lower-ballot": ("UniformAgreement", "Integrity"),
    "ignore-most-up-to-date-promise": ("UniformAgreement", "Integrity"),
    "stopsign-decided-when-accepted": ("UniformAgreement", "Integrity", "ConfigurationTransition", "StopSignSeal"),
    "append-after-stopsign": ("StopSignSeal", "Integrity", "UniformAgreement"),
    "decide-without-write-quorum": ("UniformAgreement", "Integrity"),
    "start-without-state-transfer": ("ConfigurationTransition", "KVLinearizability"),
    "apply-late-acceptsync": ("LocalWellFormedness", "Integrity", "UnexpectedException"),
    "silent-on-repeated-acceptstopsign": ("Progress",),
    "keep-buffered-behind-stopsign": ("NoSilentProposalLoss",),
    "ignore-prepare-while-accepting": ("Progress",),
    "compact-without-saving-state": ("Integrity", "ConfigurationTransition", "KVLinearizability"),
    "count-duplicate-heartbeat-replies": ("QuorumConnectedTakeover",),
}

#: Nodes of the campaign that hunts a mutant, where 3 is not enough. A follower accepting a lower
#: ballot needs two leaders competing over a follower both reach, which 5 nodes draw sooner; a
#: duplicated reply only counts as a false quorum when a quorum is more than two.
CAMPAIGN_NODES: dict[str, int] = {"accept-lower-ballot": 5, "count-duplicate-heartbeat-replies": 5}


def campaign_nodes(variant: Variant) -> int:
    """The nodes of the campaign that hunts `variant`: its `CAMPAIGN_NODES` if it is one of the
    catalogue's mutants (not merely a variant of the same name), else 3."""
    return CAMPAIGN_NODES.get(variant.name, 3) if ALL.get(variant.name) is variant else 3


# --- hunting them ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catch:
    """How a fault campaign fared against one mutant: the invariant that failed first (``""`` when
    none did within the budget), how many seeds it took (the failing seed's position, 1-based) and
    how many operations the failing schedule shrank to."""

    mutant: str
    expected: tuple[str, ...]
    caught_by: str = ""
    seeds: Optional[int] = None
    shrunk_ops: Optional[int] = None
    message: str = ""
    trace: Any = field(default=None, repr=False, compare=False)

    @property
    def caught(self) -> bool:
        return bool(self.caught_by)


def hunt(name: str, seeds: int = 100, steps: int = 100, nodes: int = 3, shrink: bool = True,
         first_seed: int = 0) -> Catch:
    """Run the default fault campaign (`omnilab.sim.campaigns.run_seed`, seeds `first_seed`,
    `first_seed` + 1, ...) against mutant `name` until a seed fails; shrink that seed's schedule.
    ``seeds`` in the `Catch` counts from seed 0, so a hunt that starts at the seed known to fail
    reports the same figure as one from 0."""
    from . import campaigns

    variant = ALL[name]
    expected = EXPECTED.get(name, ())
    for position, seed in enumerate(range(first_seed, seeds), start=first_seed + 1):
        result = campaigns.run_seed(seed, steps, nodes, campaigns.FAULTS, shrink_failures=shrink, variant=variant)
        if not result.ok:
            return Catch(name, expected, result.violation, position, result.shrunk_ops, result.message, result.trace)
    return Catch(name, expected)


def table(names: Optional[list] = None, seeds: int = 100, steps: int = 100, nodes: Optional[int] = None,
          shrink: bool = True) -> list[Catch]:
    """`hunt` every mutant in `names` (default: the whole catalogue), in catalogue order, each on
    `nodes` nodes (default: its `CAMPAIGN_NODES`)."""
    return [hunt(name, seeds, steps, nodes or campaign_nodes(ALL[name]), shrink) for name in (names or list(ALL))]


def format_table(catches: list[Catch]) -> str:
    """The catches as a plain-text table: mutant, expected invariant, caught by, seeds, shrunk length."""
    rows = [("mutant", "expected", "caught by", "seeds", "shrunk ops")]
    for c in catches:
        rows.append((c.mutant, " / ".join(c.expected) or "(no safety invariant)", c.caught_by or "NOT CAUGHT",
                     "" if c.seeds is None else str(c.seeds), "" if c.shrunk_ops is None else str(c.shrunk_ops)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)
