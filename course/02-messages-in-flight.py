# %% [markdown]
# # 02 · Messages in flight
#
# **Goals:** deliver, hold back, drop, duplicate and reorder messages; cut links and partition the network; read the trace and replay it.
#
# **Time:** about 30 minutes.
#
# OmniPaxos is built for an **asynchronous network**: a message may arrive late, out of order, twice,
# or never, and a link may fail in one direction only. In omnilab that network is in your hands. No
# message moves until you deliver it, so you can hold one back, deliver another first, lose it, copy
# it, or cut the link it travels on, and then watch what the servers make of it. This notebook goes
# through each of those powers on a fresh three-node cluster, shows the trace that records every one
# of them, and ends with replaying that trace into an identical cluster.

# %%
import pandas as pd
from IPython.display import display

import omnilab
from omnilab import Cluster, view
from omnilab.sim import Dropped

pd.set_option("display.max_colwidth", None)  # tables show every cell's whole text

# %% [markdown]
# ## A fresh cluster: what is in flight at boot?
#
# `Cluster([1, 2, 3])` starts one OmniPaxos server per pid, all in configuration 1. Every server
# begins by asking its peers for a heartbeat (election round 1 of Ballot Leader Election, notebook 03).
# The cluster delivers those start-up heartbeats before handing the cluster to you, as the OmniPaxos
# test harness does, so that every server knows its peers' ballots before the first tick. The wire is
# therefore empty, nobody leads yet, and the trace already tells the story of the boot.

# %% tags=["nbval-check-output"]
cluster = Cluster([1, 2, 3])
print(cluster)
print("in flight:", len(cluster.pending()))
display(view.events(cluster, last=None))

# %% [markdown]
# ## `tick()` makes servers talk; `pending()` lists what they said
#
# Servers only act when something happens to them: a message, a client call, or a **tick** of their
# logical clock. `cluster.tick()` ticks every live server once and delivers nothing. Each server ends
# election round 1 and asks for round 2. Node 3 has the highest ballot (`1.3`: n = 1, pid 3), so it
# believes it leads and sends its **Prepare** to the others.
#
# `cluster.pending()` is the wire: one row per message in flight, oldest first, indexed by its **id**.
# Ids are handed out in send order and never reused (ids 1 to 12 were the boot heartbeats).

# %% tags=["nbval-check-output"]
cluster.tick()
display(cluster.pending())

# %% [markdown]
# ## `step()`: deliver the oldest message
#
# `cluster.step()` delivers the oldest message in flight and returns it. Always taking the oldest
# keeps every link first-in first-out. The receiver handles the message at once, and whatever it
# sends in response joins the **end** of the queue: here node 2 answers node 1's heartbeat request.

# %% tags=["nbval-check-output"]
delivered = cluster.step()
print("delivered:", view.envelope_text(delivered))
display(cluster.pending())

# %% [markdown]
# ## `step(id)`: deliver any message first (reordering)
#
# A real network gives no ordering guarantee between different messages, and OmniPaxos must stay
# safe whatever the order. `cluster.step(17)` delivers node 3's Prepare to node 1 ahead of three older
# heartbeats. Node 1 has promised nothing yet, so it promises ballot `1.3` and answers with a
# **Promise** (`#22`). The node table shows node 3 as a leader still preparing, node 1 as its
# follower, and node 2 untouched: its Prepare (`#18`) is still on the wire.

# %% tags=["nbval-check-output"]
print("delivered:", view.envelope_text(cluster.step(17)))
display(view.nodes(cluster)[["role", "phase", "ballot", "promise", "leader"]])

# %% [markdown]
# ## `drop(id)`: lose a message
#
# `cluster.drop(18)` loses the Prepare on its way to node 2. Nothing in omnilab is lost silently: the
# drop is an event in the trace, with its reason. `view.events(cluster, last=3)` reads the end of the
# trace: the operation as the Python call you typed, then what it caused.

# %% tags=["nbval-check-output"]
cluster.drop(18)
display(view.events(cluster, last=3))

# %% [markdown]
# Does the leader need node 2? No: a **majority** of the three nodes is enough. Node 3 counts its own
# promise, and with node 1's Promise it has two of three. `deliver_all()` delivers everything in
# flight, oldest first, until the wire is empty. Node 3 then moves to the Accept phase with node 1,
# and node 2, which never heard of ballot `1.3`, stays in phase `None`.

# %% tags=["nbval-check-output"]
print("delivered", cluster.deliver_all(), "messages")
display(view.nodes(cluster)[["role", "phase", "promise", "leader"]])

# %% [markdown]
# A leader still owes node 2 a Prepare, and it cannot tell whether its first one was lost or is only
# slow. Every `resend_message_tick_timeout` ticks it sends a fresh Prepare to every peer that has not
# promised. omnilab's clusters set that timeout to 2 ticks, so the resend comes with the cluster's
# second tick. The new Prepare carries `n_accepted=1.3`, because the leader has accepted in its own
# round since. Node 2 promises and joins.

# %% tags=["nbval-check-output"]
cluster.tick()
wire = cluster.pending()
display(wire[wire["type"] != "HeartbeatRequest"])
cluster.deliver_all()
display(view.nodes(cluster)[["role", "phase", "promise", "leader"]])

# %% [markdown]
# ## `duplicate(id)`: the same message twice
#
# Networks resend and routers misbehave, so a message can arrive twice. `cluster.duplicate(id)` puts a
# copy on the wire with a new id. Let's write `a = 1`: the leader appends it and sends an
# **AcceptDecide** to each follower. Then we copy the one for node 1.

# %% tags=["nbval-check-output"]
cluster.put("a", 1)
wire = cluster.pending()
accept_to_1 = int(wire.index[wire["to"] == 1][0])
copy = cluster.duplicate(accept_to_1)
print("original", accept_to_1, "copy", copy)
display(cluster.pending())

# %% [markdown]
# Deliver the original first. Node 1 accepts `a=1` at index 0 and answers **Accepted**.

# %% tags=["nbval-check-output"]
mark = len(cluster.trace)
cluster.step(accept_to_1)
display(view.events(cluster, last=len(cluster.trace) - mark))

# %% [markdown]
# If node 1 appended every AcceptDecide it received, the copy would put `a=1` at index 1 too, and
# node 1's log would differ from the others'. OmniPaxos rules that out with two numbers that every
# accept message carries:
#
# * the **ballot** `n`: a follower only takes accept messages of the ballot it promised. A message from
#   an older leader is refused (the follower answers `NotAccepted`), and a copied Prepare of the ballot
#   it already promised is ignored;
# * the **sequence number** `seq_num = session.counter`: a leader numbers its AcceptSync, AcceptDecide
#   and Decide messages to each follower `1.1, 1.2, 1.3, …`. The follower takes only the next number.
#   A number it has already seen is **Outdated** and ignored; a number that skips ahead is a **gap**,
#   meaning some message was lost, and the follower asks to be prepared again (you will see one below).
#
# Peek inside node 1's replica: the last number it took equals the copy's number. The copy is
# outdated.

# %% tags=["nbval-check-output"]
follower = cluster.server(1).omnipaxos.seq_paxos   # a read-only peek at the replica's internals
print("node 1 last took seq_num", follower.current_seq_num)
print("the copy carries seq_num ", cluster.network.get(copy).payload.seq_num)

# %% [markdown]
# Now step the copy by hand. It is delivered, and node 1 sends nothing back and changes nothing: its
# log still holds `a=1` once.

# %% tags=["nbval-check-output"]
mark = len(cluster.trace)
cluster.step(copy)
display(view.events(cluster, last=len(cluster.trace) - mark))
cluster.deliver_all()
display(cluster.logs())

# %% [markdown]
# ## The exchange as a space-time diagram
#
# `view.spacetime(cluster, last=n)` draws the last `n` trace items as a Lamport diagram: one lane
# per node, time going down, an arrow from each send to its delivery. Here is the write of `a = 1`: the
# two AcceptDecides, the copy (⧉), the Accepted replies, the leader's decision (✓), and the
# **Decide** messages that tell the followers. Heartbeats are hidden (`ble=True` shows them).

# %%
put_at = max(pos for pos, item in enumerate(cluster.trace) if type(item).__name__ == "Put")
view.spacetime(cluster, last=len(cluster.trace) - put_at)

# %% [markdown]
# ### Your turn
#
# Copy a Prepare instead. Build a fresh cluster, `tick()`, `duplicate(17)` (node 3's Prepare to
# node 1), and step the original and then the copy. What does node 1 do with the second copy, and why
# is that safe?
#
# <details><summary>Answer</summary>
#
# The first copy makes the follower promise ballot `1.3` and answer with a Promise. The second copy
# carries the same ballot, and a follower only acts on a Prepare whose ballot is **greater** than its
# promise (or equal while it is recovering), so it ignores the copy: no second Promise. Even a second
# Promise would be harmless, because the leader counts promises per node, not per message.
# </details>

# %% [markdown]
# ## `cut(a, b)`: a broken link drops messages *at send time*
#
# `cluster.cut(1, 3)` breaks the link between nodes 1 and 3 in both directions
# (`cluster.network.cut_links` holds the directed pairs). From now on a message **sent** on a cut
# link is dropped right away, and the trace says why. The next write, `b = 2`, shows it: the
# AcceptDecide for node 1 never reaches the wire.

# %% tags=["nbval-check-output"]
cluster.cut(1, 3)
print("cut links:", sorted(cluster.network.cut_links))
mark = len(cluster.trace)
cluster.put("b", 2)
display(view.events(cluster, last=len(cluster.trace) - mark))
display(cluster.pending())

# %% [markdown]
# Nodes 2 and 3 are a majority, so `b = 2` is decided without node 1, whose log simply ends early.
# The leader does not resend lost AcceptDecides: node 1 will notice the loss itself, as the next
# section shows.

# %% tags=["nbval-check-output"]
cluster.deliver_all()
display(cluster.logs())

# %% [markdown]
# ## `heal()`, and a gap in the sequence numbers
#
# `cluster.heal()` brings every link back (`heal(a, b)` only one). Node 1 still lacks `b = 2`, and
# nobody has told it. The next write tells it: the AcceptDecide for `c = 3` carries sequence number
# `1.6`, but node 1 last took `1.3` (the AcceptDecide `1.4` and the Decide `1.5` were dropped on the
# cut link). That is a **gap**. Node 1 cannot know what it missed, so it does not accept `c = 3`.
# Instead it asks the leader to prepare it again (**PrepareReq**). The leader answers with a
# Prepare, node 1 promises and states how far its log goes, and the leader's **AcceptSync** brings
# node 1's log up to date. Here is that exchange, as seen by node 1:

# %% tags=["nbval-check-output"]
cluster.heal()
mark = len(cluster.trace)
cluster.put("c", 3)
cluster.deliver_all()
seen = view.events(cluster, last=len(cluster.trace) - mark)
display(seen[seen["node"] == 1])
display(view.kv(cluster))

# %% [markdown]
# Node 1 now holds all three writes. The leader sent the part node 1 had missed as a snapshot of the
# key-value state rather than entry by entry, so node 1's log column reads `(snapshot)`. Notebook 07
# is about compaction and snapshots.

# %%
cluster.logs()

# %% [markdown]
# ### What is already on the wire still arrives
#
# A cut drops what is sent **after** it. A message already in flight when its link breaks still
# arrives, as on a real wire. Tick, cut the link between 2 and 3 while the heartbeat requests are in
# flight, and deliver: the requests between 2 and 3 arrive, and the replies to them are dropped.

# %% tags=["nbval-check-output"]
cluster.tick()
cluster.cut(2, 3)
mark = len(cluster.trace)
cluster.deliver_all()
seen = view.events(cluster, last=len(cluster.trace) - mark)
display(seen[seen["text"].str.contains("2→3|3→2")])
cluster.heal()
cluster.run(ticks=2)   # a calm round or two: everybody hears the leader again

# %% [markdown]
# ### One direction only
#
# `cluster.cut(3, 1, one_way=True)` breaks only 3 → 1: node 1 can still talk to node 3, but nothing
# comes back. Heartbeats are request and reply. Node 1's requests reach node 3, node 3's replies are
# lost, and node 3's own requests are lost. So node 3 hears **nothing** from node 1 either: a link
# that fails one way breaks a request/reply exchange both ways.

# %% tags=["nbval-check-output"]
cluster.cut(3, 1, one_way=True)
print("cut links:", sorted(cluster.network.cut_links))
mark = len(cluster.trace)
cluster.run(ticks=1)
seen = view.events(cluster, last=len(cluster.trace) - mark)
display(seen[seen["text"].str.contains("1→3|3→1")])
cluster.heal()
cluster.run(ticks=2)

# %% [markdown]
# ## `partition(...)`: many cuts at once
#
# `cluster.partition([1, 2], [3])` keeps only the links inside each group: it cuts every link between
# groups, both ways. Here the leader is alone. Nodes 1 and 2 stop hearing it, and together they are
# a majority, so both try to take over in the same round with the next ballot number, n = 2: node 1
# with `2.1`, node 2 with `2.2`. The larger ballot wins, so node 2 leads (notebook 03 goes through
# that election round by round). Node 3 still believes it leads its old ballot `1.3`, but alone it
# can decide nothing. After `heal()` it hears the higher ballot and follows.

# %% tags=["nbval-check-output"]
cluster.partition([1, 2], [3])
print("cut links:", sorted(cluster.network.cut_links))
cluster.run(ticks=4)
print("leader of nodes 1 and 2:", cluster.server(1).omnipaxos.get_current_leader())
display(view.nodes(cluster)[["role", "phase", "ballot", "promise", "leader"]])
cluster.heal()
cluster.run(ticks=2)
print("after heal(): leader", cluster.leader())
display(view.nodes(cluster)[["role", "phase", "ballot", "promise", "leader"]])

# %% [markdown]
# `view.cluster_diagram(cluster)` draws links and messages in flight: a cut link is a red dashed line
# with ✂. Cut one link and tick to see it:

# %%
cluster.cut(1, 3)
cluster.tick()
view.cluster_diagram(cluster)

# %%
cluster.heal()
cluster.deliver_all()

# %% [markdown]
# ### Your turn
#
# Node 2 leads now. Call `cluster.put("e", 5)`, and while its AcceptDecides are in flight,
# `cluster.cut(2, 3)`, then `cluster.deliver_all()`. Does node 3 get `e = 5`? Is `e = 5` decided,
# and what does node 3's column of `cluster.logs()` show? (Try it in the lab at the end.)
#
# <details><summary>Answer</summary>
#
# Node 3 gets the AcceptDecide: it was sent before the cut, and cuts act at send time. But node 3's
# **Accepted** is sent after the cut, on the cut link 3 → 2, so it is dropped at once. Node 1's
# Accepted is enough for a majority, so `e = 5` is decided. The leader's Decide to node 3 is dropped
# as well, so node 3 holds `e=5 …`: accepted, but not known to be decided until the link heals and
# a later message reaches it.
# </details>

# %% [markdown]
# ## The trace: a list of small events
#
# `cluster.trace` is a plain Python list. It has two kinds of items, told apart by grammar:
# **operations** (present tense: `Put`, `Step`, `Drop`, …) are the calls you made, with their
# arguments, and **events** (past tense: `Sent`, `Delivered`, `Dropped`, `EntryDecided`, …) are what
# each call caused. Every item is a small frozen dataclass whose fields you can read. A `Dropped`
# event holds the envelope (`id`, `sender`, `receiver`, `message`) and the reason.

# %% tags=["nbval-check-output"]
print(len(cluster.trace), "items,", len(cluster.trace.operations()), "operations")
print(cluster.trace[0])
drops = [item for item in cluster.trace if isinstance(item, Dropped)]
print(len(drops), "messages were dropped; the first three:")
for item in drops[:3]:
    print(" ", item.envelope.id, item.envelope.kind, item.envelope.sender, "->", item.envelope.receiver,
          "|", item.reason)

# %% [markdown]
# `view.events(cluster, last=n)` reads the same items as a table (operations as Python calls, events
# as sentences). `cluster.trace.script()` lists only the operations, as a program you can paste into
# a cell to rebuild this cluster:

# %% tags=["nbval-check-output"]
print(cluster.trace.script())

# %% [markdown]
# ## `Cluster.replay(trace)` and `undo()`
#
# The simulator has no clock and no randomness of its own (only a seeded generator), so the same calls
# always give the same result, event for event. `Cluster.replay(trace)` builds a new cluster from
# the first item and performs every operation again. The copy is identical: the same trace, the same
# logs, the same node states. This is how a failing schedule found by a test or a grader becomes
# something you can step through.

# %% tags=["nbval-check-output"]
twin = Cluster.replay(cluster.trace)
print("a different object:", twin is not cluster)
print("same trace:", twin.trace == cluster.trace)
print("same logs:", twin.logs().equals(cluster.logs()))
print("same node states:", view.nodes(twin).equals(view.nodes(cluster)))

# %% [markdown]
# `cluster.undo()` takes back the last operation: it rebuilds the cluster in place from the trace
# without it. Undo a write you did not mean, and it is as if you never typed it:

# %% tags=["nbval-check-output"]
cluster.put("oops", 0)
print("last operation:", cluster.trace.operations()[-1].call())
cluster.undo()
print("after undo:    ", cluster.trace.operations()[-1].call())
print("in flight:", len(cluster.pending()), "| trace equals the twin's:", cluster.trace == twin.trace)

# %% [markdown]
# ### Your turn
#
# Build `Cluster([1, 2, 3])`, `tick()`, `drop` **both** of node 3's Prepares (17 and 18),
# `deliver_all()`, then `run(ticks=3)`. Who leads, and why did you not have to put the Prepares back?
#
# <details><summary>Answer</summary>
#
# Node 3 still leads, with ballot `1.3`. Its Prepares were lost, but a leader in the Prepare phase
# resends its Prepare to every peer that has not promised each time its resend timer fires (every
# 2 ticks here), and the resend at tick 2 reaches nodes 1 and 2. Lost messages cost time, never
# safety.
#
# If you skip `deliver_all()`, the heartbeats of round 2 are still on the wire when the next tick ends
# the round. Every node then finishes a round without hearing anybody, and an election follows:
# node 2 ends up leading with ballot `2.2`. Notebook 03 explains why.
# </details>

# %% [markdown]
# ## The lab
#
# The lab widget works on this same cluster. Its *Messages* tab lists what is in flight: click a
# message to deliver it (`cluster.step(id)`), or choose its id next to **Step**. **Cut** and **Heal
# link** act on one link, and the presets apply a partition. `drop` and `duplicate` have no button:
# type them in a cell, and the lab follows every call typed in another cell (its trace grows, and the
# views redraw). The cell below presses a few controls from code first; then the lab is yours.

# %% tags=["nbval-check-output"]
w = omnilab.lab(cluster)
cluster.tick()
print(w.press("step"))                       # the Step button: the oldest message
print(w.press("cut", link_a=1, link_b=2))    # Cut, link 1 ↔ 2
print(w.press("heal"))                       # Heal all
cluster.deliver_all()                        # typed in a cell: the lab follows
print(w)

# %%
w

# %% [markdown]
# | in the lab | the call |
# |---|---|
# | **Tick**, then a message in the *Messages* tab | `cluster.tick()`, `cluster.step(id)` |
# | **Step** with *message: oldest* | `cluster.step()` |
# | **Deliver all** | `cluster.deliver_all()` |
# | **Cut** / **Heal link** (link *a* ↔ *b*) | `cluster.cut(a, b)` / `cluster.heal(a, b)` |
# | **Apply** a split preset | `cluster.partition([...], [...])` |
# | **Heal all** | `cluster.heal()` |
# | **Undo** / **Replay** | `cluster.undo()` / `Cluster.replay(cluster.trace)` |
# | (type it) | `cluster.drop(id)`, `cluster.duplicate(id)`, `cluster.cut(a, b, one_way=True)` |
#
# Try this:
#
# * **Tick**, then deliver the messages in the *Messages* tab in an order you choose; watch the
#   *Space-time* tab draw each arrow.
# * `cluster.put("x", 1)`, then `cluster.drop(id)` the AcceptDecide to one follower (type it in a new
#   cell). Is `x` decided? Put again and find the follower's PrepareReq in the *Events* tab.
# * `cluster.duplicate(id)` an **Accepted** reply, deliver both, and look at the leader's decided
#   index in the *Nodes* tab: does the copy change it?
# * Cut `3 → 1` one way and **Run** a few ticks: is node 1 still a happy follower?

# %% [markdown]
# Next, the heartbeats you have been stepping past elect the leader.
