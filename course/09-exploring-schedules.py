# %% [markdown]
# # 09 · Exploring schedules
#
# **Goals:** search every schedule within a small bound; read the shortest one that breaks an invariant; replay it in the lab; fix the bug and see the search come back clean.
#
# **Time:** about 30 minutes.
#
# A random fault campaign (notebook 08) tries many schedules, but only some of them: a bug that
# needs one message held back while three others go through may never come up. An **explorer**
# tries them all. From a starting cluster it takes every choice the world could make (deliver any
# message in flight, drop one, duplicate one, tick, crash or recover a node, a client write, a
# reconfiguration, a leader change, each within a budget), and from each resulting state every
# choice again, checking the invariants after each one. It goes **breadth first**, so the first
# violation it finds has a **shortest** schedule: the fewest steps that break the system, which is
# the clearest lesson a bug can give. Model checkers such as TLC (which checks the OmniPaxos TLA+
# specification), Stateright and DSLabs work this way; here it runs on the real replica, in the
# notebook, and what it finds plays in the lab.

# %%
import pandas as pd
from IPython.display import display

from omnilab import view
from omnilab.replica.sequence_paxos import SequencePaxos
from omnilab.sim.explore import STARTS, explore
from omnilab.sim.mutants import MUTANTS, AppendAfterStopSign
from omnilab.sim.variant import REFERENCE

pd.set_option("display.max_colwidth", None)  # tables show every cell's whole text

# %% [markdown]
# ## Where a search starts
#
# A search starts from a cluster set up by ordinary calls (like the first phase of a DSLabs search),
# with the budgets worth exploring from there. The named starts:

# %% tags=["nbval-check-output"]
for name, start in STARTS.items():
    print(f"{name}: {start.description}")

# %% [markdown]
# ## A bug to find
#
# `omnilab.sim.mutants` holds replicas with one rule broken on purpose. This one forgets the rule
# that a StopSign ends its configuration's log:

# %% tags=["nbval-check-output"]
mutant = MUTANTS["append-after-stopsign"]
print(mutant.description)

# %% [markdown]
# Explore from `replace-write`: one write is decided, then the leader (node 3) may propose a
# reconfiguration that replaces itself by a new node 4, and one more client write; every message
# may arrive in any order. The progress bar counts distinct states.

# %%
result = explore("replace-write", variant=mutant, progress=True)
display(result)

# %% [markdown]
# The summary without timings:

# %% tags=["nbval-check-output"]
print(result.summary())

# %% [markdown]
# Each distinct state is visited once: two schedules that reach the same state (the same servers,
# the same messages in flight, message ids aside) are explored once. And two deliveries to
# different nodes commute, so the explorer does not try both orders (the *sleep sets* counted as
# "pruned"); that loses no state, only repeated work.
#
# ## The shortest schedule
#
# The counterexample is an ordinary trace, rebuilt by replaying the choices from the start. As
# `Cluster` calls (paste them into a cell to rebuild the cluster):

# %% tags=["nbval-check-output"]
print(result.script())

# %% [markdown]
# What happened, event by event, after the start:

# %% tags=["nbval-check-output"]
failing = result.replay()
display(view.events(result.after_start(), last=None))

# %% [markdown]
# Read it: node 3 proposes the StopSign ending configuration 1 (next: nodes 1, 2, 4), node 1
# accepts it, and with node 3's own acceptance that is a majority: node 3 decides the StopSign in
# slot 1. Node 3 is not in configuration 2, so it retires, still running its old instance. Then a
# client write reaches node 3. The reference replica refuses it (the configuration is over); the
# mutant appends it anyway, and the entry lands in the StopSign's own slot: node 3's decided
# StopSign is overwritten (`Integrity`) and an entry is accepted after a decided StopSign
# (`StopSignSeal`). The explorer reports the first invariant in `check()`'s order; both are red.

# %% tags=["nbval-check-output"]
for verdict in failing.check():
    if not verdict.ok:
        print(verdict)

# %% [markdown]
# ## In the lab
#
# `result.lab()` opens the lab on the counterexample at its last step: the status line names the
# violated invariant and its badge is red. **Undo** walks back through the schedule one step at a
# time (the badge turns green one step before the end); the *Trace* tab shows the events above.

# %% tags=["nbval-check-output"]
w = result.lab()
print(w.summary())

# %%
w

# %% [markdown]
# ## Fix it
#
# The mutant's `append` skips the reference's first rule. Put it back: a subclass whose `append` is
# the reference's, as a variant (`REFERENCE.with_components`), and explore the same start with the
# same bounds. A variant defined in a notebook works the same as one from the catalogue.

# %%
class Fixed(AppendAfterStopSign):
    def append(self, entry):
        SequencePaxos.append(self, entry)  # refuses an entry once a StopSign is stored


FIXED = REFERENCE.with_components("fixed-append", sequence_paxos=Fixed)

# %% tags=["nbval-check-output"]
fixed = explore("replace-write", variant=FIXED, depth=result.length + 2)
print(fixed.summary())

# %% [markdown]
# Every schedule of up to six choices from that start is now safe: the search is *exhausted*
# (nothing left to explore within the bound) and no invariant broke. The reference replica, the
# same:

# %% tags=["nbval-check-output"]
print(explore("replace-write", depth=result.length + 2).summary())

# %% [markdown]
# "Exhausted within a bound" is not a proof for every schedule: a bug that needs seven steps, or a
# second write, is outside it. Larger bounds cost more states (roughly the number of choices to
# the power of the depth, cut down by the two reductions above), which is why a search is given
# bounds on depth, states and seconds, and why each start keeps its budgets small.

# %% [markdown]
# ## The network is part of the bound
#
# By default any message in flight may be delivered next: the links reorder. The OmniPaxos TLA+
# specification assumes reliable FIFO links instead, and `fifo=True` explores that network: each
# link delivers its oldest message first, and nothing is lost or repeated. That leaves far fewer
# schedules, so a search gets deeper in the same time. But a fault that needs a message to arrive
# out of send order is then out of reach. `accept-lower-ballot` (a follower that accepts entries
# from a leader whose ballot is below its promise) is one, from the `contested` start:

# %% tags=["nbval-check-output"]
for fifo in (False, True):
    found = explore("contested", variant="accept-lower-ballot", fifo=fifo)
    verdict = "no invariant violated" if found.ok else f"{found.violation.name} violated after {found.length} choices"
    ended = "exhausted" if found.exhausted else "stopped at the violation"
    print(f"fifo={fifo}: {found.distinct} distinct states, {ended}; {verdict}")

# %% [markdown]
# With FIFO links the bound is exhausted and nothing breaks; with reordering links the same bound
# breaks agreement in 8 choices. A clean search says "no violation *in this model of the network*,
# within this bound": both are part of what was checked.
#
# The TLA+ model narrows its clients and its elections too: its leader-election stub names each
# next leader itself, and a client sends its proposal to the leader the stub named last.
# `leaders=[1, 2]` (the node of each leader change, in order) and `at="named"` (writes only at the
# node of the latest leader change) do the same here; `at="leader"` is in between (writes at any
# node that believes itself leader, an old leader that has not heard of the new ballot included).
# Each only takes choices away, so the same depth holds fewer states:

# %% tags=["nbval-check-output"]
for label, narrowed in (("writes and leader changes at any node", dict(elections=2)),
                        ("writes at any node that believes itself leader", dict(leaders=[1, 2], at="leader")),
                        ("as in the TLA+ model", dict(leaders=[1, 2], at="named"))):
    found = explore("steady", depth=6, appends=2, fifo=True, **narrowed)
    ended = "exhausted" if found.exhausted else f"stopped by {found.stopped_by}"
    print(f"{label}: {found.distinct} distinct states, {ended}")

# %% [markdown]
# Narrowing is also a choice about what is checked: with `leaders` the search never tries another
# node for a leader change, and with `at="named"` or `at="leader"` it never gives a write to a
# follower (which forwards it to its leader), so a clean search says nothing about those schedules.
# The `unelected` start is the TLA+ model's initial state (nobody elected, nothing in flight);
# `python bench/explore.py` searches the model's whole bound from there, and prints how far it gets.
# A bigger bound goes faster on several cores: `explore(..., workers=2)` searches on two processes,
# level by level, and finds the same states and the same shortest schedule as one.
#
# Try this:
#
# * `explore("steady", variant="decide-without-write-quorum")`: a leader that decides alone. How
#   long is its shortest schedule, and which invariant breaks?
# * The same from the command line: `omnilab explore steady --variant decide-without-write-quorum`
#   prints the schedule as `Cluster` calls.
# * `explore("steady", depth=4, reduction=False)` against `explore("steady", depth=4)`: the same
#   distinct states, more transitions.
