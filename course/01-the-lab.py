# %% [markdown]
# # 01 · The lab: looking at a cluster
#
# **Goals:** read every view of a cluster (logs, node states, messages, space-time diagram, trace); drive the lab widget and know the call behind each control.
#
# **Time:** about 30 minutes.
#
# A cluster of OmniPaxos servers has a lot of state: a log per server (one per configuration), a role
# and a ballot, messages on the wire, a key-value store. This notebook shows the **views** that put it
# in front of you (tables and pictures, all in `omnilab.view`) and the **lab widget** that drives a
# cluster with buttons. Every button is a method call you could type; the notebook shows both.

# %%
import pandas as pd
from IPython.display import display

import omnilab
from omnilab import view
from omnilab.sim import scenarios

pd.set_option("display.max_colwidth", None)  # tables show every cell's whole text

# %% [markdown]
# ## A cluster with a crashed node
#
# `scenarios.replace_crashed_node()` is the story of the OmniPaxos reconfiguration documentation:
# three servers decided two writes, then node 3 crashed. Every scenario explains itself:

# %% tags=["nbval-check-output"]
cluster = scenarios.replace_crashed_node()
print(cluster)
print(cluster.description)

# %% [markdown]
# ## Logs side by side: `view.logs(cluster)` (also `cluster.logs()`)
#
# One row per log index, one column per node, grouped by configuration (each configuration is its own
# OmniPaxos instance with its own log). A cell is the entry and its status: **green ✓ decided**,
# **amber … accepted but not known decided**, **purple the StopSign**, **grey compacted**, blank
# where that node's log ends. Node 3 crashed: its column is what its storage kept (greyed).

# %% tags=["nbval-check-output"]
view.logs(cluster)

# %% [markdown]
# The table's `status` frame names each cell's class, which is what the colours say:

# %% tags=["nbval-check-output"]
view.logs(cluster).status

# %% [markdown]
# ## Node states: `view.nodes(cluster)`
#
# Role and phase (Sequence Paxos), the node's own ballot (Ballot Leader Election), the ballot it
# promised, the leader it follows, and its three log indexes; the last two columns are what Ballot
# Leader Election thinks: the ballot it follows (`ble_leader`) and whether it is happy with it
# (`ble_happy`). A crashed node has no role or ballots: those were in memory. Its promise and indexes
# survived in storage. `view.ble(cluster)` puts the election's columns next to the role.

# %% tags=["nbval-check-output"]
display(view.nodes(cluster))

# %% [markdown]
# ## The cluster as a picture: `view.cluster_diagram(cluster)`
#
# Blue is the leader (bold outline and ★), white a follower, red and dashed a crashed node. A cut link
# is a red dashed line with ✂. Messages in flight ride on arrows, labelled with their ids. After one
# tick the servers have things to say:

# %%
cluster.tick()
view.cluster_diagram(cluster)

# %% [markdown]
# ## Messages in flight: `view.messages(cluster)` (also `cluster.pending()`)
#
# Each message has an id: `cluster.step(id)` delivers that one, `cluster.step()` the oldest.

# %% tags=["nbval-check-output"]
display(view.messages(cluster))

# %% [markdown]
# ## The history as a space-time diagram: `view.spacetime(cluster)`
#
# One lane per node, time going down, an arrow per message from its sending to its delivery (the
# way Lamport drew them). The margin names each operation you called and each tick. Marks show
# decisions (✓), crashes (✗), recoveries (↻), the StopSign and new instances (▶). Heartbeats are
# hidden unless you ask: `view.spacetime(cluster, ble=True)`.

# %%
cluster.deliver_all()
view.spacetime(cluster, last=40)

# %% [markdown]
# ## The trace in words: `view.events(cluster, last=10)`
#
# Operations read as the Python call that made them; events as a sentence.

# %% tags=["nbval-check-output"]
display(view.events(cluster, last=8))

# %% [markdown]
# ## What survives a crash: `view.state_split(cluster)`
#
# Storage keeps the promise, the accepted round, the log and its indexes; memory holds the role, the
# leader, buffered proposals and the key-value state. A crash loses memory only.

# %%
view.state_split(cluster)

# %% [markdown]
# ## The replica's states: `view.role_phase_diagram()`
#
# Drawn from the replica's own transition table (`omnilab.replica.sequence_paxos.transitions`): the
# replica refuses any change of (role, phase) that is not an arrow here.

# %%
view.role_phase_diagram()

# %% [markdown]
# ## The lab widget: `omnilab.lab(cluster)`
#
# The controls on top, the status line (the call each control made, or why it could not), a badge per
# safety invariant, and the views in tabs. Click **Step**, click a message in the *Messages* tab,
# crash a node, reconfigure... Each control calls the same `Cluster` method you would type, so the
# trace records it as if typed, and the widget follows calls typed in other cells too.
#
# This lab is yours to click: it runs on a fresh copy of the scene, `playground`. Every section below
# builds its own cluster, so nothing you do here changes what the later cells show.

# %%
playground = scenarios.replace_crashed_node()
omnilab.lab(playground)

# %% [markdown]
# ### Every button is a method call
#
# | control | the call it makes |
# |---|---|
# | **Step** (message: oldest / `#id`) | `cluster.step()` / `cluster.step(id)` |
# | a message in the *Messages* tab | `cluster.step(id)` |
# | **Drop** / **Duplicate** (message: oldest / `#id`) | `cluster.drop(id)` / `cluster.duplicate(id)` |
# | **Deliver all** | `cluster.deliver_all()` |
# | **Tick** | `cluster.tick()` |
# | **Run** (ticks *n*) | `cluster.run(ticks=n)` |
# | **Undo** | `cluster.undo()` |
# | **Replay** | `Cluster.replay(cluster.trace)` (the lab then shows the copy) |
# | **Crash** / **Recover** (node *p*) | `cluster.crash(p)` / `cluster.recover(p)` |
# | **Set priority** (node *p*, priority *k*) | `cluster.set_priority(p, k)` |
# | **Try become leader** (node *p*) | `cluster.try_become_leader(p)` |
# | **Cut** / **Heal link** (link *a* ↔ *b*) | `cluster.cut(a, b)` / `cluster.heal(a, b)` |
# | **Cut** with *one way* ticked (link *a* → *b*) | `cluster.cut(a, b, one_way=True)` |
# | **Heal all** | `cluster.heal()` |
# | **Apply** (a preset) | the calls it lists, e.g. `cluster.partition([1, 2], [3])` |
# | **Put** (key, value, at) | `cluster.put(key, value)` or `cluster.put(key, value, at=p)` |
# | **Reconfigure** (nodes) | `cluster.reconfigure([1, 2, 4])` |
# | **Trim** (compact below idx *i*, at) | `cluster.trim(i)`; an empty box: `cluster.trim()`; at *p*: `cluster.trim(i, at=p)` |
# | **Snapshot** (idx, at, *local only*) | `cluster.snapshot(i)`, `cluster.snapshot()`, `cluster.snapshot(at=p, local_only=True)` |
#
# From Python, `w.press("step")` presses a control after filling its inputs
# (`w.press("crash", node=3)`) and returns what the status line says; `w.controls.step.click()`
# clicks it. The cells below press controls of a lab `w` that is never displayed, on a fresh cluster
# of their own, and make each operation once by the widget and once typed: the trace shows both the
# same way.

# %% tags=["nbval-check-output"]
cluster = scenarios.replace_crashed_node()
w = omnilab.lab(cluster)
cluster.tick()
print(w.press("step"))          # the Step button
cluster.step()                  # typed
print(cluster.trace.script().splitlines()[-3:])

# %% tags=["nbval-check-output"]
cluster.tick()                                  # a new round of messages on the wire
ids = view.messages(cluster).index.tolist()     # the ids in flight, oldest first
print(w.press("drop", msg_id=ids[0]))           # Drop, with that message chosen
cluster.drop(ids[1])                            # typed
print(w.press("duplicate", msg_id=ids[2]))      # Duplicate: a copy with a new id
cluster.duplicate(ids[3])
cluster.deliver_all()                           # the copies arrive too
print(cluster.trace.script().splitlines()[-5:])

# %% tags=["nbval-check-output"]
print(w.press("run", ticks=2))  # Run, with 2 in the ticks box
cluster.run(ticks=2)            # typed
print(w.press("recover", node=3))
print(w.press("crash", node=3))
cluster.recover(3)
print(w.press("cut", link_a=1, link_b=2))
print(w.press("heal"))
print(w.press("cut", link_a=1, link_b=3, one_way=True))   # only 1 -> 3: cluster.cut(1, 3, one_way=True)
print(w.press("undo"))           # takes the last cut back
cluster.run(ticks=3)
print(cluster)

# %% tags=["nbval-check-output"]
print(w.press("put", key="c", value="3"))
cluster.put("d", 4)
print(w.press("deliver_all"))
display(view.kv(cluster))

# %% [markdown]
# ### Leadership: priority and "try become leader"
#
# **Set priority** gives the chosen node a leader-election priority: its ballots carry it from its
# next heartbeat round on, and it counts at the next election (the highest priority, then the highest
# pid, wins). **Try become leader** makes the node start a Prepare phase at once, with a ballot above
# the one it promised. `view.ble(cluster)` shows each node's own ballot, the ballot it follows and
# whether it is happy. This section starts again from the scene: node 2 leads, node 3 is down.

# %% tags=["nbval-check-output"]
cluster = scenarios.replace_crashed_node()
w = omnilab.lab(cluster)
print(w.press("set_priority", node=1, priority=5))   # cluster.set_priority(1, 5)
print(w.press("try_become_leader", node=1))          # cluster.try_become_leader(1)
cluster.deliver_all()
print("leader:", cluster.leader())
display(view.ble(cluster))

# %% [markdown]
# ### Compaction: Trim and Snapshot
#
# Type an index in *compact below idx* (or leave it empty: as far as the replica may) and press
# **Trim** or **Snapshot**. Both go to the leader unless *at* names a node. Only the leader may trim,
# and only what every node has accepted; a snapshot folds decided entries into one key-value
# snapshot (with *local only*, at that node alone). A refusal (`CompactionErr`) shows in the status
# line, next to the call the trace recorded, exactly as the typed call records it and raises.
#
# Trimming needs every node to have accepted the prefix, so this section's cluster is the scene with
# node 3 recovered and two more writes decided by all three nodes. Once a log is trimmed, Snapshot
# is refused there (`CompactionErr.TrimmedPrefix`): the trimmed writes are in no snapshot, so a
# snapshot of that log could not hold them; press Trim again to compact further.

# %% tags=["nbval-check-output"]
cluster = scenarios.replace_crashed_node()
cluster.recover(3)
cluster.run(ticks=3)
cluster.put("c", 3)
cluster.put("d", 4)
cluster.run(ticks=1)
w = omnilab.lab(cluster)
print(w.press("trim", idx="2", compact_at=1))      # refused: node 1 is not the leader
print(w.press("trim", idx="2", compact_at=None))   # cluster.trim(2), at the leader
cluster.deliver_all()                              # the followers get the leader's Trim
display(view.logs(cluster))
print(w.press("snapshot", idx="3", compact_at=None))  # refused: the leader's log is trimmed
print(w.press("trim", idx="3", compact_at=None))      # cluster.trim(3): compact further
cluster.deliver_all()
print(cluster.trace.script().splitlines()[-5:])
display(view.logs(cluster))

# %% [markdown]
# ### Bad input changes nothing
#
# A control that cannot do what it was asked says why in the status line, and the cluster stays as it
# was, exactly as the typed call raises `BadInput` and changes nothing:

# %% tags=["nbval-check-output"]
cluster = scenarios.replace_crashed_node()
w = omnilab.lab(cluster)
before = len(cluster.trace)
print(w.press("reconfigure", nodes="1, 2, x"))
print(w.press("put", key="", value="1"))
print(w.press("crash", node=9))
print(w.press("snapshot", idx="two"))
print("trace unchanged:", len(cluster.trace) == before)

# %% [markdown]
# ### Replace node 3
#
# Back to the scene: node 3 has crashed, nodes 1 and 2 carry on. Replace it with node 4: type `1, 2, 4`
# in the *nodes* box and press **Reconfigure**, then **Run**. The cell below presses exactly that on
# a fresh copy of the scene. The StopSign is decided in configuration 1, nodes 1 and 2 start
# configuration 2 and hand node 4 the state; node 3 stays down and is left out.

# %% tags=["nbval-check-output"]
cluster = scenarios.replace_crashed_node()
w = omnilab.lab(cluster)
print(w.press("reconfigure", nodes="1, 2, 4"))   # cluster.reconfigure([1, 2, 4])
print(w.press("run", ticks=3))                   # cluster.run(ticks=3)
display(view.nodes(cluster)[["configuration", "role", "status", "server"]])
display(view.kv(cluster))
print(w)

# %% [markdown]
# The logs show the StopSign as the last slot of configuration 1, and configuration 2's own log on
# nodes 1, 2 and 4:

# %% tags=["nbval-check-output"]
cluster.logs()

# %% [markdown]
# Now do it yourself, by clicking, on the untouched scene: type `1, 2, 4`, press **Reconfigure**, then
# **Run**, and watch the *Logs* tab grow the StopSign row and the configuration 2 columns; the
# *Key-value* tab shows node 4 holding everything.

# %%
omnilab.lab(scenarios.replace_crashed_node())

# %% [markdown]
# Every view is a plain function of the cluster: call it whenever you want a fresh picture, or keep
# a lab open and watch it follow you. `lab.refresh()` redraws a lab on demand.
#
# Next, you take the network into your own hands.
