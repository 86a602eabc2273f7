# %% [markdown]
# # 05 · Failures
#
# **Goals:** tell what survives a crash from what does not; recover nodes from storage; crash a leader mid-append; lose and regain a quorum while the safety invariants stay green.
#
# **Time:** about 35 minutes.
#
# Servers crash and restart, and networks split. OmniPaxos makes two promises about this. **Safety**
# holds always: an entry that was decided is never lost or changed, whatever crashes and whatever the
# network does. **Progress** comes whenever a majority of servers is up and connected. In this
# notebook you break a cluster on purpose. You crash nodes and bring them back from their storage,
# crash a leader in the middle of an append, split the network, duplicate a message. Each time you
# check what the protocol did and that the safety invariants stayed green.

# %%
import pandas as pd
from IPython.display import display

import omnilab
from omnilab import view
from omnilab.sim import Cluster, NodeDown, NoLeader, scenarios
from omnilab.view.walkthrough import in_flight, protocol_messages, steps, verdicts

pd.set_option("display.max_colwidth", None)  # tables show every cell's whole text

# %% [markdown]
# These are the helpers of notebook 04, from `omnilab.view.walkthrough`: `in_flight` finds message ids, `protocol_messages` is
# `cluster.pending()` without heartbeats, and `steps` delivers messages one at a time. It prints a
# row per step with each node's **decided/accepted** index, its phase when it is not Accept, and ★ on
# a leader. A message delivered to a crashed node is lost, and its row says so. `verdicts` runs the
# safety invariants (`cluster.check()`).

# %% [markdown]
# ## What survives a crash
#
# `scenarios.replace_crashed_node()`: nodes 1, 2 and 3 decided two writes, then node 3 (the leader)
# crashed and nodes 1 and 2 elected node 2. (The scenario goes on to replace node 3 with a new node;
# that is notebook 06. Here we bring node 3 back instead.)

# %% tags=["nbval-check-output"]
cluster = scenarios.replace_crashed_node()
display(view.nodes(cluster)[["role", "phase", "promise", "leader", "decided_idx", "accepted_idx", "status"]])

# %% [markdown]
# `view.state_split(cluster)` shows, for each node, what it keeps in **storage** and what it keeps only
# in **memory**. A crash wipes memory. Storage holds exactly what the protocol needs to stay safe:
#
# * the **promise**. A node that forgot it had promised ballot 2.2 could later promise an older
#   ballot and help two leaders to decide different values for the same slot;
# * the **accepted round** and the **log**. A Promise reports them, and a new leader relies on the
#   report being true: an entry that a majority accepted may already be decided;
# * the **decided index**, so that after a restart the node knows which of its entries are final and
#   can rebuild its key-value state from them at once.
#
# Memory holds the role and phase, the leader it follows, its ballot in leader election, proposals
# buffered or batched and not yet written, and the key-value state. The key-value state can always
# be rebuilt by replaying the decided log.

# %% tags=["nbval-check-output"]
display(view.state_split(cluster))

# %% [markdown]
# ## Recover: rebuilding from storage
#
# `cluster.recover(3)` builds a new replica from node 3's storage. A replica that finds a promise in
# its storage knows it has been away and may have missed anything, so it starts as a **Follower in
# Recover** and sends a `PrepareReq` ("prepare me again") to every peer. Two details in the table:
# its leader-election ballot restarts at `n = 0` (`0.3`), so a restarted node can never carry on
# leading with its old ballot. And `leader` still says 3: a replica names the leader of the ballot
# it last promised, which here is its own old ballot, until a Prepare tells it otherwise. Its
# key-value state is back already, rebuilt from its decided log.

# %% tags=["nbval-check-output"]
cluster.recover(3)
display(view.nodes(cluster)[["role", "phase", "ballot", "promise", "leader", "decided_idx", "accepted_idx"]])
print("node 3's key-value state:", dict(cluster.server(3).kv))
display(protocol_messages(cluster))

# %% [markdown]
# Deliver the messages one by one. Node 1 is a follower and ignores the PrepareReq. Leader 2 answers
# with a `Prepare` for its ballot `2.2`, node 3 promises, and an `AcceptSync` brings its log in line.
# Its log already matched: it accepted in round `1.3`, and its two entries are decided. So the sync
# carries nothing (`0 entries at 2`), and node 3 is a follower in Accept again.

# %% tags=["nbval-check-output"]
display(steps(cluster))
print(verdicts(cluster))

# %% [markdown]
# ## The leader crashes during an append
#
# Now the hard case. Leader 3 appends `x=1`: it accepts the entry itself and puts an AcceptDecide
# for each follower on the wire. Then it crashes, before either has arrived. Is `x` decided? That
# depends on what happens to those two messages: a message already in flight still reaches a live
# receiver. And the survivors cannot ask the dead leader. `scenarios.leader_crash_mid_append()`
# builds exactly this moment; its trace holds the calls that made it. To see both outcomes from the
# *same* moment, fork the world: `Cluster.replay(trace)` rebuilds an identical cluster from a trace,
# so each fork below starts exactly here.

# %% tags=["nbval-check-output"]
crashy = scenarios.leader_crash_mid_append()
print(crashy.trace.script("crashy"))
display(protocol_messages(crashy))
display(crashy.logs())

# %% [markdown]
# ### Outcome 1: no follower accepted `x`
#
# Both AcceptDecides are lost. The only copy of `x=1` is in node 3's storage: accepted there,
# decided nowhere. The crashed node's column shows what its storage kept.

# %% tags=["nbval-check-output"]
lost = Cluster.replay(crashy.trace)
for msg_id in in_flight(lost, "AcceptDecide"):
    lost.drop(msg_id)
lost.run(ticks=4)
display(lost.logs())
print("leader:", lost.leader())

# %% [markdown]
# Nodes 1 and 2 elected node 2 without ever hearing of `x`. When node 3 comes back, its Promise
# reports that it accepted in round `1.3` up to index 2. The leader's log, built from a majority of
# promises, ends at index 1 for that round. So the `AcceptSync` cuts node 3's log back to index 1
# (`0 entries at 1`), and `x=1` is gone. That is safe: an entry that only one node of three accepted
# cannot have been decided. The client's put never completes.

# %% tags=["nbval-check-output"]
lost.recover(3)
display(steps(lost))
display(lost.logs())
display(lost.history()[["kind", "at", "key", "value", "status"]])

# %% [markdown]
# ### Outcome 2: one follower accepted `x`
#
# Deliver the AcceptDecide to node 1 and drop the one to node 2. Node 1 accepts `x` and sends its
# `Accepted` to node 3, where it will be lost. Now `x=1` is accepted by nodes 1 and 3, a majority.
# Had node 3 crashed a moment later, that Accepted would have let it decide `x`, and maybe even tell
# a client. The survivors cannot tell whether it did, so they must keep `x`.

# %% tags=["nbval-check-output"]
kept = Cluster.replay(crashy.trace)
kept.step(in_flight(kept, "AcceptDecide", to=1)[0])
kept.drop(in_flight(kept, "AcceptDecide", to=2)[0])
display(kept.logs())
display(protocol_messages(kept))

# %% [markdown]
# Two ticks pass: the Accepted is lost at the crashed node, and nodes 1 and 2 notice that their
# leader is silent. At the third tick both take over at once, with ballots `2.1` and `2.2`. Deliver
# the messages one by one:
#
# * steps 1 to 8: each candidate's Prepare goes out twice (the resend timer fired in the same tick),
#   and the copies to node 3 are lost. Node 2 ignores `2.1`, because it has promised its own, higher
#   `2.2`. Node 1 gives up its own candidacy when `2.2` arrives (step 5, the ★ goes);
# * step 9: node 1's **Promise carries `x`**: same accepted round `1.3` as node 2, but a longer log,
#   so its LogSync holds the entry node 2 lacks (`1 entries at 1`). With two promises of three, node
#   2 adopts that log: its accepted index goes to 2;
# * steps 10 to 12: node 2 syncs node 1, and decides `x` in its own round `2.2`.
#
# The two majorities, {1, 3} that accepted `x` and {1, 2} that elected node 2, overlap in node 1.
# Any two majorities overlap, and that overlap is why a decided entry always survives.

# %% tags=["nbval-check-output"]
kept.run(ticks=2)
kept.tick()
display(steps(kept))
display(kept.logs())
display(kept.history()[["kind", "at", "key", "value", "status"]])

# %% [markdown]
# **Your turn.** In outcome 1, node 3's log held `x=1` and the AcceptSync erased it. In outcome 2 the
# same entry, accepted by a majority, was kept. What would change in outcome 2 if node 1's Accepted
# had reached node 3 *before* the crash, so that node 3 decided `x`?
#
# <details><summary>Answer</summary>
#
# Nothing that nodes 1 and 2 can see. Leader 3 would have decided `x` (and might have answered the
# client), but its Decides die with it. Node 1's log and node 2's log are exactly as in outcome 2,
# so the election goes the same way and node 2 decides `x` again, at the same index. This is why a
# new leader must adopt every entry that *might* have been decided, and why an accepted entry on a
# majority is as good as decided.
# </details>

# %% [markdown]
# ## A partition: the minority never decides, the majority carries on
#
# Five nodes, leader 5, and `a=1` decided everywhere. Then the network splits into `[1, 2, 3]` and
# `[4, 5]`, with the leader on the minority side, and a client puts `m=1` at leader 5.
# `scenarios.leader_in_minority()` builds this scene; here are its calls.

# %% tags=["nbval-check-output"]
split = scenarios.leader_in_minority()
print(split.trace.script("split"))
display(protocol_messages(split))
display(view.events(split, last=8)[["what", "text"]])

# %% [markdown]
# The AcceptDecides to nodes 1, 2 and 3 were dropped at send time (their links are cut). Only node 4
# accepts `m=1`: that is two of five, short of the three a decision needs. Let ten ticks pass. On the
# majority side, nodes 1, 2 and 3 stop hearing their leader. They are quorum-connected (three of
# five), so they elect node 3 with ballot `2.3`. Leader 5 never hears about it, so it still believes
# it leads. That does no harm: it cannot decide anything, because a decision needs a majority and
# it has only two. `cluster.leader()` is None, because the live nodes disagree, so every put has to
# name its node with `at=`.

# %% tags=["nbval-check-output"]
split.run(ticks=10)
split.put("M", 2, at=3)
split.run(ticks=1)
display(view.nodes(split)[["role", "phase", "promise", "leader", "decided_idx", "accepted_idx"]])
display(split.logs())
print("cluster.leader():", split.leader())

# %% [markdown]
# Heal the network. Leader 3 re-sends its Prepare to every peer that has not promised yet (its
# resend timer). Nodes 4 and 5 see ballot `2.3`, higher than `1.5`, and promise; node 5 stops leading.
# Their Promises say they accepted in round `1.5` up to index 2. But the log leader 3 adopted for
# round `1.5` (from the majority's promises) ends at index 1, so their slot 1 is not to be trusted.
# The AcceptSync keeps their log up to index 1 and replaces the rest: the undecided `m=1` gives way
# to the majority's `M=2`. (The decided part travels as a snapshot, as these key-value entries
# do.) `m=1` was never decided, so nothing decided was lost.
# The client's put of `m` stays pending forever, and the client has to retry.

# %% tags=["nbval-check-output"]
split.heal()
split.run(ticks=3)
display(view.nodes(split)[["role", "phase", "promise", "leader", "decided_idx", "accepted_idx"]])
display(split.logs())
display(view.kv(split))
display(split.history()[["kind", "at", "key", "value", "status"]])
print(verdicts(split))

# %% [markdown]
# **Your turn.** Node 3 leads all five nodes now. Split them the other way, `[1, 2]` and
# `[3, 4, 5]`, so that the leader is on the majority side. Do nodes 1 and 2 start an election? What
# happens when the network heals?
#
# <details><summary>Answer</summary>
#
# Leader 3 keeps deciding with nodes 4 and 5. Nodes 1 and 2 become unhappy with their leader, but
# they are not quorum-connected (two of five), so leader election never lets them take over. Their
# ballots do not grow, and they cannot disturb the healthy leader later. After the heal, the next
# message each gets from leader 3 has a sequence number ahead of the last one it saw (what was sent
# to it while its links were cut was dropped). Each sees the gap, goes to Recover and is synced. Try
# it: `split.partition([1, 2], [3, 4, 5])`, `split.put("p", 1, at=3)`, `split.run(ticks=5)`,
# `view.nodes(split)`, then `split.heal()`, `split.put("q", 2)` and `split.run(ticks=2)`.
# </details>

# %% [markdown]
# ## A duplicated Promise
#
# Networks can also duplicate messages. OmniPaxos tolerates that, sometimes with a detour. Take a
# fresh cluster. Node 3 sends its Prepares, node 1 promises, and the network delivers node 1's
# Promise **twice**. The first copy completes the Prepare phase (a majority), and the leader sends
# an AcceptSync in session 1. The second copy arrives while the leader is in Accept, so the leader
# takes it for a late promise and syncs node 1 again: **session 2**.

# %% tags=["nbval-check-output"]
dup = Cluster([1, 2, 3], seed=0)
dup.tick()
display(steps(dup, in_flight(dup, "Prepare", to=1)))
original = in_flight(dup, "Promise")[0]
copy = dup.duplicate(original)
display(steps(dup, [original, copy]))
display(protocol_messages(dup))

# %% [markdown]
# Node 1 takes the first AcceptSync (`1.1`) and moves to Accept. It ignores the second (`2.1`),
# because an AcceptSync is only for a follower in Prepare. The leader, though, now numbers node 1's
# messages in session 2. The next put's AcceptDecide to node 1 carries `2.2`, a session node 1
# never saw open. That looks like lost messages, so node 1 goes to Recover, sends a PrepareReq and
# is synced a third time (session 3). Nothing unsafe happens, but it costs a round of five extra
# messages (PrepareReq, Prepare, Promise, AcceptSync, Accepted). This is how the reference
# implementation behaves, and omnilab keeps it: the README lists every place where omnilab differs on
# purpose, and this is not one of them.

# %% tags=["nbval-check-output"]
dup.deliver_all()
dup.put("a", 1)
display(steps(dup))
display(dup.logs())
print(verdicts(dup))

# %% [markdown]
# ## Proposals that cannot be made
#
# `cluster.put(key, value)` without `at=` goes to the leader. Right after a leader crash there is
# none to go to. The survivors still name the crashed node 3, so `cluster.leader()` is None, and the
# simulator refuses the call with `NoLeader`. It says what to do instead. A put at a crashed node
# raises `NodeDown`. Both are `BadInput` errors: the cluster and its trace are left exactly as they
# were.

# %% tags=["nbval-check-output"]
down = Cluster([1, 2, 3], seed=0)
down.run(ticks=1)
down.crash(3)
before = len(down.trace)
try:
    down.put("k", 1)
except NoLeader as err:
    print("NoLeader:", err)
try:
    down.put("k", 1, at=3)
except NodeDown as err:
    print("NodeDown:", err)
print("trace unchanged:", len(down.trace) == before)

# %% [markdown]
# A put at a *live* follower is not refused. The follower still believes in leader 3, so it forwards
# the proposal there, and the ProposalForward dies at the crashed node. Nothing retries it
# (notebook 04). The trace records the loss, and the client's call stays pending. Once the
# survivors have elected node 2, a put works again.

# %% tags=["nbval-check-output"]
forwarded = down.put("k", 1, at=1)
display(steps(down))
down.run(ticks=4)
retried = down.put("k", 1)
down.deliver_all()
print("leader:", down.leader(), "| first put:", forwarded.status, "| retry:", retried.status)

# %% [markdown]
# The replica itself can refuse a proposal too. After a StopSign, `append` raises
# `ProposeErr.PendingReconfigEntry`, and the simulator records that refusal in the trace before
# re-raising it. That is notebook 06.

# %% [markdown]
# ## The invariants stayed green
#
# Every cluster in this notebook went through crashes, losses, a partition or duplicates. Here are
# their safety invariants (notebook 08 states each one and what breaks it). **UniformAgreement**: no two nodes decide different
# entries in the same slot. **Integrity**: a node's decided log only grows. **Validity**: only
# proposed entries are decided. **OneLeaderPerBallot**. **QuorumConnectedTakeover**: nobody took
# over without hearing a quorum. **StopSignSeal** and
# **ConfigurationTransition** (notebook 06). **KVLinearizability**: the key-value history could
# have happened in log order.

# %% tags=["nbval-check-output"]
for name, world in [("recovered", cluster), ("lost", lost), ("kept", kept), ("split", split),
                    ("dup", dup), ("down", down)]:
    failed = [v for v in world.check() if not v.ok]
    print(f"{name:>9}: {'all 7 invariants hold' if not failed else failed}")
print(verdicts(cluster))

# %% [markdown]
# ### Checking after every operation
#
# `cluster.check()` looks at one moment. `Cluster(..., check_every_step=True)` runs it after *every*
# operation: each `step`, `tick`, `crash`, `put`. The first operation that breaks an invariant raises
# `InvariantViolation` right there, so you see the exact step that went wrong, not a symptom fifty
# steps later. Here is a cluster that goes through a leader crash, a recovery and a partition with
# that check on:

# %% tags=["nbval-check-output"]
strict = Cluster([1, 2, 3], seed=0, check_every_step=True)
strict.run(ticks=1)
strict.put("a", 1)
strict.crash(3)
strict.run(ticks=4)
strict.put("b", 2)
strict.recover(3)
strict.partition([1], [2, 3])
strict.run(ticks=5)
strict.put("c", 3)
strict.heal()
strict.run(ticks=3)
print(strict)
print(f"{len(strict.trace.operations())} operations, each followed by check(): no violation")
print(strict.trace.script("strict"))

# %% [markdown]
# No violation: OmniPaxos is safe, and omnilab does not fake a bug to show you one. Here is what you
# would get if an operation did break an invariant, for example in an exercise where your own
# handler is wrong (or in notebook 08's random fault campaigns):
#
# ```python
# try:
#     strict.step()
# except InvariantViolation as err:
#     print(err)                       # which invariant, why, after which operation, e.g.
#                                      # "UniformAgreement: nodes 2 and 3 decided different entries
#                                      #  at idx 4 of configuration 1: ..."
#     err.verdicts                     # the failed Verdicts (.ok, .name, .message)
#     print(err.trace.script())        # the calls that led there: paste them into a cell
#     again = Cluster.replay(err.trace)   # an identical cluster at the moment of the violation
#     omnilab.lab(again)               # ...to inspect it in the lab
# ```
#
# The operation that broke the invariant has already run, so the cluster stays in the broken state for
# you to inspect. The exception only stops your script at that exact moment. The simulator is
# deterministic, so `Cluster.replay(err.trace)` gives the same violation on every run. The lab
# widget shows the same verdicts as badges, and a failed badge turns red.

# %% [markdown]
# ## Your lab
#
# The lab over the five-node `split` cluster (healed, leader 3). Every control makes the call written
# next to it. Things to try:
#
# * Crash two followers (**Crash** 1, then 2: `split.crash(1)`, `split.crash(2)`), put at the leader
#   (**Put**: `split.put("z", 9)`) and **Run** 5 (`split.run(ticks=5)`). Three of five is still a
#   majority, so `z` is decided. Crash a third node (`split.crash(4)`) and put again: the put stays
#   pending (see `split.history()`; the *Logs* tab shows it accepted by two nodes only). **Recover**
#   the nodes (`split.recover(1)`, ...), **Run** 5, and it is decided.
# * Apply the preset *isolate the leader 3* (**Apply**: `split.partition([3], [1, 2, 4, 5])`) and
#   **Run** 5: node 5 takes over with ballot `3.5`, while node 3 still believes it leads `2.3`.
#   **Heal all** (`split.heal()`) and **Run** 3: node 3 never raised its ballot while it was alone
#   (it was not quorum-connected), so it simply promises `3.5` and follows.
# * Then apply *quorum loss: only 3 reaches all* and **Run** 6: leader 5 loses its quorum and node 3,
#   the only node that reaches everybody, takes over (the *quorum-loss* scenario of the OmniPaxos
#   paper, where Raft gets stuck).
# * Watch the invariant badges: they stay green whatever you do. **Undo** (`split.undo()`) takes back
#   the last operation.

# %%
omnilab.lab(split)
