# %% [markdown]
# # 06 · Reconfiguration
#
# **Goals:** replace crashed node 3 with node 4 through a StopSign, first with the documentation's own code, then message by message; read when a configuration is sealed and how a new node gets the state.
#
# **Time:** about 40 minutes.
#
# A cluster that cannot change its members dies one crash at a time. OmniPaxos changes members with a
# **StopSign**: an ordinary log slot, agreed on like any entry, that ends configuration *k* and names
# configuration *k + 1*. Once it is decided, nothing can follow it in the old log, every server of the
# new configuration starts a fresh OmniPaxos instance with a fresh log, and servers that are new must
# be handed the state the old log built. This notebook follows the story of the
# [OmniPaxos documentation](https://omnipaxos.com/docs/) (node 3 crashed; replace it with node 4) twice: first with the documentation's own
# code on the replicas, playing the application by hand, then through the simulator's
# reconfiguration service, message by message.

# %%
import pandas as pd
from IPython.display import display

import omnilab
from omnilab import ClusterConfig, LogEntry, MemoryStorage, ProposeErr, ServerConfig, view
from omnilab.kv import KeyValue
from omnilab.sim import BadInput, scenarios
from omnilab.view.text import message_text

pd.set_option("display.max_colwidth", None)  # tables show every cell's whole text

# %% [markdown]
# ## The scene: node 3 crashed
#
# `scenarios.replace_crashed_node()` builds the documentation's situation: three servers decided two
# writes, then node 3 crashed and nodes 1 and 2 elected node 2. Two of three still form a majority,
# but one more crash would stop everything, so node 3 must be replaced.

# %% tags=["nbval-check-output"]
doc = scenarios.replace_crashed_node()
print(doc)
print(doc.description)
display(view.nodes(doc))

# %% [markdown]
# ## 1. The documentation's code, on the real replicas
#
# `doc.server(2).omnipaxos` is node 2's OmniPaxos replica, the same object the simulator drives. The
# replica is **sans-IO**: it takes calls and queues messages; moving the messages and starting new
# instances is the application's job. In this part *we* are the application: we call the replica
# API exactly as the OmniPaxos documentation writes it (in Python, name for name).
#
# One warning: the simulator's trace and its safety checks only see what goes through `Cluster`
# methods. What we do by hand to `doc` in this part is invisible to them, so `doc` is used for
# nothing else afterwards.
#
# **Propose the next configuration.** `ClusterConfig(configuration_id=2, nodes=[1, 2, 4])` describes
# configuration 2 (give it a larger id than the current one). `reconfigure` validates it, wraps it
# in `StopSign(new_configuration, metadata)` and proposes it like an entry: node 2 leads in the Accept
# phase, so it stores the StopSign in the slot right after its last entry and queues an
# `AcceptStopSign` for each follower. `metadata` is free application data that travels inside the
# StopSign (where to fetch state from, for instance).

# %% tags=["nbval-check-output"]
omni_paxos = doc.server(2).omnipaxos     # node 2's real replica: the leader of configuration 1

new_configuration = ClusterConfig(configuration_id=2, nodes=[1, 2, 4])
omni_paxos.reconfigure(new_configuration, metadata=None)        # raises ProposeErr on failure

print(omni_paxos)
for slot in omni_paxos.read_entries(0):
    print(slot)


# %% [markdown]
# The StopSign sits in slot 2, read back as `LogEntry.StopSign(stopsign, False)`: **stored, not yet
# decided**. Its messages wait in node 2's outbox (`take_outgoing_messages()`). The function below
# plays the network between the replicas we hand it: it takes every queued message and calls
# `handle_incoming` on its receiver, until nobody has anything more to say. Node 3 crashed, so it has
# no replica. Watch the StopSign go through exactly the steps of an entry: `AcceptStopSign`, an
# `Accepted` from node 1 (with the leader, a majority of 3), and a `Decide`.

# %% tags=["nbval-check-output"]
def move_messages(replicas, show=True):
    """Be the network: hand each queued message to its receiver until every outbox is empty."""
    while True:
        outgoing = [m for replica in replicas.values() for m in replica.take_outgoing_messages()]
        if not outgoing:
            return
        for message in outgoing:
            if show:
                print(f"  {message.sender} -> {message.receiver}  {message_text(message)}")
            replicas[message.receiver].handle_incoming(message)


old = {1: doc.server(1).omnipaxos, 2: omni_paxos}   # configuration 1's live replicas
move_messages(old)
for pid, replica in old.items():
    print(pid, replica, "is_reconfigured():", replica.is_reconfigured() is not None)

# %% [markdown]
# **Start the next instance.** This is the loop every server of the documentation runs over its
# decided log, line for line:
#
# * `read_decided_suffix(idx)` returns the decided slots from `idx` on (None when nothing is decided
#   there). A real server remembers how far it has read; we start at 0.
# * `case LogEntry.StopSign(stopsign, True)` matches only a **decided** StopSign. An undecided one may
#   still be replaced by a new leader's log synchronisation, so nobody may act on it yet.
# * `stopsign.next_config` is configuration 2; a server that is one of its `nodes` builds its new
#   instance with `build_for_server(current_config, MemoryStorage())`: a new OmniPaxos replica with
#   **fresh storage**, whose log starts again at index 0, with ballots of configuration 2.

# %% tags=["nbval-check-output"]
idx = 0
current_config = ServerConfig(pid=2)
decided_entries = omni_paxos.read_decided_suffix(idx)           # list[LogEntry] | None
for d in decided_entries or []:
    match d:
        case LogEntry.StopSign(stopsign, True):
            new_configuration = stopsign.next_config
            if current_config.pid in new_configuration.nodes:
                new_omnipaxos = new_configuration.build_for_server(current_config, MemoryStorage())

for d in decided_entries:
    print(d)
print(new_omnipaxos)


# %% [markdown]
# Node 1 runs the same loop over its own log. Node 4 is the problem: it was never in configuration 1,
# so it never sees the StopSign. The documentation says it plainly: *new nodes must be told, and given
# the state, out of band*. Here we tell it by building its instance ourselves. Then a few ticks (each
# followed by the network) let configuration 2 elect its own leader, with ballots whose
# `config_id` is 2.

# %% tags=["nbval-check-output"]
def start_next(omni_paxos, current_config):
    """The documentation's loop as a function: my instance of the next configuration, or None."""
    for d in omni_paxos.read_decided_suffix(0) or []:
        match d:
            case LogEntry.StopSign(stopsign, True) if current_config.pid in stopsign.next_config.nodes:
                return stopsign.next_config.build_for_server(current_config, MemoryStorage())
    return None


new = {1: start_next(old[1], ServerConfig(pid=1)), 2: new_omnipaxos}
new[4] = new_configuration.build_for_server(ServerConfig(pid=4), MemoryStorage())  # told out of band
for _ in range(3):
    for replica in new.values():
        replica.tick()
    move_messages(new, show=False)
for pid, replica in new.items():
    print(pid, replica, "| promise:", replica.get_promise())

# %% [markdown]
# Configuration 2 works, but look at what it knows: its logs are empty, and so is node 4. The writes
# `a=1` and `b=2` live in configuration 1's log and in the key-value stores of nodes 1 and 2; nothing
# in OmniPaxos carries them to node 4. And configuration 1 is **sealed** for good: its replicas refuse
# every new entry with `ProposeErr.PendingReconfigEntry`, which hands the refused entry back.

# %% tags=["nbval-check-output"]
print("configuration 2 logs:", {pid: replica.read_entries(0) for pid, replica in new.items()})
try:
    old[1].append(KeyValue("c", 3))
except ProposeErr as err:
    print(type(err).__name__, "| entry:", err.entry)
    print(err)

# %% [markdown]
# ## 2. The same story through `cluster.reconfigure`
#
# In the simulator every server *is* that application (`omnilab.sim.service`). After every event it
# reads its decided suffix, applies key-value writes, and on `LogEntry.StopSign(ss, True)` starts its
# next instance on top of the state it has, or retires if it is not in `ss.next_config`. It also does
# the out-of-band part, as messages you can see, step, drop and resend:
#
# | message | from → to | says |
# |---|---|---|
# | `StartInstance(config)` | every old member that decided the StopSign → each new server | configuration 2 has started and includes you |
# | `StateTransfer(from_config_id, stopsign, decided_idx, state)` | the same | the key-value state after every slot up to the StopSign |
# | `TransferAck(config_id)` | new server → the old member | I started: stop resending |
#
# A new server starts its instance only when it holds both of the first two. We start again from a
# fresh copy of the scene and ask for the same change. `cluster.reconfigure([1, 2, 4])` proposes the
# StopSign at the leader and returns it; node 4 gets a server at once, *joining*, with no instance.

# %% tags=["nbval-check-output"]
cluster = scenarios.replace_crashed_node()
stopsign = cluster.reconfigure([1, 2, 4])
print(stopsign)
display(cluster.pending())
display(cluster.logs())
display(view.nodes(cluster)[["configuration", "role", "status", "server"]])

# %% [markdown]
# ### The sealed log
#
# From the moment the StopSign is **stored** at node 2, its log is sealed: nothing may follow the
# StopSign, so node 2 refuses new entries and a second reconfiguration. The simulator records the
# refusal in the trace (`Refused`) and re-raises the replica's own `ProposeErr` to you, message
# included.

# %% tags=["nbval-check-output"]
try:
    cluster.put("c", 3)
except ProposeErr.PendingReconfigEntry as err:
    print(f"{type(err).__name__}: {err}")
try:
    cluster.reconfigure([1, 2, 5])
except ProposeErr.PendingReconfigConfig as err:
    print(f"{type(err).__name__}: {err}")
display(view.events(cluster, last=4))

# %% [markdown]
# ### Accepted, then decided
#
# Step the `AcceptStopSign`: node 1 stores the StopSign in its slot 2 and answers `Accepted`.

# %% tags=["nbval-check-output"]
cluster.step()
display(cluster.pending())
display(cluster.logs())

# %% [markdown]
# Step the `Accepted`: nodes 1 and 2 form a majority, so node 2 decides slot 2, the StopSign. Its
# reconfiguration service reads `StopSign(ss, True)` and, in the same step, starts its configuration-2
# instance (which sends its first heartbeats, in configuration 2) and sends node 4 a `StartInstance`
# and a `StateTransfer` holding `a=1, b=2`. The new configuration's columns appear in the logs, empty:
# each configuration has its own log.

# %% tags=["nbval-check-output"]
cluster.step()
display(cluster.pending())
display(cluster.logs())
display(view.events(cluster, last=9))

# %% [markdown]
# Step the `Decide`: node 1 decides the StopSign too, starts its instance and sends node 4 its own
# pair of service messages. Node 4 will take whichever pair arrives first.

# %% tags=["nbval-check-output"]
cluster.step()
SERVICE = ["StartInstance", "StateTransfer", "TransferAck"]


def service_messages(cluster):
    """The reconfiguration service's messages in flight."""
    pending = cluster.pending()
    return pending[pending["type"].isin(SERVICE)]


display(service_messages(cluster))

# %% [markdown]
# The picture shows the moment: the nodes stay where they were and node 4 joins on the right; the
# caption names each configuration's nodes (configuration 1 sealed, configuration 2 current). Crashed
# node 3 says *not in configuration 2*, node 4 is grey (*joining*, no instance yet), and the service
# messages ride the arrows towards it, next to configuration 2's first heartbeats.

# %%
view.cluster_diagram(cluster)

# %% [markdown]
# ### Losing the state transfer
#
# The service's messages travel on the same unreliable network as the replicas'. Drop both
# `StateTransfer`s and deliver everything else: node 4 holds the two `StartInstance`s but no state,
# so it stays *joining* (messages of configuration 2 addressed to it are dropped: it runs no instance
# yet). Nodes 1 and 2 have no acknowledgement, so they resend both messages every
# `resend_message_tick_timeout` ticks (2 in a `Cluster`): one tick, nothing; the second tick, both
# pairs are back on the wire.

# %% tags=["nbval-check-output"]
for msg_id in service_messages(cluster).query("type == 'StateTransfer'").index:
    cluster.drop(int(msg_id))      # int(): the trace then reads cluster.drop(119), not np.int64(119)
cluster.deliver_all()
display(view.nodes(cluster)[["configuration", "role", "status", "server"]])
cluster.tick()
print("after one tick:", len(service_messages(cluster)), "service messages in flight")
cluster.tick()
print("after two ticks:")
display(service_messages(cluster))

# %% [markdown]
# Deliver everything. The first complete pair (node 1's) starts node 4: it installs the state
# (`StateInstalled`), acknowledges, and starts its configuration-2 instance on top of that state.
# Node 2's copies arrive at a running server, which only acknowledges them.

# %% tags=["nbval-check-output"]
cluster.deliver_all()
events = view.events(cluster, last=60)
display(events[(events.node == 4) & events.what.isin(["StateInstalled", "InstanceStarted"])
             | events.text.str.contains("TransferAck")])
print("node 4:", cluster.server(4))

# %% [markdown]
# The space-time diagram tells the whole hand-over (heartbeats hidden): the StopSign decided and
# `▶ start c2` at nodes 2 and 1, the two `StateTransfer`s lost (✗), the resends two ticks later, node
# 4's `state of c1 installed` and `▶ start c2`, its `TransferAck`s, and configuration 2's first
# Prepare and Promise exchanges.

# %%
view.spacetime(cluster, last=60)

# %% [markdown]
# Three rounds let configuration 2 settle on a leader among nodes 1, 2 and 4 (ballots of
# configuration 2; node 3's old promise `1.3` belongs to configuration 1).

# %% tags=["nbval-check-output"]
cluster.run(ticks=3)
print(cluster)
display(view.nodes(cluster))
print("node 4:", cluster.server(4), "| configuration", cluster.server(4).config_id,
      "| key-value", dict(cluster.server(4).kv))

# %% [markdown]
# Node 4 holds `a=1` and `b=2` although its configuration-2 log is empty: they came in the state
# transfer. New writes go to configuration 2's leader; the Logs table shows one column group per
# configuration, with the purple StopSign closing configuration 1 and node 3's greyed column (crashed,
# what its storage kept). The safety checks agree that the transition was clean
# (`ConfigurationTransition`: every node started configuration 2 with exactly the state decided before
# the StopSign).

# %% tags=["nbval-check-output"]
cluster.put("c", 3)
cluster.run(ticks=1)
display(cluster.logs())
display(view.kv(cluster))
print([f"{v.name}: {'ok' if v.ok else v.message}" for v in cluster.check()])

# %%
cluster.logs()

# %% [markdown]
# ## A configuration that can never work
#
# `cluster.reconfigure` checks its argument before anything happens and raises `BadInput` (here its
# subclass `InvalidConfiguration`) with what to do instead; the cluster and its trace stay unchanged.
# The replica validates too: `reconfigure` with an invalid `ClusterConfig` raises
# `ProposeErr.ConfigError`, carrying the `ConfigError` (`.error`) and the refused configuration
# (`.config`). (A refused call changes nothing, so calling the replica directly is harmless here.)

# %% tags=["nbval-check-output"]
before = len(cluster.trace)
for nodes in ([4], [1, 2, 2], [1, 0]):
    try:
        cluster.reconfigure(nodes)
    except BadInput as err:
        print(f"{type(err).__name__}: {err}")
print("trace unchanged:", len(cluster.trace) == before)

replica = cluster.server(4).omnipaxos
for config in (ClusterConfig(configuration_id=0, nodes=[1, 2, 4]), ClusterConfig(configuration_id=3, nodes=[4])):
    try:
        replica.reconfigure(config)
    except ProposeErr.ConfigError as err:
        print(f"{type(err).__name__}: {err}")
        print("   .config =", err.config)

# %% [markdown]
# ## A StopSign proposed at a follower
#
# Any server may propose the change. A follower does not store the StopSign itself: it forwards it to
# the leader it promised (`ForwardStopSign`), and the leader proposes it as its own. (With no known
# leader, a server buffers the first StopSign until it learns of one.)

# %% tags=["nbval-check-output"]
fwd = scenarios.replace_crashed_node()
fwd.reconfigure([1, 2, 4], at=1)             # node 1 is a follower; node 2 leads
display(fwd.pending())
fwd.step()                                   # the leader receives it and proposes it
display(fwd.pending())
fwd.run(ticks=3)
print(fwd)
display(view.nodes(fwd)[["configuration", "role", "leader", "server"]])

# %% [markdown]
# ## Your turn
#
# 1. Right after `cluster.reconfigure([1, 2, 4])` (the StopSign stored at leader 2 only), a client
#    calls `cluster.put("c", 3, at=1)`. Does node 1 refuse it? What becomes of the write?
#
# <details><summary>Answer</summary>
#
# Node 1 holds no StopSign yet, so its `append` succeeds and it forwards the entry to the leader
# (`ProposalForward`). Node 2's log is sealed: it discards the entry, and the simulator records a
# `ProposalLost` event (the reference implementation loses it silently). The client operation stays
# *pending* forever: the client has to retry in configuration 2. Try it on a fresh
# `scenarios.replace_crashed_node()` and look at `view.events(...)`.
# </details>
#
# 2. Why do servers wait for the StopSign to be **decided**, not just accepted, before starting
#    configuration 2?
#
# <details><summary>Answer</summary>
#
# An accepted StopSign can still disappear: if the leader crashes before a majority accepted it, the
# next leader's log synchronisation may overwrite or remove it, and configuration 1 goes on accepting
# entries. Starting configuration 2 then would let two configurations accept writes side by side.
# Once decided, the StopSign is the last slot forever, and everything before it is decided too: the
# state to hand over is final.
# </details>
#
# 3. Nodes 1 and 2 need no `StateTransfer`. Why not, and what would node 4 need if configuration 1 had
#    compacted its log?
#
# <details><summary>Answer</summary>
#
# Nodes 1 and 2 applied configuration 1's decided log themselves, so they start configuration 2 on the
# state they already hold. Node 4 has nothing of configuration 1, so it needs the state itself, not the
# log; that is why the transfer carries key-value pairs. Compaction (next notebook) changes nothing
# here: the transfer is the applied state, whatever the log kept.
# </details>

# %% [markdown]
# ## The lab
#
# The lab works on the reconfigured cluster. The **Reconfigure** control takes a list of nodes and
# calls `cluster.reconfigure(nodes)`; the cell below presses it once, with `2, 4, 5`, then **Run**
# (3 ticks): configuration 3 runs on nodes 2, 4 and 5, node 5 joined through a state transfer, and
# node 1, left out, *retired* (its old instance keeps answering peers that lag behind). Then the lab
# is yours.

# %% tags=["nbval-check-output"]
w = omnilab.lab(cluster)
print(w.press("reconfigure", nodes="2, 4, 5"))   # cluster.reconfigure([2, 4, 5])
print(w.press("run", ticks=3))                   # cluster.run(ticks=3)
display(view.nodes(cluster)[["configuration", "role", "status", "server"]])
display(view.kv(cluster))

# %%
w

# %% [markdown]
# Try this:
#
# * Type `1, 4, 5` in *nodes* and press **Reconfigure** (`cluster.reconfigure([1, 4, 5])`), then
#   **Step** one message at a time: find the StopSign in the *Logs* tab, and the `StartInstance` and
#   `StateTransfer` that bring the retired node 1 back in the *Messages* tab.
# * Before that StopSign is decided, **Put** a value: the status line shows the
#   `PendingReconfigEntry` refusal.
# * `cluster.drop(id)` a `StateTransfer` in a new cell, then **Tick** twice and watch it come back.
# * Crash node 5 after it joined and **Recover** it: it rebuilds its key-value state from the state
#   transfer it kept in storage plus its own log.

# %% [markdown]
# ## Recap
#
# * A reconfiguration is one log slot: `reconfigure(new_config)` proposes a **StopSign** naming
#   configuration *k + 1*, and it is agreed on like any entry (accepted by a majority, then decided).
# * From the moment a server stores the StopSign, configuration *k* is **sealed**: new entries are
#   refused with `ProposeErr.PendingReconfigEntry` (which hands the entry back), a second change with
#   `PendingReconfigConfig`, and a proposal forwarded to the sealed leader is lost (`ProposalLost`).
# * Servers start configuration *k + 1* only on `LogEntry.StopSign(ss, True)`, the **decided**
#   StopSign, each with a fresh OmniPaxos instance and a fresh log from index 0.
# * OmniPaxos itself moves no state between configurations. The application does: old members send
#   each new server a `StartInstance` and a `StateTransfer`, and resend them until a `TransferAck`
#   arrives, so a lost transfer only delays the new node.
# * A node left out of the new configuration *retires*; a crashed node (node 3) is simply never
#   asked again. Any server may propose the StopSign: a follower forwards it to its leader.
# * Bad configurations are refused before anything changes: `BadInput` from the simulator,
#   `ProposeErr.ConfigError` from the replica.
#
# The [OmniPaxos documentation](https://omnipaxos.com/docs/) tells the same story from the Rust side
# (its reconfiguration page is the code of section 1).
#
# Next, logs stop growing forever: trimming and snapshots.
