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
# # Exercise 3: Promises and log synchronisation
#
# A new leader first gathers promises from a read quorum. Each promise says how far the promiser's
# log goes: the round in which it last accepted (`n_accepted`), its `accepted_idx` and its
# `decided_idx`. Among the promises (its own included) the leader adopts the **most up-to-date**
# log: the one accepted in the highest round, and in the same round the longest. Any entry that may
# have been decided is in that log, because a decided entry was accepted by a write quorum, and
# every read quorum meets every write quorum.
#
# Then the leader brings each follower in line with an `AcceptSync`: it keeps the follower's log up
# to the **sync point**, where the two logs are certainly equal, and sends everything after it:
#
# * a follower that already accepted in my ballot holds my log up to its `accepted_idx`;
# * a follower that accepted in the same round as the adopted log holds that log up to the shorter
#   of the two;
# * any other follower is only certainly right up to its `decided_idx`.
#
# Too high a sync point leaves stale entries in a follower's log (unsafe); too low resends entries
# it has (safe, but wasteful). You write both decisions; the rest of Sequence Paxos is the reference.

# %%
import omnilab
import omnilab.grading
from omnilab.grading.exercises.promises import BlankSequencePaxos, PromiseMeta
from omnilab.replica import Ballot

# %% [markdown]
# ## Your task
#
# A `PromiseMeta` has `n_accepted` (a `Ballot`; `Ballot()` means it never accepted),
# `accepted_idx`, `decided_idx` and `pid`. Ballots compare with `<`, `>`, `==`.
# `self.leader_state.n_leader` is the ballot I lead.

# %% tags=["answer"] omnilab={"exercise": "ex03", "surface": "MySequencePaxos"}
class MySequencePaxos(BlankSequencePaxos):
    def is_more_up_to_date(self, promise: PromiseMeta, best: PromiseMeta) -> bool:
        """True if `promise`'s log is more up to date than `best`'s: accepted in a higher round, or
        in the same round and longer. An equally up-to-date promise does not beat `best`."""
        # Hint: compare the rounds first; the length only breaks a tie between equal rounds.
        ### BEGIN SOLUTION
        if promise.n_accepted != best.n_accepted:
            return promise.n_accepted > best.n_accepted
        return promise.accepted_idx > best.accepted_idx
        ### END SOLUTION

    def sync_point(self, follower: PromiseMeta, adopted: PromiseMeta) -> int:
        """The log index up to which `follower`'s log certainly equals the log I adopted
        (`adopted`, the most up-to-date promise): the AcceptSync sends what follows it."""
        # Hint: three cases, in this order: my ballot, the adopted log's round, anything else.
        ### BEGIN SOLUTION
        if follower.n_accepted == self.leader_state.n_leader:
            return follower.accepted_idx
        if follower.n_accepted == adopted.n_accepted:
            return min(adopted.accepted_idx, follower.accepted_idx)
        return follower.decided_idx
        ### END SOLUTION


# %% [markdown]
# ## Try it
#
# The constrained election: node 3 is the only node connected to the others, but its log is behind.
# It takes over, and the promises of nodes 1, 2 and 4 must bring it the entries they decided.

# %%
scenario = omnilab.scenarios.constrained_election()
cluster = omnilab.Cluster.replay(scenario.trace, variant=omnilab.grading.variant("ex03"))
cluster.run(ticks=4)
cluster.logs()

# %% [markdown]
# ## Grade it
#
# `check` runs the truth tables of both methods, then clusters on your class: the constrained
# election, a decided entry that the new leader lacks, a longer log from an older round against a
# newer one, an AcceptSync that must send only what the follower lacks, and a seeded fault campaign.
# `report.lab("round-beats-length")` opens a failing run at the call that revealed it.

# %%
report = omnilab.grading.check("ex03")
report

# %% tags=["solution-only"]
assert report.score == report.max_score, report
