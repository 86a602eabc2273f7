"""Port of omnipaxos/tests/reconnect_test.rs.

5 nodes, resend every 2 ticks; "the follower" is the lowest non-leader pid; SLEEP (1 s) = 5 ticks.
Link cuts are directional and apply at send time, as ``set_connection(pid, false)`` in the Rust
harness.
"""

from omnilab.replica import ClusterConfig, LogEntry, StopSign
from omnilab.replica.messages import AcceptDecide, AcceptSync, Decide
from omnilab.replica.ballot import SequenceNumber

from tests.replica.driver import SLEEP_1_S, WAIT_3000_MS, Cluster
from tests.replica.values import create_proposals, verify_log, verify_stopsign

NUM_NODES = 5
INITIAL = create_proposals(0, 4)
DROPPED = create_proposals(5, 9)
SECOND = create_proposals(10, 14)


def _cluster():
    return Cluster(NUM_NODES, resend_ticks=2)


def _follower(cluster, leader):
    return min(p for p in cluster.alive() if p != leader)


def test_increasing_accept_seq_num_test():
    cluster = _cluster()
    # Right after start node 1 buffers these, then forwards them after its AcceptSync: each follower
    # gets AcceptSync (1,1), one AcceptDecide (1,2) and one Decide (1,3).
    cluster.make_proposals(1, INITIAL, budget=WAIT_3000_MS)
    leader = cluster.elected_leader(1)
    follower = _follower(cluster, leader)
    op = cluster.node(leader)
    seq_nums = []
    for v in create_proposals(100, 104):
        op.append(v)
        for msg in op.take_outgoing_messages():  # taken by the test: never delivered
            if msg.receiver == follower and isinstance(msg.msg, (AcceptSync, AcceptDecide, Decide)):
                seq_nums.append(msg.msg.seq_num)
    assert seq_nums == [SequenceNumber(1, c) for c in range(4, 9)]


def test_increasing_accept_seq_num_coalesced_without_takes():
    """Not in the reference (): appends between two takes coalesce into one AcceptDecide per
    follower, consuming a single sequence number."""
    cluster = _cluster()
    cluster.make_proposals(1, INITIAL, budget=WAIT_3000_MS)
    leader = cluster.elected_leader(1)
    follower = _follower(cluster, leader)
    op = cluster.node(leader)
    values = create_proposals(100, 104)
    for v in values:
        op.append(v)
    to_follower = [m.msg for m in op.take_outgoing_messages() if m.receiver == follower]
    assert to_follower == [AcceptDecide(op.get_promise(), SequenceNumber(1, 4), len(INITIAL), tuple(values))]


def test_reconnect_after_dropped_accepts_test():
    cluster = _cluster()
    cluster.make_proposals(2, INITIAL)
    leader = cluster.elected_leader(2)
    follower = _follower(cluster, leader)
    cluster.cut(leader, follower)
    cluster.make_proposals(leader, DROPPED)
    assert cluster.decided_idx(follower) == len(INITIAL)
    cluster.restore(leader, follower)
    cluster.make_proposals(leader, SECOND)
    cluster.tick(SLEEP_1_S)
    # The gap in the accept stream sent the follower to Recover -> PrepareReq -> Prepare -> Promise ->
    # AcceptSync; the decided part it lacked comes as a snapshot whose contents must be complete.
    verify_log(cluster.decided_log(follower), INITIAL + DROPPED + SECOND)


def test_reconnect_after_dropped_prepare_test():
    cluster = _cluster()
    cluster.make_proposals(2, INITIAL)
    leader = cluster.elected_leader(2)
    follower = _follower(cluster, leader)
    for pid in cluster.pids:
        if pid != follower:
            cluster.cut(pid, follower)
    cluster.pause(leader)
    cluster.tick(SLEEP_1_S)
    cluster.resume(leader)
    third = min(p for p in cluster.pids if p not in (leader, follower))
    new_leader = cluster.elected_leader(third)
    assert new_leader != leader, "no new leader was elected while the old one was paused"
    cluster.make_proposals(new_leader, DROPPED)
    for pid in cluster.pids:
        cluster.restore(pid, follower)
    cluster.tick(SLEEP_1_S)
    # The new leader re-sends Prepare to peers that have not promised.
    verify_log(cluster.decided_log(follower), INITIAL + DROPPED)


def test_reconnect_after_dropped_promise_test():
    cluster = _cluster()
    cluster.make_proposals(2, INITIAL)
    leader = cluster.elected_leader(2)
    follower = _follower(cluster, leader)
    for pid in cluster.pids:
        if pid != follower:
            cluster.cut(follower, pid)  # the follower hears the new Prepare; its Promise is lost
    cluster.pause(leader)
    cluster.tick(SLEEP_1_S)
    cluster.resume(leader)
    third = min(p for p in cluster.pids if p not in (leader, follower))
    new_leader = cluster.elected_leader(third)
    assert new_leader != leader
    cluster.make_proposals(new_leader, DROPPED)
    assert cluster.decided_idx(follower) == len(INITIAL)
    for pid in cluster.pids:
        cluster.restore(follower, pid)
    cluster.tick(SLEEP_1_S)
    # The follower's resend of its cached Promise gets it synced.
    verify_log(cluster.decided_log(follower), INITIAL + DROPPED)


def test_reconnect_after_dropped_preparereq_test():
    cluster = _cluster()
    cluster.make_proposals(2, INITIAL)
    leader = cluster.elected_leader(2)
    follower = _follower(cluster, leader)
    cluster.cut(leader, follower)
    cluster.make_proposals(leader, DROPPED)
    cluster.restore(leader, follower)
    cluster.cut(follower, leader)
    # The follower sees the gap, enters Recover and keeps re-sending PrepareReqs, which are lost.
    cluster.make_proposals(leader, SECOND)
    cluster.tick(SLEEP_1_S)
    assert cluster.decided_idx(follower) == len(INITIAL)
    cluster.restore(follower, leader)
    cluster.tick(SLEEP_1_S)
    verify_log(cluster.decided_log(follower), INITIAL + DROPPED + SECOND)


def test_resync_after_dropped_acceptstopsign_test():
    cluster = _cluster()
    leader = cluster.elected_leader(2)
    follower = _follower(cluster, leader)
    cluster.cut(leader, follower)
    new_config = ClusterConfig(configuration_id=2, nodes=[1, 2])
    stopsign = StopSign(new_config, None)
    cluster.reconfigure(leader, new_config, metadata=None)
    cluster.wait_until(lambda: cluster.node(leader).is_reconfigured() is not None, budget=WAIT_3000_MS,
                       what="the StopSign being decided by the other four")
    cluster.tick(SLEEP_1_S)
    assert cluster.decided_log(follower) == []
    cluster.force_leader_change(follower)
    # The follower learned the StopSign from the Promises' LogSync in its own Prepare phase.
    assert cluster.decided_log(follower) == [LogEntry.StopSign(stopsign, True)]
    cluster.tick(SLEEP_1_S)
    assert cluster.decided_log(follower) == [LogEntry.StopSign(stopsign, True)]


def test_reconnect_after_dropped_acceptstopsign_test():
    cluster = _cluster()
    leader = cluster.elected_leader(1)
    follower = _follower(cluster, leader)
    for pid in cluster.alive():
        if pid not in (leader, follower):
            cluster.crash(pid)
    write_quorum = NUM_NODES // 2 + 1
    assert write_quorum > len(cluster.alive())  # the StopSign can never be decided
    cluster.cut(leader, follower)
    new_config = ClusterConfig(configuration_id=2, nodes=[1, 2])
    metadata = bytes([1, 2, 3])
    cluster.reconfigure(leader, new_config, metadata=metadata)
    cluster.tick(SLEEP_1_S)
    assert cluster.node(follower).read_entries(range(0, 1)) is None
    cluster.restore(leader, follower)
    cluster.tick(SLEEP_1_S)
    # Delivered by the leader's periodic AcceptStopSign resend.
    verify_stopsign(cluster.node(follower).read_entries(range(0, 1)), StopSign(new_config, metadata))


def test_reconnect_after_dropped_decidestopsign_test():
    cluster = _cluster()
    leader = cluster.elected_leader(1)
    follower = _follower(cluster, leader)
    for pid in cluster.pids:
        if pid != follower:
            cluster.cut(pid, follower)
    new_config = ClusterConfig(configuration_id=2, nodes=[1, 2])
    cluster.reconfigure(leader, new_config, metadata=None)
    cluster.wait_until(lambda: cluster.node(leader).is_reconfigured() is not None, budget=WAIT_3000_MS,
                       what="the StopSign being decided by the other four")
    cluster.tick(SLEEP_1_S)
    assert cluster.node(follower).is_reconfigured() is None
    cluster.restore(leader, follower)
    cluster.tick(SLEEP_1_S)
    # The resent Decide arrives with a gap -> Recover -> PrepareReq -> AcceptSync with the StopSign.
    assert cluster.node(follower).is_reconfigured() == StopSign(new_config, None)
