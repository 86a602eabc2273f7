"""What a leader knows about its followers during one ballot.

Rebuilt from scratch every time I start leading a new ballot. Per member pid: whether it promised
me, its promise metadata, the accept-sequence number of my stream to it, and the last accepted index
it reported. omnilab keeps these in dicts keyed by member pids (the reference uses arrays indexed by
``pid - 1``, which breaks `trim` with sparse pids: see the README's list of divergences).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..ballot import Ballot, SequenceNumber
from ..config import Quorum
from ..messages import LogSync
from ..state import PromiseState


@dataclass(frozen=True)
class PromiseMeta:
    """How far a promiser's log goes: its accepted round, accepted and decided index, and its pid."""

    n_accepted: Ballot
    accepted_idx: int
    decided_idx: int
    pid: int

    def outranks(self, other: "PromiseMeta") -> bool:
        """True if this promiser's log is more up to date than `other`'s: a higher accepted round,
        or the same round and a longer log. A tie from another pid does not outrank (first wins)."""
        if self.n_accepted > other.n_accepted:
            return True
        return self.n_accepted == other.n_accepted and self.accepted_idx > other.accepted_idx


NO_PROMISE = PromiseMeta(Ballot(), 0, 0, 0)


class LeaderState:
    """The leader's per-follower bookkeeping for ballot `n_leader`."""

    def __init__(self, n_leader: Ballot, nodes: tuple, quorum: Quorum) -> None:
        self.n_leader = n_leader
        self.nodes = nodes
        self.quorum = quorum
        self.promise_state = {pid: PromiseState.NOT_PROMISED for pid in nodes}
        self.promise_meta: dict[int, PromiseMeta] = {}
        self.seq_num = {pid: SequenceNumber() for pid in nodes}
        self.accepted_idx = {pid: 0 for pid in nodes}
        self.max_promise_meta = NO_PROMISE
        self.max_promise_sync: Optional[LogSync] = None
        # The AcceptDecide to each follower that is still in my outbox and may be extended.
        self.latest_accept: dict = {}
        # follower -> (the accepted index it had reported, my accepted index) at my last resend
        # timeout: a follower that reported nothing new for a whole period while entries were
        # outstanding has lost my messages or its replies.
        self.resend_marks: dict[int, tuple[int, int]] = {}

    def is_member(self, pid: int) -> bool:
        return pid in self.promise_state

    def set_promise(self, meta: PromiseMeta, log_sync: Optional[LogSync] = None,
                    track_max: bool = False) -> bool:
        """Record `meta.pid`'s promise; True once the promises reach a read quorum."""
        self.promise_state[meta.pid] = PromiseState.PROMISED
        self.promise_meta[meta.pid] = meta
        if track_max and meta.outranks(self.max_promise_meta):
            self.max_promise_meta = meta
            self.max_promise_sync = log_sync
        return self.quorum.is_prepare_quorum(self.count_promised())

    def count_promised(self) -> int:
        return sum(1 for s in self.promise_state.values() if s is PromiseState.PROMISED)

    def take_max_promise_sync(self) -> Optional[LogSync]:
        sync, self.max_promise_sync = self.max_promise_sync, None
        return sync

    def max_decided_idx(self) -> int:
        return max((m.decided_idx for pid, m in self.promise_meta.items()
                    if self.promise_state[pid] is PromiseState.PROMISED), default=0)

    def reset_promise(self, pid: int) -> None:
        self.promise_state[pid] = PromiseState.NOT_PROMISED
        self.promise_meta.pop(pid, None)
        self.latest_accept.pop(pid, None)
        self.resend_marks.pop(pid, None)

    def lost_promise(self, pid: int) -> None:
        self.promise_state[pid] = PromiseState.PROMISED_HIGHER
        self.latest_accept.pop(pid, None)

    def promised_followers(self, me: int) -> list[int]:
        return [p for p in self.nodes if p != me and self.promise_state[p] is PromiseState.PROMISED]

    def preparable_peers(self, me: int) -> list[int]:
        """Peers that have not promised me (yet), in configuration order: they get (re)sent Prepare."""
        return [p for p in self.nodes if p != me and self.promise_state[p] is PromiseState.NOT_PROMISED]

    def next_seq_num(self, pid: int) -> SequenceNumber:
        s = self.seq_num[pid]
        self.seq_num[pid] = s = SequenceNumber(s.session, s.counter + 1)
        return s

    def new_session(self, pid: int) -> SequenceNumber:
        s = self.seq_num[pid]
        self.seq_num[pid] = s = SequenceNumber(s.session + 1, 1)
        return s

    def set_accepted_idx(self, pid: int, idx: int) -> None:
        self.accepted_idx[pid] = idx

    def is_chosen(self, idx: int) -> bool:
        """Has a write quorum (me included) accepted up to `idx` in this ballot?"""
        return self.quorum.is_accept_quorum(sum(1 for a in self.accepted_idx.values() if a >= idx))

    def min_accepted_idx(self) -> int:
        return min(self.accepted_idx.values())
