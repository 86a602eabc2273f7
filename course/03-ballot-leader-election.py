# %% [markdown]
# # 03 · Ballot Leader Election
#
# **Goals:** order ballots; follow heartbeat rounds to the first election and a takeover; use priorities; see the paper's three partial-connectivity scenarios resolved.
#
# **Time:** about 40 minutes.
#
# Sequence Paxos needs a leader to make progress, but it never trusts one blindly. Its ballots keep
# the log safe even when two nodes both believe they lead. So OmniPaxos hands the question "who
# should lead?" to a separate, simpler component, **Ballot Leader Election** (BLE), whose only job is
# liveness. BLE elects a node that can actually talk to a majority, even when the network fails
# link by link rather than in clean halves. This notebook shows ballots and how they are ordered,
# the heartbeat round that runs on every tick, the first election, the takeover after a leader
# crash, leader priorities, and the three partial-connectivity scenarios of the OmniPaxos paper
# (EuroSys'23), tick by tick.

# %%
import pandas as pd
from IPython.display import display

import omnilab
from omnilab import Ballot, Cluster, view
from omnilab.sim import scenarios

pd.set_option("display.max_colwidth", None)  # tables show every cell's whole text

# %% [markdown]
# `view.ble(cluster)` shows what BLE itself thinks, read through `inspect()` (its fields
# `ble_ballot`, `ble_leader` and `ble_happy`): each node's own ballot, the ballot it follows and
# whether it is happy, next to its Sequence Paxos role, phase and promise (`view.nodes(cluster)` has
# the same BLE columns among the rest). Two small helpers: one runs ticks one at a time and shows the
# election round by round, the other lists the links that work.

# %%
def ble_rounds(cluster, ticks):
    """Run `ticks` ticks one at a time (each: tick, then deliver everything). After each tick, every
    node as `own ballot→ballot it follows`, ☺ happy or ☹ unhappy, ★ if it is a Sequence Paxos
    leader; and the leader the cluster agrees on."""
    rows = {}
    for _ in range(ticks):
        cluster.run(ticks=1)
        row = {}
        for pid in cluster.pids:
            server = cluster.server(pid)
            if not server.up:
                row[f"node {pid}"] = "✗ crashed"
                continue
            s = server.omnipaxos.inspect()
            mood = "☺" if s.ble_happy else "☹"
            star = " ★" if s.role.value == "Leader" else ""
            row[f"node {pid}"] = f"{s.ble_ballot.short()}→{s.ble_leader.short()} {mood}{star}"
        row["leader"] = cluster.leader() or "—"
        rows[cluster.clock] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("tick")


def links_up(cluster):
    """The links that work in both directions, as (a, b) pairs with a < b."""
    return [(a, b) for a in cluster.pids for b in cluster.pids
            if a < b and cluster.network.is_up(a, b) and cluster.network.is_up(b, a)]


# %% [markdown]
# ## Ballots: `(n, priority, pid)`
#
# A ballot names one round of leadership: `Ballot(config_id, n, priority, pid)`. Ballots are
# **ordered** by `(n, priority, pid)`: first the round number `n`, then the priority, and the pid
# breaks ties, so two nodes never hold equal ballots. Tables write a ballot as `n.pid` (plus `/pP` when
# the priority is set): `2.3` is round 2 of node 3.

# %% tags=["nbval-check-output"]
b13 = Ballot(config_id=1, n=1, priority=0, pid=3)
b21 = Ballot(config_id=1, n=2, priority=0, pid=1)
b11p5 = Ballot(config_id=1, n=1, priority=5, pid=1)
print(b21.short(), ">", b13.short(), ":", b21 > b13, "  (n first)")
print(b11p5.short(), ">", b13.short(), ":", b11p5 > b13, "  (then priority)")
print(b21.short(), ">", b11p5.short(), ":", b21 > b11p5, "  (n beats priority)")
print("sorted:", [b.short() for b in sorted([b21, b13, b11p5])])

# %% [markdown]
# The `config_id` is left out of the order but not out of equality. Each configuration (notebook 06)
# runs its own OmniPaxos instance, and inside one instance every ballot has the same `config_id`, so
# it could never decide an order there. Equality includes it so that a ballot of configuration 1 is
# never taken for the same round as one of configuration 2. The result: two ballots can be neither
# smaller nor greater, and still not equal.

# %% tags=["nbval-check-output"]
old = Ballot(config_id=1, n=2, priority=0, pid=3)
new = Ballot(config_id=2, n=2, priority=0, pid=3)
print("old < new:", old < new, "| old > new:", old > new, "| old == new:", old == new, "| old <= new:", old <= new)

# %% [markdown]
# ### Your turn
#
# Order these ballots, smallest first: `Ballot(1, 2, 0, 1)`, `Ballot(1, 1, 9, 2)`,
# `Ballot(1, 1, 0, 5)`, `Ballot(1, 2, 0, 4)`. Check with `sorted(...)`.
#
# <details><summary>Answer</summary>
#
# `1.5`, `1.2/p9`, `2.1`, `2.4`. The round number decides first (the two `n = 1` ballots come
# before the two `n = 2` ones). Within `n = 1`, priority 9 beats priority 0 whatever the pids. Within
# `n = 2`, equal priorities leave the pid to decide.
# </details>

# %% [markdown]
# ## Heartbeat rounds: one tick is one round
#
# Every `election_tick_timeout` ticks (1 by default, as in OmniPaxos itself) a node **ends** its
# heartbeat round and starts the next: it sends a `HeartbeatRequest(round)` to every peer. A peer
# answers at once with a `HeartbeatReply` carrying its own ballot, the ballot it follows (`leader`),
# and whether it is **happy**. Only replies of the current round count; late ones are stale news and
# are thrown away.
#
# A fresh cluster has exchanged round 1 already (notebook 02). Nobody has ended a round yet, so
# each node still follows its own ballot `1.pid`, and everyone is happy.

# %% tags=["nbval-check-output"]
cluster = Cluster([1, 2, 3])
display(view.ble(cluster))

# %% [markdown]
# ## What a node decides at the end of a round
#
# | step | rule | why |
# |---|---|---|
# | 1. follow | adopt the largest ballot heard in the replies, if it is larger than the one followed | a node learns of a leader only by hearing from it directly |
# | 2. happy? | a **leader** is happy if a majority (itself included) could follow it: peers that follow its ballot or a smaller one. A **follower** is happy if it heard its leader this round and the leader said it is happy | "happy" means "I see a leader that can make progress" |
# | 3. take over? | if it is unhappy, **every** reply it got was unhappy, and it heard from a majority (itself included: it is **quorum-connected**), it takes over with ballot `n = leader's n + 1` | a happy neighbour means someone still sees a working leader, so stay quiet; and a node that cannot reach a majority could never lead, so it must not raise ballots and disturb others |
# | 4. lead | if the ballot it follows is its own, it hands it to Sequence Paxos, which runs Prepare with it | BLE proposes; Sequence Paxos's ballots keep the log safe |

# %% [markdown]
# `cluster.tick()` ends round 1 on every node. Step 1: each node follows the largest ballot it
# heard, `1.3`. Step 4: node 3 finds that the ballot it follows is its own, and hands it to Sequence
# Paxos, which sends a Prepare (notebook 04). Round 2's requests are on the wire. Deliver one and look
# at the reply it causes. Node 2 now reports that it follows `1.3`:

# %% tags=["nbval-check-output"]
cluster.tick()
display(view.ble(cluster))
cluster.step()                       # node 1's request to node 2
wire = cluster.pending()
display(wire[wire["type"] == "HeartbeatReply"])

# %% [markdown]
# That was the first election. `cluster.tick()` ended round 1 but delivered nothing, so round 2's
# requests and node 3's Prepares are still on the wire. `cluster.run(ticks=1)` is `tick()` followed
# by `deliver_all()`, so every request of a round is answered before the round ends. With `tick()`
# alone, a round can end with its replies still on the wire: the node then heard nobody that round,
# exactly as if the network were slow. Keep that in mind when you tick by hand.

# %% [markdown]
# ## The first election: the highest pid
#
# With equal priorities, every node starts with `n = 1` and the pid decides: node 3's ballot `1.3` is
# the largest, so everyone followed it after the first round. Deliver what is in flight and node 3
# leads, in the Accept phase. Then `ble_rounds(cluster, 2)` runs two more ticks, one at a time, and
# shows every node after each: `own ballot→ballot it follows`, ☺ happy or ☹ unhappy, ★ for a
# Sequence Paxos leader. A calm cluster: the same ballots, everyone happy, every round.

# %% tags=["nbval-check-output"]
cluster.deliver_all()
display(view.nodes(cluster)[["role", "phase", "ballot", "promise", "leader"]])
display(ble_rounds(cluster, 2))

# %% [markdown]
# ## The leader crashes: a takeover with `n + 1`
#
# Crash node 3 and follow the rounds:
#
# * **tick 4**: the round ends with the replies gathered before the crash (node 3 still answered),
#   so nothing changes yet. The cluster has no agreed leader (`—`), because node 3 is down;
# * **tick 5**: nodes 1 and 2 did not hear their leader, so they are unhappy. They do not take over
#   yet: each heard the other say "happy" (that reply was sent before the other noticed);
# * **tick 6**: now every reply is unhappy, and each of them is quorum-connected (itself and the other
#   make two of three). **Both** take over with `n = 1 + 1 = 2`: node 1 with `2.1`, node 2 with
#   `2.2`. Both send Prepares. Node 1 promises the larger `2.2`, and node 2 leads;
# * **tick 7**: node 1's BLE hears `2.2` and follows it. The cluster is calm again, with one more
#   ballot number than before. The leader was back three rounds after the crash.

# %% tags=["nbval-check-output"]
cluster.crash(3)
display(ble_rounds(cluster, 4))
print("leader:", cluster.leader(), "with ballot", cluster.server(2).omnipaxos.get_promise().short())

# %% [markdown]
# ### Your turn
#
# Nodes 1 and 2 took over in the same round. Why did node 2 win, and why is it harmless that both
# tried?
#
# <details><summary>Answer</summary>
#
# Both chose `n = 2`, so the pid broke the tie: `2.2 > 2.1`. Node 1 got node 2's Prepare with the
# larger ballot and promised it, so node 1's own Prepare could never gather a majority (node 2 does
# not promise a smaller ballot). Two simultaneous candidates cost one round trip; they can never
# both lead, because a leader needs promises from a majority for its exact ballot.
# </details>

# %% [markdown]
# ## Leader priority
#
# The priority sits between `n` and the pid in the order, so it decides whenever ballots with the
# same `n` compete: at the first election, and when several nodes take over in the same round. It is
# the `leader_priority` field of each server's `ServerConfig`.
#
# `Cluster([1, 2, 3], leader_priority=5)` passes that field to **every** server. Equal priorities
# change nothing about who wins: node 3 still leads, with `1.3/p5`.

# %% tags=["nbval-check-output"]
same = Cluster([1, 2, 3], leader_priority=5)
same.run(ticks=2)
print("leader:", same.leader())
display(view.nodes(same)[["ballot", "promise", "leader"]])

# %% [markdown]
# To give one node a higher priority from the start, pass a dict instead: `leader_priority={1: 5}`
# gives node 1 priority 5 and every other node 0 (each server gets its own `ServerConfig`). Node 1's
# `1.1/p5` beats `1.3` in the very first round:

# %% tags=["nbval-check-output"]
first = Cluster([1, 2, 3], leader_priority={1: 5})
first.run(ticks=2)
print("leader:", first.leader())
display(view.nodes(first)[["ballot", "promise", "leader"]])

# %% [markdown]
# On a running cluster, `cluster.set_priority(pid, p)` calls `set_priority(p)` on node `pid`'s
# replica (and records the call in the trace, so `undo()` and `Cluster.replay` keep it). It changes
# the node's own ballot, and only for **future** elections: it does not depose a working leader.
# (Two cautions: it lasts as long as that replica, so a node that crashes and recovers starts again
# from its `ServerConfig`. And the one exception: a **leader** that changes its own priority no
# longer holds the ballot it leads with, becomes unhappy, and causes a new election.)
#
# Give node 1 priority 5 in a cluster led by node 3 and watch three rounds. Node 3 keeps leading,
# and every node's BLE keeps following `1.3`: node 1's ballot `1.1/p5` is now the largest around, but
# a node adopts a ballot only from a node that *leads* it, and node 1 follows `1.3`. (This is one of
# omnilab's deliberate differences from the reference implementation, which adopts any larger
# ballot it hears: there, two followers with raised priorities can end up following each other's
# ballots, keep each other happy, and never elect anyone once the real leader crashes.)

# %% tags=["nbval-check-output"]
prio = Cluster([1, 2, 3])
prio.run(ticks=3)
prio.set_priority(1, 5)
display(ble_rounds(prio, 3))

# %% [markdown]
# ### Your turn
#
# The cell below crashes node 3 and runs four rounds. Predict first: does node 1, with the highest
# priority, become the leader? Then run it.
#
# <details><summary>Answer</summary>
#
# Yes, node 1 wins with `2.1/p5`. Both followers notice the crash at tick 8 (they both follow node 3
# directly) and become unhappy, but each still holds the other's "happy" reply from the previous
# round, so nobody takes over yet. At tick 9 every reply is unhappy and both are quorum-connected, so
# both take over in the same round with `n = 2`: `2.1/p5` against `2.2`. Same `n`, so the priority
# decides, and node 2 promises node 1's Prepare. A priority only decides between ballots with the
# same `n`; to hand leadership to a chosen node on purpose, OmniPaxos has `try_become_leader()`.
# </details>

# %% tags=["nbval-check-output"]
prio.crash(3)
display(ble_rounds(prio, 4))

# %% [markdown]
# ## Partial connectivity
#
# Networks do not always split into two clean halves. A misconfigured firewall or a flaky switch can
# cut single links, so that two servers cannot talk while a third still reaches both. In May 2023 the
# OmniPaxos authors described three such scenarios ("How OmniPaxos handles partial connectivity – and
# why other protocols can't"), in which Raft, VR and Multi-Paxos stop making progress. Raft gets
# through the first two only with its PreVote and CheckQuorum extensions, and the third defeats it
# even with them. `omnilab.sim.scenarios` builds each one, and each explains itself in
# `cluster.description`.
#
# ### 1. Quorum loss
#
# Five nodes, leader 5. Then every link fails except those of node 3, which still reaches everybody.

# %% tags=["nbval-check-output"]
ql = scenarios.quorum_loss()
print(ql)
print("links up:", links_up(ql))

# %%
print(ql.description)

# %%
view.cluster_diagram(ql)

# %% [markdown]
# **What Raft would do** (with PreVote, its usual guard against disruptive candidates). Leader 5
# can reach only node 3, so it can commit nothing, but it keeps sending heartbeats to node 3. Node 3
# keeps hearing a leader, so it never stands for election and refuses the others' pre-votes. Nodes 1,
# 2 and 4 time out, but each reaches only node 3, never a majority. No progress, for as long as the
# links stay down. (With CheckQuorum as well, leader 5 steps down, and node 3 can then win.)
#
# **What OmniPaxos does**, tick by tick (the scenario's clock is at 4):
#
# * **tick 5**: the round ends on replies from before the failure: everyone is still happy;
# * **tick 6**: leader 5 now hears only node 3, one potential follower (two of five with itself), so
#   it is unhappy. Nodes 1, 2, 4 do not hear 5: unhappy. But none of them is quorum-connected, so
#   none takes over. Node 3 still heard 5 say "happy", so it stays happy;
# * **tick 7**: node 3 hears four replies (quorum-connected) and all of them unhappy, so it takes over
#   with `2.3`. Its Prepare reaches everyone, everyone promises, and node 3 leads on all five nodes;
# * **tick 8** and later: every BLE follows `2.3` and is happy. The ballot stays `2.3`.

# %% tags=["nbval-check-output"]
display(ble_rounds(ql, 5))
print("every node's leader:", {pid: ql.server(pid).omnipaxos.get_current_leader() for pid in ql.pids})

# %% [markdown]
# Progress is back, for every node: a write at node 1 is forwarded over its one working link to node
# 3, and decided on all five.

# %% tags=["nbval-check-output"]
ql.put("y", 2, at=1)
ql.run(ticks=1)
display(ql.logs())

# %% [markdown]
# ### 2. Chained
#
# Three nodes, leader 3. The link between node 3 and node 1 fails, leaving a chain 1 – 2 – 3.

# %% tags=["nbval-check-output"]
chain = scenarios.chained()
print(chain)
print("links up:", links_up(chain))

# %%
print(chain.description)

# %% [markdown]
# **What Raft would do** (without PreVote). Node 1 stops hearing node 3, times out, and stands with
# a higher term. Node 2 votes for it, node 1 wins, and node 3 learns of the higher term through node 2
# and steps down. Now node 3 cannot hear the new leader, times out, and does the same to node 1. The
# leadership ping-pongs, and every change stalls the log.
#
# **What OmniPaxos does.** Node 1 is unhappy from tick 5 on, but its only neighbour, node 2, hears a
# happy leader and says so. A node takes over only when **every** reply is unhappy, so node 1 stays
# quiet. Node 3 has one potential follower (node 2), and two of three is a majority, so it stays
# happy. Nothing changes, however long you run:

# %% tags=["nbval-check-output"]
display(ble_rounds(chain, 6))
chain.put("z", 1)
chain.run(ticks=1)
display(chain.logs())

# %% [markdown]
# Writes are decided by nodes 2 and 3, and node 1's log lags, because its AcceptDecides are dropped
# on the cut link. After `heal(1, 3)` node 1 catches up at the next write: its sequence number shows
# a gap, so it asks to be prepared again (notebook 02).

# %% tags=["nbval-check-output"]
chain.heal(1, 3)
chain.put("w", 2)
chain.run(ticks=1)
display(view.kv(chain))

# %% [markdown]
# ### 3. Constrained election
#
# Five nodes, leader 5. Node 3 was cut off while the others decided `k0`, `k1` and `k2`, so its log
# is behind. Then leader 5 crashed, and the network changed so that node 3 is the only node that
# reaches the others.

# %% tags=["nbval-check-output"]
ce = scenarios.constrained_election()
print(ce)
print("links up:", links_up(ce))
display(ce.logs())

# %%
print(ce.description)

# %%
view.cluster_diagram(ce)

# %% [markdown]
# **What Raft would do.** Raft's voting rule refuses any candidate whose log is less up to date than
# the voter's. Node 3 is the only node that can gather a majority, and its log is the oldest, so
# nodes 1, 2 and 4 refuse to vote for it. Each of them can reach only node 3, so none can win either.
# No leader, with or without PreVote and CheckQuorum.
#
# **What OmniPaxos does.** BLE ignores logs: it only asks who is connected. While node 3 was isolated
# it could not reach a majority, so it never raised its ballot. Now:
#
# * **tick 6**: nodes 1, 2, 4 end the round on replies gathered before the crash, so they stay happy.
#   Node 3 is unhappy: it has not heard its leader 5 since it was isolated;
# * **tick 7**: nodes 1, 2, 4 did not hear their leader: unhappy, and none is quorum-connected. Node
#   3 is quorum-connected now, but the replies it holds were sent while its neighbours were still
#   happy, so it waits;
# * **tick 8**: node 3 hears three replies, all unhappy, so it is quorum-connected and takes over with
#   `2.3`. The Promises of nodes 1, 2 and 4 carry the entries node 3 missed, and Sequence Paxos
#   brings node 3's log up to date **before** it accepts anything new (notebook 04).

# %% tags=["nbval-check-output"]
display(ble_rounds(ce, 4))
ce.put("n", 9)
ce.run(ticks=1)
display(ce.logs())
display(view.kv(ce))

# %% [markdown]
# Node 3 received the entries it missed as a snapshot of the key-value state (its column reads
# `(snapshot)`, notebook 07); its key-value state holds `k0`, `k1` and `k2`. The new write `n = 9` is
# decided on nodes 1, 2, 3 and 4. Node 5 is crashed, so its greyed column is what its storage kept.
#
# In all three scenarios the node that can reach a majority leads, at most three rounds after the
# failure. The paper proves recovery within at most four election timeouts.

# %% [markdown]
# ### Your turn
#
# In the quorum-loss scenario, node 3 has taken over. The cell below crashes node 3 and runs ten
# ticks. Predict first: who leads then? Is that a failure of OmniPaxos?
#
# <details><summary>Answer</summary>
#
# Nobody leads. Every remaining node reaches nobody (all their links are cut), so none is
# quorum-connected, and none takes over: they stay unhappy followers of `2.3`. That is the right
# outcome. No group of nodes that can talk to each other forms a majority, so no leader could decide
# anything, and raising ballots would only disturb the others later. Recover node 3, or `heal()`, and
# a leader is back within a few ticks.
# </details>

# %% tags=["nbval-check-output"]
ql.crash(3)
ql.run(ticks=10)
print("leader:", ql.leader())
display(view.ble(ql))

# %% [markdown]
# ## The lab: quorum loss
#
# The lab below drives a fresh quorum-loss scenario. Open the *Nodes* tab, set *ticks* to 1, and
# press **Run** repeatedly: the `ballot` and `leader` columns change at the ticks listed above. Tick
# **heartbeats in space-time** in the *Space-time* tab to see the rounds themselves.
#
# Try this:
#
# * **Run** one tick at a time until node 3 leads; then **Put** a key *at* node 1 and watch it travel
#   through node 3.
# * **Crash** node 3, **Run** 5 ticks (nobody leads), then **Recover** it: who leads, and with which
#   ballot?
# * **Heal all**, then **Apply** the preset *chained: 1 - 2 - 3 - 4 - 5*, and **Run**: does the
#   leader change? Which nodes still decide writes?
# * In a new cell, `lab.cluster.set_priority(5, 9)`, then crash the leader: does node 5 win the next
#   election?

# %%
lab = omnilab.lab(scenarios.quorum_loss())
lab

# %% [markdown]
# The same presses from code, on a lab of their own (so your clicks above change nothing here):

# %% tags=["nbval-check-output"]
demo = omnilab.lab(scenarios.quorum_loss())
print(demo.press("run", ticks=3))     # cluster.run(ticks=3): node 3 takes over at the third tick
print(demo.press("put", key="q", value="1", at=1))
print(demo.press("deliver_all"))
print(demo)
display(view.nodes(demo.cluster)[["role", "ballot", "promise", "leader", "decided_idx"]])

# %% [markdown]
# Next, the elected leader's Prepare, Promise, AcceptSync, AcceptDecide, Accepted and Decide make a
# log.
