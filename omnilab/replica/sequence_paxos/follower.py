"""What only a follower does.

A follower promises a higher ballot when asked (telling the leader what extra log it has), lets the
leader's AcceptSync overwrite its log, then accepts the leader's stream of AcceptDecide, Decide and
AcceptStopSign messages in sequence-number order. A gap in that stream means messages were lost: the
follower then asks to be prepared again (Recover), because it cannot tell what it missed.
"""

from __future__ import annotations

from enum import Enum
from typing import Optional

from ..ballot import Ballot, SequenceNumber
from ..entries import StopSign
from ..messages import AcceptDecide, AcceptStopSign, AcceptSync, Decide, ForwardStopSign, NotAccepted, Prepare, Promise
from ..state import Phase, Role
from .outbox import AcceptedDraft


class SequenceCheck(Enum):
    EXPECTED = "Expected"
    OUTDATED = "Outdated"
    DROPPED_PRECEDING = "DroppedPreceding"


class FollowerHandlers:
    """Mixed into `SequencePaxos`: the follower's half of the protocol."""

    # State of `SequencePaxos` (set in its __init__) that this half reassigns; declared for mypy.
    buffered_proposals: list
    buffered_stopsign: Optional[StopSign]
    cached_promise: Optional[Promise]

    # --- phase 1 -------------------------------------------------------------------------------------

    def handle_prepare(self, sender: int, prep: Prepare) -> None:
        promise = self.log.promise
        again = promise == prep.n and self.role is Role.FOLLOWER and self.phase in (Phase.RECOVER, Phase.ACCEPT)
        if not (promise < prep.n or again):
            return  # I promised a higher ballot, or this one and my Promise is on its way (resent by my timer)
        # A Prepare for the ballot I already promised: while I recover, it answers my PrepareReq. While
        # I accept, it means the leader no longer counts my promise (a PrepareReq of mine arrived late,
        # after it had synced me, and it reset me to "not promised"): it sends me nothing but Prepares
        # from then on, so I promise again and it syncs me. (The reference answers only in Recover, and
        # the two sides then never find each other again.)
        self.log.flush_batch()
        self.log.set_promise(prep.n)
        self.set_state(Role.FOLLOWER, Phase.PREPARE)
        self.current_seq_num = SequenceNumber()
        log = self.log
        if log.accepted_round > prep.n_accepted:
            # I accepted in a later round than the leader: everything after its decided part may differ.
            log_sync = log.create_log_sync(prep.decided_idx, prep.decided_idx)
        elif log.accepted_round == prep.n_accepted and log.accepted_idx > prep.accepted_idx:
            # Same round, my log is longer: send the leader what it lacks.
            log_sync = log.create_log_sync(prep.accepted_idx, prep.decided_idx)
        else:
            log_sync = None
        self.cached_promise = Promise(prep.n, log.accepted_round, log.decided_idx, log.accepted_idx, log_sync)
        self.outbox.send(sender, self.cached_promise)

    # --- phase 2 -------------------------------------------------------------------------------------

    def handle_acceptsync(self, sender: int, sync: AcceptSync) -> None:
        if not self.check_valid_ballot(sync.n) or self.state != (Role.FOLLOWER, Phase.PREPARE):
            return
        if self.is_stale_sync(sync):
            return  # an answer to an earlier Promise of mine; my resend timer repeats the current one
        self.cached_promise = None
        accepted_idx = self.log.sync_log(sync.n, sync.decided_idx, sync.log_sync)
        if self.log.stopsign is None:
            self.forward_buffered()
        else:
            self.drop_buffered()
        self.set_state(Role.FOLLOWER, Phase.ACCEPT)
        self.current_seq_num = sync.seq_num
        draft = AcceptedDraft(sender, sync.n, accepted_idx)
        self.latest_accepted = self.outbox.add_draft(draft)

    def is_stale_sync(self, sync: AcceptSync) -> bool:
        """Is `sync` the leader's answer to an earlier Promise of mine in the ballot I already accept
        in, delivered late (an earlier session of the same ballot)?

        Within one ballot the leader's log only grows, and everything I accepted in that ballot came
        from it, so my log is a prefix of the leader's log as it is now. An AcceptSync is computed
        from what my Promise said about my log; one that answers an earlier Promise of this ballot
        reflects the leader's log as it was then, which may end before mine does. Applying it would
        cut my log below entries I have since accepted, and below my decided index (I keep that
        index: it never moves back). Such a sync holds nothing I lack, so I ignore it and wait for
        the answer to my current Promise. A sync that ends at or after the end of my log is applied:
        over my log it holds the same entries, so everything I decided stays where it is.

        Nor can a sync start inside my compacted prefix: an answer to my current Promise starts at or
        above the decided index I promised with, and I compact only decided slots. One that starts
        below my compacted index answers an earlier Promise (I compacted since, e.g. from a
        snapshot the leader synced me with in between); it would rewrite slots my storage no longer
        holds, so I ignore it too.
        """
        log = self.log
        if log.accepted_round != sync.n:
            return False  # my first sync in this ballot: it answers the log I promised with
        ls = sync.log_sync
        if ls.sync_idx < log.compacted_idx:
            return True
        sync_end = ls.sync_idx + len(ls.suffix) + (1 if ls.stopsign is not None else 0)
        return sync_end < log.accepted_idx

    def forward_buffered(self) -> None:
        """Now that I follow a leader, hand it what I held while no leader was known."""
        if self.buffered_proposals:
            buffered, self.buffered_proposals = self.buffered_proposals, []
            self.forward_proposals(buffered)
        if self.buffered_stopsign is not None:
            ss, self.buffered_stopsign = self.buffered_stopsign, None
            self.outbox.send(self.leader_pid(), ForwardStopSign(ss))

    def handle_acceptdecide(self, sender: int, acc: AcceptDecide) -> None:
        if (not self.check_valid_ballot(acc.n) or self.state != (Role.FOLLOWER, Phase.ACCEPT)
                or self.handle_sequence_num(acc.seq_num, acc.n.pid) is not SequenceCheck.EXPECTED):
            return
        flushed = self.log.append_with_batching(list(acc.entries))
        new_accepted = self.log.accepted_idx if flushed else None
        after_decide = self.update_decided(acc.decided_idx)
        if after_decide is not None:
            new_accepted = after_decide
        if new_accepted is not None:
            self.reply_accepted(acc.n, new_accepted)

    def handle_decide(self, sender: int, dec: Decide) -> None:
        if (not self.check_valid_ballot(dec.n) or self.phase is not Phase.ACCEPT
                or self.handle_sequence_num(dec.seq_num, dec.n.pid) is not SequenceCheck.EXPECTED):
            return
        flushed_accepted = self.update_decided(dec.decided_idx)
        if flushed_accepted is not None:
            self.reply_accepted(dec.n, flushed_accepted)

    def handle_accept_stopsign(self, sender: int, acc: AcceptStopSign) -> None:
        if not self.check_valid_ballot(acc.n) or self.state != (Role.FOLLOWER, Phase.ACCEPT):
            return
        check = self.handle_sequence_num(acc.seq_num, acc.n.pid)
        if check is SequenceCheck.OUTDATED:
            # The leader repeats an AcceptStopSign it has not seen answered, with the number it
            # already used (its resend timer). If I hold that StopSign, my Accepted was lost: answer
            # again, or the StopSign is never decided and nothing can ever follow it. (The reference
            # stays silent here.) The repeat changes nothing in my log and my place in the stream, so
            # the sequence numbers still catch every message I miss.
            if self.log.stopsign is not None and self.log.stopsign == acc.ss:
                self.reply_accepted(acc.n, self.log.accepted_idx)
            return
        if check is not SequenceCheck.EXPECTED:
            return
        self.log.flush_batch()
        self.log.set_stopsign(acc.ss)
        self.reply_accepted(acc.n, self.log.accepted_idx)

    def update_decided(self, decided_idx: int) -> Optional[int]:
        """Learn that `decided_idx` slots are decided. If that reaches past what I have written, flush
        my batch first and return my new accepted index (the leader must hear it); else None."""
        if decided_idx <= self.log.decided_idx:
            return None
        if decided_idx > self.log.accepted_idx:
            self.log.flush_batch()
            self.log.set_decided_idx(min(decided_idx, self.log.accepted_idx))
            return self.log.accepted_idx
        self.log.set_decided_idx(decided_idx)
        return None

    def reply_accepted(self, n: Ballot, accepted_idx: int) -> None:
        draft = self.latest_accepted
        if draft is not None and draft.n == n:
            draft.accepted_idx = accepted_idx  # not sent yet: one Accepted with the newest index
        else:
            self.latest_accepted = self.outbox.add_draft(AcceptedDraft(n.pid, n, accepted_idx))

    # --- checks --------------------------------------------------------------------------------------

    def check_valid_ballot(self, n: Ballot) -> bool:
        """Is `n` the ballot I promised? Tell a stale leader; re-sync if the leader is ahead of me."""
        promise = self.log.promise
        if promise.same_round(n):
            return True
        if promise > n:
            self.outbox.send(n.pid, NotAccepted(promise))
        else:
            self.reconnected(n.pid)  # I missed its Prepare
        return False

    def handle_sequence_num(self, seq: SequenceNumber, leader_pid: int) -> SequenceCheck:
        current = self.current_seq_num
        if seq.session == current.session and seq.counter == current.counter + 1:
            self.current_seq_num = seq
            return SequenceCheck.EXPECTED
        if seq <= current:
            return SequenceCheck.OUTDATED
        # A gap (or a session I never saw opened): I lost messages and cannot know which.
        self.reconnected(leader_pid)
        return SequenceCheck.DROPPED_PRECEDING
