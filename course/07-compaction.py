# %% [markdown]
# # 07 · Log compaction
#
# **Goals:** trim and snapshot a decided prefix; say what each keeps across a crash; watch a lagging node catch up from a snapshot.
#
# **Time:** about 25 minutes.
#
# A replicated log only grows: every write ever made stays in it, on every server. Yet once a prefix
# is decided and applied, the servers no longer need it as a list of entries; they need what it
# *built*. OmniPaxos offers two ways to forget a decided prefix. **Trim** drops it: the application
# must keep its state somewhere else. **Snapshot** folds it into a snapshot kept with the log, so the
# log can still rebuild the state and bring a lagging server up to date. This notebook does both on
# the key-value store with `cluster.trim(idx)` and `cluster.snapshot(idx, local_only=...)`, which
# call the replica's own API (`trim(idx)`, `snapshot(idx, local_only)`) at the leader, or at the node
# named with `at=`, and record the call in the trace like any other. It reads the compacted slots
# back, crashes a node to see what each kind of compaction keeps, and watches a lagging node get a
# snapshot instead of the entries it missed.

# %%
import pandas as pd
from IPython.display import display

import omnilab
from omnilab import Cluster, CompactionErr, view
from omnilab.kv import KeyValue, KVSnapshot
from omnilab.sim import scenarios

pd.set_option("display.max_colwidth", None)  # tables show every cell's whole text

# %% [markdown]
# ## A log to compact
#
# Three servers, leader 3, six writes to four keys. Six slots on every server for a state of four
# keys; a server that joined today and replayed the log would apply all six.

# %% tags=["nbval-check-output"]
cluster = Cluster([1, 2, 3], seed=0)
cluster.run(ticks=3)
for key, value in [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5), ("d", 6)]:
    cluster.put(key, value)
cluster.deliver_all()
print(cluster)
display(cluster.logs())
display(view.kv(cluster))

# %% [markdown]
# ## What a snapshot of key-value writes is
#
# `omnilab.kv.KeyValue` is declared `@omnilab.entry(snapshot=KVSnapshot)` (the Rust
# `#[snapshot(KVSnapshot)]`). A `KVSnapshot` keeps the last value of each key:
# `KVSnapshot.create(entries)` builds one from a run of writes, and `merge(delta)` folds a *later*
# snapshot into it (later writes win). Entries of classes without a snapshot class (ints, strings)
# can only be trimmed.

# %% tags=["nbval-check-output"]
first = KVSnapshot.create([KeyValue("a", 1), KeyValue("b", 2), KeyValue("a", 3)])
later = KVSnapshot.create([KeyValue("c", 4), KeyValue("b", 5)])
print(first, "+", later)
first.merge(later)
print("merged:", first)

# %% [markdown]
# We will trim `cluster` and snapshot a copy of it. `Cluster.replay(cluster.trace)` rebuilds an
# identical cluster from the recorded calls, so both worlds start from the same six writes.

# %% tags=["nbval-check-output"]
snapped = Cluster.replay(cluster.trace)
print(snapped)
print("same logs:", snapped.logs().equals(cluster.logs()))

# %% [markdown]
# ## Trim: forget the prefix everywhere
#
# `trim(idx)` removes slots `[0, idx)` on **every** server, so it is the leader's call: only the
# leader knows how far each follower has accepted (from their `Accepted` replies), and it refuses to
# trim past what *all* of them accepted. Trimmed entries are gone from every log for good; a server
# that still lacked one could never get it back from the log. `cluster.trim` asks the leader unless
# you name a node with `at=`. A
# follower answers `CompactionErr.NotCurrentLeader`, naming the leader it promised (`.pid`). The
# cluster raises the replica's error to you and records the refusal in the trace, as it does for a
# refused proposal.

# %% tags=["nbval-check-output"]
try:
    cluster.trim(4, at=1)
except CompactionErr.NotCurrentLeader as err:
    print(f"{type(err).__name__} (.pid={err.pid}): {err}")
print(cluster.trace.format(limit=2))

leader = cluster.server(cluster.leader()).omnipaxos
print(leader)
print("accepted by each node, as the leader knows it:", leader.inspect().leader_accepted)

# %% [markdown]
# All three accepted 6 slots, so the leader may trim up to 6. Trim the first four:
# `cluster.trim(4)`. The leader trims its own log at once and sends a `Trim` message to each
# follower; the simulator puts them on the wire straight away, so they show in `pending()`. Each
# follower trims its own log when its `Trim` arrives (as far as it has decided itself).

# %% tags=["nbval-check-output"]
cluster.trim(4)
print("compacted_idx:", {pid: cluster.server(pid).omnipaxos.get_compacted_idx() for pid in cluster.pids})
pending = cluster.pending()
display(pending[pending["type"] == "Trim"])
cluster.deliver_all()
print("compacted_idx:", {pid: cluster.server(pid).omnipaxos.get_compacted_idx() for pid in cluster.pids})
display(cluster.logs())

# %% [markdown]
# ### Reading a trimmed log
#
# Each index below the compacted index reads as the same `LogEntry.Trimmed(4)`: "the first 4 slots
# were trimmed". A range that starts inside the compacted prefix returns **one** element for the whole
# prefix, then the entries. So `read_decided_suffix(0)` has 3 elements (the trimmed prefix and
# slots 4 and 5), not 6: a loop over it must expect the prefix as its first element.

# %% tags=["nbval-check-output"]
omni = cluster.server(1).omnipaxos
for i in (0, 3, 4):
    print(f"read({i}) ->", omni.read(i))
suffix = omni.read_decided_suffix(0)
print(len(suffix), "elements:", suffix)

# %% [markdown]
# ## Snapshot: fold the prefix into the state it built
#
# `cluster.snapshot(idx, at=None, local_only=False)` calls `snapshot(idx, local_only)` on the
# leader's replica (or node `at`'s). It folds the decided slots `[compacted_idx, idx)` into one
# `KVSnapshot`, merged with the snapshot already there, stored in the server's storage. Any server may
# take one. With `local_only=False` it also sends `Snapshot(idx)` to its peers, and each peer takes the
# same snapshot **of its own log** (no snapshot travels in that message). A snapshot past what this
# server decided is refused with `CompactionErr.UndecidedIndex`, which gives its decided index
# (`.idx`).

# %% tags=["nbval-check-output"]
try:
    snapped.snapshot(9, at=1)
except CompactionErr.UndecidedIndex as err:
    print(f"{type(err).__name__} (.idx={err.idx}): {err}")

# %% tags=["nbval-check-output"]
snapped.snapshot(4)
pending = snapped.pending()
display(pending[pending["type"] == "Snapshot"])
snapped.deliver_all()
display(snapped.logs())
omni = snapped.server(1).omnipaxos
for i in (0, 3, 4):
    print(f"read({i}) ->", omni.read(i))
print(len(omni.read_decided_suffix(0)), "elements in read_decided_suffix(0)")

# %% [markdown]
# The compacted prefix now reads as `LogEntry.Snapshotted(SnapshottedEntry(4, KVSnapshot(...)))`:
# the same single element for the prefix, but it carries the state of slots 0 to 3 (`a=3`, `b=2`,
# `c=4`). A server may also compact for itself alone: `snapped.snapshot(at=2, local_only=True)`
# folds everything node 2 decided, and tells nobody.

# %% tags=["nbval-check-output"]
snapped.snapshot(at=2, local_only=True)
print("compacted_idx:", {pid: snapped.server(pid).omnipaxos.get_compacted_idx() for pid in snapped.pids})
print(snapped.server(2).omnipaxos.read(0))

# %% [markdown]
# ## Trim or snapshot? Crash a node and see
#
# A server's key-value state lives in memory. After a crash it rebuilds it by reading its decided log
# again (its storage survived). With a snapshot, the compacted part comes back as the snapshot's
# contents. With a trim there is nothing left in the log to read, so the OmniPaxos documentation asks
# an application that trims to save its state machine first. omnilab's servers do exactly that: before
# a server lets its log be compacted (its own `trim`/`snapshot` call, or a peer's `Trim`/`Snapshot`
# message), it writes its key-value state at that point to its durable storage, and a recovering
# server starts from that saved state and re-applies only the log after it. Crash and recover node 1
# in both clusters, then read key `a` there (`get` reads the key-value state of the node you name):

# %% tags=["nbval-check-output"]
for name, world in [("trimmed", cluster), ("snapshotted", snapped)]:
    world.crash(1)
    world.recover(1)
    world.run(ticks=2)
    print(name, "- node 1 after recovering:", dict(world.server(1).kv), "| get('a', at=1):", world.get("a", at=1))

# %% [markdown]
# Both nodes came back whole. The trimmed node's `a` and `c` were written only in slots 0 to 3, which
# its log no longer holds: they came back from the state it saved at the trim point, and `b` and `d`
# from slots 4 and 5. The invariants agree: **Integrity** (every entry a node once showed decided is
# still in its log, or in a compacted prefix whose saved state holds its effect) and
# **KVLinearizability** (a read must see every write that completed before it began) both hold.
# Had the server not saved its state before the trim, the read of `a` would return None and both
# invariants would name the lost write.

# %% tags=["nbval-check-output"]
for name, world in [("trimmed", cluster), ("snapshotted", snapped)]:
    verdict = world.check()[-1]
    print(f"{name}: {verdict.name} {'ok' if verdict.ok else 'VIOLATED: ' + verdict.message}")

# %% [markdown]
# Trim's contract is the application's: it may trim only what it has saved elsewhere (here, the
# server's saved state; in practice a database, say), and the log then only has to get new writes to
# every server. Snapshot keeps the state in the log itself, which is why a lagging peer can be synced
# from it.

# %% [markdown]
# ## A lagging node gets a snapshot, not the entries
#
# Back to `snapped`, whose node 1 recovered whole. Cut the link between node 1 and leader 3 and write
# three more values. Nodes 2 and 3 decide them; node 1 (still connected to node 2, so it does not
# start an election) misses them. The leader now refuses to trim past index 6, because node 1
# accepted only slots 0 to 5:
# `CompactionErr.NotAllDecided`, whose `.idx` is the highest index every node has accepted. (The name
# is the Rust one; the check is on *accepted* indexes.)

# %% tags=["nbval-check-output"]
snapped.cut(1, 3)
for key, value in [("e", 7), ("a", 8), ("f", 9)]:
    snapped.put(key, value)
snapped.deliver_all()
display(snapped.logs())
leader = snapped.server(3).omnipaxos
print("accepted by each node, as the leader knows it:", leader.inspect().leader_accepted)
try:
    snapped.trim(8)
except CompactionErr.NotAllDecided as err:
    print(f"{type(err).__name__} (.idx={err.idx}): {err}")


# %% [markdown]
# Heal the link and write once more. Node 1 sees a gap in the leader's stream of accepts and asks to
# be prepared again (`PrepareReq`); the leader answers `Prepare`, node 1 `Promise`s with its decided
# index (6), and the leader brings it up to date with an `AcceptSync`. Because `KeyValue` entries have
# a snapshot class, the leader does not ship the decided slots node 1 lacks as entries: it ships them
# as a **Delta** snapshot, the writes of slots `[6, 10)` folded into one `KVSnapshot`. We step the
# messages one by one until the `AcceptSync` is in flight, and open it.

# %% tags=["nbval-check-output"]
def step_until(cluster, kind):
    """Deliver the oldest message until one of type `kind` is in flight; return its id."""
    while True:
        pending = cluster.pending()
        found = pending[pending["type"] == kind]
        if not found.empty:
            return int(found.index[0])
        cluster.step()


snapped.heal()
snapped.put("g", 10)
sync_id = step_until(snapped, "AcceptSync")
display(snapped.pending().loc[[sync_id]])
log_sync = snapped.network.in_flight[sync_id].message.msg.log_sync
print("sync_idx:", log_sync.sync_idx, "| suffix:", log_sync.suffix)
print("snapshot:", log_sync.decided_snapshot)
print("node 1's own decided log:", snapped.server(1).omnipaxos.read_decided_suffix(0))

# %% [markdown]
# Node 1 merges the delta onto **its own decided prefix as it was before the sync**: its snapshot
# `{a: 3, b: 2, c: 4}`, then `b=5` and `d=6` from its slots 4 and 5, then the delta. This is one of
# the places where omnilab differs from the reference implementation on purpose (the README lists
# them). The reference implementation rebuilds "its own prefix" up to the *new*
# decided index (10) over its own log, which holds only 6 slots; its storage reads all or nothing, so
# that part comes back empty, and node 1 would end up with `b=2` (a write that was overwritten) and no
# `d` at all. omnilab keeps every write node 1 had decided:

# %% tags=["nbval-check-output"]
snapped.deliver_all()
print(snapped.server(1).omnipaxos.read(0))
display(snapped.logs())
display(view.kv(snapped))
print([f"{v.name}: {'ok' if v.ok else v.message}" for v in snapped.check()])

# %% [markdown]
# The resynchronisation as a space-time diagram: the leader's `AcceptDecide` for `g=10` reaches node 1
# after a gap in the sequence numbers, node 1's `PrepareReq`, the leader's `Prepare`, node 1's
# `Promise` (decided index 6), and the `AcceptSync` after which node 1's lane shows
# `snapshot [0, 10)`: slots 0 to 9 arrived as one snapshot.

# %%
view.spacetime(snapped, last=30)

# %% [markdown]
# ### The Logs table
#
# Compacted cells are grey, `(snapshot)` or `(trimmed)`; `table.status` names each cell's class, the
# classes the colours come from. Node 1's whole log is now one snapshot, node 2's is a snapshot up to
# 6 followed by entries, node 3's a snapshot up to 4.

# %%
snapped.logs()

# %% tags=["nbval-check-output"]
display(snapped.logs().status)

# %% [markdown]
# ## A node that was down: a complete snapshot
#
# `scenarios.compaction()` tells the same story with a crashed node. Twelve puts to four keys; node 1
# crashed after the first six; then `cluster.snapshot()` at the leader folded all twelve slots, and
# node 2 followed its `Snapshot` message (the one to node 1 was lost at the crashed node). Recover
# node 1 and step until the leader's `AcceptSync` is in flight. Node 1 promises with decided index 6,
# which lies inside the leader's compacted prefix: the leader has no entries from 6 on, only its
# snapshot. So it ships a **Complete** snapshot, which replaces node 1's own prefix, instead of a
# Delta.

# %% tags=["nbval-check-output"]
down = scenarios.compaction()
print(down.trace.script("down"))
down.recover(1)
sync_id = step_until(down, "AcceptSync")
display(down.pending().loc[[sync_id]])
down.run(ticks=2)
display(view.kv(down))
display(view.events(down, last=None).query("what == 'SnapshotInstalled'")[["text"]])

# %% [markdown]
# ## Your turn
#
# 1. While node 1 lagged, how far could the leader trim, and how would you ask for exactly that much
#    without computing it?
#
# <details><summary>Answer</summary>
#
# Up to 6, the smallest accepted index the leader knows of (`leader.inspect().leader_accepted`).
# `snapped.trim()` with no index trims exactly that far.
# </details>
#
# 2. Why may any server snapshot on its own (`local_only=True`), but only the leader may trim?
#
# <details><summary>Answer</summary>
#
# A snapshot loses nothing: the state of the prefix is still in the log's storage, so the server can
# still rebuild its state and still sync a lagging peer from it. A trim destroys the prefix on every
# server; the leader must first know that nobody still needs those entries, and only the leader
# collects every follower's accepted index.
# </details>
#
# 3. Node 2 compacted up to 6 on its own. What happens to its log if you now call
#    `snapped.snapshot(4)` again, and node 2 receives `Snapshot(4)`?
#
# <details><summary>Answer</summary>
#
# Nothing: a snapshot (or trim) at or below the compacted index is a silent no-op, so node 2 stays
# compacted up to 6. Compaction only ever moves the compacted index forward.
# </details>

# %% [markdown]
# ## The lab
#
# The lab opens on the snapshotted cluster. Its **Trim** and **Snapshot** buttons make the calls of
# this notebook: `cluster.trim(idx, at=...)` and `cluster.snapshot(idx, at=..., local_only=...)`,
# with the index typed in *below idx* (empty: as far as the replica may). Typed in a new cell,
# the same calls redraw the lab too. The cell below presses two controls from code first; then the
# lab is yours.

# %% tags=["nbval-check-output"]
w = omnilab.lab(snapped)
print(w.press("put", key="h", value="11"))   # snapped.put('h', 11)
print(w.press("run", ticks=1))               # snapped.run(ticks=1)
print({pid: snapped.server(pid).omnipaxos.get_compacted_idx() for pid in snapped.pids})

# %%
w

# %% [markdown]
# Try this:
#
# * **Put** a few values, then press **Trim** with the index box empty (`snapped.trim()`): the
#   *Messages* tab shows a `Trim` to each follower; **Deliver all**, and the *Logs* tab greys more
#   cells.
# * **Crash** node 2 and **Recover** it: its key-value state (the *Key-value* tab) comes back from
#   the snapshot plus its entries.
# * Cut node 1 off (**Cut** 1 ↔ 3), **Put** values, **Heal all**, **Put** again, and step until the
#   `AcceptSync` appears in the *Messages* tab: its `log_sync` field says `delta snapshot`.
# * **Undo** and **Replay** rebuild the cluster from its trace, compaction calls included: undo a
#   `trim` and the trimmed cells come back; replay, and they are trimmed again.

# %% [markdown]
# Next, invariants and random fault campaigns check all of this for you.
