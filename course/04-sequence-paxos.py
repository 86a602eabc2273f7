# %% [markdown]
# # 04 · Sequence Paxos
#
# **Goals:** deliver Prepare, Promise, AcceptSync, AcceptDecide, Accepted and Decide by hand; explain how `accepted_idx` and `decided_idx` move and why a new leader loses nothing decided.
#
# **Time:** about 40 minutes.
#
# Ballot Leader Election (notebook 03) decides *who* should lead. Sequence Paxos is how that leader
# gets every server to hold the same log. It works in two phases. In the **Prepare** phase the new
# leader collects promises from a majority, and with them the most up-to-date log any of them holds,
# so that nothing that may already have been decided is lost. In the **Accept** phase it streams new
# entries to its followers, counts who has accepted them and declares them decided. In this notebook
# you deliver every one of those messages yourself, by hand, and watch each server's `decided_idx`
# and `accepted_idx` move. The messages carry the names they have in the OmniPaxos source:
# `Prepare`, `Promise`, `AcceptSync`, `AcceptDecide`, `Accepted`, `Decide`, `ProposalForward`,
# `PrepareReq`.

# %%
import pandas as pd
from IPython.display import display

import omnilab
from omnilab import view
from omnilab.sim import Cluster, scenarios
from omnilab.view.walkthrough import in_flight, protocol_messages, steps

pd.set_option("display.max_colwidth", None)  # tables show every cell's whole text

# %% [markdown]
# The three helpers from `omnilab.view.walkthrough` only read the cluster or call `cluster.step(id)`.
# `in_flight` finds message ids, and `protocol_messages` is `cluster.pending()` without heartbeats.
# `steps` delivers messages one by one
# and returns a table with a row per step, with each node's **decided/accepted** index: `2/3` means two slots
# decided and three accepted. The row also shows a node's phase when it is not Accept, and ★ marks a
# node in the Leader role. Heartbeats are delivered too, but they get no row.

# %% [markdown]
# ## Roles and phases
#
# A Sequence Paxos replica has a **role**, Leader or Follower, and a **phase**: *Prepare* (phase 1:
# promises are being collected), *Accept* (phase 2: entries flow), *Recover* (I restarted or lost
# messages, so I ask to be prepared again) or *None* (fresh, nobody has asked me anything yet). The
# diagram is drawn from the replica's own transition table, the one the replica checks every time it
# changes state: a change that is not an arrow here raises an error inside the replica.

# %%
view.role_phase_diagram()

# %% [markdown]
# The same table as text. Two arrows start from *any state*: BLE electing me with a higher ballot
# makes me a leader in Prepare, and a Prepare with a higher ballot makes me a follower in Prepare.
# Everything else moves forward (Prepare → Accept) or falls back to Recover when messages were
# lost.

# %% tags=["nbval-check-output"]
from omnilab.replica.sequence_paxos.transitions import ALL_STATES, TRANSITIONS

for t in TRANSITIONS:
    sources = "any state" if set(t.sources) == set(ALL_STATES) else ", ".join(
        f"{role.value}/{phase.value}" for role, phase in t.sources)
    print(f"{sources} -> {t.target[0].value}/{t.target[1].value}\n    when: {t.trigger} [{t.handler}]")

# %% [markdown]
# ## The Prepare phase
#
# Three servers, freshly started. They have exchanged their first heartbeats, so Ballot Leader
# Election knows that node 3 has the highest ballot (`1.3`: round 1, pid 3), but nobody has ticked
# yet: every replica is a Follower in phase None, with nothing promised (`0.0`).

# %% tags=["nbval-check-output"]
cluster = Cluster([1, 2, 3], seed=0)
display(view.nodes(cluster)[["role", "phase", "ballot", "promise", "decided_idx", "accepted_idx"]])

# %% [markdown]
# ### Prepare: "promise me round 1.3, and tell me what you have"
#
# One tick. Node 3's BLE ends its round, sees that it holds the highest ballot and hands it to
# Sequence Paxos (`handle_leader`). Node 3 becomes **Leader in Prepare**, promises its own ballot and
# sends a `Prepare` to each peer. The Prepare carries the leader's ballot `n` and how far its own log
# goes: `decided_idx`, the round it last accepted entries in (`n_accepted`) and `accepted_idx`. A
# follower compares these with its own log to decide whether it knows something the leader lacks.

# %% tags=["nbval-check-output"]
cluster.tick()
display(view.nodes(cluster)[["role", "phase", "ballot", "promise"]])
display(protocol_messages(cluster))

# %% [markdown]
# The messages in flight ride on the arrows (heartbeats too: every tick is a BLE round). Node 3 is
# amber: a leader that is still preparing.

# %%
view.cluster_diagram(cluster)

# %% [markdown]
# ### Promise
#
# Deliver the Prepare to node 1. Node 1 has promised nothing higher, so it **promises** round 1.3:
# from now on it ignores anything from a lower ballot. It persists the promise (it must survive a
# crash: a node that forgot its promise could promise two leaders) and answers with a `Promise` that
# describes its log: the round it last accepted in, its decided and accepted indexes, and a `log_sync`.
# The LogSync is the part of its log the leader lacks. It is `None` here: node 1's log is no longer
# than the leader's (both are empty).

# %% tags=["nbval-check-output"]
display(steps(cluster, in_flight(cluster, "Prepare", to=1)))
display(protocol_messages(cluster))

# %% [markdown]
# ### A majority of promises, then AcceptSync
#
# Deliver node 1's Promise. The leader now holds two promises out of three (its own and node 1's): a
# **read quorum**. It does not wait for node 2. Any two majorities share a member, so if some entry
# had been decided in an earlier round, at least one of these promises would carry it. The leader
# takes the most up-to-date log among the promises it holds, adopts it (here: the empty log) and
# switches to **Accept**. Then it sends each promised follower an `AcceptSync`: "make your log equal
# to mine from `sync_idx` on", together with the leader's decided index. The AcceptSync also opens a
# new **session** of sequence numbers to that follower (`seq_num=1.1`: session 1, message 1; more
# on these below).

# %% tags=["nbval-check-output"]
display(steps(cluster, in_flight(cluster, "Promise")))
display(protocol_messages(cluster))

# %% [markdown]
# The Prepare to node 2 is still in flight. When it arrives, node 2 promises too. The leader is
# already in Accept, so it treats this as a *late promise* and syncs node 2 on its own with another
# AcceptSync. Each follower answers its AcceptSync with `Accepted`: "in round 1.3, my log is as long
# as yours". Everyone is now in Accept.

# %% tags=["nbval-check-output"]
display(steps(cluster, in_flight(cluster, "Prepare")))
cluster.deliver_all()
display(view.nodes(cluster)[["role", "phase", "promise", "leader", "decided_idx", "accepted_idx"]])

# %% [markdown]
# **Your turn.** In a cluster of five servers, how many `Promise` messages from *other* nodes does a
# new leader need before it sends its AcceptSyncs? And how many `Accepted` messages from other nodes
# before it can decide an entry?
#
# <details><summary>Answer</summary>
#
# Two and two. A majority of five is three, and the leader counts itself in both quorums (its own
# promise and its own accepted log). With `flexible_quorum` the two numbers can differ (for example
# a read quorum of 4 and a write quorum of 2 out of 5), as long as every read quorum overlaps every
# write quorum.
# </details>

# %% [markdown]
# ## The leader adopts the most up-to-date log
#
# In a fresh cluster every log is empty, so the Promises carry nothing. The interesting case is a
# leader that is *behind*. `scenarios.constrained_election()` builds one (the *constrained election* scenario of
# the OmniPaxos paper (*Omni-Paxos: Breaking the Barriers of Partial Connectivity*, EuroSys 2023)): node 3
# was cut off while the old leader 5 decided three writes with nodes 1, 2 and 4. Then node 5 crashed,
# and now node 3 is the only node connected to everyone else.

# %% tags=["nbval-check-output"]
scene = scenarios.constrained_election()
print(scene.description)
display(scene.logs())

# %% [markdown]
# Leader election ignores logs (that is what lets node 3 win here when Raft's rules would refuse it).
# After three ticks node 3 takes over with ballot `2.3`. Its Prepare says `accepted_idx=0`: its log is
# empty. Each Prepare shows up twice. In the same tick the resend timer fired, and it re-sends
# Prepare to every peer that has not promised yet. The copy does no harm, because a node never
# promises the same ballot twice.

# %% tags=["nbval-check-output"]
scene.run(ticks=2)
scene.tick()
display(protocol_messages(scene))

# %% [markdown]
# Deliver one Prepare each to nodes 1, 2 and 4. Each of them accepted in the same round as the leader
# (`n_accepted=1.5`) but has a longer log (3 against 0), so its Promise carries a LogSync with what
# the leader lacks. (The rule in `handle_prepare`: if I accepted in a *later* round than the leader,
# send everything after the leader's decided index; in the *same* round with a longer log, send the
# part after the leader's accepted index; otherwise send nothing.)

# %% tags=["nbval-check-output"]
display(steps(scene, [in_flight(scene, "Prepare", to=pid)[0] for pid in (1, 2, 4)]))
display(protocol_messages(scene).query("type == 'Promise'"))

# %% [markdown]
# The leader ranks promises by `(n_accepted, accepted_idx)`: entries accepted in the newest round
# win, and within one round the longer log wins (a leader only ever appends, so the longer log
# contains the shorter). It keeps the best LogSync it has seen. With the second Promise it has a
# majority of five (itself, node 1, node 2), applies that LogSync to its own log and switches to
# Accept: watch node 3's accepted index jump from 0 to 3 at step 2.
#
# These KeyValue entries support snapshots (`omnilab.kv.KeyValue` declares `KVSnapshot`). So a
# LogSync ships the *decided* part the receiver lacks as one snapshot, the key-value state those
# entries produce, and only the undecided tail as entries. That is why the Promises read
# `complete snapshot, 0 entries at 3`, and why node 3's log now shows `(snapshot)` for slots 0 to 2.
# Notebook 07 is about compaction and snapshots.

# %% tags=["nbval-check-output"]
display(steps(scene, in_flight(scene, "Promise")))
scene.deliver_all()
display(scene.logs())
print("node 3 holds:", dict(scene.server(3).kv))

# %% [markdown]
# ## The Accept phase: one put, message by message
#
# Back to the three-node cluster, leader 3 in Accept. `cluster.put("a", 1)` appends the write to the
# leader's log (its accepted index becomes 1) and puts one `AcceptDecide` per follower on the wire.
# Nothing moves until you deliver it:

# %% tags=["nbval-check-output"]
op = cluster.put("a", 1)
display(protocol_messages(cluster))

# %% [markdown]
# Now deliver the messages one at a time, oldest first, until nothing is in flight. Read the table
# row by row:
#
# 1. node 1 appends `a=1` (accepted 0 → 1) and replies `Accepted(accepted_idx=1)`;
# 2. node 2 does the same;
# 3. the leader gets node 1's Accepted: two of three nodes (node 1 and the leader itself) have
#    accepted index 0, a **write quorum**, so the leader **decides** it (decided 0 → 1) and sends a
#    `Decide` to each follower;
# 4. node 2's Accepted arrives afterwards and changes nothing: the decision is already made;
# 5. and 6. the Decides reach the followers, which then know that slot 0 is decided and apply
#    `a=1` to their key-value state.
#
# A follower can never decide on its own. It only learns decisions from its leader.

# %% tags=["nbval-check-output"]
display(steps(cluster))
print("client:", op.describe(), "|", op.status)

# %% [markdown]
# The same exchange as a space-time diagram: one lane per node, time going down, an arrow per message
# from send to delivery, ✓ where a node learns that a slot is decided.

# %%
view.spacetime(cluster, last=20)

# %% [markdown]
# ### The decided index rides along
#
# Every AcceptDecide carries the leader's current `decided_idx`. Put another value: its AcceptDecide
# says `decided_idx=1`, so a follower that receives a stream of AcceptDecides learns about decisions
# from the stream itself. The leader sends a separate `Decide` only when no AcceptDecide to that
# follower is waiting to carry the new index. (In the reference implementation a leader that decides
# while an AcceptDecide is still queued in its outbox just overwrites that message's `decided_idx`.
# This simulator empties every outbox right after each delivery, so you always see the Decide.)

# %% tags=["nbval-check-output"]
cluster.put("b", 2)
display(protocol_messages(cluster))
cluster.deliver_all()
display(cluster.logs())

# %% [markdown]
# ## A put at a follower: ProposalForward
#
# A client may talk to any server. A follower does not append on its own. It forwards the proposal
# to the leader it promised, in a `ProposalForward`, and the leader appends it as if the client had
# come to it directly. (A node that knows no leader yet keeps the proposal in a buffer and forwards
# it once it has promised someone.)

# %% tags=["nbval-check-output"]
forwarded = cluster.put("c", 3, at=1)
display(protocol_messages(cluster))
display(steps(cluster))
print("client:", forwarded.describe(), "|", forwarded.status)

# %% [markdown]
# **Your turn.** Put `d=4` at node 1 again, but this time `cluster.drop(id)` the ProposalForward
# instead of delivering it. Is `d=4` ever decided, even after `cluster.run(ticks=10)`? What does
# `cluster.history()` say about the client's call?
#
# <details><summary>Answer</summary>
#
# It is never decided. Nothing in OmniPaxos resends a forwarded proposal that was lost (a follower
# forwards it once, in a `ProposalForward`, and keeps no copy), so the client's put stays `pending` in
# `cluster.history()` forever. The protocol only
# promises that what is decided is never lost or changed. Getting a proposal decided is the client's
# job: if it does not hear back, it retries (a real system would make the retry idempotent, for
# example with a request id).
# </details>

# %% [markdown]
# ## Batching
#
# With `batch_size=1` (the default) every entry costs an AcceptDecide, an Accepted and a Decide per
# follower. With `Cluster(..., batch_size=3)` the leader keeps appended entries in a batch buffer and
# writes and sends them only when three have gathered. Each follower batches in the same way. Batched
# entries are not in the log yet: they do not count in `accepted_idx`, reads do not see them, and a
# crash loses them. (A timer, `flush_batch_tick_timeout`, 200 ticks by default, flushes a batch that
# never fills up.)

# %% tags=["nbval-check-output"]
batched = Cluster([1, 2, 3], seed=0, batch_size=3)
batched.run(ticks=1)
leader = batched.leader()
batched.put("x1", 1)
batched.put("x2", 2)
print(f"after 2 puts: {len(batched.network)} messages in flight, "
      f"{batched.server(leader).omnipaxos.inspect().batched} entries batched at leader {leader}")
batched.put("x3", 3)
display(protocol_messages(batched))
display(steps(batched))


# %% [markdown]
# Three entries were decided together, and one AcceptDecide carried all three. Count the Sequence
# Paxos messages needed to decide six puts, with and without batching:

# %% tags=["nbval-check-output"]
def messages_for_puts(batch_size, puts=6):
    c = Cluster([1, 2, 3], seed=0, batch_size=batch_size)
    c.run(ticks=1)
    first_id = c.network.next_id
    for i in range(puts):
        c.put(f"k{i}", i)
    c.deliver_all()
    return c.network.next_id - first_id  # every message sent gets the next id


for size in (1, 3, 6):
    print(f"batch_size={size}: {messages_for_puts(size)} messages for 6 puts")

# %% [markdown]
# That is 3 × (n − 1) / batch_size messages per entry (6, 2 and 1 here): an AcceptDecide, an
# Accepted and a Decide to and from each of the n − 1 followers, shared by the whole batch. The price is latency: the first
# entry of a batch waits for the others (or for the flush timer).

# %% [markdown]
# ## Sequence numbers, and what a gap triggers
#
# Look at the `seq_num` fields above: the leader numbers every AcceptSync, AcceptDecide and Decide
# it sends to a follower. `1.4` means session 1, message 4. An AcceptSync opens a new session at
# counter 1. A follower in Accept takes a message only if its number is exactly the next one in the
# current session. An older number is a duplicate and is ignored. Anything else, a gap or a session
# it never saw open, means it **lost messages**. It cannot tell which ones, so it stops accepting,
# goes to **Recover** and sends the leader a `PrepareReq`: "prepare me again".
#
# Put two values, then drop the first AcceptDecide to node 1:

# %% tags=["nbval-check-output"]
cluster.put("x", 10)
cluster.put("y", 11)
display(protocol_messages(cluster))
lost = in_flight(cluster, "AcceptDecide", to=1)[0]
cluster.drop(lost)
print(f"dropped #{lost}")

# %% [markdown]
# Node 1 last took `1.7` (the Decide for `c=3`), and `1.8` is gone. Deliver the second AcceptDecide
# to node 1: its number `1.9` skips `1.8`. Node 1 ignores the message, goes to **Recover** and
# sends a `PrepareReq`:

# %% tags=["nbval-check-output"]
display(steps(cluster, in_flight(cluster, "AcceptDecide", to=1)))
display(protocol_messages(cluster))

# %% [markdown]
# Now deliver everything else, oldest first. Node 2 accepts both entries (steps 1 and 2). The
# PrepareReq reaches the leader (step 3). The leader marks node 1 as not promised, stops streaming
# to it and sends it a fresh `Prepare`. Node 2's Accepteds arrive, and the leader decides `x` and `y`
# with node 2 alone (steps 4 and 5), because two of three is still a write quorum. The Decides go to
# node 2 only. Node 1, in Recover, accepts a Prepare even for the ballot it already promised
# (step 6). Its Promise says how far its log goes (step 9). The leader answers with an `AcceptSync`
# that opens **session 2** (`seq_num=2.1`) and carries what node 1 missed (step 10). Node 1 is back
# in Accept, level with the others.

# %% tags=["nbval-check-output"]
display(steps(cluster))
display(view.nodes(cluster)[["role", "phase", "decided_idx", "accepted_idx", "compacted_idx"]])

# %% [markdown]
# All three logs agree again. Node 1's log reads `(snapshot)`: the AcceptSync shipped the decided part
# it lacked as a key-value snapshot (a *delta* from node 1's own decided prefix, merged into it), as
# in the constrained election above. Its key-value state is the same as everyone else's:

# %% tags=["nbval-check-output"]
display(cluster.logs())
display(view.kv(cluster))
print("  ".join(f"{v.name} ✓" if v.ok else f"{v.name} ✗ ({v.message})" for v in cluster.check()))

# %% [markdown]
# **Your turn.** When `1.7` arrived, node 1 already knew the leader, the ballot and the entry `y=11`.
# Why does it not simply store `y=11` at index 2 and ask for the missing index 1 later?
#
# <details><summary>Answer</summary>
#
# Because of what `Accepted(accepted_idx=k)` means: "my log equals the leader's on *every* slot below
# k". The leader counts these replies to decide slots, so a follower may never have a hole. Node 1
# also cannot know *how much* it missed: the lost messages could have included several entries, or
# a Decide. Asking for a fresh Prepare and AcceptSync is the one step that always restores a log that
# is a prefix of the leader's. The same happens if a link reorders two messages: a later number
# arriving first looks exactly like a loss.
# </details>

# %% [markdown]
# ## Your lab
#
# The lab widget over this notebook's cluster. Every control makes the call written next to it, and
# you can type that call in a new cell instead; the lab follows either way. Things to try:
#
# * Put at a follower (**put** `e` = `5`, **at** `1`, then **Step** until nothing is in flight):
#   `cluster.put("e", 5, at=1)` and `cluster.step()`. Watch the ProposalForward in the *Messages* tab.
# * Make a gap without `drop`: **Cut** the link 3 ↔ 1 (`cluster.cut(3, 1)`), put twice, **Heal all**
#   (`cluster.heal()`), put once more and **Deliver all** (`cluster.deliver_all()`). Node 1 sees the
#   gap on the first message after the heal, goes to Recover and is synced again.
# * Crash the leader (**Crash** node 3: `cluster.crash(3)`) and **Run** 3 ticks (`cluster.run(ticks=3)`):
#   a new Prepare phase, led by node 2 with ballot `2.2`. Then **Recover** node 3 (`cluster.recover(3)`).
#   Notebook 05 is all about this.
# * **Undo** (`cluster.undo()`) takes back the last operation.

# %%
omnilab.lab(cluster)
