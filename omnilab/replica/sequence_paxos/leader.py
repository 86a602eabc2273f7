"""What only a leader does.

A leader first prepares: it asks every peer to promise its ballot and to tell it how far its log
goes. With a read quorum of promises it adopts the most up-to-date log among them (so it holds every
entry that may have been decided), then brings each follower's log in line with an AcceptSync and
starts accepting: new entries go out in AcceptDecide messages, and once a write quorum has accepted
an index the leader decides it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

from ..ballot import Ballot
from ..entries import StopSign
from ..messages import Accepted, AcceptStopSign, AcceptSync, Decide, NotAccepted, Prepare, PrepareReq, Promise
from ..state import Phase, Role
from .leader_state import LeaderState, PromiseMeta
from .outbox import AcceptDecideDraft


class LeaderHandlers:
    """Mixed into `SequencePaxos`: the leader's half of the protocol."""

    # State of `SequencePaxos` (set in its __init__) that this half reassigns; declared for mypy.
    buffered_proposals: list
    buffered_stopsign: Optional[StopSign]

    # --- becoming leader -----------------------------------------------------------------------------

    def handle_leader(self, n: Ballot) -> None:
        """BLE (or `try_become_leader`) says I should lead ballot `n`."""
        if not (n > self.leader_state.n_leader and n > self.log.promise):
            return  # BLE repeats my ballot every round; only a new, higher one counts
        if n.pid != self.pid:
            return  # BLE only ever hands me my own ballot
        self.leader_state = LeaderState(n, self.nodes, self.quorum)
        self.log.flush_batch()  # the coming sync carries these entries; no messages needed
        self.log.set_promise(n)
        my_promise = PromiseMeta(self.log.accepted_round, self.log.accepted_idx, self.log.decided_idx, self.pid)
        self.leader_state.set_promise(my_promise, track_max=True)
        self.set_state(Role.LEADER, Phase.PREPARE)
        for peer in self.peers:
            self.send_prepare(peer)

    def send_prepare(self, peer: int) -> None:
        self.outbox.send(peer, Prepare(self.leader_state.n_leader, self.log.decided_idx,
                                       self.log.accepted_round, self.log.accepted_idx))

    # --- promises --------------------------------------------------------------------------------------

    def handle_promise(self, sender: int, prom: Promise) -> None:
        if self.role is not Role.LEADER or not self.leader_state.is_member(sender):
            return
        if self.phase is Phase.PREPARE:
            self.handle_promise_prepare(sender, prom)
        elif self.phase is Phase.ACCEPT:
            self.handle_promise_accept(sender, prom)

    def handle_promise_prepare(self, sender: int, prom: Promise) -> None:
        if prom.n != self.leader_state.n_leader:
            return
        meta = PromiseMeta(prom.n_accepted, prom.accepted_idx, prom.decided_idx, sender)
        if self.leader_state.set_promise(meta, prom.log_sync, track_max=True):
            self.handle_majority_promises()

    def handle_promise_accept(self, sender: int, prom: Promise) -> None:
        # A late promise (or a re-promise after PrepareReq): sync that follower on its own.
        if prom.n != self.leader_state.n_leader:
            return
        meta = PromiseMeta(prom.n_accepted, prom.accepted_idx, prom.decided_idx, sender)
        self.leader_state.set_promise(meta)
        self.send_accsync(sender)

    def handle_majority_promises(self) -> None:
        """A read quorum promised: adopt the most up-to-date log among them and start accepting."""
        ls = self.leader_state
        sync = ls.take_max_promise_sync()
        decided = max(ls.max_decided_idx(), self.log.decided_idx)
        self.log.sync_log(ls.n_leader, decided, sync)
        if self.log.stopsign is None:
            if self.buffered_proposals:
                buffered, self.buffered_proposals = self.buffered_proposals, []
                self.log.append_without_batching(buffered)
            if self.buffered_stopsign is not None:
                ss, self.buffered_stopsign = self.buffered_stopsign, None
                self.log.set_stopsign(ss)  # the AcceptSyncs below carry it to the followers
        else:
            self.drop_buffered()  # the synced log ends in a StopSign: nothing may follow it
        self.set_state(Role.LEADER, Phase.ACCEPT)
        ls.set_accepted_idx(self.pid, self.log.accepted_idx)
        for follower in ls.promised_followers(self.pid):
            self.send_accsync(follower)

    def send_accsync(self, follower: int) -> None:
        """Bring `follower`'s log in line with mine and open a new session of my stream to it."""
        ls = self.leader_state
        f = ls.promise_meta[follower]
        top = ls.max_promise_meta
        # How much of the follower's log is certainly equal to mine:
        if f.n_accepted == ls.n_leader:
            valid_prefix = f.accepted_idx  # it accepted in my ballot: all of it
        elif f.n_accepted == top.n_accepted:
            valid_prefix = min(top.accepted_idx, f.accepted_idx)  # same round as the log I adopted
        else:
            valid_prefix = f.decided_idx  # only what it decided
        log_sync = self.log.create_log_sync(valid_prefix, f.decided_idx)
        ls.latest_accept.pop(follower, None)  # later AcceptDecides must follow this sync
        seq = ls.new_session(follower)
        self.outbox.send(follower, AcceptSync(ls.n_leader, seq, self.log.decided_idx, log_sync))

    # --- accepting -----------------------------------------------------------------------------------

    def accept_entries_leader(self, entries: list) -> None:
        flushed = self.log.append_with_batching(entries)
        if flushed:
            self.leader_state.set_accepted_idx(self.pid, self.log.accepted_idx)
            self.send_acceptdecide(flushed)

    def flush_batch_leader(self) -> None:
        flushed = self.log.flush_batch()
        if flushed:
            self.leader_state.set_accepted_idx(self.pid, self.log.accepted_idx)
            self.send_acceptdecide(flushed)

    def send_acceptdecide(self, entries: list) -> None:
        ls = self.leader_state
        for follower in ls.promised_followers(self.pid):
            draft = ls.latest_accept.get(follower)
            if draft is not None and draft.n == ls.n_leader:
                draft.entries.extend(entries)  # still in my outbox: one message, one sequence number
                draft.decided_idx = self.log.decided_idx
            else:
                draft = AcceptDecideDraft(follower, ls.n_leader, ls.next_seq_num(follower),
                                          self.log.decided_idx, entries)
                ls.latest_accept[follower] = self.outbox.add_draft(draft)

    def handle_accepted(self, sender: int, acc: Accepted) -> None:
        ls = self.leader_state
        if acc.n != ls.n_leader or self.state != (Role.LEADER, Phase.ACCEPT) or not ls.is_member(sender):
            return
        ls.set_accepted_idx(sender, acc.accepted_idx)
        if acc.accepted_idx > self.log.decided_idx and ls.is_chosen(acc.accepted_idx):
            self.log.set_decided_idx(acc.accepted_idx)
            for follower in ls.promised_followers(self.pid):
                draft = ls.latest_accept.get(follower)
                if draft is not None:
                    draft.decided_idx = self.log.decided_idx  # piggy-back on the waiting AcceptDecide
                else:
                    self.outbox.send(follower, Decide(ls.n_leader, ls.next_seq_num(follower),
                                                      self.log.decided_idx))

    def accept_stopsign_leader(self, ss: StopSign) -> None:
        self.flush_batch_leader()  # entries before the StopSign go out first
        self.log.set_stopsign(ss)
        ls = self.leader_state
        ls.set_accepted_idx(self.pid, self.log.accepted_idx)
        for follower in ls.promised_followers(self.pid):
            self.outbox.send(follower, AcceptStopSign(ls.n_leader, ls.next_seq_num(follower), ss))

    # --- trouble at the followers --------------------------------------------------------------------

    def handle_notaccepted(self, sender: int, na: NotAccepted) -> None:
        # That follower promised a higher ballot: stop sending to it. I only step down when a higher
        # Prepare reaches me or BLE moves on.
        if self.role is Role.LEADER and self.leader_state.n_leader < na.n and self.leader_state.is_member(sender):
            self.leader_state.lost_promise(sender)

    def handle_preparereq(self, sender: int, req: PrepareReq) -> None:
        ls = self.leader_state
        if self.role is not Role.LEADER or not ls.is_member(sender):
            return
        if req.n <= ls.n_leader:
            ls.reset_promise(sender)
            self.send_prepare(sender)
        elif req.n.pid == sender:
            # omnilab divergence (the reference ignores this): the sender restarted after promising
            # itself a ballot above mine, i.e. it crashed while leading or trying to lead. It can never
            # promise my ballot, and BLE never hears of its ballot (a restarted node advertises n = 0),
            # so it would stay in Recover forever. I take over above its ballot instead.
            self.handle_leader(replace(ls.n_leader, n=req.n.n + 1))

    def resend_leader(self) -> None:
        ls = self.leader_state
        if self.phase is Phase.ACCEPT and self.log.stopsign is None:
            self.reprepare_silent_followers()
        if self.phase is Phase.ACCEPT and self.log.stopsign is not None:
            for follower in ls.promised_followers(self.pid):
                seq = ls.seq_num[follower]  # a resend reuses the current number
                if self.log.stopsign_is_decided():
                    # I cannot know whether my Decide arrived, so I repeat it (forever).
                    self.outbox.send(follower, Decide(ls.n_leader, seq, self.log.decided_idx))
                elif ls.accepted_idx[follower] != self.log.accepted_idx:
                    self.outbox.send(follower, AcceptStopSign(ls.n_leader, seq, self.log.stopsign))
        if self.phase in (Phase.PREPARE, Phase.ACCEPT):
            for peer in ls.preparable_peers(self.pid):
                self.send_prepare(peer)

    def reprepare_silent_followers(self) -> None:
        """omnilab divergence (the reference resends nothing for entries): a follower that has not
        acknowledged entries I sent it a whole resend period ago, and reported nothing since, lost
        my AcceptDecide or its Accepted. Nothing else would make either side move: the follower sees
        no gap until I send again, and if its Accepted was lost, a write quorum may never form and
        the entries stay undecided while the cluster idles. So I prepare it again, as when it asks
        with a PrepareReq: it promises my ballot anew (also while accepting), and the AcceptSync that
        answers brings its log in line and makes it report its accepted index. The sequence numbers
        are untouched: the sync opens a new session, as every sync does."""
        ls = self.leader_state
        marks, mine = ls.resend_marks, self.log.accepted_idx
        for follower in ls.promised_followers(self.pid):
            reported = ls.accepted_idx[follower]
            mark = marks.get(follower)
            if mark is not None and reported == mark[0] < mark[1]:
                ls.reset_promise(follower)
                self.send_prepare(follower)
            else:
                marks[follower] = (reported, mine)
