# %% [markdown]
# # 08 · Checking safety
#
# **Goals:** read the safety invariants; run a random fault campaign; break the replica on purpose and replay the shortest failing run.
#
# **Time:** about 30 minutes.
#
# A consensus protocol is judged by what it never does: two servers never decide different entries
# in the same slot, a decided entry never changes, nothing is decided that nobody proposed. Looking at
# a few runs cannot show "never". omnilab states each such property as a named **invariant** that
# returns a verdict with a reason, checks them all after any step you like, and runs **random fault
# campaigns** that throw thousands of reorderings, drops, crashes and partitions at the cluster. When
# a campaign breaks an invariant, it shrinks the run to a few calls you can replay and step through.
# This notebook reads the invariants, runs a campaign, then breaks the replica on purpose and lets the
# campaign find the bug.

# %%
import inspect
from contextlib import contextmanager

import pandas as pd
from IPython.display import display

import omnilab
from omnilab import Cluster, view
from omnilab.sim import FAULTS, InvariantViolation, fuzz, invariants, scenarios

pd.set_option("display.max_colwidth", None)  # tables show every cell's whole text

# %% [markdown]
# ## The invariants
#
# `omnilab.sim.invariants.INVARIANTS` lists them; each is a function of the cluster returning a
# `Verdict(ok, name, message)`, and its docstring says what it demands:

# %% tags=["nbval-check-output"]
for invariant in invariants.INVARIANTS:
    print(f"{invariant.__name__}:", " ".join(invariant.__doc__.split()))

# %% [markdown]
# Why each one matters, and what breaks it:
#
# | verdict name | why it matters | broken by, for example |
# |---|---|---|
# | `UniformAgreement` | The heart of consensus (SC2 of the paper): every server applies the same writes in the same order, so their states stay equal. | a leader that decides without a write quorum, a new leader that does not adopt the most up-to-date log of its promises |
# | `Integrity` | A decided slot never changes (SC3): a client told "done" is never contradicted later, and a server never un-applies a write. | a log synchronisation that overwrites decided entries; a decided index that moves back |
# | `Validity` | Only what a client proposed is decided (SC1): no invented or corrupted entries, no StopSign nobody asked for. | a message mutated on the way, an entry copied wrongly during a sync |
# | `OneLeaderPerBallot` | A ballot names one leader. Followers trust a ballot, not a pid; two leaders with one ballot could each collect promises and decide different things. | building ballots wrongly (without the pid) |
# | `QuorumConnectedTakeover` | A node takes over (raises its ballot to lead) only after an election round in which it heard from a quorum, itself included: Ballot Leader Election's quorum-connected rule, which keeps a node that cannot reach a quorum from deposing a working leader when its links come back. | taking over whenever nobody heard is happy, even alone; counting a duplicated reply as a second peer |
# | `StopSignSeal` | The StopSign is the **last** slot of its configuration; anything decided after it would be lost, since the next configuration starts from the state before it. | accepting an `append` after the StopSign is stored |
# | `ConfigurationTransition` | Configuration *k + 1* starts only after *k* decided the StopSign naming it, and every server starts it with the same state: exactly what was decided before the StopSign. | starting on an accepted (not decided) StopSign; a lost or partial state transfer |
# | `KVLinearizability` | What a client of the key-value store sees: a completed write is never reordered before one that completed earlier, a refused write never takes effect, and a read sees every write that completed before it began. | a read served by a lagging follower (below) |
#
# The first three are the safety properties of the OmniPaxos TLA+ specification (SC1 to SC3 in
# the OmniPaxos paper (*Omni-Paxos: Breaking the Barriers of Partial Connectivity*, EuroSys 2023)); the others state what the paper and the
# [OmniPaxos documentation](https://omnipaxos.com/docs/) promise about ballots and reconfiguration,
# and what the key-value store built on top promises its clients. Evidence about the past (who decided what,
# where) is collected in the cluster's **ledger** the moment it appears, so a violation is caught even
# if the state that showed it is gone by the time you look; the rest is read from the live replicas.

# %% [markdown]
# ## `cluster.check()`
#
# Every verdict at once, in that order. A verdict is truthy when it holds, so `all(cluster.check())`
# reads as it sounds. Here is the reconfiguration of notebook 06, run to the end:

# %% tags=["nbval-check-output"]
cluster = scenarios.replace_crashed_node()
cluster.reconfigure([1, 2, 4])
cluster.run(ticks=4)
cluster.put("c", 3)
cluster.run(ticks=1)
for verdict in cluster.check():
    print(verdict)
print("all hold:", all(cluster.check()))

# %% [markdown]
# ### A violation without a bug: a stale read
#
# Invariants judge the whole system, not only the replica. `cluster.get(key, at=pid)` reads a
# server's local key-value state, fast but not necessarily fresh. In the *chained* scenario
# (`scenarios.chained()`) node 1 is cut off from leader 3: a write decided by nodes 2 and 3 has not
# reached node 1, and reading it there answers with a value from the past. The verdict names the
# read, the write it missed, and how far node 1 had applied its log.

# %% tags=["nbval-check-output"]
chain = scenarios.chained()
chain.put("x", 1)
chain.run(ticks=1)
print("at the leader:", chain.get("x"), "| at node 1:", chain.get("x", at=1))
verdicts = pd.DataFrame([(v.name, v.ok, v.message) for v in chain.check()], columns=["name", "ok", "message"])
display(verdicts)

# %% [markdown]
# ### `Cluster(check_every_step=True)`
#
# Checking after every operation finds the **first** operation that broke something.
# `Cluster(nodes, check_every_step=True)` does that (the attribute `check_every_step` switches it on
# for a cluster built by a scenario); the first violation raises `InvariantViolation`, carrying the
# failed verdicts (`.verdicts`) and the trace up to that point (`.trace`, whose `script()` is the list
# of calls).

# %% tags=["nbval-check-output"]
chain = scenarios.chained()
chain.check_every_step = True
chain.put("x", 1)
chain.run(ticks=1)
chain.get("x")                          # at the leader: fine
try:
    chain.get("x", at=1)                # at node 1: stale
except InvariantViolation as err:
    print(err)
    print("failed:", [v.name for v in err.verdicts])
    print("last calls:", err.trace.script().splitlines()[-3:])

# %% [markdown]
# ## Random fault campaigns: `omnilab.sim.fuzz`
#
# `fuzz(seeds, steps, nodes, faults)` runs, for each seed, a fresh cluster through `steps` random
# operations drawn from that seed's generator: ordinary deliveries and ticks mixed with the enabled
# `faults` (delivering out of order, dropping and duplicating messages, crashing and recovering
# nodes, cutting links, partitions, client writes at random nodes, and one reconfiguration that
# replaces a random member). Every invariant is checked after every operation. At the end the
# campaign heals the network, recovers every node and checks **progress**: a write at the leader must
# be decided and applied by every member of the newest configuration within 60 ticks.
#
# A seed *is* a schedule: run it again and the same thing happens. Twenty seeds of 100 operations:

# %% tags=["nbval-check-output"]
print("faults:", FAULTS)
campaign = fuzz(20, 100)
display(campaign.drop(columns=["message", "trace"]))
print("seeds ok:", int(campaign["ok"].sum()), "of", len(campaign),
      "| messages delivered:", campaign["delivered"].sum(), "| dropped:", campaign["dropped"].sum(),
      "| crashes:", campaign["crashes"].sum(), "| reconfigured:", int(campaign["reconfigured"].sum()))

# %% [markdown]
# Twenty seeds show the mechanism, not much more. The command line runs big campaigns outside the
# notebook: `python -m omnilab fuzz --seeds 1000 --steps 300` (the test suite runs 200 seeds of 250
# operations on every change).

# %% [markdown]
# ## Break the replica, let the campaign find it
#
# The leader decides slot *i* when a **write quorum** has accepted up to *i*. This is the check, in
# the leader's per-ballot state (`omnilab/replica/sequence_paxos/leader_state.py`):

# %%
from omnilab.replica.sequence_paxos.leader_state import LeaderState

print(inspect.getsource(LeaderState.is_chosen))

# %% [markdown]
# Replace it, in this notebook only, with one that says yes to any `Accepted`: the leader then decides
# as soon as **one** follower accepted. The context manager below breaks the replica inside its
# `with` block and always restores the honest method afterwards (the omnilab source is never
# touched).
#
# With three nodes this bug is invisible: a leader and one follower already make a majority of three.
# With five, "the leader and one follower" is two of five, and a new leader prepared by the *other*
# three never hears of the decision. So the campaign runs five nodes, with the two faults that matter
# here: partitions and client writes.

# %% tags=["nbval-check-output"]
honest_is_chosen = LeaderState.is_chosen


@contextmanager
def leader_without_quorum():
    """Inside this block, a leader decides on any Accepted, quorum or not."""
    LeaderState.is_chosen = lambda self, idx: True
    try:
        yield
    finally:
        LeaderState.is_chosen = honest_is_chosen


with leader_without_quorum():
    broken = fuzz(range(10), 60, 5, ("partition", "append"))
display(broken[["ok", "violation", "ops", "shrunk_ops", "decided"]])

# %% [markdown]
# One seed failed. The campaign then **shrank** its schedule (delta debugging): it removed chunks of
# operations and kept every shorter schedule that still broke the same invariant. What is left is a
# program you can read, paste and replay:

# %% tags=["nbval-check-output"]
seed = broken.index[~broken["ok"]][0]
row = broken.loc[seed]
print(f"seed {seed}: {row['violation']} after {row['ops']} random operations, shrunk to {int(row['shrunk_ops'])}")
print(row["message"])
print()
print(row["trace"].script())

# %% [markdown]
# Read it: the leader, node 5, proposes `b=9` and one message is delivered (its `AcceptDecide` to
# node 1). A partition then cuts node 1 off; node 1's `Accepted` is already on the wire and still
# arrives, and the broken leader decides `b=9` on it: two of five. Nodes 2, 3 and 4, none of which
# accepted `b=9`, make node 4 the new leader; their promises say nothing of `b=9`, so node 4 decides
# `b=12` in the same slot.
#
# `Cluster.replay(trace)` rebuilds that world (still with the broken replica), and `check()` names the
# damage. Replaying the same calls in a cluster with `check_every_step=True` finds the operation that
# did it.

# %% tags=["nbval-check-output"]
trace = row["trace"]
with leader_without_quorum():
    failing = Cluster.replay(trace)
    created = trace[0]
    watched = Cluster(list(created.nodes), seed=created.seed, check_every_step=True)
    for op in trace.operations()[1:]:
        try:
            op.apply(watched)
        except InvariantViolation:
            print("caught right after", op.call())
            break

for verdict in failing.check():
    if not verdict.ok:
        print(verdict)
decided = view.events(failing, last=None).query("what == 'EntryDecided'")
display(decided)
display(failing.logs())

# %% [markdown]
# Node 5 first decided `b=9` in slot 0, then the new leader's `AcceptSync` overwrote it with `b=12`:
# `UniformAgreement` (nodes 5 and 4 disagree about slot 0) and `Integrity` (node 5's decided slot
# changed). Outside the `with` block the replica is honest again, and the very same calls are safe:
# node 5 never decides `b=9` (two of five accepted it, not a quorum), so the new leader may put
# `b=12` in slot 0; the client of `b=9` is still waiting, and must retry.

# %% tags=["nbval-check-output"]
print("restored:", LeaderState.is_chosen is honest_is_chosen)
same_calls = Cluster.replay(trace)
print("the same calls, honest replica:", [v.name for v in same_calls.check() if not v.ok] or "every invariant holds")
display(same_calls.logs())

# %% [markdown]
# ## Your turn
#
# 1. Why did the campaign need five nodes to catch `is_chosen` returning `True`?
#
# <details><summary>Answer</summary>
#
# The leader only runs `is_chosen` when an `Accepted` arrives, so "any Accepted" still means the
# leader plus one follower. With three nodes that *is* a majority, so the broken code behaves
# correctly. With five, two servers are not a quorum, and a quorum of three can exclude both.
# </details>
#
# 2. The stale read was reported by `KVLinearizability`, but the replicas did nothing wrong. Which
#    reads would be safe?
#
# <details><summary>Answer</summary>
#
# A read that goes through the log: append a "read" entry and answer when it is decided and applied
# (what `cluster.get` at the leader approximates in a quiet cluster). Reading a follower's local
# state is fast but may be stale; linearizable reads need the log, or leader leases.
# </details>
#
# 3. `fuzz` reported `Progress` failures as a separate name, not as an invariant. Why is "a write is
#    eventually decided" not checked after every step?
#
# <details><summary>Answer</summary>
#
# It is a liveness property: at any single moment a write may still be on its way, or the network may
# be partitioned so that no quorum exists, and nothing is wrong yet. It can only be judged at the end
# of a run, once the faults stop: heal, recover, and give the cluster time.
# </details>

# %% [markdown]
# ## The lab
#
# The lab opens on the failing cluster, replayed with the broken replica: its invariant badges show
# what `check()` said (the cell below reads them before you click). Every later action runs with the
# honest replica.

# %% tags=["nbval-check-output"]
w = omnilab.lab(failing)
print(w.summary().splitlines()[0])
print("red badges:", [v.name for v in w.cluster.check() if not v.ok])

# %%
w

# %% [markdown]
# Try this:
#
# * Open the *Logs* and *Nodes* tabs: nothing in today's state shows that node 5 once decided `b=9`.
#   The red badges come from the ledger, which recorded the decision the moment it happened.
# * Press **Replay** (`Cluster.replay(failing.trace)`): the lab shows a copy built with the honest
#   replica, and every badge turns green.
# * In a new cell, run `with leader_without_quorum(): broken = fuzz(range(30), 60, 5, ("partition",
#   "append"))` and look at the other failing seeds. Do they all fail the same way?
# * Break something else inside a `with` block of your own (for instance, make
#   `PromiseMeta.outranks` in the same module always return `False`: a new leader ignores the logs it
#   was promised) and see which invariant the campaign names.

# %% [markdown]
# This is the last notebook of the course for now: the exercises put you in the replica's place.
