"""Ballot Leader Election (BLE) with quorum-connectivity.

Every election round I ask all peers for a heartbeat and they reply with their own ballot, the ballot
they follow, and whether they are *happy* (they hear a leader that has a quorum). At the end of a
round I adopt the largest ballot I heard directly, decide whether I am happy, and, if I am unhappy,
every peer I heard is unhappy too, and I hear a quorum, I take over with a ballot one higher than my
leader's. That last condition is what makes OmniPaxos live under partial connectivity: a node that
cannot see a quorum never raises its ballot, and a node with one happy neighbour stays quiet.

BLE never tells Sequence Paxos about other leaders; it only hands over *my* ballot when I believe I
lead. Sequence Paxos learns of other leaders from their Prepare messages.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

from .ballot import Ballot
from .config import OmniPaxosConfig, Quorum
from .messages import BLEMessage, HeartbeatReply, HeartbeatRequest
from .state import Phase, Role


class BallotLeaderElection:
    """One node's leader-election state machine. Sans-IO: messages in via `handle`, out via `outgoing`."""

    def __init__(self, config: OmniPaxosConfig, recovered_promise: Optional[Ballot],
                 quorum_rule: type[Quorum] = Quorum) -> None:
        cluster, server = config.cluster_config, config.server_config
        self.pid = server.pid
        self.configuration_id = cluster.configuration_id
        self.peers = [p for p in cluster.nodes if p != self.pid]
        self.quorum = quorum_rule.of(len(cluster.nodes), cluster.flexible_quorum)
        self.current_ballot = Ballot(self.configuration_id, 1, server.leader_priority, self.pid)
        if recovered_promise is not None and recovered_promise != Ballot():
            # I restarted: follow what I promised, and drop my own n to 0 so I cannot keep an old
            # leadership with the same ballot.
            self.leader = recovered_promise
            self.current_ballot = replace(self.current_ballot, n=0)
        else:
            self.leader = self.current_ballot
        self.happy = True
        self.hb_round = 0
        self.heartbeat_replies: list[HeartbeatReply] = []
        #: the peers whose reply to this round is among `heartbeat_replies`
        self.repliers: set[int] = set()
        self.prev_replies: list[HeartbeatReply] = []
        self.outgoing: list[BLEMessage] = []
        self.new_hb_round()

    # --- messages ----------------------------------------------------------------------------------

    def handle(self, message: BLEMessage) -> None:
        msg = message.msg
        if isinstance(msg, HeartbeatRequest):
            self.handle_heartbeat_request(message.sender, msg)
        elif isinstance(msg, HeartbeatReply):
            self.handle_heartbeat_reply(message.sender, msg)
        else:
            raise TypeError(f"not a BLE message: {msg!r}")

    def handle_heartbeat_request(self, sender: int, req: HeartbeatRequest) -> None:
        # Answer with how things look to me right now.
        reply = HeartbeatReply(req.round, self.current_ballot, self.leader, self.happy)
        self.outgoing.append(BLEMessage(self.pid, sender, reply))

    def handle_heartbeat_reply(self, sender: int, rep: HeartbeatReply) -> None:
        # Late replies from an earlier round, or from another configuration, are stale news. A second
        # reply from the same peer (the network duplicated it) is not a second voice: omnilab counts
        # each peer once a round, or a node hearing one peer twice would count a quorum of two.
        if (rep.round == self.hb_round and rep.ballot.config_id == self.configuration_id
                and sender not in self.repliers):
            self.repliers.add(sender)
            self.heartbeat_replies.append(rep)

    def take_outgoing(self) -> list[BLEMessage]:
        out, self.outgoing = self.outgoing, []
        return out

    # --- the end of a round --------------------------------------------------------------------------

    def hb_timeout(self, sp_state: tuple[Role, Phase], promise: Ballot) -> Optional[Ballot]:
        """End the current round; return my ballot if I now believe I lead, else None."""
        self.update_leader()
        self.update_happiness(sp_state)
        self.check_takeover()
        self.new_hb_round()
        if promise > self.leader:
            # Sequence Paxos promised a higher ballot than I know of (someone's Prepare, or my own
            # try_become_leader / recovery): follow it.
            self.leader = promise
            if promise.pid == self.pid:
                self.current_ballot = promise
            self.happy = True
        return self.current_ballot if self.leader == self.current_ballot else None

    def update_leader(self) -> None:
        # I only learn of a leader by hearing from it directly: take the largest *own* ballot replied
        # by a node that leads it (its leader is its own ballot). omnilab adds that last condition:
        # the reference also adopts the ballot of a follower whose priority was raised with
        # set_priority, so two such followers can follow each other's ballots, keep each other happy
        # and never hold an election after the real leader crashes.
        claimed = [r.ballot for r in self.heartbeat_replies if r.leader == r.ballot]
        if claimed:
            top = max(claimed, key=Ballot._order_key)
            if top > self.leader:
                self.leader = top

    def update_happiness(self, sp_state: tuple[Role, Phase]) -> None:
        replies = self.heartbeat_replies
        if self.leader == self.current_ballot:
            potential_followers = sum(1 for r in replies if r.leader <= self.current_ballot)
            if sp_state == (Role.LEADER, Phase.ACCEPT):
                enough = self.quorum.is_accept_quorum(potential_followers + 1)
            else:
                enough = self.quorum.is_prepare_quorum(potential_followers + 1)
            # Not enough followers: I am still fine if a bigger, happy leader exists.
            self.happy = enough or any(r.leader > self.current_ballot and r.happy for r in replies)
        else:
            self.happy = any(r.ballot == self.leader and r.happy for r in replies)

    def check_takeover(self) -> None:
        replies = self.heartbeat_replies
        if (not self.happy and all(not r.happy for r in replies)
                and self.quorum.is_prepare_quorum(len(replies) + 1)):
            self.current_ballot = replace(self.current_ballot, n=self.leader.n + 1)
            self.leader = self.current_ballot
            self.happy = True

    def new_hb_round(self) -> None:
        self.prev_replies = self.heartbeat_replies
        self.heartbeat_replies = []
        self.repliers = set()
        self.hb_round += 1
        for peer in self.peers:
            self.outgoing.append(BLEMessage(self.pid, peer, HeartbeatRequest(self.hb_round)))
