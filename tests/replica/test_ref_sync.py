"""Port of omnipaxos/tests/sync_test.rs: a deposed leader F rejoins a new leader L
whose log differs, and must end with exactly L's log.

The shared driver `_sync_test(spec)`, as in Rust:
1. F := the first leader; F's decided part is proposed at F.
2. Cut F off completely; on F (still leading its old ballot): optional local snapshot, then F's extra
   entries (accepted only by F).
3. Wait 10 election timeouts; L := the leader another node sees; L != F.
4. L's decided part beyond F's decided part is proposed at L; a decided StopSign is proposed and decided.
5. Pause the third node so L cannot decide alone; on L: optional local snapshot, L's undecided entries,
   an undecided StopSign.
6. Reconnect F; wait until F has decided everything L holds (F + L are a majority).
7. F's decided log (StopSign popped and checked) must equal L's log. Where F receives the decided part
   as a snapshot, its *contents* must be the full prefix (omnilab's divergence (see the README)): the reference loses or
   invents entries here (sync_full_test: [1,2,3,6,7,4,5]; sync_follower_snapshot_test: [1,2,3,5]).
"""

from dataclasses import dataclass, field
from typing import Optional

from omnilab.replica import ClusterConfig, LogEntry, StopSign

from tests.replica.driver import WAIT_8000_MS, Cluster
from tests.replica.values import Value, verify_log, verify_stopsign

SS_CONFIG = ClusterConfig(configuration_id=2, nodes=[1, 2, 3])


@dataclass
class LogSpec:
    log: list = field(default_factory=list)  # value ids
    decided_idx: int = 0
    compacted_idx: int = 0
    stopsign_decided: Optional[bool] = None  # None: no StopSign


def _values(ids):
    return [Value(i) for i in ids]


def _sync_test(leader_spec: LogSpec, follower_spec: LogSpec) -> list:
    cluster = Cluster(3)
    f_decided = _values(follower_spec.log[:follower_spec.decided_idx])
    f_extra = _values(follower_spec.log[follower_spec.decided_idx:])
    l_log = _values(leader_spec.log)
    assert l_log[:len(f_decided)] == f_decided, "the specs must share F's decided prefix"

    # 1.
    f = cluster.elected_leader(1)
    cluster.make_proposals(f, f_decided, budget=WAIT_8000_MS)
    # 2.
    cluster.disconnect(f)
    if follower_spec.compacted_idx:
        cluster.node(f).snapshot(follower_spec.compacted_idx, local_only=True)
    for v in f_extra:
        cluster.append(f, v)
    # 3.
    cluster.tick(10)
    other = min(p for p in cluster.pids if p != f)
    leader = cluster.elected_leader(other)
    assert leader != f, "no new leader was elected while the old one was cut off"
    third = next(p for p in cluster.pids if p not in (f, leader))
    # 4.
    cluster.make_proposals(leader, l_log[len(f_decided):leader_spec.decided_idx], budget=WAIT_8000_MS)
    stopsign = StopSign(SS_CONFIG, None)
    if leader_spec.stopsign_decided:
        cluster.reconfigure(leader, SS_CONFIG)
        cluster.wait_until(lambda: cluster.node(leader).is_reconfigured() == stopsign, budget=WAIT_8000_MS,
                           what="the StopSign being decided at the new leader")
    # 5.
    cluster.pause(third)
    if leader_spec.compacted_idx:
        cluster.node(leader).snapshot(leader_spec.compacted_idx, local_only=True)
    for v in l_log[leader_spec.decided_idx:]:
        cluster.append(leader, v)
    if leader_spec.stopsign_decided is False:
        cluster.reconfigure(leader, SS_CONFIG)
    # 6.
    cluster.reconnect(f)
    expected_decided = len(l_log) + (1 if leader_spec.stopsign_decided is not None else 0)
    cluster.wait_until(lambda: cluster.decided_idx(f) >= expected_decided, budget=WAIT_8000_MS,
                       what=f"the old leader {f} deciding the new leader's whole log")
    # 7.
    f_log = cluster.decided_log(f)
    if leader_spec.stopsign_decided is not None:
        verify_stopsign([f_log.pop()], stopsign)
    verify_log(f_log, l_log)
    assert cluster.node(f).get_decided_idx() == expected_decided
    return f_log


def test_sync_full_test():
    f_log = _sync_test(
        LogSpec(log=[1, 2, 3, 4, 5, 10, 11, 12], decided_idx=5, compacted_idx=2, stopsign_decided=False),
        LogSpec(log=[1, 2, 3, 6, 7, 8, 9], decided_idx=3),
    )
    # F's undecided 6..9 were overwritten; 4, 5 arrived as a Delta merged onto F's own [1, 2, 3].
    assert isinstance(f_log[0], LogEntry.Snapshotted)


def test_sync_decided_ss_test():
    _sync_test(
        LogSpec(log=[1, 2, 3, 4, 5], decided_idx=5, stopsign_decided=True),
        LogSpec(log=[1, 2, 3, 6, 7], decided_idx=3),
    )


def test_sync_only_stopsign_test():
    f_log = _sync_test(LogSpec(log=[], decided_idx=0, stopsign_decided=True), LogSpec())
    assert f_log == []


def test_sync_only_snapshot_test():
    f_log = _sync_test(LogSpec(log=[1, 2, 3], decided_idx=3, compacted_idx=3), LogSpec())
    assert len(f_log) == 1 and isinstance(f_log[0], LogEntry.Snapshotted)
    assert f_log[0].snapshotted_entry.trimmed_idx == 3


def test_sync_follower_snapshot_test():
    _sync_test(
        LogSpec(log=[1, 2, 3, 4, 5], decided_idx=5),
        LogSpec(log=[1, 2, 3, 4], decided_idx=4, compacted_idx=3),
    )


def test_decided_idx_never_goes_down_on_acceptsync():
    """omnilab's divergence (see the README): an AcceptSync carrying a smaller decided index than the
    follower's own must not move the follower's decided index back.

    Old leader 5 decides index 1 but only follower 1 hears the Decide. 5 crashes; node 4 is prepared
    by {2, 3, 4} (max decided 0) and enters Accept; before 2 and 3 accept anything, node 1 re-promises
    and gets an AcceptSync with decided_idx 0.
    """
    from omnilab.replica import Phase
    from omnilab.replica.messages import AcceptSync

    cluster = Cluster(5)
    old = cluster.elected_leader(1)
    assert old == 5
    cluster.node(old).append(Value(1))
    cluster.take(old)  # the AcceptDecides are in flight ...
    for p in (2, 3, 4):
        cluster.cut(old, p)  # ... but the Decide will reach only node 1
    cluster.deliver()
    assert [cluster.decided_idx(p) for p in cluster.pids] == [1, 0, 0, 0, 1]
    cluster.crash(old)
    cluster.disconnect(1)
    cluster.node(4).try_become_leader()
    cluster.take(4)
    cluster.run_until(lambda: cluster.node(4).inspect().phase is Phase.ACCEPT, what="node 4 reaching Accept")
    assert cluster.decided_idx(4) == 0
    cluster.pause(2)
    cluster.pause(3)  # their AcceptSyncs wait: node 4 cannot decide index 1 yet
    cluster.reconnect(1)
    cluster.node(1).reconnected(4)
    syncs = []
    while (msg := cluster.step()) is not None:
        if msg.receiver == 1 and isinstance(msg.msg, AcceptSync):
            syncs.append(msg.msg)
        assert cluster.decided_idx(1) == 1, f"node 1's decided index went down after {msg.msg!r}"
    assert syncs and syncs[0].decided_idx == 0, "the scenario must deliver an AcceptSync with a lower decided index"
    assert cluster.node(1).get_current_leader() == (4, True)
    verify_log(cluster.decided_log(1), [Value(1)])
    cluster.resume(2)
    cluster.resume(3)
    cluster.tick(3)
    for pid in cluster.alive():
        verify_log(cluster.decided_log(pid), [Value(1)])
