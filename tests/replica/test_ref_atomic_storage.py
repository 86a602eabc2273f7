"""Port of omnipaxos/tests/atomic_storage_test.rs.

One replica (pid 1 of [1, 2, 3]) runs over `BrokenStorage`, a MemoryStorage wrapper that raises on
the N-th storage call from the moment a failure is scheduled (every method counts, reads included;
``write_atomically`` is one call and fails before applying anything). Each test feeds hand-made
messages, schedules the failure at the 1st..9th call, lets the exception escape the replica (the
replica is then crashed), and inspects the underlying MemoryStorage: the writes that must be atomic
either all happened or none did.
"""


from omnilab.replica import Ballot, ClusterConfig, MemoryStorage, ServerConfig
from omnilab.replica.ballot import SequenceNumber
from omnilab.replica.messages import (AcceptDecide, AcceptSync, BLEMessage, Compaction, HeartbeatReply,
                                      LogSync, PaxosMessage, Prepare, Promise, SnapshotType)

from tests.replica.values import Value, ValueSnapshot

FAILURE_POINTS = range(1, 10)
LEADER_BALLOT = Ballot(config_id=1, n=1, priority=0, pid=2)


class StorageFailure(Exception):
    """The injected storage error."""


class BrokenStorage:
    """A `MemoryStorage` whose N-th call (after `schedule_failure_in(n)`) raises `StorageFailure`."""

    def __init__(self, inner: MemoryStorage) -> None:
        self.inner = inner
        self.calls_until_failure = None
        self.failed = False

    def schedule_failure_in(self, n: int) -> None:
        self.calls_until_failure = n

    def _call(self, name, *args):
        if self.calls_until_failure is not None:
            self.calls_until_failure -= 1
            if self.calls_until_failure == 0:
                self.calls_until_failure = None
                self.failed = True
                raise StorageFailure(f"injected failure in {name}")
        return getattr(self.inner, name)(*args)

    def __getattr__(self, name):
        if name.startswith("_") or not callable(getattr(self.inner, name, None)):
            raise AttributeError(name)
        return lambda *args: self._call(name, *args)


def _new_node():
    mem = MemoryStorage()
    storage = BrokenStorage(mem)
    config = ClusterConfig(configuration_id=1, nodes=[1, 2, 3])
    op = config.build_for_server(ServerConfig(pid=1, election_tick_timeout=1), storage)
    return mem, storage, op


def _sp(msg, sender=2):
    return PaxosMessage(sender, 1, msg)


def _setup_follower():
    """Node 1 promises node 2's ballot and is synced with an empty log: next expected seq (1, 2)."""
    mem, storage, op = _new_node()
    n_accepted = mem.get_accepted_round() or Ballot()
    op.handle_incoming(_sp(Prepare(LEADER_BALLOT, 0, n_accepted, 0)))
    op.handle_incoming(_sp(AcceptSync(LEADER_BALLOT, SequenceNumber(1, 1), 0, LogSync(None, (), 0, None))))
    op.take_outgoing_messages()
    assert op.get_current_leader() == (2, True)
    return mem, storage, op


def _feed_expecting_crash(storage, op, msg, n):
    storage.schedule_failure_in(n)
    try:
        op.handle_incoming(msg)
    except Exception as exc:  # the replica lets the storage error escape: it is crashed now
        chain, e = [], exc
        while e is not None:
            chain.append(e)
            e = e.__cause__ or e.__context__
        assert any(isinstance(e, StorageFailure) for e in chain), f"unexpected error: {exc!r}"
        return True
    return False


def _run_all(one):
    crashed = [one(n) for n in FAILURE_POINTS]
    assert crashed[0], "the first storage call after scheduling must have failed"


def test_atomic_storage_acceptsync_test():
    def one(n):
        mem, storage, op = _new_node()
        promise = mem.get_promise()
        n_leader = Ballot(promise.config_id, 1, promise.priority, 2)
        op.handle_incoming(_sp(Prepare(n_leader, 0, mem.get_accepted_round() or Ballot(), 0)))
        op.take_outgoing_messages()
        sync = AcceptSync(n_leader, SequenceNumber(1, 1), 1, LogSync(None, (Value(1), Value(2), Value(3)), 0, None))
        crashed = _feed_expecting_crash(storage, op, _sp(sync), n)
        decided, log_len = mem.get_decided_idx(), mem.get_log_len()
        assert (decided, log_len) in ((0, 0), (1, 3)), (
            f"failure at call {n}: decided index {decided} and log length {log_len} did not change together")
        return crashed
    _run_all(one)


def _accept_six(op):
    entries = tuple(Value(i) for i in range(1, 7))
    op.handle_incoming(_sp(AcceptDecide(LEADER_BALLOT, SequenceNumber(1, 2), 5, entries)))
    op.take_outgoing_messages()


def test_atomic_storage_trim_test():
    def one(n):
        mem, storage, op = _setup_follower()
        _accept_six(op)
        assert (mem.get_log_len(), mem.get_compacted_idx()) == (6, 0)
        crashed = _feed_expecting_crash(storage, op, _sp(Compaction.Trim(4)), n)
        log_len, compacted = mem.get_log_len(), mem.get_compacted_idx()
        assert (log_len, compacted) in ((6, 0), (2, 4)), (
            f"failure at call {n}: log length {log_len} and compacted idx {compacted} did not change together")
        assert log_len + compacted == 6
        return crashed
    _run_all(one)


def test_atomic_storage_snapshot_test():
    def one(n):
        mem, storage, op = _setup_follower()
        _accept_six(op)
        crashed = _feed_expecting_crash(storage, op, _sp(Compaction.Snapshot(4)), n)
        log_len, compacted, snapshot = mem.get_log_len(), mem.get_compacted_idx(), mem.get_snapshot()
        assert log_len + compacted == 6, f"failure at call {n}: log length {log_len}, compacted {compacted}"
        if log_len != 6:
            # trimmed only together with a stored snapshot and a raised compacted index
            assert compacted == 4 and snapshot is not None, f"failure at call {n}: trimmed without a snapshot"
            assert snapshot == ValueSnapshot.create([Value(i) for i in range(1, 5)])
        else:
            assert compacted == 0 and snapshot is None, f"failure at call {n}: snapshot without trimming"
        return crashed
    _run_all(one)


def test_atomic_storage_accept_decide_test():
    def one(n):
        mem, storage, op = _setup_follower()
        entries = tuple(Value(i) for i in range(1, 7))
        msg = _sp(AcceptDecide(LEADER_BALLOT, SequenceNumber(1, 2), 5, entries))
        crashed = _feed_expecting_crash(storage, op, msg, n)
        decided, log_len = mem.get_decided_idx(), mem.get_log_len()
        if decided > 0:
            assert log_len == 6, f"failure at call {n}: decided {decided} before the entries were stored"
        return crashed
    _run_all(one)


def _heartbeat_reply(sender, round_, ballot, happy):
    return BLEMessage(sender, 1, HeartbeatReply(round_, ballot, ballot, happy))


def test_atomic_storage_majority_promises_test():
    def one(n):
        mem, storage, op = _setup_follower()
        # Round 1: my leader 2 is happy.
        op.handle_incoming(_heartbeat_reply(2, 1, LEADER_BALLOT, True))
        op.tick()
        # Round 2: 2 and 3 are unhappy and I hear a quorum: I take over with n = 2 and send Prepare.
        op.handle_incoming(_heartbeat_reply(2, 2, LEADER_BALLOT, False))
        op.handle_incoming(_heartbeat_reply(3, 2, Ballot(1, 1, 0, 3), False))
        op.tick()
        my_ballot = Ballot(1, 2, 0, 1)
        # Round 3: happy replies carrying my new ballot.
        op.handle_incoming(BLEMessage(2, 1, HeartbeatReply(3, LEADER_BALLOT, my_ballot, True)))
        op.handle_incoming(BLEMessage(3, 1, HeartbeatReply(3, Ballot(1, 1, 0, 3), my_ballot, True)))
        op.tick()
        prepares = [m.msg for m in op.take_outgoing_messages() if isinstance(m.msg, Prepare)]
        assert prepares and all(p.n == my_ballot for p in prepares), f"node 1 did not prepare: {prepares}"
        prepare = prepares[0]
        assert op.get_current_leader() == (1, False)
        before = (mem.get_decided_idx(), mem.get_snapshot(), mem.get_accepted_round(), mem.get_log_len())
        # The reference builds the Promise's n from the Prepare's n_accepted, so its leader ignores
        # it; using the Prepare's n makes the leader sync from it.
        snapshot = ValueSnapshot.create([Value(1), Value(2)])
        promise = Promise(prepare.n, prepare.n_accepted, 2, 3,
                          LogSync(SnapshotType.Complete(snapshot), (Value(3),), 2, None))
        crashed = _feed_expecting_crash(storage, op, _sp(promise), n)
        decided, snap = mem.get_decided_idx(), mem.get_snapshot()
        accepted_idx = mem.get_log_len() + mem.get_compacted_idx()
        accepted_round = mem.get_accepted_round()
        synced = (decided, snap is not None, accepted_idx, accepted_round) == (2, True, 3, my_ballot)
        untouched = (decided, snap, accepted_round, mem.get_log_len()) == before and accepted_idx == 0
        assert synced or untouched, (
            f"failure at call {n}: decided {decided}, snapshot {snap!r}, accepted idx {accepted_idx}, "
            f"accepted round {accepted_round}: the sync was applied only partly")
        if not crashed:
            assert synced
            assert op.get_current_leader() == (1, True)
        return crashed
    _run_all(one)
