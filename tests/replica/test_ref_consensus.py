"""Port of omnipaxos/tests/consensus_test.rs: consensus_test, read_test,
read_entries_test."""

from omnilab.replica import ClusterConfig, LogEntry, MemoryStorage, ServerConfig, SnapshottedEntry, StopSign

from tests.replica.driver import WAIT_3000_MS, Cluster
from tests.replica.values import (Value, ValueSnapshot, check_consistent_log_prefixes, check_quorum,
                                  check_validity, create_proposals, verify_entries, verify_log,
                                  verify_snapshot)

NUM_NODES = 5
NUM_PROPOSALS = 2000


def test_consensus_test():
    cluster = Cluster(NUM_NODES)
    proposals = create_proposals(1, NUM_PROPOSALS)
    # Appended before any tick: node 1 knows no leader, so it buffers them and forwards them all in
    # one ProposalForward once it is synced.
    node1 = cluster.node(1)
    for v in proposals:
        node1.append(v)
    cluster.wait_until(lambda: cluster.decided_idx(1) >= NUM_PROPOSALS, budget=WAIT_3000_MS,
                       what="deciding 2000 proposals at node 1")
    logs = {pid: cluster.decided_log(pid) for pid in cluster.pids}
    quorum_size = NUM_NODES // 2 + 1
    check_quorum(logs, quorum_size, proposals)
    check_validity(logs, proposals)
    check_consistent_log_prefixes(logs)
    verify_log(logs[1], proposals)  # stronger than the reference: node 1 decided all, in order


# --- single-instance reads over a pre-filled storage -------------------------------------------------

LOG = [Value(i) for i in (1, 3, 2, 7, 5, 10, 29, 100, 8, 12)]
DECIDED_IDX = 6
STOPSIGN = StopSign(ClusterConfig(configuration_id=2, nodes=[]), None)


def _build(storage):
    cluster_config = ClusterConfig(configuration_id=1, nodes=[1, 2, 3])
    return cluster_config.build_for_server(ServerConfig(pid=1), storage)


def _entries_fixture():
    storage = MemoryStorage()
    storage.append_entries(LOG)
    storage.set_decided_idx(DECIDED_IDX)
    return _build(storage)


def _stopsign_fixture():
    storage = MemoryStorage()
    storage.append_entries(LOG)
    storage.set_stopsign(STOPSIGN)
    storage.set_decided_idx(len(LOG) + 1)
    return _build(storage)


def _snapshotted(idx, values):
    return LogEntry.Snapshotted(SnapshottedEntry(idx, ValueSnapshot.create(values)))


def test_read_test():
    op = _entries_fixture()
    verify_entries(op.read_decided_suffix(0), LOG[:DECIDED_IDX], 0, DECIDED_IDX)

    op.snapshot(4, local_only=True)
    assert op.read(4) == LogEntry.Decided(Value(5))
    verify_snapshot([op.read(0)], 4, ValueSnapshot.create(LOG[:4]))
    assert op.read(0) == _snapshotted(4, LOG[:4])
    assert op.read(10) is None

    op = _stopsign_fixture()
    op.snapshot(4, local_only=True)
    match op.read(10):
        case LogEntry.StopSign(ss, _):
            assert ss == STOPSIGN
        case other:
            raise AssertionError(f"expected the StopSign at index 10, read {other!r}")


def test_read_entries_test():
    op = _entries_fixture()
    op.snapshot(4, local_only=True)
    snap4 = _snapshotted(4, LOG[:4])

    # Rust 5..=6, 0..4, 3..6, 0..=10; both Python call forms must agree.
    assert op.read_entries(range(5, 7)) == [LogEntry.Decided(Value(10)), LogEntry.Undecided(Value(29))]
    assert op.read_entries(5, 7) == op.read_entries(range(5, 7))
    assert op.read_entries(range(0, 4)) == [snap4]
    verify_snapshot(op.read_entries(range(0, 4)), 4, ValueSnapshot.create(LOG[:4]))
    assert op.read_entries(range(3, 6)) == [snap4, LogEntry.Decided(Value(5)), LogEntry.Decided(Value(10))]
    assert op.read_entries(range(0, 11)) is None

    op = _stopsign_fixture()
    op.snapshot(4, local_only=True)
    ss_entry = LogEntry.StopSign(STOPSIGN, True)
    assert op.read_entries(range(10, 11)) == [ss_entry]
    assert op.read_entries(6, None) == [LogEntry.Decided(v) for v in LOG[6:]] + [ss_entry]
    assert op.read_entries(6) == op.read_entries(6, None)
    assert op.read_entries(0, None) == [snap4] + [LogEntry.Decided(v) for v in LOG[4:]] + [ss_entry]

    op.snapshot(10, local_only=True)
    read = op.read_entries(0, None)
    assert read == [_snapshotted(10, LOG), ss_entry]
    verify_snapshot(read[:1], 10, ValueSnapshot.create(LOG))
