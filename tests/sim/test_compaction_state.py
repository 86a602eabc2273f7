"""A trim never loses a write: every server saves its key-value state before it lets its log be
compacted, recovers from that saved state, and hands it on in a state transfer (issue 8, fault 4).

Each schedule is written with `Cluster` calls only. The last tests take the saving away (a server
variant that forgets, patched in for the test) and show the invariants catching the loss.
"""

from __future__ import annotations

import pytest

from omnilab.sim import Cluster, invariants
from omnilab.sim.service import ReconfigurationService

WRITES = [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5), ("d", 6)]
EXPECTED = {"a": 3, "b": 5, "c": 4, "d": 6}


def _trimmed_cluster() -> tuple[Cluster, int, int]:
    """Six writes decided everywhere, the log trimmed at 4 on every node; returns the cluster, its
    leader and one follower."""
    cluster = Cluster([1, 2, 3], seed=0)
    cluster.run(ticks=3)
    for key, value in WRITES:
        cluster.put(key, value)
    cluster.deliver_all()
    cluster.trim(4)
    cluster.deliver_all()
    leader = cluster.leader()
    follower = min(p for p in cluster.pids if p != leader)
    assert all(cluster.server(p).omnipaxos.get_compacted_idx() == 4 for p in cluster.pids)
    return cluster, leader, follower


def test_every_server_saves_its_state_before_its_log_is_trimmed():
    cluster, _, _ = _trimmed_cluster()
    for pid in cluster.pids:
        saved = cluster.server(pid).durable.saved[1]
        assert (saved.config_id, saved.applied_idx, dict(saved.state)) == (1, 6, EXPECTED)


def test_a_recovered_member_and_the_new_node_it_hands_the_state_to_keep_the_trimmed_writes():
    cluster, leader, follower = _trimmed_cluster()
    cluster.crash(follower)
    cluster.recover(follower)
    cluster.run(ticks=3)
    assert dict(cluster.server(follower).kv) == EXPECTED
    # Node 4 joins; only the recovered member may reach it, so its StateTransfer is the one used.
    cluster.reconfigure([1, 2, 3, 4])
    for pid in cluster.pids:
        if pid not in (follower, 4):
            cluster.cut(pid, 4, one_way=True)
    cluster.run(ticks=5)
    installed = [e for e in cluster.trace if type(e).__name__ == "StateInstalled" and e.pid == 4]
    assert [e.sender for e in installed] == [follower]
    assert dict(cluster.server(4).kv) == EXPECTED
    assert cluster.get("a", at=4) == 3 and cluster.get("c", at=follower) == 4
    assert all(cluster.check()), [v for v in cluster.check() if not v.ok]


def test_the_leader_recovering_after_its_own_trim_keeps_the_trimmed_writes():
    cluster, leader, _ = _trimmed_cluster()
    cluster.crash(leader)
    cluster.recover(leader)
    cluster.run(ticks=4)
    cluster.put("e", 7)
    cluster.run(ticks=2)
    assert all(dict(cluster.server(p).kv) == {**EXPECTED, "e": 7} for p in cluster.pids)
    assert all(cluster.check())


def test_a_trim_after_a_decided_stopsign_still_replays_the_stopsign_on_recovery():
    cluster, _, follower = _trimmed_cluster()
    cluster.reconfigure([1, 2, 3, 4])
    cluster.run(ticks=4)
    assert cluster.server(follower).config_id == 2
    cluster.crash(follower)
    cluster.recover(follower)
    cluster.run(ticks=4)
    assert cluster.server(follower).config_id == 2 and dict(cluster.server(follower).kv) == EXPECTED
    assert dict(cluster.server(4).kv) == EXPECTED
    assert all(cluster.check())


# --- a server that does not save its state: the invariants catch the loss ---------------------------

@pytest.fixture
def forgetful_servers(monkeypatch):
    """Servers that let their logs be trimmed without saving their state (the behaviour before the fix)."""
    monkeypatch.setattr(ReconfigurationService, "save_state", lambda self, config_id: None)


def test_without_the_saved_state_a_recovered_node_reads_stale_and_kv_linearizability_says_so(forgetful_servers):
    cluster, _, follower = _trimmed_cluster()
    cluster.crash(follower)
    cluster.recover(follower)
    cluster.run(ticks=2)
    assert cluster.get("b", at=follower) == 5  # slot 4 was never trimmed
    assert cluster.get("a", at=follower) is None  # put('a', 3) completed long ago, in trimmed slot 2
    verdict = invariants.kv_linearizability(cluster)
    assert not verdict.ok
    assert verdict.message.startswith(f"stale read: get('a') at node {follower} -> None misses a=3 decided at idx 2 "
                                      "of configuration 1 (put('a', 3) at node ")
    assert (f"node {follower} had applied 6 slots of configuration 1, but its key-value state lacks that write"
            in verdict.message)
    assert verdict.message.count("trace item") == 1


def test_without_the_saved_state_the_new_node_inherits_the_loss(forgetful_servers):
    cluster, _, follower = _trimmed_cluster()
    cluster.crash(follower)
    cluster.recover(follower)
    cluster.run(ticks=3)
    cluster.reconfigure([1, 2, 3, 4])
    for pid in cluster.pids:
        if pid not in (follower, 4):
            cluster.cut(pid, 4, one_way=True)
    cluster.run(ticks=5)
    assert dict(cluster.server(4).kv) != EXPECTED
    verdict = invariants.configuration_transitions(cluster)
    assert not verdict.ok and "started configuration 2" in verdict.message


# --- what the fuzzer found about the saved state (each its shrunk schedule) --------------------------

def test_a_follower_synced_with_a_snapshot_after_a_trim_keeps_what_it_had_applied():
    # omnilab fuzz seed 76 (3 nodes, 100 steps), shrunk. Node 1 is cut off while the leader trims
    # at 1; back, it was synced with a snapshot of slots [1, 2) only, and its server's state saved
    # before the AcceptSync (b=12, slot 0) held the write the snapshot lacked. A leader whose prefix
    # is trimmed now syncs with the entries it holds instead (README divergences): node 1 keeps its
    # slot 0, gets slot 1 as an entry, and compacts nothing.
    cluster = Cluster([1, 2, 3], seed=76)
    cluster.put('b', 12, at=2)
    cluster.run(ticks=1)
    cluster.put('a', 13, at=2)
    cluster.partition([2, 3], [1])
    cluster.step()
    cluster.trim()
    cluster.heal()
    cluster.run(ticks=3)
    assert cluster.server(1).omnipaxos.get_compacted_idx() == 0
    assert cluster.server(1).omnipaxos.get_decided_idx() == 2
    assert invariants.integrity(cluster).ok, invariants.integrity(cluster)
    cluster.crash(1)
    cluster.recover(1)
    cluster.run(ticks=2)
    assert dict(cluster.server(1).kv) == {"b": 12, "a": 13}


def test_an_old_instance_compacted_after_the_next_configuration_started_saves_that_configurations_state():
    # omnilab fuzz seed 37 (3 nodes, 100 steps), shrunk: node 2 runs configuration 2 (c=17 written
    # there) when its instance of configuration 1 gets an AcceptSync; the state it saves for
    # configuration 1 is the one configuration 2 started from (c=14), not its current one.
    cluster = Cluster([1, 2, 3], seed=37)
    cluster.tick()
    cluster.run(ticks=1)
    cluster.tick()
    cluster.run(ticks=1)
    cluster.tick()
    cluster.reconfigure([2, 3, 4], at=3)
    cluster.partition([1, 2, 4], [3])
    cluster.run(ticks=1)
    cluster.tick()
    cluster.tick()
    cluster.step()
    cluster.step()
    cluster.partition([4], [1, 2, 3])
    cluster.run(ticks=1)
    cluster.cut(1, 2)
    cluster.tick()
    cluster.put('c', 14, at=3)
    cluster.deliver_all()
    cluster.partition([1, 2], [3, 4])
    cluster.tick()
    cluster.run(ticks=1)
    cluster.put('c', 17, at=4)
    cluster.tick()
    cluster.heal()
    assert cluster.check_progress(ticks=60, in_place=True).ok  # as the campaign ends
    assert dict(cluster.server(2).durable.saved[1].state) == {"c": 14}
    assert invariants.integrity(cluster).ok, invariants.integrity(cluster)
