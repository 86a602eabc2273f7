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
# # Exercise 1: Quorums
#
# Every decision OmniPaxos takes rests on one question: *are these nodes enough?* A leader starts
# accepting once enough nodes promised its ballot (the Prepare phase), decides an entry once enough
# nodes accepted it (the Accept phase), and Ballot Leader Election lets a node take over only if it
# hears enough nodes (it is *quorum-connected*). In this exercise you write that rule, and the rest
# of OmniPaxos runs on it.
#
# By default a quorum is a **majority**: more than half of the configuration's nodes. OmniPaxos
# also supports **flexible quorums** (`FlexibleQuorum(read_quorum_size, write_quorum_size)`): the
# Prepare phase and quorum-connectivity need `read_quorum_size` nodes, deciding needs
# `write_quorum_size`. What keeps the log safe is the **overlap rule**: every read quorum shares a
# node with every write quorum (`read + write > N`), so a new leader always hears from a node that
# accepted every decided entry.
#
# Run the cells in order; the last one grades your answer.

# %%
import omnilab
import omnilab.grading
from omnilab import FlexibleQuorum

# %% [markdown]
# ## Your task
#
# Complete `is_quorum`. `count` counts the nodes that answered, the asking node included; `phase`
# is `"prepare"` (read quorum: promises, quorum-connectivity) or `"accept"` (write quorum: deciding).

# %% tags=["answer"] omnilab={"exercise": "ex01", "surface": "is_quorum"}
def is_quorum(count: int, num_nodes: int, flexible_quorum: FlexibleQuorum | None, phase: str) -> bool:
    """True when `count` nodes (the asking node included) are a quorum of a configuration of
    `num_nodes` nodes in `phase` ("prepare" or "accept").

    Without a flexible quorum, a quorum is a majority: more than half of `num_nodes`, in both
    phases. With ``FlexibleQuorum(read_quorum_size, write_quorum_size)``, the Prepare phase needs
    `read_quorum_size` nodes and the Accept phase `write_quorum_size`. Return a bool.
    """
    # Hint: with 4 nodes, 2 is *not* a majority: the two halves {1, 2} and {3, 4} share no node.
    # Hint: integer division (//) gives the size of a majority in one expression.
    ### BEGIN SOLUTION
    if flexible_quorum is None:
        return count >= num_nodes // 2 + 1
    if phase == "prepare":
        return count >= flexible_quorum.read_quorum_size
    return count >= flexible_quorum.write_quorum_size
    ### END SOLUTION


# %% [markdown]
# ## Try it
#
# A few cases to check by hand before grading:

# %%
print(is_quorum(3, 5, None, "accept"), is_quorum(2, 4, None, "accept"))
print(is_quorum(2, 4, FlexibleQuorum(3, 2), "accept"), is_quorum(2, 4, FlexibleQuorum(3, 2), "prepare"))

# %% [markdown]
# Your rule also runs a real cluster: `omnilab.grading.variant("ex01")` is OmniPaxos built on your
# `is_quorum`. Four nodes split 2 | 2: with a correct rule neither half may decide anything alone.

# %%
cluster = omnilab.Cluster([1, 2, 3, 4], variant=omnilab.grading.variant("ex01"))
cluster.run(ticks=3)
cluster.partition([1, 2], [3, 4])
cluster.put("b", 2, at=4)
cluster.run(ticks=6)
cluster.logs()

# %% [markdown]
# ## Grade it
#
# `check` runs the truth table of your function (majorities and every valid flexible quorum of 2 to
# 7 nodes), the overlap rule, and three clusters on your rule. A failing check names the call or the
# schedule that failed; `report.lab("split-brain")` opens a failing cluster in the lab.

# %%
report = omnilab.grading.check("ex01")
report

# %% tags=["solution-only"]
assert report.score == report.max_score, report
