"""Write notebooks/01-the-lab.ipynb from the cells below.

    python scripts/lab_notebook.py          # (re)write the notebook, running it to record checked outputs
    python scripts/lab_notebook.py --check  # exit 1 if the stored cells differ from the ones below

The notebook is stored the way every omnilab notebook is: no outputs and ``execution_count: null``,
except cells marked ``# NBVAL_CHECK_OUTPUT``; their stdout is recorded by running the notebook once
(the simulator is deterministic, so nbval finds the same text on every run).
"""

from __future__ import annotations

import nbgen

PATH = nbgen.NOTEBOOKS / "01-the-lab.ipynb"

# (cell id, kind, source)
CELLS: list[tuple[str, str, str]] = [
    ("title", "markdown", """\
# 01 · The lab: looking at a cluster

A cluster of OmniPaxos servers has a lot of state: a log per server (one per configuration), a role
and a ballot, messages on the wire, a key-value store. This notebook shows the **views** that put it
in front of you (tables and pictures, all in `omnilab.view`) and the **lab widget** that drives a
cluster with buttons. Every button is a method call you could type; the notebook shows both."""),
    ("imports", "code", """\
import omnilab
from omnilab import view
from omnilab.sim import scenarios"""),
    ("scenario-md", "markdown", """\
## A cluster with a crashed node

`scenarios.replace_crashed_node()` is the story of the OmniPaxos reconfiguration documentation:
three servers decided two writes, then node 3 crashed. Every scenario explains itself:"""),
    ("scenario", "code", """\
# NBVAL_CHECK_OUTPUT
cluster = scenarios.replace_crashed_node()
print(cluster)
print(cluster.description)"""),
    ("logs-md", "markdown", """\
## Logs side by side: `view.logs(cluster)` (also `cluster.logs()`)

One row per log index, one column per node, grouped by configuration (each configuration is its own
OmniPaxos instance with its own log). A cell is the entry and its status: **green ✓ decided**,
**amber … accepted but not known decided**, **purple the StopSign**, **grey compacted**, blank
where that node's log ends. Node 3 crashed: its column is what its storage kept (greyed)."""),
    ("logs", "code", "view.logs(cluster)"),
    ("logs-text", "code", """\
# NBVAL_CHECK_OUTPUT
table = view.logs(cluster)
print(table.to_string())
print(table.status.to_string())   # the class of each cell: what the colours say"""),
    ("nodes-md", "markdown", """\
## Node states: `view.nodes(cluster)`

Role and phase (Sequence Paxos), the node's own ballot (Ballot Leader Election), the ballot it
promised, the leader it follows, and its three log indexes; the last two columns are what Ballot
Leader Election thinks: the ballot it follows (`ble_leader`) and whether it is happy with it
(`ble_happy`). A crashed node has no role or ballots: those were in memory. Its promise and indexes
survived in storage. `view.ble(cluster)` puts the election's columns next to the role."""),
    ("nodes", "code", """\
# NBVAL_CHECK_OUTPUT
print(view.nodes(cluster).to_string())"""),
    ("diagram-md", "markdown", """\
## The cluster as a picture: `view.cluster_diagram(cluster)`

Blue is the leader (bold outline and ★), white a follower, red and dashed a crashed node. A cut link
is a red dashed line with ✂. Messages in flight ride on arrows, labelled with their ids. After one
tick the servers have things to say:"""),
    ("tick", "code", """\
cluster.tick()
view.cluster_diagram(cluster)"""),
    ("messages-md", "markdown", """\
## Messages in flight: `view.messages(cluster)` (also `cluster.pending()`)

Each message has an id: `cluster.step(id)` delivers that one, `cluster.step()` the oldest."""),
    ("messages", "code", """\
# NBVAL_CHECK_OUTPUT
print(view.messages(cluster).to_string())"""),
    ("spacetime-md", "markdown", """\
## The history as a space-time diagram: `view.spacetime(cluster)`

One lane per node, time going down, an arrow per message from its sending to its delivery (the
way Lamport drew them). The margin names each operation you called and each tick. Marks show
decisions (✓), crashes (✗), recoveries (↻), the StopSign and new instances (▶). Heartbeats are
hidden unless you ask: `view.spacetime(cluster, ble=True)`."""),
    ("spacetime", "code", """\
cluster.deliver_all()
view.spacetime(cluster, last=40)"""),
    ("events-md", "markdown", """\
## The trace in words: `view.events(cluster, last=10)`

Operations read as the Python call that made them; events as a sentence."""),
    ("events", "code", """\
# NBVAL_CHECK_OUTPUT
print(view.events(cluster, last=8).to_string())"""),
    ("split-md", "markdown", """\
## What survives a crash: `view.state_split(cluster)`

Storage keeps the promise, the accepted round, the log and its indexes; memory holds the role, the
leader, buffered proposals and the key-value state. A crash loses memory only."""),
    ("split", "code", "view.state_split(cluster)"),
    ("rolephase-md", "markdown", """\
## The replica's states: `view.role_phase_diagram()`

Drawn from the replica's own transition table (`omnilab.replica.sequence_paxos.transitions`): the
replica refuses any change of (role, phase) that is not an arrow here."""),
    ("rolephase", "code", "view.role_phase_diagram()"),
    ("lab-md", "markdown", """\
## The lab widget: `omnilab.lab(cluster)`

The controls on top, the status line (the call each control made, or why it could not), a badge per
safety invariant, and the views in tabs. Click **Step**, click a message in the *Messages* tab,
crash a node, reconfigure... Each control calls the same `Cluster` method you would type, so the
trace records it as if typed, and the widget follows calls typed in other cells too."""),
    ("lab", "code", """\
w = omnilab.lab(cluster)
w"""),
    ("calls-md", "markdown", """\
### Every button is a method call

| control | the call it makes |
|---|---|
| **Step** (message: oldest / `#id`) | `cluster.step()` / `cluster.step(id)` |
| a message in the *Messages* tab | `cluster.step(id)` |
| **Drop** / **Duplicate** (message: oldest / `#id`) | `cluster.drop(id)` / `cluster.duplicate(id)` |
| **Deliver all** | `cluster.deliver_all()` |
| **Tick** | `cluster.tick()` |
| **Run** (ticks *n*) | `cluster.run(ticks=n)` |
| **Undo** | `cluster.undo()` |
| **Replay** | `Cluster.replay(cluster.trace)` (the lab then shows the copy) |
| **Crash** / **Recover** (node *p*) | `cluster.crash(p)` / `cluster.recover(p)` |
| **Set priority** (node *p*, priority *k*) | `cluster.set_priority(p, k)` |
| **Try become leader** (node *p*) | `cluster.try_become_leader(p)` |
| **Cut** / **Heal link** (link *a* ↔ *b*) | `cluster.cut(a, b)` / `cluster.heal(a, b)` |
| **Cut** with *one way* ticked (link *a* → *b*) | `cluster.cut(a, b, one_way=True)` |
| **Heal all** | `cluster.heal()` |
| **Apply** (a preset) | the calls it lists, e.g. `cluster.partition([1, 2], [3])` |
| **Put** (key, value, at) | `cluster.put(key, value)` or `cluster.put(key, value, at=p)` |
| **Reconfigure** (nodes) | `cluster.reconfigure([1, 2, 4])` |
| **Trim** (compact below idx *i*, at) | `cluster.trim(i)`; an empty box: `cluster.trim()`; at *p*: `cluster.trim(i, at=p)` |
| **Snapshot** (idx, at, *local only*) | `cluster.snapshot(i)`, `cluster.snapshot()`, `cluster.snapshot(at=p, local_only=True)` |

From Python, `w.press("step")` presses a control after filling its inputs
(`w.press("crash", node=3)`), and `w.controls.step.click()` clicks it. Each pair of cells below makes
the same operation once by the widget and once typed; the trace shows both the same way."""),
    ("press-step", "code", """\
# NBVAL_CHECK_OUTPUT
cluster.tick()
print(w.press("step"))          # the Step button
cluster.step()                  # typed
print(cluster.trace.script().splitlines()[-3:])"""),
    ("press-drop", "code", """\
# NBVAL_CHECK_OUTPUT
ids = view.messages(cluster).index.tolist()     # the ids in flight, oldest first
print(w.press("drop", msg_id=ids[0]))           # Drop, with that message chosen
cluster.drop(ids[1])                            # typed
print(w.press("duplicate", msg_id=ids[2]))      # Duplicate: a copy with a new id
cluster.duplicate(ids[3])
cluster.deliver_all()                           # the copies arrive too
print(cluster.trace.script().splitlines()[-5:])"""),
    ("press-run", "code", """\
# NBVAL_CHECK_OUTPUT
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
print(cluster)"""),
    ("press-put", "code", """\
# NBVAL_CHECK_OUTPUT
print(w.press("put", key="c", value="3"))
cluster.put("d", 4)
print(w.press("deliver_all"))
print(view.kv(cluster).to_string())"""),
    ("leader-md", "markdown", """\
### Leadership: priority and "try become leader"

**Set priority** gives the chosen node a leader-election priority: its ballots carry it from its
next heartbeat round on, and it counts at the next election (the highest priority, then the highest
pid, wins). **Try become leader** makes the node start a Prepare phase at once, with a ballot above
the one it promised. `view.ble(cluster)` shows each node's own ballot, the ballot it follows and
whether it is happy."""),
    ("press-leader", "code", """\
# NBVAL_CHECK_OUTPUT
print(w.press("set_priority", node=1, priority=5))   # cluster.set_priority(1, 5)
print(w.press("try_become_leader", node=1))          # cluster.try_become_leader(1)
cluster.deliver_all()
print("leader:", cluster.leader())
print(view.ble(cluster).to_string())"""),
    ("compact-md", "markdown", """\
### Compaction: Trim and Snapshot

Type an index in *compact below idx* (or leave it empty: as far as the replica may) and press
**Trim** or **Snapshot**. Both go to the leader unless *at* names a node. Only the leader may trim,
and only what every node has accepted; a snapshot folds decided entries into one key-value
snapshot (with *local only*, at that node alone). A refusal (`CompactionErr`) shows in the status
line, next to the call the trace recorded, exactly as the typed call records it and raises."""),
    ("press-compact", "code", """\
# NBVAL_CHECK_OUTPUT
print(w.press("trim", idx="2", compact_at=2))      # refused: node 2 is not the leader
print(w.press("trim", idx="2", compact_at=None))   # cluster.trim(2), at the leader
cluster.deliver_all()                              # the followers get the leader's Trim
print(view.logs(cluster).to_string())
cluster.snapshot(3)                                # typed: Snapshot with 3 in the box
cluster.deliver_all()
print(cluster.trace.script().splitlines()[-5:])
print(view.logs(cluster).to_string())"""),
    ("bad-md", "markdown", """\
### Bad input changes nothing

A control that cannot do what it was asked says why in the status line, and the cluster stays as it
was, exactly as the typed call raises `BadInput` and changes nothing:"""),
    ("bad", "code", """\
# NBVAL_CHECK_OUTPUT
before = len(cluster.trace)
print(w.press("reconfigure", nodes="1, 2, x"))
print(w.press("put", key="", value="1"))
print(w.press("crash", node=9))
print(w.press("snapshot", idx="two"))
print("trace unchanged:", len(cluster.trace) == before)"""),
    ("reconfigure-md", "markdown", """\
### Replace node 3

Type `1, 2, 4` in the *nodes* box and press **Reconfigure**, then **Run**: the StopSign is decided
in configuration 1, nodes 1 and 2 start configuration 2 and hand node 4 the state. The *Logs* tab
shows the StopSign row and the configuration 2 columns; the *Key-value* tab shows node 4 holding
everything."""),
    ("reconfigure", "code", """\
# NBVAL_CHECK_OUTPUT
print(w.press("reconfigure", nodes="1, 2, 4"))   # cluster.reconfigure([1, 2, 4])
print(w.press("run", ticks=3))                   # cluster.run(ticks=3)
print(view.nodes(cluster)[["configuration", "role", "status", "server"]].to_string())
print(view.kv(cluster).to_string())
print(w)"""),
    ("reconfigure-logs", "code", "cluster.logs()"),
    ("next-md", "markdown", """\
Every view is a plain function of the cluster: call it whenever you want a fresh picture, or keep
the lab open and watch it follow you. `w.refresh()` redraws it on demand.

Previous: [00 · Welcome](00-welcome.ipynb) · Next: [02 · Messages in flight](02-messages-in-flight.ipynb),
where you take the network into your own hands."""),
]


if __name__ == "__main__":
    raise SystemExit(nbgen.main(PATH, CELLS))
