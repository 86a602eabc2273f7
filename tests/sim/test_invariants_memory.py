"""The invariants that remember (integrity over compaction and crashes), local well-formedness after
every event, and liveness as a check. Each is shown failing on a broken behaviour (a test-only patch
of a replica, a storage or a server) and passing on the real one; checking twice gives the same
answer and writes nothing."""

from __future__ import annotations

import copy

import pytest

from omnilab.kv import KVSnapshot
from omnilab.replica.ballot import Ballot
from omnilab.replica.errors import CompactionErr
from omnilab.replica.sequence_paxos.follower import FollowerHandlers
from omnilab.replica.sequence_paxos.leader_state import LeaderState
from omnilab.sim import Cluster, invariants
from omnilab.sim.service import ReconfigurationService

WRITES = [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5), ("d", 6)]


def _six_writes() -> Cluster:
    cluster = Cluster([1, 2, 3], seed=0)
    cluster.run(ticks=3)
    for key, value in WRITES:
        cluster.put(key, value)
    cluster.deliver_all()
    return cluster


def _follower(cluster: Cluster) -> int:
    return min(p for p in cluster.pids if p != cluster.leader())


def _failed(cluster: Cluster, name: str):
    verdict = next(v for v in cluster.check() if v.name == name)
    assert not verdict.ok, verdict
    return verdict


def _pure(cluster: Cluster) -> None:
    """check() twice: the same verdicts, and the ledger untouched."""
    before = copy.deepcopy((cluster.ledger.clashes, cluster.ledger.past_stopsign, cluster.ledger.reads, cluster.ledger.leaders, cluster.ledger.promises,
                            cluster.ledger.node_logs, cluster.ledger.local_problem))
    first, second = cluster.check(), cluster.check()
    assert first == second
    after = (cluster.ledger.clashes, cluster.ledger.past_stopsign, cluster.ledger.reads, cluster.ledger.leaders, cluster.ledger.promises, cluster.ledger.node_logs,
             cluster.ledger.local_problem)
    assert after == before


# --- integrity with memory --------------------------------------------------------------------------

def test_integrity_holds_over_trims_snapshots_crashes_and_recoveries():
    cluster = _six_writes()
    cluster.trim(4)
    cluster.deliver_all()
    for pid in cluster.pids:
        cluster.crash(pid)
        assert invariants.integrity(cluster).ok  # checked on the crashed node's storage too
        cluster.recover(pid)
        cluster.run(ticks=2)
    cluster.put("e", 7)
    cluster.run(ticks=2)
    # A snapshot of a trimmed log is refused (the trimmed writes are in no snapshot, so it could not
    # hold them; README divergences): compact further with a trim instead.
    with pytest.raises(CompactionErr.TrimmedPrefix):
        cluster.snapshot()
    cluster.trim()
    cluster.run(ticks=2)
    assert all(cluster.check()), [v for v in cluster.check() if not v.ok]
    _pure(cluster)


def test_integrity_catches_a_trim_that_no_saved_state_covers(monkeypatch):
    # The server of fault 4: it lets its log be trimmed without saving its state. Nothing is read
    # and nothing crashed yet, but the durable part no longer holds the writes of slots 0-3.
    monkeypatch.setattr(ReconfigurationService, "save_state", lambda self, config_id: None)
    cluster = _six_writes()
    assert invariants.integrity(cluster).ok
    cluster.trim(4)
    verdict = _failed(cluster, "Integrity")
    assert verdict.message.startswith(f"node {cluster.leader()} decided a=1 at idx 0 of configuration 1; its log "
                                      "is compacted up to idx 4, but neither a snapshot nor a state saved before "
                                      "compacting holds that write")
    _pure(cluster)


def test_integrity_catches_a_snapshot_that_lost_a_write():
    cluster = _six_writes()
    cluster.snapshot(4)
    cluster.deliver_all()
    assert invariants.integrity(cluster).ok
    follower = _follower(cluster)
    storage = cluster.server(follower).storage
    storage.set_snapshot(KVSnapshot({"a": 3, "b": 2}))  # a broken snapshot: c=4 (idx 3) is missing,
    cluster.server(follower).durable.saved.clear()  # and no saved state to fall back on
    verdict = _failed(cluster, "Integrity")
    assert verdict.message == (f"node {follower} decided c=4 at idx 3 of configuration 1, the last write to 'c' "
                               f"before idx 4; its compacted prefix (up to idx 4) holds nothing")


def test_integrity_remembers_across_a_crash_a_decided_index_that_went_back():
    cluster = _six_writes()
    follower = _follower(cluster)
    cluster.crash(follower)
    cluster.server(follower).storage.set_decided_idx(2)  # a storage that forgets decisions
    verdict = _failed(cluster, "Integrity")
    assert verdict.message == f"node {follower}'s decided index went back from 6 to 2 in configuration 1"
    cluster.recover(follower)
    cluster.run(ticks=2)  # the leader tells it again what is decided: the same values, whole again
    assert invariants.integrity(cluster).ok


def test_integrity_catches_a_log_entry_replaced_or_dropped():
    from omnilab.kv import KeyValue

    cluster = _six_writes()
    follower = _follower(cluster)
    storage = cluster.server(follower).storage
    storage.append_on_prefix(2, [KeyValue("z", 9)] + storage.get_entries(3, 6))  # replace idx 2
    verdict = _failed(cluster, "Integrity")
    assert verdict.message == (f"node {follower} decided KeyValue(key='a', value=3) at idx 2 of configuration 1, "
                               f"now its log holds KeyValue(key='z', value=9) there")
    storage.append_on_prefix(2, [])  # drop idx 2 and after
    assert "no longer holds idx 2" in _failed(cluster, "Integrity").message


# --- local well-formedness --------------------------------------------------------------------------

def test_local_well_formedness_holds_on_healthy_runs_and_is_pure():
    cluster = _six_writes()
    cluster.reconfigure([1, 2, 4])
    cluster.run(ticks=5)
    cluster.trim()
    cluster.run(ticks=2)
    assert invariants.local_well_formedness(cluster).ok
    _pure(cluster)


def test_local_well_formedness_catches_a_decided_index_beyond_the_log(monkeypatch):
    # A follower that believes any Decide, even past what it accepted (the shape of fault 1: decided 5,
    # accepted 1).
    cluster = Cluster([1, 2, 3], seed=0)
    cluster.run(ticks=3)
    follower = _follower(cluster)
    original = FollowerHandlers.update_decided

    def update_decided(self, decided_idx):
        if self.pid == follower and decided_idx > self.log.decided_idx:
            self.log.set_decided_idx(decided_idx + 1)  # one slot more than the leader decided
            return None
        return original(self, decided_idx)

    monkeypatch.setattr(FollowerHandlers, "update_decided", update_decided)
    cluster.put("a", 1)
    cluster.deliver_all()
    assert cluster.server(follower).omnipaxos.get_decided_idx() == 2
    verdict = _failed(cluster, "LocalWellFormedness")
    assert verdict.message.startswith(f"node {follower} in configuration 1: compacted_idx 0, decided_idx 2, "
                                      "accepted_idx 1 (each must be at most the next) (trace item ")
    _pure(cluster)


def test_local_well_formedness_catches_a_promise_that_went_down():
    cluster = _six_writes()
    follower = _follower(cluster)
    cluster.crash(follower)
    cluster.server(follower).storage.set_promise(Ballot(1, 1, 0, follower))  # a storage that forgot its vow
    cluster.recover(follower)
    verdict = _failed(cluster, "LocalWellFormedness")
    assert verdict.message.startswith(f"node {follower}'s promise in configuration 1 went down from ")


def test_local_well_formedness_catches_a_stopsign_before_the_last_slot_and_a_hole_in_the_log():
    from omnilab.kv import KeyValue
    from omnilab.replica import ClusterConfig, StopSign

    cluster = _six_writes()
    follower = _follower(cluster)
    storage = cluster.server(follower).storage
    entries = storage.get_entries(0, 6)
    storage.append_on_prefix(0, entries[:2] + [StopSign(ClusterConfig(2, [1, 2]))] + entries[3:])
    verdict = _failed(cluster, "LocalWellFormedness")
    assert verdict.message == f"node {follower} holds a StopSign at idx 2 of configuration 1, before its last slot 5"
    storage.append_on_prefix(0, entries[:3])  # the log loses slots 3-5, still decided
    verdict = _failed(cluster, "LocalWellFormedness")
    assert verdict.message == f"node {follower} decided 6 slots of configuration 1, but read(3) returns nothing"
    assert KeyValue  # (imported for readers: the entries are KeyValue writes)


def test_a_cluster_that_keeps_log_shapes_answers_alike_and_a_fork_does_not_keep_them():
    from omnilab.replica import ClusterConfig, StopSign

    cluster = _six_writes()
    follower = _follower(cluster)
    storage = cluster.server(follower).storage
    entries = storage.get_entries(0, 6)
    storage.append_on_prefix(0, entries[:2] + [StopSign(ClusterConfig(2, [1, 2]))] + entries[3:])
    plain = _failed(cluster, "LocalWellFormedness")
    cluster.log_shapes = {}  # as the explorer sets it: its replicas never change
    kept = _failed(cluster, "LocalWellFormedness")
    assert kept == plain
    replica = cluster.server(follower).omnipaxos
    assert cluster.log_shapes[id(replica)] == plain.message  # one answer per replica, found again next time
    assert _failed(cluster, "LocalWellFormedness") == plain
    assert cluster.fork().log_shapes is None  # a fork's replicas change in place: it reads them anew
    assert Cluster([1, 2, 3]).log_shapes is None


# --- liveness as a check ----------------------------------------------------------------------------

def test_check_progress_passes_after_faults_and_leaves_the_cluster_unchanged():
    cluster = _six_writes()
    cluster.partition([1], [2, 3])
    cluster.crash(3)
    cluster.reconfigure([1, 2, 4], at=2) if cluster.leader() == 2 else None
    before = list(cluster.trace)
    verdict = cluster.check_progress(ticks=40)
    assert verdict.ok and verdict.name == "Progress", verdict
    assert list(cluster.trace) == before and not cluster.server(3).up  # it ran on a copy


def test_check_progress_needs_a_started_new_member_and_a_decided_stopsign():
    cluster = _six_writes()
    cluster.reconfigure([1, 2, 3, 4])
    verdict = cluster.check_progress(ticks=30, in_place=True)
    assert verdict.ok, verdict
    assert cluster.server(4).config_id == 2 and dict(cluster.server(4).kv)["progress"] is not None
    assert "cluster.put('progress'" in cluster.trace.script()  # in place: its calls are in the trace


def test_check_progress_fails_with_a_reason_when_nothing_can_be_decided(monkeypatch):
    monkeypatch.setattr(LeaderState, "is_chosen", lambda self, idx: False)  # a leader that never decides
    cluster = Cluster([1, 2, 3], seed=0)
    cluster.run(ticks=3)
    verdict = cluster.check_progress(ticks=20)
    assert not verdict.ok and verdict.name == "Progress"
    assert verdict.message.startswith("after healing every link and recovering every node, 20 ticks were not "
                                      "enough: put('progress', ")
    assert "was proposed but not decided (leader 3)" in verdict.message


def test_check_progress_names_a_member_that_never_catches_up(monkeypatch):
    # A follower that ignores every AcceptDecide, Decide and AcceptSync stays behind for ever (the
    # AcceptSync too: the leader prepares again a follower that leaves entries unacknowledged, and
    # the sync would bring it up to date).
    cluster = Cluster([1, 2, 3], seed=0)
    cluster.run(ticks=3)
    for name in ("handle_decide", "handle_acceptdecide", "handle_acceptsync"):
        original = getattr(FollowerHandlers, name)

        def deaf(self, sender, msg, original=original):
            if self.pid != 1:
                original(self, sender, msg)

        monkeypatch.setattr(FollowerHandlers, name, deaf)
    verdict = cluster.check_progress(ticks=20)
    assert not verdict.ok
    assert "but not applied at node(s) [1] (node 1 Follower/Prepare in c1, decided 0" in verdict.message, verdict
