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
# # Exercise 6: Break it
#
# Testing a protocol means finding the schedule that breaks it. Here the bug is given: `MUTANT` is
# OmniPaxos with one deliberate mistake, a leader that **decides an entry without a write quorum**
# (one acceptance is enough). Your task is the schedule, a list of `Cluster` calls, that makes one of
# omnilab's invariants fail on the mutant.
#
# The rules of the game: your schedule is replayed on the mutant *and* on the reference OmniPaxos,
# with every invariant checked after every call. It scores only if an invariant fails on the mutant
# and nothing fails on the reference: a schedule that breaks the reference too (a stale local read,
# say) breaks the rules rather than the mutant.
#
# The schedule is data: each string is one call, as `cluster.trace.script()` prints them, with
# literal arguments (`cluster.put('a', 1, at=5)`). An optional first line
# `cluster = Cluster([1, 2, 3, 4, 5], seed=0)` chooses the nodes (default `[1, 2, 3]`).

# %%
import omnilab
import omnilab.grading
from omnilab.grading.exercises.break_it import MUTANT

MUTANT

# %% [markdown]
# ## Explore
#
# Play with the mutant first: `omnilab.lab(omnilab.Cluster([1, 2, 3, 4, 5], variant=MUTANT.name))`
# opens it in the lab. Which leader can decide with fewer than a majority, and what does the majority
# do meanwhile?

# %% [markdown]
# ## Your task

# %% tags=["answer"] omnilab={"exercise": "ex06", "surface": "schedule"}
def schedule() -> list[str]:
    """The calls that make an invariant fail on MUTANT and on the reference break nothing."""
    # Hint: a leader cut off with one follower still receives one Accepted.
    # Hint: the nodes on the other side of the cut can elect their own leader and decide there.
    ### BEGIN SOLUTION
    return [
        "cluster = Cluster([1, 2, 3, 4, 5], seed=0)",
        "cluster.run(ticks=3)",
        "cluster.partition([1, 2, 3], [4, 5])",
        "cluster.put('a', 1, at=5)",
        "cluster.run(ticks=6)",
        "cluster.put('b', 2, at=1)",
        "cluster.run(ticks=2)",
    ]
    ### END SOLUTION


# %% [markdown]
# ## Grade it
#
# `breaks-the-mutant` replays your schedule on the mutant (some invariant must fail) and on the
# reference (none may); `fair-on-the-reference` checks that it runs on the reference without an error.
# `report.lab("breaks-the-mutant")` opens the mutant's run.

# %%
report = omnilab.grading.check("ex06")
report

# %% tags=["solution-only"]
assert report.score == report.max_score, report
