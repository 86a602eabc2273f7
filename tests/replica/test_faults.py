"""Regressions for the replica faults of issue 8, each written as the schedule that broke it, with
nothing but `omnilab.Cluster` calls (messages picked by id from ``cluster.pending()``)."""

from __future__ import annotations

from omnilab import Cluster
from omnilab.replica.state import Phase, PromiseState, Role
from omnilab.sim.trace import ProposalLost


def in_flight(cluster: Cluster, kind: str, sender=None, receiver=None) -> list[int]:
    """Ids of the in-flight messages of type `kind` (optionally from `sender` / to `receiver`)."""
    table = cluster.pending()
    rows = table[table["type"] == kind]
    if sender is not None:
        rows = rows[rows["from"] == sender]
    if receiver is not None:
        rows = rows[rows["to"] == receiver]
    return [int(i) for i in rows.index]


def deliver_holding(cluster: Cluster, held: list[int], hold_kind: str, receiver: int) -> list[int]:
    """Deliver, oldest first, every message except those in `held` and any new `hold_kind` message
    to `receiver`; returns the ids of the newly held ones."""
    new: list[int] = []
    while True:
        table = cluster.pending()
        new += [int(i) for i in table.index
                if table.loc[i, "type"] == hold_kind and table.loc[i, "to"] == receiver
                and i not in held and i not in new]
        rest = [int(i) for i in table.index if i not in held and i not in new]
        if not rest:
            return new
        cluster.step(rest[0])


def failed(cluster: Cluster) -> list:
    return [v for v in cluster.check() if not v.ok]


# --- fault 1: a late AcceptSync from an earlier session of the same ballot ---------------------------

def late_acceptsync_schedule(restart: bool = False) -> tuple[Cluster, int, int]:
    """Follower F re-promises the same ballot twice; the AcceptSync answering its first re-promise is
    held in flight until F is preparing again (after a crash and recovery of F with `restart`), then
    delivered. Returns (cluster, leader, F)."""
    c = Cluster(nodes=[1, 2, 3], seed=0)
    c.run(ticks=3)
    leader, f = 3, 1
    assert c.leader() == leader
    c.put("a", 1)
    deliver_holding(c, [], "AcceptSync", f)
    # Lose the AcceptDecide of b to F; the one of c shows F the gap. Node 2's Accepted replies wait,
    # so nothing new is decided meanwhile (the syncs carry entries, no snapshot).
    c.put("b", 2)
    c.drop(in_flight(c, "AcceptDecide", leader, f)[0])
    c.put("c", 3)
    for msg_id in in_flight(c, "AcceptDecide", leader, 2):
        c.step(msg_id)
    waiting = in_flight(c, "Accepted", 2, leader)
    # F asks to be prepared again (same ballot); the leader answers its Promise with an AcceptSync
    # putting b and c after slot 1, which we hold in flight.
    c.step(in_flight(c, "AcceptDecide", leader, f)[0])
    for kind, sender, receiver in (("PrepareReq", f, leader), ("Prepare", leader, f), ("Promise", f, leader)):
        c.step(in_flight(c, kind, sender, receiver)[0])
    held = in_flight(c, "AcceptSync", leader, f)
    assert len(held) == 1
    # F's resend timer repeats its Promise; the leader answers with a second AcceptSync (a new
    # session), which F uses.
    for _ in range(2):
        c.tick()
        second = deliver_holding(c, held + waiting, "AcceptSync", f)
    assert len(second) == 1
    c.step(second[0])
    for msg_id in waiting:
        c.step(msg_id)
    assert not deliver_holding(c, held, "AcceptSync", f)
    for k in range(4):
        c.put(f"k{k}", k)
        assert not deliver_holding(c, held, "AcceptSync", f)
    assert c.server(f).omnipaxos.get_decided_idx() == 7
    # Lose another AcceptDecide: F re-promises the same ballot, and now the old AcceptSync arrives.
    c.put("x", 9)
    c.drop(in_flight(c, "AcceptDecide", leader, f)[0])
    if restart:
        c.crash(f)
        c.recover(f)   # rebuilt from storage: whatever F remembered in memory is gone
    deliver_holding(c, held, "AcceptSync", f)
    assert c.server(f).omnipaxos.inspect().phase is Phase.PREPARE
    c.step(held[0])
    return c, leader, f


def test_late_acceptsync_from_an_earlier_session_is_ignored():
    """Issue 8, fault 1: the stale AcceptSync made F cut its log to its 3 slots while keeping its
    decided index (decided 7, accepted 3; `read(3)` nothing). F must ignore it: its log keeps every
    decided entry."""
    c, leader, f = late_acceptsync_schedule()
    omni = c.server(f).omnipaxos
    state = omni.inspect()
    assert state.decided_idx <= state.accepted_idx
    assert state.phase is Phase.PREPARE            # still waiting for the answer to its new Promise
    for idx in range(state.compacted_idx, state.decided_idx):
        assert omni.read(idx) is not None, idx
    assert not failed(c), failed(c)
    c.run(ticks=3)
    assert c.server(f).omnipaxos.inspect().phase is Phase.ACCEPT
    assert c.server(f).omnipaxos.get_decided_idx() == c.server(leader).omnipaxos.get_decided_idx() == 8
    assert not failed(c), failed(c)


def test_late_acceptsync_is_ignored_after_a_restart_too():
    """F recognises the stale sync from what it stores (its accepted round and log), not from
    memory that a crash wipes."""
    c, leader, f = late_acceptsync_schedule(restart=True)
    state = c.server(f).omnipaxos.inspect()
    assert (state.phase, state.decided_idx, state.accepted_idx) == (Phase.PREPARE, 7, 7)
    c.run(ticks=3)
    assert c.server(f).omnipaxos.get_decided_idx() == c.server(leader).omnipaxos.get_decided_idx() == 8
    assert not failed(c), failed(c)


def test_late_acceptsync_loses_no_decided_write_when_the_follower_leads_and_restarts():
    """The issue's follow-on: F leads after the leader crashes, compacts its log into a snapshot,
    crashes and recovers. Its key-value state must still hold every decided write (with the stale
    sync applied, it held only ``{'x': 9}``, and ``check()`` found nothing wrong)."""
    c, leader, f = late_acceptsync_schedule()
    expected = {"a": 1, "b": 2, "c": 3, "k0": 0, "k1": 1, "k2": 2, "k3": 3, "x": 9}
    c.run(ticks=3)
    c.crash(leader)
    c.try_become_leader(f)
    c.run(ticks=3)
    assert c.leader() == f
    c.snapshot(at=f)
    c.run(ticks=2)
    c.crash(f)
    c.recover(f)
    c.run(ticks=5)
    assert dict(c.server(f).kv) == expected
    assert not failed(c), failed(c)


# --- fault 2: the followers' Accepted replies to the AcceptStopSign are lost once --------------------

def test_reconfiguration_completes_when_the_accepted_replies_to_the_stopsign_are_lost():
    """Issue 8, fault 2: the leader resends the AcceptStopSign with the sequence number it already
    used; the followers, which stored the StopSign and answered (the answers were lost), saw an
    outdated number and stayed silent, so the StopSign was never decided and nothing else could be
    proposed. They must answer the repeat again, and the new configuration must start."""
    c = Cluster(nodes=[1, 2, 3], seed=0)
    c.run(ticks=3)
    leader = c.leader()
    for k in range(3):
        c.put(f"k{k}", k)
    c.run(ticks=1)
    c.reconfigure([1, 2, 3, 4])
    followers = [p for p in (1, 2, 3) if p != leader]
    for f in followers:
        c.step(in_flight(c, "AcceptStopSign", leader, f)[0])
    lost = in_flight(c, "Accepted", receiver=leader)
    assert len(lost) == len(followers)
    for msg_id in lost:
        c.drop(msg_id)
    for f in followers:
        assert c.server(f).omnipaxos.inspect().stopsign is not None
    c.run(ticks=10)
    assert c.server(leader).instances[1].is_reconfigured() is not None, "the StopSign is still undecided"
    assert c.config_id == 2
    new = c.server(4)
    assert new.up and new.config_id == 2 and new.status.value == "active"
    assert dict(new.kv) == {"k0": 0, "k1": 1, "k2": 2}
    op = c.put("after", 1)
    c.run(ticks=3)
    assert op.completed is not None
    assert c.server(4).kv.get("after") == 1
    assert not failed(c), failed(c)


# --- fault 3: a proposal buffered at a recovering old leader, whose sync ends in a StopSign ----------

def test_proposal_buffered_behind_a_synced_stopsign_is_reported_lost():
    """Issue 8, fault 3: the old leader recovers (Recover phase, its promise is its own old ballot),
    so a put made there is buffered for want of a known leader. The AcceptSync it then gets ends in
    the StopSign the others decided, so the buffered write can never be decided: it must come back as
    a dropped proposal (a `ProposalLost` in the trace), not stay buffered forever."""
    c = Cluster(nodes=[1, 2, 3], seed=0)
    c.run(ticks=3)
    old = c.leader()
    c.put("a", 1)
    c.run(ticks=1)
    c.crash(old)
    c.run(ticks=5)
    assert c.leader() is not None and c.leader() != old
    c.reconfigure([1, 2, 3], at=c.leader())
    c.run(ticks=2)
    new_leader = c.leader()
    c.recover(old)
    state = c.server(old).instances[1].inspect()
    assert state.phase is Phase.RECOVER and state.promise.pid == old
    op = c.put("lost", 7, at=old)
    assert c.server(old).instances[1].inspect().buffered_proposals == 1
    c.run(ticks=5)
    replica = c.server(old).instances[1]
    assert replica.is_reconfigured() is not None
    assert replica.inspect().buffered_proposals == 0
    lost = [e for e in c.trace if isinstance(e, ProposalLost) and e.pid == old]
    assert [getattr(e.proposal, "key", None) for e in lost] == ["lost"]
    assert op.completed is None
    assert new_leader is not None
    assert not failed(c), failed(c)


# --- fault 5: a late PrepareReq makes the leader forget a follower that is accepting ----------------

def test_follower_and_leader_find_each_other_after_a_late_preparereq():
    """Issue 8, fault 5 (the mechanism behind ``omnilab fuzz --first-seed 30970``, whose saved
    schedule is replayed in tests/sim/test_regressions_replica.py): F notices a gap and asks to be
    prepared again; its first PrepareReq is held in flight while its resend timer's second one gets it
    re-synced. When the first arrives late, the leader resets F to "not promised" and sends only
    Prepares, which an accepting follower ignored in the reference: F stayed behind forever."""
    c = Cluster(nodes=[1, 2, 3], seed=0)
    c.run(ticks=3)
    leader, f = 3, 1
    c.put("a", 1)
    deliver_holding(c, [], "PrepareReq", f)
    c.put("b", 2)
    c.drop(in_flight(c, "AcceptDecide", leader, f)[0])
    c.put("c", 3)
    c.step(in_flight(c, "AcceptDecide", leader, f)[0])      # the gap: F recovers, asks with a PrepareReq
    held = in_flight(c, "PrepareReq", f, leader)
    assert len(held) == 1
    assert c.server(f).omnipaxos.inspect().phase is Phase.RECOVER
    for _ in range(2):                                      # F's resend timer asks again
        c.tick()
        assert not deliver_holding(c, held, "NoSuchMessage", leader)
    assert c.server(f).omnipaxos.inspect().phase is Phase.ACCEPT
    c.step(held[0])                                         # the late PrepareReq
    assert c.server(leader).omnipaxos.inspect().leader_promised[f] is PromiseState.NOT_PROMISED
    c.run(ticks=3)
    assert c.leader() == leader
    op = c.put("d", 4)
    c.run(ticks=3)
    assert op.completed is not None
    assert c.server(leader).omnipaxos.inspect().leader_promised[f] is PromiseState.PROMISED
    assert c.server(f).omnipaxos.get_decided_idx() == c.server(leader).omnipaxos.get_decided_idx() == 4
    assert c.server(f).kv.get("d") == 4
    assert not failed(c), failed(c)


# --- a late AcceptSync that starts inside the follower's compacted prefix ----------------------------

def test_late_acceptsync_starting_inside_the_compacted_prefix_is_ignored():
    """Found by the stale-control campaign (it raised IndexError inside the replica): F's first
    AcceptSync of a re-promise (entries from idx 0) is held; the answer to F's repeated Promise
    syncs F with a snapshot, so F's log is compacted up to idx 2; F re-promises again and the held
    sync arrives while F prepares. It ends where F's log ends, but starts inside F's compacted
    prefix, which F's storage no longer holds: F must ignore it as the answer to an earlier Promise."""
    c = Cluster(nodes=[1, 2, 3], seed=0)
    c.run(ticks=3)
    leader, f = 3, 1
    assert c.leader() == leader
    c.put("a", 1)
    c.drop(in_flight(c, "AcceptDecide", leader, f)[0])
    c.put("b", 2)
    c.step(in_flight(c, "AcceptDecide", leader, f)[0])          # the gap: F asks to be prepared again
    for kind, sender, receiver in (("PrepareReq", f, leader), ("Prepare", leader, f), ("Promise", f, leader)):
        c.step(in_flight(c, kind, sender, receiver)[0])
    held = in_flight(c, "AcceptSync", leader, f)                 # entries a, b from idx 0: held
    assert len(held) == 1
    for msg_id in in_flight(c, "AcceptDecide", leader, 2):
        c.step(msg_id)                                          # a and b decided by the leader and node 2
    for _ in range(2):                                          # F repeats its Promise; synced by snapshot
        c.tick()
        assert not deliver_holding(c, held, "NoSuchMessage", f)
    state = c.server(f).omnipaxos.inspect()
    assert (state.phase, state.compacted_idx, state.accepted_idx) == (Phase.ACCEPT, 2, 2)
    c.put("c", 3)
    c.drop(in_flight(c, "AcceptDecide", leader, f)[0])
    c.put("d", 4)
    assert deliver_holding(c, held, "AcceptSync", f)            # F re-promises; its new sync waits
    assert c.server(f).omnipaxos.inspect().phase is Phase.PREPARE
    c.step(held[0])                                             # the old sync, from idx 0 < compacted 2
    state = c.server(f).omnipaxos.inspect()
    assert (state.phase, state.compacted_idx, state.decided_idx, state.accepted_idx) == (Phase.PREPARE, 2, 2, 2)
    assert not failed(c), failed(c)
    c.run(ticks=3)
    assert c.server(f).omnipaxos.get_decided_idx() == c.server(leader).omnipaxos.get_decided_idx() == 4
    assert dict(c.server(f).kv) == {"a": 1, "b": 2, "c": 3, "d": 4}
    assert not failed(c), failed(c)


# --- compaction: a snapshot asked of an already trimmed prefix --------------------------------------

def test_a_snapshot_over_a_trimmed_prefix_is_refused_so_a_lagging_node_keeps_the_trimmed_writes():
    """Found by the 5-node campaign (seed 64): the leader trimmed its log (every node had accepted
    b=5, b=4), then a snapshot folded the slots after the trim point into a snapshot holding only
    a=6, which then read as the state of the whole prefix. Node 4, which had accepted b=5, b=4 but
    never learnt they were decided, was synced with that "complete" snapshot on recovery and lost
    both writes. The snapshot is refused instead; node 4 is synced with entries from the trim point
    and keeps the ones it accepted below it."""
    import pytest

    from omnilab.replica.errors import CompactionErr

    c = Cluster(nodes=[1, 2, 3, 4, 5], seed=0)
    c.run(ticks=3)
    leader, lagging = c.leader(), 4
    assert leader != lagging
    c.put("b", 5)
    c.put("b", 4)
    for f in [p for p in c.pids if p != leader]:
        for msg_id in in_flight(c, "AcceptDecide", leader, f):
            c.step(msg_id)
    for msg_id in in_flight(c, "Accepted", receiver=leader):
        c.step(msg_id)
    for msg_id in in_flight(c, "Decide", leader, lagging):
        c.drop(msg_id)                                   # node 4 accepted both, never learns they are decided
    c.deliver_all()
    assert c.server(lagging).omnipaxos.inspect().decided_idx == 0
    c.trim()                                             # everyone accepted 2 slots: trimmed up to 2
    assert c.server(leader).omnipaxos.inspect().compacted_idx == 2
    c.crash(lagging)
    c.put("a", 6)
    c.run(ticks=1)
    with pytest.raises(CompactionErr.TrimmedPrefix):
        c.snapshot()
    c.recover(lagging)
    c.run(ticks=3)
    assert dict(c.server(lagging).kv) == {"b": 4, "a": 6}
    assert not failed(c), failed(c)


# --- the resend of unanswered entries ----------------------------------------------------------------

def test_entries_whose_accepted_replies_were_lost_are_decided_without_another_write():
    """Issue 8, fault 2's other half: both followers accept a write and both Accepted replies are
    lost. The reference resends nothing for entries (only for a StopSign), nothing else moves in an
    idle cluster, and the write stays undecided until some later write happens to carry the
    followers' next Accepted. omnilab's leader prepares again a follower that left entries
    unacknowledged for a whole resend period; its sync makes the follower report, and the write is
    decided within a few ticks with no other proposal."""
    c = Cluster(nodes=[1, 2, 3], seed=0)
    c.run(ticks=3)
    leader = c.leader()
    op = c.put("a", 1)
    followers = [p for p in c.pids if p != leader]
    for f in followers:
        c.step(in_flight(c, "AcceptDecide", leader, f)[0])
    lost = in_flight(c, "Accepted", receiver=leader)
    assert len(lost) == len(followers)
    for msg_id in lost:
        c.drop(msg_id)
    c.run(ticks=4)
    assert op.completed is not None, "the write is still undecided"
    assert all(c.server(p).omnipaxos.get_decided_idx() == 1 for p in c.pids)
    assert all(c.server(p).kv.get("a") == 1 for p in c.pids)
    assert not failed(c), failed(c)


def test_a_follower_that_answers_in_time_is_not_prepared_again():
    """The re-prepare needs a whole resend period of silence: with every message delivered, the
    leader never sends a Prepare in its Accept phase."""
    c = Cluster(nodes=[1, 2, 3], seed=0)
    c.run(ticks=3)
    for k in range(5):
        c.put(f"k{k}", k)
        c.run(ticks=2)
    before = len(c.trace)
    c.put("x", 1)
    c.run(ticks=10)
    prepares = [e for e in c.trace[before:] if type(e).__name__ == "Sent"
                and type(getattr(e.envelope.message, "msg", None)).__name__ == "Prepare"]
    assert prepares == []


# --- compaction: a Delta snapshot merged over a trimmed prefix ---------------------------------------

def test_a_follower_with_a_trimmed_prefix_is_synced_with_entries_not_a_delta():
    """Five nodes. Node 2 (N) accepted a=1, b=2 but never learnt they were decided; the leader trims
    them (everyone accepted them), and node 1 (F) trims too. F misses c=3, d=4. Its sync used to be
    a Delta snapshot {c, d}, which F merged onto its trimmed prefix: its snapshot then read as the
    state of slots 0-3 while holding neither a nor b, and once F led, it synced N with that
    "complete" snapshot, and N lost a and b. A leader whose prefix is trimmed now syncs with the
    entries it holds: F's prefix stays trimmed, so F syncs N with entries from the trim point and N
    keeps the entries it accepted below it."""
    c = Cluster(nodes=[1, 2, 3, 4, 5], seed=0)
    c.run(ticks=3)
    leader, f, n = c.leader(), 1, 2
    assert leader not in (f, n)
    c.put("a", 1)
    c.put("b", 2)
    for p in [p for p in c.pids if p != leader]:
        for msg_id in in_flight(c, "AcceptDecide", leader, p):
            c.step(msg_id)
    for msg_id in in_flight(c, "Accepted", receiver=leader):
        c.step(msg_id)
    for msg_id in in_flight(c, "Decide", leader, n):
        c.drop(msg_id)                                  # N accepted a, b; never learns they are decided
    c.deliver_all()
    c.trim()
    c.deliver_all()
    assert c.server(f).omnipaxos.inspect().compacted_idx == 2
    assert c.server(n).omnipaxos.inspect().decided_idx == 0
    others = [p for p in c.pids if p not in (f, n)]
    c.partition([n], [f], others)
    c.put("c", 3)
    c.put("d", 4)
    c.run(ticks=1)
    c.partition([n], [f] + others)                      # F comes back and is synced
    c.run(ticks=4)
    state = c.server(f).omnipaxos.inspect()
    assert state.decided_idx == 4
    assert state.compacted_idx == 2 and c.server(f).omnipaxos.storage.get_snapshot() is None
    c.crash(leader)
    c.try_become_leader(f)
    c.heal()
    c.run(ticks=6)
    assert dict(c.server(n).kv) == {"a": 1, "b": 2, "c": 3, "d": 4}
    assert not failed(c), failed(c)


def test_a_duplicated_heartbeat_reply_is_not_a_second_voice():
    """Found by QuorumConnectedTakeover on the 5-node campaign (seed 2): node 2, cut off with node 1
    from the leader's side, got one reply of node 1 twice (the network duplicated it) and counted a
    quorum of three, so it took over without being quorum-connected. BLE now counts each peer once
    a round."""
    cluster = Cluster([1, 2, 3, 4, 5])
    cluster.run(3)
    assert cluster.leader() == 5
    cluster.partition([1, 2], [3, 4, 5])
    cluster.tick()  # a round with nothing heard: nodes 1 and 2 lose their leader and are unhappy
    cluster.deliver_all()
    cluster.tick()  # they heard each other once: 2 of 5, no takeover
    [request] = in_flight(cluster, "HeartbeatRequest", sender=2, receiver=1)
    cluster.step(request)
    [reply] = in_flight(cluster, "HeartbeatReply", sender=1, receiver=2)
    copy = cluster.duplicate(reply)
    cluster.step(reply)
    cluster.step(copy)
    cluster.tick()  # node 2's round ends having heard node 1 alone, twice
    state = cluster.server(2).omnipaxos.inspect()
    assert state.role is Role.FOLLOWER and state.ble_ballot.n == 1, state
    assert all(v.ok for v in cluster.check()), [v for v in cluster.check() if not v.ok]
