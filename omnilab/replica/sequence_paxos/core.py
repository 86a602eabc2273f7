"""The Sequence Paxos replica: shared state, the dispatch table, proposals, compaction and timers.

Leader-only handlers live in `leader.py`, follower-only ones in `follower.py`; this class composes
them. State is explicit: ``role`` and ``phase`` (enums), the log (`ReplicaLog`), the leader's
bookkeeping (`LeaderState`, meaningful while I lead), and what I hold for later (proposals buffered
while no leader is known, or while I am still preparing).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from ..ballot import Ballot, SequenceNumber
from ..config import ClusterConfig, OmniPaxosConfig, Quorum
from ..entries import StopSign
from ..errors import CompactionErr, ConfigError, ProposeErr, SnapshotUnsupported
from ..messages import (
    AcceptDecide,
    Accepted,
    AcceptStopSign,
    AcceptSync,
    Decide,
    ForwardStopSign,
    NotAccepted,
    PaxosMessage,
    Prepare,
    PrepareReq,
    Promise,
    ProposalForward,
    Snapshot,
    Trim,
)
from ..state import Phase, Role
from .follower import FollowerHandlers
from .leader import LeaderHandlers
from .leader_state import LeaderState
from .log import ReplicaLog
from .outbox import AcceptedDraft, Outbox
from .transitions import ALLOWED, IllegalTransition


class UnknownMessage(TypeError):
    """A peer sent something that is not a Sequence Paxos message (peer misbehaviour, not misuse)."""


class SequencePaxos(LeaderHandlers, FollowerHandlers):
    """One replica's Sequence Paxos. Calls in, messages out through `take_outgoing`."""

    def __init__(self, config: OmniPaxosConfig, storage: Any, recovered_promise: Optional[Ballot],
                 quorum_rule: type[Quorum] = Quorum) -> None:
        cluster, server = config.cluster_config, config.server_config
        self.pid: int = server.pid
        self.configuration_id: int = cluster.configuration_id
        self.nodes: tuple = tuple(cluster.nodes)
        self.peers: list[int] = [p for p in cluster.nodes if p != self.pid]
        self.quorum = quorum_rule.of(len(self.nodes), cluster.flexible_quorum)
        self.log = ReplicaLog(storage, server.batch_size)
        self.outbox = Outbox(self.pid)
        self.role = Role.FOLLOWER
        self.buffered_proposals: list = []
        self.buffered_stopsign: Optional[StopSign] = None
        self.dropped_proposals: list = []
        # follower side
        self.current_seq_num = SequenceNumber()
        self.cached_promise: Optional[Promise] = None
        self.latest_accepted: Optional[AcceptedDraft] = None
        if recovered_promise is not None:
            # I restarted from storage: I may have missed anything, so ask everyone to prepare me.
            self.phase = Phase.RECOVER
            self.leader_state = LeaderState(recovered_promise, self.nodes, self.quorum)
            for peer in self.peers:
                self.outbox.send(peer, PrepareReq(recovered_promise))
        else:
            self.phase = Phase.NONE
            self.leader_state = LeaderState(Ballot(), self.nodes, self.quorum)
        self.handlers: dict[type, Callable[[int, Any], None]] = {
            PrepareReq: self.handle_preparereq,
            Prepare: self.handle_prepare,
            Promise: self.handle_promise,
            AcceptSync: self.handle_acceptsync,
            AcceptDecide: self.handle_acceptdecide,
            Accepted: self.handle_accepted,
            Decide: self.handle_decide,
            NotAccepted: self.handle_notaccepted,
            ProposalForward: self.handle_forwarded_proposal,
            Trim: self.handle_compaction_trim,
            Snapshot: self.handle_compaction_snapshot,
            AcceptStopSign: self.handle_accept_stopsign,
            ForwardStopSign: self.handle_forwarded_stopsign,
        }

    # --- state ---------------------------------------------------------------------------------------

    @property
    def state(self) -> tuple[Role, Phase]:
        return (self.role, self.phase)

    def set_state(self, role: Role, phase: Phase) -> None:
        """Change (role, phase); only the changes listed in `transitions.TRANSITIONS` are possible."""
        if (role, phase) != (self.role, self.phase) and ((self.role, self.phase), (role, phase)) not in ALLOWED:
            raise IllegalTransition(f"node {self.pid}: {self.role.value}/{self.phase.value} -> "
                                    f"{role.value}/{phase.value} is not a transition of Sequence Paxos")
        self.role, self.phase = role, phase

    def leader_pid(self) -> int:
        """The pid of the ballot I promised (0: nobody)."""
        return self.log.promise.pid

    # --- messages ------------------------------------------------------------------------------------

    def handle(self, message: PaxosMessage) -> None:
        handler = self.handlers.get(type(message.msg))
        if handler is None:
            raise UnknownMessage(f"node {self.pid} cannot handle {message.msg!r}: not a Sequence Paxos message")
        handler(message.sender, message.msg)

    def take_outgoing(self) -> list[PaxosMessage]:
        # Freezing drafts ends coalescing: later appends start new messages.
        self.leader_state.latest_accept.clear()
        self.latest_accepted = None
        return self.outbox.take()

    def take_dropped_proposals(self) -> list:
        dropped, self.dropped_proposals = self.dropped_proposals, []
        return dropped

    # --- proposals -----------------------------------------------------------------------------------

    def append(self, entry: Any) -> None:
        if self.log.stopsign is not None:
            raise ProposeErr.PendingReconfigEntry(entry)
        if self.state == (Role.LEADER, Phase.ACCEPT):
            self.accept_entries_leader([entry])
        elif self.state == (Role.LEADER, Phase.PREPARE):
            self.buffered_proposals.append(entry)
        else:
            self.forward_proposals([entry])

    def forward_proposals(self, entries: list) -> None:
        leader = self.leader_pid()
        if leader and leader != self.pid:
            self.outbox.send(leader, ProposalForward(tuple(entries)))
        else:
            self.buffered_proposals.extend(entries)  # no leader known yet: hold them

    def drop_buffered(self) -> None:
        """My log now ends in a StopSign, so nothing I held back (while no leader was known, or while
        I prepared) can follow it in this configuration: report it (``take_dropped_proposals``)
        instead of keeping it forever. The reference keeps it silently, as leader and as follower."""
        self.dropped_proposals.extend(self.buffered_proposals)
        self.buffered_proposals = []
        if self.buffered_stopsign is not None:
            self.dropped_proposals.append(self.buffered_stopsign)
            self.buffered_stopsign = None

    def handle_forwarded_proposal(self, sender: int, pf: ProposalForward) -> None:
        if self.log.stopsign is not None:
            self.dropped_proposals.extend(pf.entries)  # sealed: report instead of losing silently
        elif self.state == (Role.LEADER, Phase.PREPARE):
            self.buffered_proposals.extend(pf.entries)
        elif self.state == (Role.LEADER, Phase.ACCEPT):
            self.accept_entries_leader(list(pf.entries))
        else:
            self.forward_proposals(list(pf.entries))

    def reconfigure(self, new_config: ClusterConfig, metadata: Any = None) -> None:
        try:
            new_config.validate()
        except ConfigError as err:
            raise ProposeErr.ConfigError(err, new_config, metadata) from err
        if self.log.stopsign is not None:
            raise ProposeErr.PendingReconfigConfig(new_config, metadata)
        self.propose_stopsign(StopSign(new_config, metadata))

    def propose_stopsign(self, ss: StopSign) -> None:
        if self.state == (Role.LEADER, Phase.ACCEPT):
            self.accept_stopsign_leader(ss)
        elif self.state == (Role.LEADER, Phase.PREPARE):
            if self.buffered_stopsign is not None:
                self.dropped_proposals.append(self.buffered_stopsign)
            self.buffered_stopsign = ss
        else:
            self.forward_stopsign(ss)

    def forward_stopsign(self, ss: StopSign) -> None:
        leader = self.leader_pid()
        if leader and leader != self.pid:
            self.outbox.send(leader, ForwardStopSign(ss))
        elif self.buffered_stopsign is None:
            self.buffered_stopsign = ss  # the first StopSign waiting for a leader wins
        else:
            self.dropped_proposals.append(ss)

    def handle_forwarded_stopsign(self, sender: int, fs: ForwardStopSign) -> None:
        if self.log.stopsign is not None:
            self.dropped_proposals.append(fs.ss)
        else:
            self.propose_stopsign(fs.ss)

    # --- losing and regaining contact ----------------------------------------------------------------

    def reconnected(self, pid: int) -> None:
        """The link to `pid` is back (or I noticed I lost messages from it): ask it to prepare me."""
        if pid == self.pid:
            return
        if pid == self.leader_pid():
            self.set_state(Role.FOLLOWER, Phase.RECOVER)
        self.outbox.send(pid, PrepareReq(self.log.promise))

    # --- compaction ----------------------------------------------------------------------------------

    def trim(self, idx: Optional[int]) -> None:
        if self.role is not Role.LEADER:
            raise CompactionErr.NotCurrentLeader(self.leader_pid())
        min_accepted = self.leader_state.min_accepted_idx()
        if idx is None:
            idx = min_accepted
        elif idx > min_accepted:
            raise CompactionErr.NotAllDecided(min_accepted)
        self.log.try_trim(idx)
        for peer in self.peers:
            self.outbox.send(peer, Trim(idx))

    def snapshot(self, idx: Optional[int], local_only: bool) -> None:
        self.log.try_snapshot(idx)
        if not local_only:
            for peer in self.peers:
                self.outbox.send(peer, Snapshot(idx))

    def handle_compaction_trim(self, sender: int, msg: Trim) -> None:
        try:
            self.log.try_trim(msg.idx)
        except CompactionErr:
            pass  # I have not decided that far: skip it, the leader does not need my answer

    def handle_compaction_snapshot(self, sender: int, msg: Snapshot) -> None:
        try:
            self.log.try_snapshot(msg.idx)
        except (CompactionErr, SnapshotUnsupported):
            pass

    # --- timers --------------------------------------------------------------------------------------

    def resend_message_timeout(self) -> None:
        """Resend what may have been lost."""
        if self.role is Role.LEADER:
            self.resend_leader()
        elif self.phase is Phase.PREPARE:
            if self.cached_promise is not None:
                self.outbox.send(self.cached_promise.n.pid, self.cached_promise)
            else:
                self.set_state(Role.FOLLOWER, Phase.RECOVER)
                self.send_preparereq_to_all()
        elif self.phase is Phase.RECOVER:
            self.send_preparereq_to_all()

    def send_preparereq_to_all(self) -> None:
        for peer in self.peers:
            self.outbox.send(peer, PrepareReq(self.log.promise))

    def flush_batch_timeout(self) -> None:
        if self.state == (Role.LEADER, Phase.ACCEPT):
            self.flush_batch_leader()
        elif self.state == (Role.FOLLOWER, Phase.ACCEPT):
            before = self.log.accepted_idx
            self.log.flush_batch()
            if self.log.accepted_idx > before:
                self.reply_accepted(self.log.promise, self.log.accepted_idx)
