"""Every message the replicas exchange, one frozen dataclass each, named as in the paper and the Rust
source. A message is wrapped in an envelope naming its sender and receiver: `PaxosMessage` for
Sequence Paxos (also reachable as ``Message.SequencePaxos``) and `BLEMessage` for Ballot Leader
Election (``Message.BLE``). Messages are immutable: the network may deliver one object twice or to
several replicas, so nobody may change it after it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Optional, Union

from .ballot import Ballot, SequenceNumber
from .entries import StopSign

# --- what travels inside a log synchronisation -----------------------------------------------------

@dataclass(frozen=True)
class SnapshotType:
    """A snapshot shipped in a `LogSync`: ``SnapshotType.Complete(s)`` replaces the receiver's
    compacted prefix; ``SnapshotType.Delta(s)`` is merged onto the receiver's own decided prefix."""

    # The variants, attached below their definitions (``SnapshotType.Name``):
    Complete: ClassVar[type[Complete]]
    Delta: ClassVar[type[Delta]]

    snapshot: Any


@dataclass(frozen=True)
class Complete(SnapshotType):
    """The whole decided prefix as one snapshot."""


@dataclass(frozen=True)
class Delta(SnapshotType):
    """Only the decided entries the receiver lacks, as a snapshot to merge."""


SnapshotType.Complete = Complete
SnapshotType.Delta = Delta
Complete.__qualname__ = "SnapshotType.Complete"
Delta.__qualname__ = "SnapshotType.Delta"


@dataclass(frozen=True)
class LogSync:
    """What one replica needs to bring its log in line with another's: an optional decided snapshot,
    the ``suffix`` of entries to put at ``sync_idx`` (the log is cut there first), and the StopSign
    (None means: remove an undecided StopSign if you hold one)."""

    decided_snapshot: Optional[SnapshotType]
    suffix: tuple
    sync_idx: int
    stopsign: Optional[StopSign]


# --- Sequence Paxos -------------------------------------------------------------------------------

@dataclass(frozen=True)
class PrepareReq:
    """Follower -> leader (or every peer): "prepare me again". Sent on restart, on a detected gap in
    the accept stream and on `reconnected`. ``n`` is the sender's promise."""

    n: Ballot


@dataclass(frozen=True)
class Prepare:
    """Leader -> peers, phase 1a: "promise me round ``n``; here is how far my log goes"."""

    n: Ballot
    decided_idx: int
    n_accepted: Ballot
    accepted_idx: int


@dataclass(frozen=True)
class Promise:
    """Follower -> leader, phase 1b: the promise for round ``n`` and how far the follower's log goes;
    ``log_sync`` carries the follower's extra log when it is more up to date than the leader's."""

    n: Ballot
    n_accepted: Ballot
    decided_idx: int
    accepted_idx: int
    log_sync: Optional[LogSync]


@dataclass(frozen=True)
class AcceptSync:
    """Leader -> promised follower: make your log equal to mine (``log_sync``) and start accepting in
    round ``n``; ``seq_num`` opens a new session of the accept stream."""

    n: Ballot
    seq_num: SequenceNumber
    decided_idx: int
    log_sync: LogSync


@dataclass(frozen=True)
class AcceptDecide:
    """Leader -> follower, phase 2a: accept these ``entries`` after your log; everything below
    ``decided_idx`` is decided."""

    n: Ballot
    seq_num: SequenceNumber
    decided_idx: int
    entries: tuple


@dataclass(frozen=True)
class Accepted:
    """Follower -> leader, phase 2b: "in round ``n`` my log has length ``accepted_idx``"."""

    n: Ballot
    accepted_idx: int


@dataclass(frozen=True)
class Decide:
    """Leader -> follower: everything below ``decided_idx`` is decided (when no AcceptDecide is
    pending to carry the news)."""

    n: Ballot
    seq_num: SequenceNumber
    decided_idx: int


@dataclass(frozen=True)
class NotAccepted:
    """Follower -> a stale leader: "I promised a higher round, ``n``"; the leader stops sending to me."""

    n: Ballot


@dataclass(frozen=True)
class ProposalForward:
    """Anyone -> the leader it believes in: client entries appended at a non-leader."""

    entries: tuple


@dataclass(frozen=True)
class Compaction:
    """Propagates a compaction to peers: ``Compaction.Trim(idx)`` or ``Compaction.Snapshot(idx)``."""

    # The variants, attached below their definitions (``Compaction.Name``):
    Trim: ClassVar[type[Trim]]
    Snapshot: ClassVar[type[Snapshot]]

    idx: Optional[int]


@dataclass(frozen=True)
class Trim(Compaction):
    """Leader -> peers: trim your log up to ``idx``."""


@dataclass(frozen=True)
class Snapshot(Compaction):
    """Any -> peers: snapshot your decided log up to ``idx`` (None: all of it)."""


Compaction.Trim = Trim
Compaction.Snapshot = Snapshot
Trim.__qualname__ = "Compaction.Trim"
Snapshot.__qualname__ = "Compaction.Snapshot"


@dataclass(frozen=True)
class AcceptStopSign:
    """Leader -> follower: accept the StopSign ``ss`` in the slot after your last entry."""

    n: Ballot
    seq_num: SequenceNumber
    ss: StopSign


@dataclass(frozen=True)
class ForwardStopSign:
    """Anyone -> the leader it believes in: a `reconfigure` made at a non-leader."""

    ss: StopSign


PaxosMsg = Union[PrepareReq, Prepare, Promise, AcceptSync, AcceptDecide, Accepted, Decide, NotAccepted,
                 ProposalForward, Trim, Snapshot, AcceptStopSign, ForwardStopSign]

#: Every Sequence Paxos message class (the replica's dispatch table must cover each one).
PAXOS_MESSAGE_TYPES = (PrepareReq, Prepare, Promise, AcceptSync, AcceptDecide, Accepted, Decide,
                       NotAccepted, ProposalForward, Trim, Snapshot, AcceptStopSign, ForwardStopSign)


# --- Ballot Leader Election -----------------------------------------------------------------------

@dataclass(frozen=True)
class HeartbeatRequest:
    """BLE, every node -> every peer at the start of each election round."""

    round: int


@dataclass(frozen=True)
class HeartbeatReply:
    """BLE reply: the replier's own ``ballot``, the ``leader`` it follows, and whether it is
    ``happy`` (it hears a leader that has a quorum)."""

    round: int
    ballot: Ballot
    leader: Ballot
    happy: bool


HeartbeatMsg = Union[HeartbeatRequest, HeartbeatReply]
BLE_MESSAGE_TYPES = (HeartbeatRequest, HeartbeatReply)


# --- envelopes ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Message:
    """An envelope: ``sender`` and ``receiver`` pids and the protocol message ``msg``.

    Build one as ``Message.SequencePaxos(sender, receiver, msg)`` or ``Message.BLE(...)``.
    """

    # The variants, attached below their definitions (``Message.Name``):
    SequencePaxos: ClassVar[type[PaxosMessage]]
    BLE: ClassVar[type[BLEMessage]]

    sender: int
    receiver: int
    msg: Any

    def get_sender(self) -> int:
        return self.sender

    def get_receiver(self) -> int:
        return self.receiver


@dataclass(frozen=True)
class PaxosMessage(Message):
    """A Sequence Paxos message in its envelope."""


@dataclass(frozen=True)
class BLEMessage(Message):
    """A Ballot Leader Election message in its envelope."""


Message.SequencePaxos = PaxosMessage
Message.BLE = BLEMessage
