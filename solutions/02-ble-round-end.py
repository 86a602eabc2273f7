# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---


# %% [markdown]
# # Exercise 2: Ballot Leader Election, the round end
#
# Ballot Leader Election (BLE) runs in rounds. In every round each node asks its peers for a
# heartbeat; each reply carries the replier's own **ballot**, the ballot it **follows** (its
# leader), and whether it is **happy** (it hears a leader that has a quorum). At the end of the
# round, a node does three things, in this order:
#
# 1. **Adopt the leader**: follow the largest ballot it heard from a node that *leads* that ballot
#    (a reply whose `leader` is its own `ballot`), if that is larger than the ballot it follows.
# 2. **Update its happiness**: if it leads, it is happy when enough nodes follow it (a write quorum
#    while Sequence Paxos is accepting, a read quorum before); it is also fine if some reply shows a
#    bigger, happy leader. If it follows, it is happy when its leader replied and is happy.
# 3. **Take over** if it is unhappy, *every* node it heard is unhappy too, and it hears a read
#    quorum (itself included): it leads a new ballot one higher than its leader's.
#
# The last rule is what keeps OmniPaxos live under partial connectivity (the OmniPaxos paper's
# quorum-loss, constrained-election and chained scenarios): a node that cannot reach a quorum never
# raises its ballot, and a node with one happy neighbour stays quiet. You write the three steps; the
# rest of OmniPaxos is the reference.

# %%
import omnilab
import omnilab.grading
from omnilab.grading.exercises.ble_round_end import BlankBallotLeaderElection
from omnilab.replica import Ballot, Phase, Role

# %% [markdown]
# ## Your task
#
# Complete the three methods. Everything you need is on `self` (see
# `help(BlankBallotLeaderElection)`): `current_ballot` (mine), `leader` (the ballot I follow),
# `happy`, `quorum` (`is_prepare_quorum(count)`, `is_accept_quorum(count)`) and `heartbeat_replies`
# (this round's replies, each with `.ballot`, `.leader`, `.happy`). Ballots compare with `<`, `>`
# and `max`; `dataclasses.replace(ballot, n=...)` makes a new one.

# %% tags=["answer"] omnilab={"exercise": "ex02", "surface": "MyBallotLeaderElection"}
from dataclasses import replace


class MyBallotLeaderElection(BlankBallotLeaderElection):
    def update_leader(self) -> None:
        """Follow the largest ballot heard this round from a node that leads it (its reply's
        ``leader`` equals its ``ballot``), if it is larger than ``self.leader``."""
        # Hint: a reply from a follower names the ballot *it* follows; only a leader's own ballot counts.
        ### BEGIN SOLUTION
        claimed = [r.ballot for r in self.heartbeat_replies if r.leader == r.ballot]
        if claimed and max(claimed) > self.leader:
            self.leader = max(claimed)
        ### END SOLUTION

    def update_happiness(self, sp_state: tuple[Role, Phase]) -> None:
        """Set ``self.happy``. If I lead (``self.leader == self.current_ballot``): happy when the
        nodes that follow no bigger ballot than mine, me included, are a quorum (a write quorum if
        `sp_state` is ``(Role.LEADER, Phase.ACCEPT)``, else a read quorum), or when some reply shows
        a bigger leader that is happy. If I follow: happy when my leader replied and is happy."""
        # Hint: "follow no bigger ballot than mine" is r.leader <= self.current_ballot.
        ### BEGIN SOLUTION
        replies = self.heartbeat_replies
        if self.leader == self.current_ballot:
            followers = sum(1 for r in replies if r.leader <= self.current_ballot) + 1
            if sp_state == (Role.LEADER, Phase.ACCEPT):
                enough = self.quorum.is_accept_quorum(followers)
            else:
                enough = self.quorum.is_prepare_quorum(followers)
            self.happy = enough or any(r.leader > self.current_ballot and r.happy for r in replies)
        else:
            self.happy = any(r.ballot == self.leader and r.happy for r in replies)
        ### END SOLUTION

    def check_takeover(self) -> None:
        """If I am unhappy, every reply is unhappy, and the replies plus me are a read quorum, lead
        a new ballot: my ballot with ``n`` one higher than my leader's; I follow it and am happy."""
        # Hint: all(...) of no replies is True, so the quorum condition is what stops an isolated node.
        ### BEGIN SOLUTION
        replies = self.heartbeat_replies
        if not self.happy and all(not r.happy for r in replies) and self.quorum.is_prepare_quorum(len(replies) + 1):
            self.current_ballot = replace(self.current_ballot, n=self.leader.n + 1)
            self.leader = self.current_ballot
            self.happy = True
        ### END SOLUTION


# %% [markdown]
# ## Try it
#
# The chained scenario: nodes 1 - 2 - 3 in a line, leader 3. Node 1 loses its leader but its only
# neighbour is happy, so with a correct round end it stays quiet and the ballot never moves.

# %%
chained = omnilab.scenarios.chained()
cluster = omnilab.Cluster.replay(chained.trace, variant=omnilab.grading.variant("ex02"))
cluster.run(ticks=10)
cluster.leader(), cluster.server(3).omnipaxos.get_promise()

# %% [markdown]
# ## Grade it
#
# `check` runs clusters built on your class: the first election, a re-election after the leader
# crashes, raised priorities, an isolated node, and the three partial-connectivity scenarios of
# `omnilab.scenarios`. Each is checked for safety (agreement, integrity, one leader per ballot) and
# for liveness (the right leader, entries decided). `report.lab("chained")` opens a failing run.

# %%
report = omnilab.grading.check("ex02")
report

# %% tags=["solution-only"]
assert report.score == report.max_score, report
