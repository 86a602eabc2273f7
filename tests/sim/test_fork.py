"""The world can be copied and compared: `Cluster.fork` / `copy.deepcopy`, and `Cluster.fingerprint`."""

from __future__ import annotations

import copy

from omnilab.sim import Cluster
from omnilab.sim.fingerprint import canonical_state
from omnilab.sim.mutants import MUTANTS


def _busy_cluster(seed: int = 0) -> Cluster:
    cluster = Cluster([1, 2, 3], seed=seed)
    cluster.run(3)
    cluster.put("a", 1)
    cluster.put("b", 2)
    cluster.tick()  # leaves heartbeats and the accept stream in flight
    return cluster


def _snapshot(cluster: Cluster):
    return (cluster.fingerprint(), len(cluster.trace), cluster.clock, cluster.version,
            {p: dict(s.kv) for p, s in cluster.servers.items()}, len(cluster.ledger.history))


def test_a_fork_is_in_the_same_state_and_evolves_independently():
    cluster = _busy_cluster()
    before = _snapshot(cluster)
    fork = cluster.fork()
    assert fork is not cluster and fork.fingerprint() == cluster.fingerprint()
    assert list(fork.trace) == list(cluster.trace) and fork.trace is not cluster.trace
    assert repr(fork) == repr(cluster)
    fork.deliver_all()
    fork.put("c", 3)
    fork.crash(1)
    fork.cut(2, 3)
    fork.run(2)
    assert _snapshot(cluster) == before  # the original did not move
    assert fork.fingerprint() != cluster.fingerprint()
    cluster.deliver_all()  # and the original still works on its own
    assert cluster.server(2).kv == {"a": 1, "b": 2}
    assert fork.server(1).up is False and cluster.server(1).up is True
    assert all(v.ok for v in cluster.check()) and all(v.ok for v in fork.check())


def test_deepcopy_is_a_fork():
    cluster = _busy_cluster()
    copied = copy.deepcopy(cluster)
    assert copied.fingerprint() == cluster.fingerprint()
    assert copied.servers[1] is not cluster.servers[1]
    assert copied.servers[1].storage is copied.servers[1].omnipaxos.storage  # sharing kept inside a copy
    assert copied.servers[1].storage is not cluster.servers[1].storage


def test_fork_and_original_go_on_alike():
    cluster = _busy_cluster()
    fork = cluster.fork()
    for c in (cluster, fork):
        c.step_random()  # the random generator is copied too
        c.put("z", 9)
        c.run(2)
    assert list(fork.trace) == list(cluster.trace)
    assert fork.fingerprint() == cluster.fingerprint()


def test_fork_then_replay_is_the_same_world():
    cluster = _busy_cluster()
    fork = cluster.fork()
    fork.drop(next(iter(fork.network.in_flight)))
    fork.reconfigure([1, 2, 4])
    fork.run(6)
    replayed = Cluster.replay(fork.trace)
    assert list(replayed.trace) == list(fork.trace)
    assert replayed.fingerprint() == fork.fingerprint()
    assert 4 in replayed.servers and replayed.server(4).instances


def test_equal_schedules_give_equal_fingerprints():
    a, b = _busy_cluster(seed=0), _busy_cluster(seed=7)  # the seed only feeds the random generator
    assert a.fingerprint() == b.fingerprint()
    assert canonical_state(a) == canonical_state(b)
    for c in (a, b):
        c.crash(2)
        c.run(2)
        c.recover(2)
        c.run(2)
    assert a.fingerprint() == b.fingerprint()


def test_message_ids_do_not_count():
    a, b = _busy_cluster(), _busy_cluster()
    first = next(iter(b.network.in_flight))
    b.drop(b.duplicate(first))  # the same messages in flight, but every later id is one higher
    assert b.network.next_id == a.network.next_id + 1
    assert a.fingerprint() == b.fingerprint()
    a.deliver_all()
    b.deliver_all()
    a.run(1)
    b.run(1)
    assert a.fingerprint() == b.fingerprint()
    assert [e.id for e in a.network] != [e.id for e in b.network] or not a.network.in_flight


def test_different_states_give_different_fingerprints():
    base = _busy_cluster()
    seen = {base.fingerprint()}
    changes = [
        lambda c: c.step(),  # one message delivered
        lambda c: c.drop(next(iter(c.network.in_flight))),  # one message lost
        lambda c: c.duplicate(next(iter(c.network.in_flight))),  # one message twice in flight
        lambda c: c.cut(1, 2, one_way=True),
        lambda c: c.crash(1),
        lambda c: c.tick(),
        lambda c: c.put("a", 5),
        lambda c: c.set_priority(1, 3),
        lambda c: (c.deliver_all(), c.trim()),
    ]
    for change in changes:
        fork = base.fork()
        change(fork)
        fingerprint = fork.fingerprint()
        assert fingerprint not in seen
        seen.add(fingerprint)


def test_the_clock_alone_does_not_count_but_timers_do():
    a, b = _busy_cluster(), _busy_cluster()
    b.clock += 5  # the cluster clock only stamps Ticked events
    assert a.fingerprint() == b.fingerprint()
    b.tick()  # but a tick moves the replicas' logical clocks
    assert a.fingerprint() != b.fingerprint()


def test_forks_keep_variants_and_identity_tracked_proposals():
    cluster = Cluster([1, 2, 3], variant=MUTANTS["append-after-stopsign"])
    cluster.run(3)
    cluster.append(["an", "unhashable", "entry"])  # the ledger knows it by identity
    fork = cluster.fork()
    assert fork.variant is cluster.variant
    fork.run(2)
    assert all(v.ok for v in fork.check())  # Validity still finds the proposal
    assert fork.fingerprint() != cluster.fingerprint()
    cluster.run(2)
    assert fork.fingerprint() == cluster.fingerprint()


def test_the_copier_shares_immutable_values_and_copies_the_rest():
    cluster = _busy_cluster()
    fork = cluster.fork()
    old, new = cluster.servers[1].omnipaxos, fork.servers[1].omnipaxos
    assert new.seq_paxos is not old.seq_paxos and new.seq_paxos.log is not old.seq_paxos.log
    assert new.get_promise() is old.get_promise()  # a Ballot: frozen, shared
    handler = next(iter(new.seq_paxos.handlers.values()))
    assert handler.__self__ is new.seq_paxos  # bound methods follow their copied object
    assert new.election_clock is not old.election_clock and new.election_clock.time == old.election_clock.time
    assert fork.random is not cluster.random and fork.random.getstate() == cluster.random.getstate()
    env = next(iter(cluster.network.in_flight.values()))
    assert fork.network.in_flight[env.id] == env


def test_messages_that_differ_only_in_their_class_give_different_fingerprints():
    # A dataclass hashes its fields, not its class: these two hash alike but are different messages.
    from omnilab.replica.ballot import Ballot
    from omnilab.replica.messages import NotAccepted, PaxosMessage, PrepareReq

    ballot = Ballot(config_id=1, n=2, priority=0, pid=1)
    first, second = PaxosMessage(1, 3, NotAccepted(ballot)), PaxosMessage(1, 3, PrepareReq(ballot))
    assert first != second and hash(first) == hash(second)
    a, b = _busy_cluster(), _busy_cluster()
    a.network.send(1, 3, 1, first)
    b.network.send(1, 3, 1, second)
    assert canonical_state(a) != canonical_state(b)
    assert a.fingerprint() != b.fingerprint()
